# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option knowledge is written once: _request.OPTIONS. What cannot import it is compared with it here.

The doc fragments and the modules' and the lookup's DOCUMENTATION are static YAML strings, and the
roles' argument specs, defaults and vars are YAML files that Ansible reads as they are; each of them
repeats names, types, defaults, choices or ranges of OPTIONS. These tests fail on the first drift and
name it (docs/dev/options.md). Deliberate differences are listed below, each with its reason.
"""

from __future__ import annotations

import os
import re

import pytest
import yaml

from ansible_collections.dicom.network.plugins.doc_fragments import association, tls
from ansible_collections.dicom.network.plugins.lookup import transfer_syntaxes
from ansible_collections.dicom.network.plugins.module_utils import _find, _request, _tls_profiles
from ansible_collections.dicom.network.plugins.modules import dicom_echo, dicom_find
from ansible_collections.dicom.network.plugins.plugin_utils import _report_checks, _reports

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, os.pardir))
ROLES = ("pacs_verify", "dicom_audit")

# pacs_verify endpoint options the role documents without the module's default, because the role sets
# its own: the value of the role option pacs_verify_<name> (see __pacs_verify_defaults in its vars).
ROLE_OWN_DEFAULTS = ("calling_aet", "connection_timeout", "acse_timeout", "dimse_timeout")
# Role options that stand for a module option under another name than <role>_<option>.
ROLE_RENAMED = {"dicom_audit_echo_repeat": "repeat"}
# The lookup's own options of the same name as module options, and why they differ from OPTIONS.
LOOKUP_OWN = {
    # they shape the lookup's mode=echoscu proposal and are an error with its default mode=discover,
    # so they have no default there (build_request never sees them: plan_contexts uses them)
    "propose_ts": ("default",),
    "propose_pc": ("default",),
}
# Compared between a documented option and OPTIONS (no_log only where the document can carry it).
SPEC_KEYS = ("type", "elements", "default", "choices", "aliases")
_RANGE = re.compile(r"\b(\d[\d,]*) to (\d[\d,]*)\b")


def load_yaml(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def documented(text):
    return yaml.safe_load(text).get("options") or {}


def description(doc):
    text = doc.get("description") or ""
    return " ".join(text) if isinstance(text, list) else text


def normal(key, value):
    """A spec value as compared: missing is None, choices compare as sets (their order is the document's)."""
    if key == "choices" and value is not None:
        return sorted(value)
    if key == "aliases":
        return sorted(value or [])
    return value


def differences(name, doc, spec, keys=SPEC_KEYS):
    """What ``doc`` (a documented option) says otherwise than ``spec`` (its OPTIONS entry), as messages."""
    found = []
    for key in keys:
        if normal(key, doc.get(key)) != normal(key, spec.get(key)):
            found.append("%s: %s is %r in the document, %r in OPTIONS" % (name, key, doc.get(key), spec.get(key)))
    low, high = spec.get("min"), spec.get("max")
    ranges = [(int(a.replace(",", "")), int(b.replace(",", ""))) for a, b in _RANGE.findall(description(doc))]
    if low is not None and high is not None and ranges and (low, high) not in ranges:
        found.append("%s: the description gives the range %s, OPTIONS %d to %d" % (name, ranges, low, high))
    return found


def fragment_options():
    return {"association": documented(association.ModuleDocFragment.DOCUMENTATION),
            "tls": documented(tls.ModuleDocFragment.DOCUMENTATION)}


# ---- the doc fragments and the plugins' own documentation --------------------------------------
def test_every_doc_fragment_option_is_documented_as_options_specifies_it():
    problems = []
    for fragment, options in fragment_options().items():
        for name, doc in options.items():
            if name not in _request.OPTIONS:
                problems.append("%s: %s is not in OPTIONS" % (fragment, name))
                continue
            problems += ["%s fragment, %s" % (fragment, text) for text in differences(name, doc, _request.OPTIONS[name])]
    assert not problems, "\n".join(problems)


def test_the_plugins_config_sources_name_documented_options():
    plugins = documented(association.ModuleDocFragment.PLUGINS)
    assert set(plugins) <= set(fragment_options()["association"])


@pytest.mark.parametrize("module, spec", [
    (dicom_echo, _request.module_argument_spec()),
    (dicom_find, _request.find_argument_spec()),
], ids=["dicom_echo", "dicom_find"])
def test_each_module_documents_exactly_its_argument_spec(module, spec):
    options = dict(documented(module.DOCUMENTATION))
    for fragment in fragment_options().values():
        options.update((name, doc) for name, doc in fragment.items() if name not in options)
    assert sorted(options) == sorted(spec)
    problems = []
    for name, doc in options.items():
        option = dict(_request.OPTIONS, **_request.FIND_OPTIONS)[name]
        problems += differences(name, doc, option)
    assert not problems, "\n".join(problems)


def test_the_lookup_documents_every_negotiation_option_and_its_own_apart():
    own = documented(transfer_syntaxes.DOCUMENTATION)
    options = dict(own)
    for fragment in fragment_options().values():
        options.update(fragment)
    # the lookup reads these with get_option(): one it does not document would be dropped silently
    missing = sorted(_request.NEGOTIATION_KEYS - {"name", "host"} - set(options))
    assert not missing, "the lookup does not document %s" % ", ".join(missing)
    problems = []
    for name, doc in own.items():
        if name in _request.OPTIONS:
            keys = tuple(key for key in SPEC_KEYS if key not in LOOKUP_OWN.get(name, ()))
            problems += ["lookup, %s" % text for text in differences(name, doc, _request.OPTIONS[name], keys)]
    assert not problems, "\n".join(problems)


def test_the_default_tls_profile_is_dcmtks_table_default_everywhere():
    """The default profile is written once in Python (_tls_profiles.DEFAULT_PROFILE); the documents are checked above."""
    assert _request.OPTIONS["tls_profile"]["default"] == _tls_profiles.DEFAULT_PROFILE
    assert _request.OPTIONS["tls_profile"]["choices"] == list(_tls_profiles.PROFILES)
    assert _request.OPTIONS["tls_version"]["choices"] == list(_tls_profiles.TLS_VERSIONS)


def test_the_query_models_are_the_ones_find_knows():
    assert _request.FIND_OPTIONS["query_model"]["choices"] == list(_find.MODELS)


# ---- the roles ------------------------------------------------------------------------------------
def argument_spec(role):
    return load_yaml("roles", role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]


def test_pacs_verify_endpoints_take_every_endpoint_option_of_the_module_and_nothing_else():
    suboptions = argument_spec("pacs_verify")["pacs_verify_endpoints"]["options"]
    expected = _request.ENDPOINT_KEYS | set(_reports.EXPECTATION_KEYS) | set(_reports.CHECK_KEYS)
    unknown, refused = sorted(set(suboptions) - expected), sorted(expected - set(suboptions))
    assert not unknown, "the role takes keys that dicom_echo and the role's filters do not know: %s" % ", ".join(unknown)
    assert not refused, "the role refuses endpoint keys that dicom_echo accepts: %s" % ", ".join(refused)


def test_pacs_verify_endpoint_options_are_specified_as_options_specifies_them():
    suboptions = argument_spec("pacs_verify")["pacs_verify_endpoints"]["options"]
    options = argument_spec("pacs_verify")
    problems = []
    for name in sorted(_request.ENDPOINT_KEYS - {"name"}):
        if name not in suboptions:
            problems.append("%s: not an option of pacs_verify_endpoints" % name)
            continue
        doc, spec = suboptions[name], _request.OPTIONS[name]
        keys = ("type", "elements", "choices", "no_log")
        if name in ROLE_OWN_DEFAULTS:
            # the role's own default, documented on pacs_verify_<name>; the module's would mislead here
            if "default" in doc:
                problems.append("%s: documents a default, but the role's is pacs_verify_%s" % (name, name))
            if "pacs_verify_" + name not in options:
                problems.append("%s: no role option pacs_verify_%s supplies its default" % (name, name))
        else:
            keys += ("default",)
        # aliases are not taken: the role's filters read endpoint keys by their names (endpoint_name, the check plan)
        if doc.get("aliases"):
            problems.append("%s: the role does not take aliases (its filters read keys by their names)" % name)
        problems += differences(name, doc, spec, keys)
    doc = suboptions["query_model"]
    problems += differences("query_model", doc, _request.FIND_OPTIONS["query_model"], ("type", "choices", "default"))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_role_options_that_stand_for_module_options_have_their_type_and_valid_defaults(role):
    problems = []
    for name, doc in argument_spec(role).items():
        option = ROLE_RENAMED.get(name, name[len(role) + 1:])
        if option not in _request.OPTIONS:
            continue
        spec = _request.OPTIONS[option]
        problems += differences(name, doc, spec, ("type", "elements", "choices"))
        # the default is the role's own choice (a fleet wants shorter timeouts than echoscu), but the module must take it
        default = doc.get("default")
        if default is not None:
            try:
                _request.check_value(option, default)
            except _request.RequestError as exc:
                problems.append("%s: default %r: %s" % (name, default, exc))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_role_check_and_report_choices_are_the_report_codes(role):
    options = argument_spec(role)
    assert sorted(options[role + "_checks"]["choices"]) == sorted(_report_checks.CHECKS)
    assert sorted(options[role + "_report_formats"]["choices"]) == sorted(_reports.FORMATS)
    if role == "pacs_verify":
        suboptions = options["pacs_verify_endpoints"]["options"]
        assert sorted(suboptions["checks"]["choices"]) == sorted(_report_checks.CHECKS)


@pytest.mark.parametrize("role", ROLES)
def test_role_defaults_file_and_argument_spec_agree(role):
    """defaults/main.yml sets what Ansible uses; the argument spec's default is only what the documentation shows."""
    options = argument_spec(role)
    defaults = load_yaml("roles", role, "defaults", "main.yml")
    assert sorted(defaults) == sorted(options)
    problems = []
    for name, doc in options.items():
        if doc.get("required"):
            continue  # the defaults file may hold an empty placeholder
        if doc.get("default") != defaults[name]:
            problems.append("%s: argument spec default %r, defaults/main.yml %r" % (name, doc.get("default"), defaults[name]))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_role_vars_pass_endpoint_options_by_their_names(role):
    """The role's __<role>_defaults dict (Jinja in vars/main.yml) maps role options to endpoint options."""
    template = load_yaml("roles", role, "vars", "main.yml")["__%s_defaults" % role]
    keys = re.findall(r"'(\w+)':", template)
    assert keys and set(keys) <= _request.ENDPOINT_KEYS


def test_pacs_verify_strips_exactly_what_the_lookup_does_not_take():
    """Discovery hands the echo endpoints to the transfer_syntaxes lookup without the options it refuses in
    its default mode=discover; the list is YAML (vars/main.yml), the property is OPTIONS' (NEGOTIATION_KEYS)."""
    stripped = load_yaml("roles", "pacs_verify", "vars", "main.yml")["__pacs_verify_echo_only_options"]
    assert sorted(stripped) == sorted(_request.ENDPOINT_KEYS - _request.NEGOTIATION_KEYS)
