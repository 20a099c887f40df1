# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdicts of the checks on real peers' answers: the plan (plugins/plugin_utils/_report_checks.py) run
through the engine against DCMTK storescp and dcmqrscp, Orthanc and a pynetdicom peer that leaks, then evaluated.
Real servers, so an integration suite (runme.sh); the plan and the formats are unit-tested."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.dicom.network.plugins.module_utils._engine import probe_all
from ansible_collections.dicom.network.plugins.module_utils._request import build_requests
from ansible_collections.dicom.network.plugins.plugin_utils import _report_checks, _reports
from ansible_collections.dicom.network.tests.peers import real
from ansible_collections.dicom.network.tests.peers.find_scp import PATIENT_VALUES, FindPeer


def run_plan(check_plan):
    """Every planned probe, one batch per job as the roles run them (dicom_echo, or dicom_find for query)."""
    results = []
    for job in check_plan["jobs"]:
        requests = build_requests({"endpoints": job["endpoints"], "dimse_timeout": 5, "acse_timeout": 5}, find=job["module"] == "dicom_find")
        results += [dict(result, name=request.name) for request, result in zip(requests, probe_all(requests))]
    return results


def probes(check_plan, kind, probe_from=None):
    jobs = [job for job in check_plan["jobs"] if job["kind"] == kind and job["probe_from"] == probe_from]
    return jobs[0]["endpoints"] if jobs else []


def echo(entries):
    requests = build_requests({"endpoints": [{key: value for key, value in entry.items() if key not in _reports.CHECK_KEYS}
                                             for entry in entries]})
    return [dict(result, name=request.name) for request, result in zip(requests, probe_all(requests))]


def checks_of(row):
    return {check["name"]: check for check in row["checks"]}


def findings_of(row):
    return sorted(finding["id"] for finding in row["findings"])


@pytest.fixture(scope="module")
def fleet():
    peers = {"storescp": real.storescp(), "qr": real.dcmqrscp(),
             "orthanc": real.orthanc(modalities={"me": "ECHOSCU"}, always_allow_find=False),
             "orthanc_open": real.orthanc(title="ARCHIVE1", check_called_aet=False),
             "leaky": FindPeer("leaky", matches=4).start()}
    yield peers
    for name, peer in peers.items():
        peer.stop() if name in ("storescp", "qr", "leaky") else peer.stop(grace=0)


def _entries(fleet):
    return [
        {"name": "storescp", "host": "127.0.0.1", "port": fleet["storescp"].port, "called_aet": "STORESCP"},
        {"name": "qr", "host": "127.0.0.1", "port": fleet["qr"].port, "called_aet": "QRSCP"},
        {"name": "orthanc", "host": "127.0.0.1", "port": fleet["orthanc"].port, "called_aet": "ORTHANC"},
        {"name": "orthanc_open", "host": "127.0.0.1", "port": fleet["orthanc_open"].port, "called_aet": "ARCHIVE1",
         "checks": ["called_aet_enforced", "default_aet", "query", "implementation"]},
        {"name": "leaky", "host": "127.0.0.1", "port": fleet["leaky"].port, "called_aet": "FINDSCP", "checks": ["query"]},
    ]


def test_verdicts_on_real_peers(fleet):
    entries = _entries(fleet)
    plan = _report_checks.plan(entries, ["called_aet_enforced", "calling_aet_enforced", "default_aet", "query", "implementation"])
    report = _reports.build_audit_report(entries, echo(entries), run={"probe_hosts": ["localhost"]})
    _report_checks.evaluate(report["endpoints"], {entry["name"]: entry for entry in entries}, plan, run_plan(plan))
    _reports.summarize(report)
    rows = {row["name"]: row for row in report["endpoints"]}

    storescp = checks_of(rows["storescp"])  # storescp accepts any AE title in both roles
    assert not storescp["called_aet_enforced"]["passed"] and not storescp["calling_aet_enforced"]["passed"]
    # its own title, STORESCP, is the product's default; the random control title tells that it accepts any other too
    assert storescp["default_aet"]["passed"] and storescp["default_aet"]["actual"] == ["STORESCP"]
    assert "accepts any called AE title" in storescp["default_aet"]["message"]
    assert not storescp["query"]["passed"] and "does not support" in storescp["query"]["message"]
    assert findings_of(rows["storescp"]) == ["called_aet_not_enforced", "calling_aet_not_enforced", "default_aet", "query_not_supported"]

    qr = checks_of(rows["qr"])  # dcmqrscp's AE table: both titles enforced, queries answered for ECHOSCU
    assert qr["called_aet_enforced"]["passed"] and qr["calling_aet_enforced"]["passed"] and qr["query"]["passed"]
    assert qr["default_aet"]["passed"] and "none of the" in qr["default_aet"]["message"]
    assert qr["implementation"]["actual"]["class_uid"].startswith("1.2.276.0.7230010.3")
    assert findings_of(rows["qr"]) == []

    orthanc = checks_of(rows["orthanc"])  # called AE checked, calling AE not (DicomAlwaysAllowEcho), ECHOSCU registered
    assert orthanc["called_aet_enforced"]["passed"] and not orthanc["calling_aet_enforced"]["passed"]
    assert orthanc["query"]["passed"] and orthanc["default_aet"]["passed"]  # a finding, not a failure
    assert findings_of(rows["orthanc"]) == ["calling_aet_not_enforced", "default_aet"]
    assert "ORTHANC" in rows["orthanc"]["findings"][1]["message"]

    open_orthanc = checks_of(rows["orthanc_open"])  # DicomCheckCalledAet false; ECHOSCU not registered: C-FIND aborted
    assert not open_orthanc["called_aet_enforced"]["passed"] and "calling_aet_enforced" not in open_orthanc
    assert open_orthanc["default_aet"]["passed"] and "not applicable" in open_orthanc["default_aet"]["message"]
    assert not open_orthanc["query"]["passed"] and "aborted" in open_orthanc["query"]["message"]
    assert findings_of(rows["orthanc_open"]) == ["called_aet_not_enforced", "query_refused"]

    leaky = checks_of(rows["leaky"])
    assert leaky["query"]["passed"] and findings_of(rows["leaky"]) == ["query_unfiltered"]
    assert report["summary"]["findings"]["by_id"]["calling_aet_not_enforced"] == 2
    text = json.dumps(report)
    assert not any(value in text for value in PATIENT_VALUES.values())

    fail_on_default = copy.deepcopy(report)
    for row in fail_on_default["endpoints"]:
        row["checks"] = [check for check in row["checks"] if check["name"] == "reachable"]
    _report_checks.evaluate(fail_on_default["endpoints"], {entry["name"]: entry for entry in entries}, plan, run_plan(plan),
                            fail_on_default_aet=True)
    assert not checks_of(fail_on_default["endpoints"][2])["default_aet"]["passed"]


def test_own_title_on_a_custom_default_list_is_a_finding(fleet):
    entries = [{"name": "qr", "host": "127.0.0.1", "port": fleet["qr"].port, "called_aet": "QRSCP", "checks": ["default_aet"]}]
    plan = _report_checks.plan(entries, default_aets=("QRSCP", "ANY-SCP"))
    assert [probe["called_aet"] for probe in probes(plan, "default_aet")][1:] == ["ANY-SCP"]  # its own title is the echo's
    report = _reports.build_audit_report(entries, echo(entries))
    _report_checks.evaluate(report["endpoints"], {"qr": entries[0]}, plan, run_plan(plan))
    row = report["endpoints"][0]
    assert findings_of(row) == ["default_aet"] and row["findings"][0]["detail"] == {"titles": ["QRSCP"]}


def test_own_default_title_is_reported_when_the_control_probe_is_undetermined(fleet):
    """An overloaded peer may time out on the control probe (seen with 1,000 endpoints on one Orthanc): its own
    default title is still a finding, the other titles are said to be undetermined."""
    entries = [{"name": "orthanc", "host": "127.0.0.1", "port": fleet["orthanc"].port, "called_aet": "ORTHANC", "checks": ["default_aet"]}]
    plan = _report_checks.plan(entries)
    probes(plan, "default_aet")[0]["port"] = real._proc.free_port()  # the control probe meets nothing
    report = _reports.build_audit_report(entries, echo(entries))
    _report_checks.evaluate(report["endpoints"], {"orthanc": entries[0]}, plan, run_plan(plan))
    check = checks_of(report["endpoints"][0])["default_aet"]
    assert check["passed"] and check["actual"] == ["ORTHANC"] and "other titles: the control probe" in check["message"]
    assert findings_of(report["endpoints"][0]) == ["default_aet"]


def test_unreachable_endpoint_leaves_checks_undetermined_without_findings():
    entries = [{"name": "down", "host": "127.0.0.1", "port": real._proc.free_port(), "called_aet": "X",
                "checks": ["called_aet_enforced", "calling_aet_enforced", "default_aet", "query", "implementation"]}]
    plan = _report_checks.plan(entries)
    report = _reports.build_audit_report(entries, echo(entries))
    _report_checks.evaluate(report["endpoints"], {"down": entries[0]}, plan, run_plan(plan))
    row = report["endpoints"][0]
    assert row["findings"] == [] and row["status"] == "failed"
    assert all(check["message"].startswith("not determined") for check in row["checks"] if check["name"] != "reachable")


def test_a_rejection_for_no_ae_title_reason_is_no_support_not_a_refusal():
    """wlmscpfs answers Study Root with A-ASSOCIATE-RJ 1/1/1 (no supported context), while it echoes: not supported."""
    peer = real.wlmscpfs()
    try:
        entries = [{"name": "wl", "host": "127.0.0.1", "port": peer.port, "called_aet": "WLMSCP", "checks": ["query"]}]
        plan = _report_checks.plan(entries)
        report = _reports.build_audit_report(entries, echo(entries))
        _report_checks.evaluate(report["endpoints"], {"wl": entries[0]}, plan, run_plan(plan))
    finally:
        peer.stop()
    row = report["endpoints"][0]
    assert row["success"] and findings_of(row) == ["query_not_supported"]
    assert "likely does not support the Study Root" in checks_of(row)["query"]["message"]
