# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint filters of the roles, as Jinja calls them."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.dicom.network.plugins.filter import endpoints


def test_filters_are_registered():
    assert set(endpoints.FilterModule().filters()) == {"check_plan", "echo_endpoints", "echo_retryable", "inventory_endpoints", "with_secrets"}


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
