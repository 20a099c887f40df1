# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint filters of the roles, as Jinja calls them."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.dicom.network.plugins.filter import endpoints
from ansible_collections.dicom.network.plugins.module_utils._request import RequestError, build_requests


def test_filters_are_registered():
    assert set(endpoints.FilterModule().filters()) == {"audit_endpoints", "check_plan", "echo_endpoints", "echo_retryable", "inventory_endpoints",
                                                       "with_secrets"}


def test_check_plan_names_every_probe_and_refuses_bad_input():
    plan = endpoints.check_plan([{"host": "h", "called_aet": "A", "checks": ["query"], "query_model": "worklist"}],
                                defaults={"connection_timeout": 5})
    assert plan["jobs"] == [{"probe_from": None, "kind": "query", "module": "dicom_find", "endpoints": [
        {"connection_timeout": 5, "host": "h", "called_aet": "A", "query_model": "worklist", "name": "A@h:104~query~worklist"}],
        "owners": ["A@h:104"], "tls_owners": []}]
    with pytest.raises(AnsibleFilterError, match="check_plan: endpoint A@h:104: checks: unknown check 'nope'"):
        endpoints.check_plan([{"host": "h", "called_aet": "A", "checks": ["nope"]}])
    with pytest.raises(AnsibleFilterError, match="tls_versions must be a list"):
        endpoints.check_plan([{"host": "h"}], tls_versions="TLSv1.2")


def test_the_plan_holds_no_password_and_with_secrets_puts_it_back_for_the_module():
    entries = [{"name": "a", "host": "h", "tls": True, "private_key": "k", "certificate": "c", "private_key_password": "s3cret",
                "checks": ["called_aet_enforced", "tls_versions"]},
               {"name": "b", "host": "h2", "checks": ["called_aet_enforced"]}]
    plan = endpoints.check_plan(entries, defaults={"private_key_password": "default-s3cret"})
    assert "s3cret" not in repr(plan)
    job = [job for job in plan["jobs"] if job["kind"] == "called_aet_enforced"][0]
    assert job["owners"] == ["a", "b"] and job["tls_owners"] == ["a"]
    probes = endpoints.with_secrets(job["endpoints"], job["owners"], endpoints.echo_endpoints(entries))
    assert [probe.get("private_key_password") for probe in probes] == ["s3cret", None]
    assert probes[0]["called_aet"] == job["endpoints"][0]["called_aet"] and "private_key_password" not in job["endpoints"][0]
    by_probe_host = endpoints.with_secrets(job["endpoints"], job["owners"], {"gw": endpoints.echo_endpoints(entries)})
    assert by_probe_host == probes
    with pytest.raises(AnsibleFilterError, match="2 probes but 1 owners"):
        endpoints.with_secrets(job["endpoints"], ["a"], [])


def test_echo_endpoints_drop_the_check_settings():
    entry = {"host": "h", "checks": ["query"], "query_model": "study", "plain_port": 104, "expect_implementation_class_uid": "1.2"}
    assert endpoints.echo_endpoints([entry]) == [{"host": "h", "name": "ANY-SCP@h:104"}]


def test_echo_endpoints_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match="echo_endpoints: endpoint 0 .*unknown transfer syntax 'Nope'"):
        endpoints.echo_endpoints([{"host": "h", "expect_transfer_syntaxes": ["Nope"]}])
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        endpoints.echo_endpoints({"host": "h"})


def test_echo_retryable_wants_the_results_list():
    assert endpoints.echo_retryable([{"name": "a", "outcome": "connect_timeout"}, {"name": "b", "outcome": "success"}]) == ["a"]
    with pytest.raises(AnsibleFilterError, match="results list"):
        endpoints.echo_retryable({"results": []})


def test_inventory_endpoints_reads_every_endpoint_option():
    hostvars = {"pacs": {"ansible_host": "10.0.0.5", "dicom_called_aet": "PACS", "dicom_tls": True,
                         "dicom_ca_files": ["/ca.pem"], "dicom_acse_timeout": 3, "dicom_name": "ignored"}}
    groups = endpoints.inventory_endpoints(hostvars, ["pacs"], {"calling_aet": "AUDIT"})
    assert groups == {"localhost": [{"calling_aet": "AUDIT", "called_aet": "PACS", "tls": True, "ca_files": ["/ca.pem"],
                                     "acse_timeout": 3, "host": "10.0.0.5", "name": "pacs"}]}
    with pytest.raises(AnsibleFilterError, match="'nope' is not an inventory host"):
        endpoints.inventory_endpoints(hostvars, ["nope"])


def test_inventory_endpoints_can_leave_the_passwords_out():
    hostvars = {"pacs": {"ansible_host": "10.0.0.5", "dicom_tls": True, "dicom_private_key": "/k.pem",
                         "dicom_private_key_password": "host-secret", "dicom_probe_from": "probe"},
                "ris": {"dicom_tls": True}}
    defaults = {"calling_aet": "AUDIT", "private_key_password": "default-secret"}
    full = endpoints.inventory_endpoints(hostvars, ["pacs", "ris"], defaults)
    assert full["probe"][0]["private_key_password"] == "host-secret"
    assert full["localhost"][0]["private_key_password"] == "default-secret"
    public = endpoints.inventory_endpoints(hostvars, ["pacs", "ris"], defaults, secrets=False)
    assert public == {"probe": [{"calling_aet": "AUDIT", "tls": True, "private_key": "/k.pem", "host": "10.0.0.5", "name": "pacs"}],
                      "localhost": [{"calling_aet": "AUDIT", "tls": True, "host": "ris", "name": "ris"}]}
    assert defaults["private_key_password"] == "default-secret"  # the caller's dict is left as it was


# ---- audit_endpoints: the dicom_audit role's endpoints, checked before anything is probed ------------------------

AUDIT_HOSTVARS = {
    "good": {"ansible_host": "10.0.0.1", "dicom_called_aet": "STORESCP", "dicom_checks": ["query"], "dicom_query_model": "worklist",
             "dicom_plain_port": 104, "dicom_probe_from": "gw", "dicom_tls": True, "dicom_ca_files": ["/not/on/the/controller.pem"],
             "dicom_private_key_password": "s3cret", "dicom_host": "pacs.example.org",
             # not the endpoint's settings: the role's own variables (set for a group) and the modules' facts
             "dicom_audit_group": "dicom_endpoints", "dicom_audit_report": {"verdict": "passed"}, "dicom_echo": {}, "dicom_find": {},
             "unrelated": 1},
    "typo": {"ansible_host": "10.0.0.2", "dicom_calledaet": "STORESCP", "dicom_call": "X", "dicom_name": "n", "DICOM_PORT": 11112,
             "dicom_colour": "blue"},
    "proto": {"ansible_host": "10.0.0.3", "dicom_ip_protocol": "ip4", "dicom_private_key_password": "s3cret"},
    "port": {"dicom_port": "abc", "dicom_probe_from": "gw"},
    "aet": {"dicom_called_aet": "ARCHIVE-WITH-A-LONG-TITLE"},
    "host": {"ansible_host": "pacs 9"},
    "checks": {"dicom_checks": ["ping"]},
    "model": {"dicom_query_model": "patient"},
    "plain": {"dicom_plain_port": 0},
    "both": {"dicom_port": 70000, "dicom_calledaet": "X"},
}


def test_audit_endpoints_batches_the_valid_and_lists_the_invalid_with_host_variable_names():
    audit = endpoints.audit_endpoints(AUDIT_HOSTVARS, list(AUDIT_HOSTVARS), {"calling_aet": "AUDIT", "timeout": 3}, probe_from="probe")
    assert audit["batches"] == {
        "gw": [{"calling_aet": "AUDIT", "connection_timeout": 3, "called_aet": "STORESCP", "checks": ["query"], "query_model": "worklist",
                "plain_port": 104, "tls": True, "ca_files": ["/not/on/the/controller.pem"], "host": "pacs.example.org", "name": "good"}],
        "probe": [{"calling_aet": "AUDIT", "connection_timeout": 3, "host": "10.0.0.2", "name": "typo", "unknown_variables": [
            {"variable": "dicom_calledaet", "suggestion": "dicom_called_aet", "note": None},
            {"variable": "dicom_call", "suggestion": "dicom_called_aet",
             "note": "call is an alias of the dicom_echo option called_aet; host variables use the option names"},
            {"variable": "dicom_name", "suggestion": None, "note": "the endpoint's name is its inventory host name"},
            {"variable": "DICOM_PORT", "suggestion": "dicom_port", "note": "host variable names are lower case"},
            {"variable": "dicom_colour", "suggestion": None, "note": None}]}],
    }
    invalid = {entry["name"]: entry for entry in audit["invalid"]}
    assert list(invalid) == ["proto", "port", "aet", "host", "checks", "model", "plain", "both"]  # inventory order
    assert {name: entry["invalid"] for name, entry in invalid.items()} == {
        "proto": "dicom_ip_protocol must be one of ipv4, ipv6, auto, got 'ip4'",
        "port": "dicom_port must be an integer, got 'abc'",
        "aet": "dicom_called_aet 'ARCHIVE-WITH-A-LONG-TITLE' is 25 characters long; a DICOM AE title has at most 16",
        "host": "ansible_host 'pacs 9' is neither a valid host name nor an IP literal",
        "checks": "dicom_checks: unknown check 'ping' (known: called_aet_enforced, calling_aet_enforced, default_aet, query, "
                  "tls_versions, implementation)",
        "model": "dicom_query_model must be one of study, worklist, got 'patient'",
        "plain": "dicom_plain_port must be 1..65535, got 0",
        "both": "dicom_port must be 1..65535, got 70000",
    }
    assert invalid["port"]["probe_from"] == "gw" and invalid["proto"]["probe_from"] == "probe"
    assert invalid["proto"]["host"] == "10.0.0.3" and invalid["port"]["port"] == "abc"
    assert invalid["both"]["unknown_variables"] == [{"variable": "dicom_calledaet", "suggestion": "dicom_called_aet", "note": None}]
    assert "s3cret" not in repr(audit)  # read for the check, stored nowhere


def test_audit_endpoints_checks_the_same_rules_as_dicom_echo():
    """Whatever audit_endpoints lets through, dicom_echo's own validation accepts (TLS files aside, read on the probe host)."""
    audit = endpoints.audit_endpoints(AUDIT_HOSTVARS, [name for name in AUDIT_HOSTVARS if name != "good"])
    probes = endpoints.echo_endpoints([entry for batch in audit["batches"].values() for entry in batch])
    assert [request.name for request in build_requests({"endpoints": probes})] == ["typo"]
    for entry in audit["invalid"]:
        values = {key: value for key, value in entry.items() if key not in ("probe_from", "invalid", "unknown_variables")
                  and key not in ("checks", "query_model", "plain_port")}
        if entry["name"] in ("checks", "model", "plain"):  # check settings: no dicom_echo options
            continue
        with pytest.raises(RequestError):
            build_requests({"endpoints": [values]})


def test_audit_endpoints_refuses_bad_defaults_and_bad_input():
    with pytest.raises(AnsibleFilterError, match="audit_endpoints: defaults: calling_aet 'AAAAAAAAAAAAAAAAA' is 17 characters long"):
        endpoints.audit_endpoints(AUDIT_HOSTVARS, ["good"], {"calling_aet": "A" * 17})
    with pytest.raises(AnsibleFilterError, match="audit_endpoints: defaults: colour is not an endpoint option"):
        endpoints.audit_endpoints(AUDIT_HOSTVARS, ["good"], {"colour": "blue"})
    with pytest.raises(AnsibleFilterError, match="'nope' is not an inventory host"):
        endpoints.audit_endpoints(AUDIT_HOSTVARS, ["nope"])
    with pytest.raises(AnsibleFilterError, match="expects a list of inventory host names, got a string"):
        endpoints.audit_endpoints(AUDIT_HOSTVARS, "good")


def test_a_host_variable_overrides_a_default_given_under_an_alias():
    hostvars = {"pacs": {"dicom_connection_timeout": 9}}
    assert endpoints.inventory_endpoints(hostvars, ["pacs"], {"timeout": 3})["localhost"][0]["connection_timeout"] == 9
    assert endpoints.audit_endpoints(hostvars, ["pacs"], {"timeout": 3})["batches"]["localhost"][0]["connection_timeout"] == 9


def test_the_check_plan_and_the_probes_never_see_the_inventory_keys():
    audit = endpoints.audit_endpoints(AUDIT_HOSTVARS, ["typo"])
    plan = endpoints.check_plan(audit["batches"], ["called_aet_enforced"])
    assert all("unknown_variables" not in probe for job in plan["jobs"] for probe in job["endpoints"])
    assert "unknown_variables" not in endpoints.echo_endpoints(audit["batches"]["localhost"])[0]


def test_audit_endpoints_names_the_hosts_with_secrets_and_the_others_need_no_second_read():
    """The role reads host variables again only for secret_hosts: for the others, echo_endpoints() of the described batch
    must give dicom_echo exactly what inventory_endpoints() reads (roles/dicom_audit/vars/main.yml)."""
    hostvars = {
        "plain": {"ansible_host": "10.0.0.1", "dicom_called_aet": "STORESCP", "dicom_port": 11112, "dicom_checks": ["query"],
                  "dicom_repeat": 3, "dicom_calledaet": "typo"},
        "tls": {"ansible_host": "10.0.0.2", "dicom_tls": True, "dicom_private_key_password": "s3cret"},
        "proto": {"ansible_host": "10.0.0.3", "dicom_ip_protocol": "ip4", "dicom_private_key_password": "s3cret"},
    }
    defaults = {"calling_aet": "AUDIT", "connection_timeout": 5, "repeat": 5}
    audit = endpoints.audit_endpoints(hostvars, list(hostvars), defaults)
    assert audit["secret_hosts"] == {"localhost": ["tls", "proto"]}
    assert audit["host_checks"] == ["query"]
    assert "s3cret" not in repr(audit)
    described = endpoints.echo_endpoints([entry for entry in audit["batches"]["localhost"] if entry["name"] == "plain"])
    read_again = endpoints.inventory_endpoints(hostvars, ["plain"], defaults)["localhost"]
    assert described == read_again == [{"calling_aet": "AUDIT", "connection_timeout": 5, "repeat": 3, "called_aet": "STORESCP",
                                        "port": 11112, "host": "10.0.0.1", "name": "plain"}]
