# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role input -> dicom_echo endpoints: the helpers behind the echo_endpoints, echo_retryable, inventory_endpoints and
audit_endpoints filters (plugins/filter/endpoints.py). Private to this collection; no Ansible imports."""

from __future__ import annotations

import difflib

from ansible_collections.dicom.network.plugins.module_utils._negotiation import pydicom_missing
from ansible_collections.dicom.network.plugins.module_utils._request import (
    ENDPOINT_KEYS,
    SECRET_KEYS,
    RequestError,
    check_endpoint,
    check_value,
    kind_of,
    option_name,
    validate_host,
)
from ansible_collections.dicom.network.plugins.module_utils._syntaxes import ECHOSCU_TRANSFER_SYNTAXES
from ansible_collections.dicom.network.plugins.plugin_utils._report_checks import check_names
from ansible_collections.dicom.network.plugins.plugin_utils._reports import (
    CHECK_KEYS,
    EXPECTATION_KEYS,
    INVENTORY_KEYS,
    ReportError,
    endpoint_name,
    expectation_limit,
    transfer_syntax_uid,
)

# Outcomes that mean "not up (yet)": worth another attempt while an endpoint is starting.
RETRYABLE_OUTCOMES = frozenset(["dns_error", "connection_refused", "connect_timeout", "acse_timeout", "peer_aborted",
                                "tls_error", "protocol_error", "release_failed", "dimse_timeout"])

_ECHOSCU_ORDER = {uid: index for index, (uid, _dcmtk, _keyword) in enumerate(ECHOSCU_TRANSFER_SYNTAXES)}


def echo_endpoints(entries, defaults=None, propose_expected=False, keep_check_keys=False):
    """pacs_verify endpoints -> the ``endpoints`` of one dicom_echo task.

    Expectation keys and the check keys (CHECK_KEYS, unless ``keep_check_keys``: the check plan reads them) are
    dropped, ``defaults`` (module options for every endpoint) are put under
    each entry, and every entry gets the ``name`` its result will carry. With
    ``propose_expected``, entries with ``expect_transfer_syntaxes`` and no ``propose_ts`` of their
    own propose echoscu's list up to the last expected syntax in it, so the echo association shows
    which of those the peer prefers (no more: DCMTK 3.6 acceptors do not answer a context with more
    than 50 transfer syntaxes).
    """
    if not isinstance(entries, list):
        raise ReportError("the endpoint list must be a list of dicts, got %s" % kind_of(entries))
    out = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ReportError("endpoint %d must be a dict, got %r" % (index, entry))
        probe = {key: value for key, value in (defaults or {}).items() if value is not None}
        dropped = EXPECTATION_KEYS + INVENTORY_KEYS + (() if keep_check_keys else CHECK_KEYS)
        probe.update((key, value) for key, value in entry.items() if key not in dropped and value is not None)
        for key in ("max_rtt_ms", "min_cert_days"):
            expectation_limit(entry, key, "endpoint %d (%s)" % (index, endpoint_name(probe)))
        expected = entry.get("expect_transfer_syntaxes")
        if expected is not None:
            if not isinstance(expected, list):
                raise ReportError("endpoint %d (%s): expect_transfer_syntaxes must be a list, got %r" % (index, endpoint_name(probe), expected))
            unknown = [value for value in expected if transfer_syntax_uid(value) is None]
            if unknown:
                missing = pydicom_missing()
                raise ReportError("endpoint %d (%s): unknown transfer syntax %s in expect_transfer_syntaxes (give UIDs, DICOM keywords "
                                  "such as ExplicitVRLittleEndian, or names such as 'Explicit VR Little Endian')%s"
                                  % (index, endpoint_name(probe), ", ".join(repr(value) for value in unknown),
                                     "; names beyond echoscu's %d transfer syntaxes need pydicom on the controller, and %s"
                                     % (len(ECHOSCU_TRANSFER_SYNTAXES), missing) if missing else ""))
        if propose_expected and expected and "propose_ts" not in entry:
            positions = [_ECHOSCU_ORDER[uid] for uid in map(transfer_syntax_uid, expected) if uid in _ECHOSCU_ORDER]
            if positions:
                probe["propose_ts"] = max(positions) + 1
        probe["name"] = endpoint_name(probe)
        out.append(probe)
    return out


def echo_retryable(results):
    """Names of the endpoints worth probing again: not up yet (refused, timed out, transiently rejected ...).

    A success is final, and so is a permanent rejection (a wrong AE title stays wrong).
    """
    names = []
    for result in results or []:
        outcome = result.get("outcome")
        rejection = (result.get("association") or {}).get("rejection") or {}
        if outcome in RETRYABLE_OUTCOMES or (outcome == "association_rejected" and rejection.get("result") == 2):
            names.append(result.get("name"))
    return names


def inventory_endpoints(hostvars, hosts, option_names, defaults=None, prefix="dicom_", probe_default="localhost", extra_names=()):
    """Inventory hosts -> {probe host: [dicom_echo endpoint dicts]} from their ``dicom_*`` host variables.

    ``dicom_host`` defaults to ``ansible_host`` and then to the inventory name; ``dicom_probe_from``
    to ``probe_default``; every name in ``option_names`` (the endpoint options dicom_echo accepts,
    TLS ones included) is read from ``dicom_<option>``, and so is each of ``extra_names`` (the check settings
    ``checks``, ``query_model``, ``plain_port`` for the check plan). The endpoint ``name`` is the inventory name.
    """
    wanted = {prefix + option: option for option in tuple(option_names) + tuple(extra_names) if option not in ("host", "name")}
    defaults = _canonical(defaults)
    groups = {}
    for host in hosts or []:
        endpoint, probe, _source, _others = _host_endpoint(hostvars[host], host, wanted, defaults, prefix, probe_default)
        groups.setdefault(probe, []).append(endpoint)
    return groups


def _host_endpoint(hv, host, wanted, defaults, prefix, probe_default):
    """One inventory host's endpoint from its variables ``hv``: (endpoint, probe host, where ``host`` came from, the
    other ``prefix``* variable names). ``wanted`` maps ``dicom_<option>`` to the option; ``defaults`` are by option name.

    ``dicom_host`` defaults to ``ansible_host`` and then to the inventory name; ``dicom_probe_from`` to ``probe_default``;
    the endpoint ``name`` is the inventory name.
    """
    endpoint = dict(defaults)
    others = []
    # Only the variables that are there are read (and templated): a lookup of each possible option name costs more
    # than one pass over the host's variable names; the others are not templated at all.
    for key in [key for key in hv if key.lower().startswith(prefix)]:
        if key in wanted:
            value = hv[key]
            if value is not None:
                endpoint[wanted[key]] = value
        else:
            others.append(key)
    for source in (prefix + "host", "ansible_host"):
        if hv.get(source):
            endpoint["host"] = hv[source]
            break
    else:
        endpoint["host"], source = host, "the inventory name"
    endpoint["name"] = host
    return endpoint, hv.get(prefix + "probe_from") or probe_default, source, others


# Host variables dicom_<name> the dicom_audit role reads besides the endpoint options: the peer, the probe host,
# and the check settings (CHECK_VARIABLES, as the check plan reads them).
CHECK_VARIABLES = ("checks", "query_model", "plain_port")
AUDIT_VARIABLES = ("host", "probe_from") + CHECK_VARIABLES
# dicom_* variables an endpoint host may hold that are not its settings: the audit role's own variables
# (dicom_audit_*, set for a group or all, and its dicom_audit_report fact) and the facts of dicom_echo.
_NOT_SETTINGS_PREFIX = "audit_"
_NOT_SETTINGS = ("echo", "find")


def _canonical(options):
    """Options by option name: an alias (timeout) becomes the option (connection_timeout), so a host variable can
    override a default given under an alias instead of giving the option twice."""
    return {option_name(key): value for key, value in (options or {}).items()}


def _unknown_variable(key, prefix, known):
    """{variable, suggestion, note} of a dicom_* host variable the role does not read."""
    rest = key[len(prefix):] if key.lower().startswith(prefix) else key
    entry = {"variable": key, "suggestion": None, "note": None}
    if key.lower() in known:
        entry.update(suggestion=key.lower(), note="host variable names are lower case")
    elif option_name(rest) != rest and prefix + option_name(rest) in known:
        entry.update(suggestion=prefix + option_name(rest),
                     note="%s is an alias of the dicom_echo option %s; host variables use the option names" % (rest, option_name(rest)))
    elif rest == "name":
        entry["note"] = "the endpoint's name is its inventory host name"
    else:
        close = difflib.get_close_matches(key.lower(), sorted(known), n=1, cutoff=0.75)
        entry["suggestion"] = close[0] if close else None
    return entry


def audit_endpoints(hostvars, hosts, defaults=None, probe_default="localhost", prefix="dicom_"):
    """Inventory hosts -> the dicom_audit role's endpoints, every one validated before anything is probed.

    Returns ``batches``, {probe host: [endpoint dicts]} as inventory_endpoints() gives them with the check settings,
    of the endpoints whose host variables are valid, and ``invalid``, the others: [endpoint dict with ``probe_from``
    and ``invalid``, the message that names the host variable], never probed. Each endpoint may carry
    ``unknown_variables``: the dicom_* variables of its host that the role does not read, [{variable, suggestion
    (the close known name, or null), note}]. The values are checked by _request.check_endpoint() (what dicom_echo checks
    before it probes, without reading the TLS files: those are on the probe host), so no endpoint can make the probe
    batch fail as a whole. The secrets (SECRET_KEYS) are read for the check and left out of what is returned (it is
    stored as a fact); ``secret_hosts`` ({probe host: [inventory names]}) names the hosts that have any, by probe host: only
    their batches need inventory_endpoints() to read the host variables again for dicom_echo (the entries of the other
    batches are complete: echo_endpoints() makes them dicom_echo's endpoints). ``host_checks`` lists the checks that
    valid endpoints ask for in their own ``dicom_checks`` (each once), so the role knows without walking the batches.

    ``defaults`` (options for endpoints that do not set them) are checked first: a bad default is the caller's error
    (ReportError), not an endpoint's.
    """
    defaults = _canonical(defaults)
    unknown_defaults = sorted(key for key in defaults if key not in ENDPOINT_KEYS or key == "name")
    if unknown_defaults:
        raise ReportError("defaults: %s is not an endpoint option of dicom_echo" % ", ".join(unknown_defaults))
    try:
        check_endpoint(dict(defaults, host="localhost"))
    except RequestError as exc:
        raise ReportError("defaults: %s" % exc) from None
    options = sorted(ENDPOINT_KEYS - {"name", "host"})
    wanted = {prefix + name: name for name in options + list(CHECK_VARIABLES)}
    known = set(wanted) | {prefix + name for name in AUDIT_VARIABLES}
    batches, invalid, secret_hosts, host_checks = {}, [], {}, []
    for host in hosts or []:
        endpoint, probe, host_label, others = _host_endpoint(hostvars[host], host, wanted, defaults, prefix, probe_default)
        unknown = [_unknown_variable(key, prefix, known) for key in others
                   if key not in known and not key[len(prefix):].startswith(_NOT_SETTINGS_PREFIX) and key[len(prefix):] not in _NOT_SETTINGS]
        problem = None
        try:
            if not isinstance(probe, str):
                raise RequestError("%sprobe_from must be the name of an inventory host, got %s" % (prefix, kind_of(probe)))
            if isinstance(endpoint["host"], str):
                validate_host(host_label, endpoint["host"])
            check_endpoint({key: value for key, value in endpoint.items() if key not in CHECK_VARIABLES}, prefix=prefix)
            if endpoint.get("checks") is not None:
                check_names(endpoint["checks"], prefix + "checks")
            for name, option in (("query_model", "query_model"), ("plain_port", "port")):
                check_value(option, endpoint.get(name), prefix + name)
        except (RequestError, ReportError) as exc:
            problem = str(exc)
        public = {key: value for key, value in endpoint.items() if key not in SECRET_KEYS}
        if len(public) < len(endpoint) and isinstance(probe, str):
            secret_hosts.setdefault(probe, []).append(host)
        if unknown:
            public["unknown_variables"] = unknown
        if problem is None:
            batches.setdefault(probe, []).append(public)
            for name in public.get("checks") or ():
                if name not in host_checks:
                    host_checks.append(name)
        else:
            public.update(probe_from=probe if isinstance(probe, str) else None, invalid=problem)
            invalid.append(public)
    return {"batches": batches, "invalid": invalid, "secret_hosts": secret_hosts, "host_checks": host_checks}
