# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The C-ECHO option set, specified once, and its validation into probe requests.

Private to this collection. OPTIONS is the one table of what the options are (docs/dev/options.md):
the module builds its argument spec from it and the lookup reads the same names; both call
build_request(), so a value refused in one is refused in the other with the same message. dicom_find
takes OPTIONS without the echo-only ones, plus FIND_OPTIONS (find_argument_spec). What cannot import
Python (doc fragments, role argument specs) is compared with OPTIONS by tests/unit/plugins/test_option_drift.py.
Nothing here touches the network or imports pynetdicom or pydicom: bad input is refused before any of
that is loaded.
"""

from __future__ import annotations

import functools
import ipaddress
import os

from ._syntaxes import MAX_PROPOSE_TS, VERIFICATION_SOP_CLASS, proposed_transfer_syntaxes
from ._tls_profiles import CONFIG_OPTIONS as TLS_CONFIG_OPTIONS
from ._tls_profiles import DEFAULT_PROFILE as DEFAULT_TLS_PROFILE
from ._tls_profiles import PROFILES as _TLS_PROFILE_TABLE
from ._tls_profiles import TLS_VERSIONS as _TLS_VERSION_TABLE

# The transcript levels, fewest lines first (echoscu -q is fatal, -v info, -d debug); _transcript ranks
# and prefixes lines by this order.
LOG_LEVELS = ("fatal", "error", "warn", "info", "debug", "trace")
# DCMTK's profiles and the TLS versions, in the order of DCMTK's tables (_tls_profiles, which also names
# the default profile).
TLS_PROFILES = tuple(_TLS_PROFILE_TABLE)
TLS_VERSION_NAMES = tuple(_TLS_VERSION_TABLE)
# Presentation context IDs are the odd numbers of one byte: at most 128 contexts in one association.
MAX_CONTEXTS = 128
# The offline certificate actions: no network, `host` not needed (echoscu +ph, +cc, +vc, +rc).
OFFLINE_ACTIONS = ("list_profiles", "list_ciphers", "verify_cert", "is_root_cert")
# What each result holds: everything, or what people and the reports use (dicom_echo's compact_result()).
RESULT_DETAILS = ("full", "compact")

# name -> spec. "min"/"max" are ranges checked by build_request (Ansible's argspec has none);
# "endpoint" marks options that an entry of `endpoints` may override. Which probes take an option:
#   "echo_only"  the C-ECHO exchange's own options, dicom_echo's only: dicom_find sends one C-FIND instead
#                (ECHO_ONLY_OPTIONS), and a probe that only negotiates the association (the transfer_syntaxes
#                lookup) has no use for them either (it takes propose_ts and propose_pc as options of its
#                own, for its mode=echoscu);
#   "negotiation": False  further endpoint options such a negotiation-only probe has no use for
#                (NEGOTIATION_KEYS): log_level, as the lookup returns no transcript.
OPTIONS = {
    "host": {"type": "str", "aliases": ["peer"], "endpoint": True},
    "port": {"type": "int", "default": 104, "min": 1, "max": 65535, "endpoint": True},
    "ip_protocol": {"type": "str", "default": "ipv4", "choices": ["ipv4", "ipv6", "auto"], "endpoint": True},
    "calling_aet": {"type": "str", "default": "ECHOSCU", "aliases": ["aetitle"], "endpoint": True},
    "called_aet": {"type": "str", "default": "ANY-SCP", "aliases": ["call"], "endpoint": True},
    "propose_ts": {"type": "int", "default": 1, "min": 1, "max": MAX_PROPOSE_TS, "endpoint": True, "echo_only": True},
    "propose_pc": {"type": "int", "default": 1, "min": 1, "max": MAX_CONTEXTS, "endpoint": True, "echo_only": True},
    "connection_timeout": {"type": "int", "aliases": ["timeout"], "min": 1, "endpoint": True},
    "socket_timeout": {"type": "int", "default": 60, "min": 0, "endpoint": True},
    "acse_timeout": {"type": "int", "default": 30, "min": 1, "endpoint": True},
    "dimse_timeout": {"type": "int", "min": 1, "endpoint": True},
    "max_pdu": {"type": "int", "default": 16384, "min": 4096, "max": 131072, "endpoint": True},
    "repeat": {"type": "int", "default": 1, "min": 1, "endpoint": True, "echo_only": True},
    "abort": {"type": "bool", "default": False, "endpoint": True, "echo_only": True},
    "tls": {"type": "bool", "default": False, "endpoint": True},
    "private_key": {"type": "path", "endpoint": True},
    "certificate": {"type": "path", "endpoint": True},
    "private_key_password": {"type": "str", "no_log": True, "endpoint": True},
    "key_format": {"type": "str", "default": "pem", "choices": ["pem", "der"], "endpoint": True},
    "ca_files": {"type": "list", "elements": "path", "default": [], "aliases": ["add_cert_file"], "endpoint": True},
    "ca_dirs": {"type": "list", "elements": "path", "default": [], "aliases": ["add_cert_dir"], "endpoint": True},
    "crl_files": {"type": "list", "elements": "path", "default": [], "aliases": ["add_crl_file"], "endpoint": True},
    "crl_check": {"type": "str", "default": "none", "choices": ["none", "leaf", "chain"], "endpoint": True},
    "tls_profile": {"type": "str", "default": DEFAULT_TLS_PROFILE, "choices": list(TLS_PROFILES), "endpoint": True},
    "ciphers": {"type": "list", "elements": "str", "default": [], "aliases": ["cipher"], "endpoint": True},
    "sni": {"type": "str", "aliases": ["request_sni"], "endpoint": True},
    "seed_file": {"type": "path", "aliases": ["seed"], "endpoint": True},
    "write_seed": {"type": "bool", "default": False, "endpoint": True},
    "write_seed_file": {"type": "path", "endpoint": True},
    "verify_peer_cert": {"type": "bool", "default": True, "endpoint": True},
    "tls_version": {"type": "str", "choices": list(TLS_VERSION_NAMES), "endpoint": True},
    "list_profiles": {"type": "bool", "default": False},
    "list_ciphers": {"type": "bool", "default": False},
    "verify_cert": {"type": "path"},
    "is_root_cert": {"type": "path"},
    "log_level": {"type": "str", "default": "warn", "choices": list(LOG_LEVELS), "endpoint": True, "negotiation": False},
    "log_config": {"type": "path"},
    "endpoints": {"type": "list", "elements": "dict"},
    "concurrency": {"type": "int", "default": 64, "min": 1, "max": 1024},
    "facts": {"type": "bool", "default": True, "echo_only": True},
    "result_detail": {"type": "str", "default": "full", "choices": list(RESULT_DETAILS), "echo_only": True},
}

# dicom_find (one C-FIND instead of the C-ECHOs): these replace the echo-only options.
FIND_OPTIONS = {
    "query_model": {"type": "str", "default": "study", "choices": ["study", "worklist"], "endpoint": True},
}
ECHO_ONLY_OPTIONS = frozenset(name for name, spec in OPTIONS.items() if spec.get("echo_only"))

TLS_OPTION_NAMES = ("tls",) + TLS_CONFIG_OPTIONS + ("sni",)
ENDPOINT_KEYS = frozenset(["name"] + [name for name, spec in OPTIONS.items() if spec.get("endpoint")])
FIND_ENDPOINT_KEYS = (ENDPOINT_KEYS - ECHO_ONLY_OPTIONS) | frozenset(FIND_OPTIONS)
# The endpoint keys a probe that only negotiates an association takes (the transfer_syntaxes lookup's terms).
NEGOTIATION_KEYS = frozenset(name for name in ENDPOINT_KEYS
                             if name == "name" or not OPTIONS[name].get("echo_only") and OPTIONS[name].get("negotiation", True))
_ALIASES = {alias: name for name, spec in OPTIONS.items() for alias in spec.get("aliases", ())}
# the options whose values are secret (no_log), under their names and aliases
SECRET_KEYS = frozenset(key for key in list(OPTIONS) + list(_ALIASES) if OPTIONS[_ALIASES.get(key, key)].get("no_log"))
_SPEC_KEYS = ("type", "default", "aliases", "choices", "elements", "no_log")


class RequestError(ValueError):
    """An option value that cannot be probed with; the text names the option."""


class MissingLibraryError(RequestError):
    """The options ask for something that needs a Python library this interpreter cannot import.

    ``library`` is the PyPI name, ``reason`` what needs it (for missing_required_lib), ``exception``
    the import traceback. The text alone is clear too, for callers that only print it (the lookup).
    """

    def __init__(self, library, reason, exception):
        lines = (exception or "").strip().splitlines()
        super().__init__("%s needs the Python library %s, which this Python cannot import (%s)"
                         % (reason, library, lines[-1] if lines else "not installed"))
        self.library = library
        self.reason = reason
        self.exception = exception


def module_argument_spec():
    """OPTIONS as an AnsibleModule argument_spec."""
    spec = {}
    for name, option in OPTIONS.items():
        spec[name] = {key: option[key] for key in _SPEC_KEYS if key in option}
    return spec


def find_argument_spec():
    """dicom_find's argument_spec: OPTIONS without the echo-only options and the offline actions, plus FIND_OPTIONS."""
    spec = {}
    for name, option in list(OPTIONS.items()) + list(FIND_OPTIONS.items()):
        if name not in ECHO_ONLY_OPTIONS and name not in OFFLINE_ACTIONS:
            spec[name] = {key: option[key] for key in _SPEC_KEYS if key in option}
    return spec


def find_query(model):
    """The ``query`` of a C-FIND request and the one presentation context it proposes."""
    from ._find import MODELS, TRANSFER_SYNTAXES  # pylint: disable=import-outside-toplevel  # no pydicom at import

    spec = MODELS[model]
    return {"model": model, "sop_class": spec["sop_class"], "level": spec["level"]}, ((spec["sop_class"], TRANSFER_SYNTAXES),)


class EchoRequest:
    """One validated probe: where to connect, what to propose, the deadlines, what to log."""

    __slots__ = (
        "name", "host", "port", "ip_protocol", "calling_aet", "called_aet", "contexts",
        "connection_timeout", "socket_timeout", "acse_timeout", "dimse_timeout", "max_pdu",
        "repeat", "abort", "log_level", "echo", "tls", "query",
    )

    def __init__(self, **values):
        self.echo = True
        self.tls = None
        self.query = None  # a C-FIND probe: {"model", "sop_class", "level"} (find_query)
        for key, value in values.items():
            setattr(self, key, value)

    def endpoint_label(self):
        return endpoint_label(self.called_aet, self.host, self.port)


def endpoint_label(called_aet, host, port):
    """``AET@host:port``, the name of an endpoint that has none (an IPv6 literal in brackets): the engine's
    messages, the lookup's and the reports' labels all come from here."""
    host = str(host)
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return "%s@%s:%s" % (called_aet, host, port)


def validate_ae_title(option, value):
    """Apply the DICOM AE VR rules; reject rather than truncate (echoscu silently truncates)."""
    if not isinstance(value, str):
        raise RequestError("%s must be a string, got %r" % (option, value))
    if not value or not value.strip(" "):
        raise RequestError("%s must not be empty or all spaces" % option)
    if len(value) > 16:
        raise RequestError("%s %r is %d characters long; a DICOM AE title has at most 16" % (option, value, len(value)))
    if "\\" in value:
        raise RequestError("%s %r contains a backslash, which the DICOM AE title VR forbids" % (option, value))
    for char in value:
        if ord(char) < 0x20 or ord(char) == 0x7F:
            raise RequestError("%s %r contains a control character, which the DICOM AE title VR forbids" % (option, value))
        if ord(char) > 0x7E:
            raise RequestError("%s %r contains %r; a DICOM AE title uses the default (ASCII) character repertoire" % (option, value, char))
    return value


def secret_values(params):
    """The values of no_log options inside ``endpoints`` entries, as the strings Ansible must mask.

    Ansible masks the no_log options it validates itself (the task-level ones); the entries of
    ``endpoints`` are validated here, so their secrets must be handed to it (AnsibleModule.no_log_values)
    before anything is logged or returned. A value of the wrong type is refused by build_request, but
    until then it is printed like any other argument, so every string or number in it is a secret too.
    """
    found = set()
    endpoints = params.get("endpoints")
    for entry in endpoints if isinstance(endpoints, (list, tuple)) else ():
        if isinstance(entry, dict):
            for key, value in entry.items():
                if key in SECRET_KEYS:
                    found.update(_leaves(value))
    return found


def _leaves(value):
    if isinstance(value, str):
        return {str(value)} if value else set()
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple, set)):
        return set().union(*(_leaves(item) for item in value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {str(value)}
    return set()


def kind_of(value):
    """What a value is in YAML's words (a dict, a list, a string, ...), for messages: Ansible's subclasses
    (AnsibleMapping, _AnsibleTaggedStr, ...) are no business of the user's. Also what a secret value that
    is refused is said to be, instead of the value."""
    if value is None:
        return "null"
    for types, name in ((bool, "a boolean"), (dict, "a dict"), ((list, tuple, set), "a list"), (str, "a string"), ((int, float), "a number")):
        if isinstance(value, types):
            return name
    return "a %s" % type(value).__name__


def _coerce(option, spec, value):
    kind = spec["type"]
    if value is None:
        return None
    if spec.get("no_log"):
        try:
            return _coerce(option, dict(spec, no_log=False), value)
        except RequestError:
            raise RequestError("%s must be %s, got %s (not shown: the option is secret)"
                               % (option, "a string" if kind in ("str", "path") else "of type " + kind, kind_of(value))) from None
    if kind == "list":
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [part.strip() for part in str(value).split(",")] if spec["elements"] != "path" else [value]
        if not isinstance(value, (list, tuple)):
            raise RequestError("%s must be a list, got %r" % (option, value))
        element = {"type": spec["elements"]}
        return [_coerce("%s[%d]" % (option, index), element, item) for index, item in enumerate(value)]
    if kind == "int":
        if isinstance(value, bool):
            raise RequestError("%s must be an integer, got %r" % (option, value))
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int):
            raise RequestError("%s must be an integer, got %r" % (option, value))
        value = int(value)  # an int subclass (2.19 tags YAML numbers) is refused by socket.getaddrinfo unless Ansible patched it
        low, high = spec.get("min"), spec.get("max")
        if low is not None and value < low or high is not None and value > high:
            bounds = "%s..%s" % (low, high) if high is not None else ">= %s" % low
            raise RequestError("%s must be %s, got %d" % (option, bounds, value))
    elif kind == "bool":
        if isinstance(value, str) and value.lower() in ("yes", "true", "on", "1", "no", "false", "off", "0"):
            value = value.lower() in ("yes", "true", "on", "1")
        if not isinstance(value, bool):
            raise RequestError("%s must be a boolean, got %r" % (option, value))
    elif kind in ("str", "path"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise RequestError("%s must be a string, got %r" % (option, value))
        # Ansible's str subclasses (AnsibleUnicode on 2.16, _AnsibleTaggedStr on 2.19) break what wants
        # exactly str, such as sys.intern on an IP literal host: past this point every string is a str
        value = str(value)
        if kind == "path":  # as Ansible does for type path; endpoint entries and lookup terms come unexpanded
            value = os.path.expanduser(os.path.expandvars(value))
    if "choices" in spec and value not in spec["choices"]:
        raise RequestError("%s must be one of %s, got %r" % (option, ", ".join(spec["choices"]), value))
    return value


def validate_host(option, host):
    if not host or not isinstance(host, str):
        raise RequestError("%s is required: a host name, IPv4 or IPv6 literal" % option)
    literal = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(literal.split("%", 1)[0])
        return literal
    except ValueError:
        pass
    if len(host) > 253 or any(char.isspace() or ord(char) < 0x21 for char in host) or "/" in host or ":" in host:
        raise RequestError("%s %r is neither a valid host name nor an IP literal" % (option, host))
    return host


def _tls_settings(checked, prefix, tls_cache):
    """The request's `tls` slot: None without TLS, else the shared ClientTLS (built once per distinct
    configuration, through ``tls_cache``) and this endpoint's SNI name."""
    values = {name: checked.pop(name) for name in TLS_OPTION_NAMES}
    if not values["tls"]:
        return None
    from . import _tls_context, _tls_crypto, _tls_errors  # pylint: disable=import-outside-toplevel  # cryptography is loaded only for TLS
    if _tls_crypto.CRYPTOGRAPHY_IMPORT_ERROR is not None:
        # A probe host needs nothing but Python for a plain C-ECHO; TLS is where cryptography comes in.
        raise MissingLibraryError("cryptography", "%stls" % prefix, _tls_crypto.CRYPTOGRAPHY_IMPORT_ERROR)
    key = _tls_context.config_key(values)
    cached = tls_cache.get(key) if tls_cache is not None else None
    if cached is None:
        try:
            cached = _tls_context.build_client_tls(values)
        except _tls_errors.TLSOptionError as exc:
            cached = exc  # remembered, so 10,000 endpoints with one bad configuration fail as fast as one
        if tls_cache is not None:
            tls_cache[key] = cached
    if isinstance(cached, _tls_errors.TLSOptionError):
        raise RequestError("%s%s" % (prefix, cached))
    return _tls_context.TLSRequest(cached, values["sni"])


@functools.lru_cache(maxsize=None)
def echoscu_contexts(propose_ts, propose_pc):
    """echoscu's layout (-pts/-ppc): propose_pc identical Verification contexts. One immutable object per
    layout, shared by every request that uses it, so 10,000 endpoints do not hold 10,000 copies."""
    return ((VERIFICATION_SOP_CLASS, tuple(proposed_transfer_syntaxes(propose_ts))),) * propose_pc


def option_name(key):
    """The option a name stands for: the name itself, or the option it is an alias of."""
    return _ALIASES.get(key, key)


def check_value(name, value, label=None):
    """One option's value (OPTIONS or FIND_OPTIONS) coerced and range-checked as build_request does; the message
    names ``label`` (default: the option's name)."""
    spec = OPTIONS.get(name) or FIND_OPTIONS[name]
    return _coerce(label or name, spec, value)


def check_endpoint(values, prefix=""):
    """Validate one endpoint's option values (names or aliases) by the rules of build_request, without building anything.

    Returns the values by option name (every endpoint option, defaults filled in, ``name`` checked). Nothing is read
    from files and no library is imported, so it runs anywhere: build_request starts with it, and the dicom_audit role
    checks the host variables of every inventory endpoint with it on the controller before a probe host sees them
    (with ``prefix`` ``dicom_``, messages name the host variables). What only the probe host can check (TLS files,
    cryptography) is left to build_request.
    """
    canonical = {}
    for key, value in values.items():
        name = _ALIASES.get(key, key)
        if name in canonical and value is not None and canonical[name] is not None and canonical[name] != value:
            raise RequestError("%s%s is given twice (as %s and an alias)" % (prefix, name, key))
        if value is not None or name not in canonical:
            canonical[name] = value
    checked = {}
    for name in ENDPOINT_KEYS - {"name"}:
        spec = OPTIONS[name]
        value = canonical.get(name)
        if value is None:
            value = spec.get("default")
        checked[name] = _coerce(prefix + name, spec, value)
    checked["host"] = validate_host(prefix + "host", checked["host"])
    for name in ("calling_aet", "called_aet"):
        validate_ae_title(prefix + name, checked[name])
    sni = checked["sni"]
    if checked["tls"] and sni is not None and (not sni or any(char.isspace() for char in sni) or len(sni) > 253):
        raise RequestError("%ssni %r is not a host name" % (prefix, sni))
    name = canonical.get("name")
    if name is not None and not isinstance(name, str):
        raise RequestError("%sname must be a string, got %r" % (prefix, name))
    checked["name"] = str(name) if name else None
    return checked


def build_request(values, prefix="", contexts=None, echo=True, tls_cache=None, query_model=None):
    """Validate one endpoint's option values (names or aliases) into an EchoRequest.

    ``prefix`` names where the values came from in messages (``endpoints[3].``). ``contexts``
    replaces the propose_ts/propose_pc layout with explicit (abstract syntax, [transfer syntaxes])
    pairs; ``echo=False`` makes the probe association-only (negotiate, then release).
    ``tls_cache`` (a dict) shares one TLS context among requests with the same TLS options.
    ``query_model`` (study, worklist) makes it a C-FIND probe of that model instead of an echo.
    """
    checked = check_endpoint(values, prefix)
    name = checked.pop("name")
    query = None
    if query_model is not None:
        query, contexts = find_query(check_value("query_model", query_model, prefix + "query_model"))
        echo = False
    if contexts is None:
        contexts = echoscu_contexts(checked["propose_ts"], checked["propose_pc"])
    elif not 1 <= len(contexts) <= MAX_CONTEXTS:
        raise RequestError("%sbetween 1 and %d presentation contexts fit in one association, got %d" % (prefix, MAX_CONTEXTS, len(contexts)))
    del checked["propose_ts"], checked["propose_pc"]
    tls = _tls_settings(checked, prefix, tls_cache)
    request = EchoRequest(contexts=contexts, echo=echo, tls=tls, query=query, **checked)
    request.name = name or request.endpoint_label()
    return request


def build_requests(params, find=False):
    """Validate module-style parameters into a list of requests (one, or one per `endpoints` entry).

    Every entry of `endpoints` inherits the top-level values and may override the options that are
    marked per-endpoint; unknown keys are refused with their position. ``find``: dicom_find's
    parameters (FIND_ENDPOINT_KEYS), each request a C-FIND probe of its query_model.
    """
    endpoints = params.get("endpoints")
    allowed = FIND_ENDPOINT_KEYS if find else ENDPOINT_KEYS
    check_value("concurrency", params.get("concurrency", OPTIONS["concurrency"]["default"]))
    base = {_ALIASES.get(key, key): value for key, value in params.items() if _ALIASES.get(key, key) in allowed}

    def build(values, prefix="", tls_cache=None):
        values = dict(values)
        model = values.pop("query_model", None)
        if find:
            return build_request(values, prefix=prefix, tls_cache=tls_cache, query_model=model or FIND_OPTIONS["query_model"]["default"])
        return build_request(values, prefix=prefix, tls_cache=tls_cache)

    if not endpoints:
        if endpoints is not None:
            raise RequestError("endpoints must list at least one endpoint")
        return [build(base)]
    if params.get("host"):
        raise RequestError("host and endpoints are mutually exclusive: give one peer in host, or many in endpoints")
    requests = []
    tls_cache = {}
    for index, entry in enumerate(endpoints):
        prefix = "endpoints[%d]." % index
        if not isinstance(entry, dict):
            raise RequestError("endpoints[%d] must be a dict with at least host, got %r" % (index, entry))
        unknown = sorted(key for key in entry if _ALIASES.get(key, key) not in allowed)
        if unknown:
            raise RequestError("%s%s is not an endpoint option (allowed: %s)" % (prefix, unknown[0], ", ".join(sorted(allowed))))
        # the entry's keys (names or aliases) replace the task-level values; build_request resolves
        # the aliases and refuses an entry that gives one option twice
        overridden = {_ALIASES.get(key, key) for key in entry}
        merged = {name: value for name, value in base.items() if name not in overridden}
        merged.update(entry)
        requests.append(build(merged, prefix=prefix, tls_cache=tls_cache))
    names = set()
    for index, request in enumerate(requests):
        if request.name in names:
            raise RequestError("endpoints[%d] repeats the name %r; give each endpoint its own name" % (index, request.name))
        names.add(request.name)
    return requests
