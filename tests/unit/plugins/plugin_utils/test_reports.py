# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report code of the pacs_verify and dicom_audit roles: checks, baseline diff, every format, atomic writes,
and the HTML page as headless Chromium renders it (those tests are skipped without Chromium)."""

from __future__ import annotations

import copy
import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.dicom.network.plugins.module_utils._engine import probe_all
from ansible_collections.dicom.network.plugins.module_utils._request import build_requests
from ansible_collections.dicom.network.plugins.modules.dicom_echo import compact_result
from ansible_collections.dicom.network.plugins.plugin_utils import (
    _report_diff,
    _report_files,
    _report_html,
    _report_inputs,
    _report_metrics,
    _report_render,
    _reports,
)
from ansible_collections.dicom.network.tests.peers.faulty import FaultyPeer, closed_port

EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"
BIG = "1.2.840.10008.1.2.2"
JPEG = "1.2.840.10008.1.2.4.50"


def result(name, outcome="success", rtt=1.5, syntaxes=(EXPLICIT,), tls=None, host="127.0.0.1", port=104, aet="ARCHIVE", rejection=None):
    """A dicom_echo batch result as the module returns it (the keys the reports read)."""
    ok = outcome == "success"
    label = "%s@%s:%s" % (aet, host, port)
    return {
        "name": name,
        "changed": False,
        "success": ok,
        "outcome": outcome,
        "msg": "C-ECHO to %s succeeded: 1/1 echoes, %.2f ms" % (label, rtt) if ok else "C-ECHO to %s failed (%s): it broke" % (label, outcome),
        "echoscu_exit_code": 0 if ok else 1,
        "endpoint": {"host": host, "port": port, "address": host if ok else None, "ip_protocol": "ipv4",
                     "calling_aet": "ECHOSCU", "called_aet": aet},
        "association": {"established": ok, "released": ok, "aborted_by": None, "rejection": rejection, "abort": None,
                        "our_max_pdu": 16384, "peer_max_pdu": 16384 if ok else None, "max_send_pdv": 16372 if ok else None,
                        "peer_implementation_class_uid": "1.2.3" if ok else None, "peer_implementation_version_name": "X" if ok else None},
        "presentation_contexts": [],
        "accepted_transfer_syntaxes": list(syntaxes) if ok else [],
        "echoes": [{"message_id": 1, "status": 0, "status_text": "Success", "rtt_ms": rtt}] if ok else [],
        "rtt_ms": {"min": rtt, "avg": rtt, "max": rtt, "stdev": 0.0} if ok else None,
        "timing_ms": {"resolve": None, "connect": 0.2, "tls_handshake": None, "associate": 1.0, "echo": rtt, "release": 0.3, "total": 3.0},
        "tls": tls,
        "log": [],
    }


def tls_info(days, fingerprint="AA:BB", not_after="2027-01-01T00:00:00Z"):
    return {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384",
            "peer_certificate": {"subject": "CN=pacs", "issuer": "CN=ca", "serial": "01", "not_before": "2026-01-01T00:00:00Z",
                                 "not_after": not_after, "days_remaining": days, "sha256_fingerprint": fingerprint,
                                 "key_type": "RSA", "key_bits": 2048}}


def checks(row):
    return {check["name"]: check["passed"] for check in row["checks"]}


# ---- helpers used by the roles' filters -------------------------------------------------


@pytest.mark.parametrize("value, uid", [
    (EXPLICIT, EXPLICIT),
    ("ExplicitVRLittleEndian", EXPLICIT),
    ("LittleEndianExplicit", EXPLICIT),
    ("Explicit VR Little Endian", EXPLICIT),
    ("explicit vr little endian", EXPLICIT),
    ("JPEGBaseline8Bit", JPEG),
    ("1.2.3.4.5", "1.2.3.4.5"),
    ("NoSuchSyntax", None),
    ("1.2.03", None),
    (None, None),
])
def test_transfer_syntax_uid(value, uid):
    assert _reports.transfer_syntax_uid(value) == uid


def test_echo_endpoints_strips_expectations_and_applies_defaults():
    entries = [
        {"name": "a", "host": "h1", "port": 11112, "called_aet": "A", "expect_transfer_syntaxes": ["ExplicitVRLittleEndian"],
         "max_rtt_ms": 10, "min_cert_days": 5, "expect_rejected": False, "connection_timeout": 2},
        {"host": "fd00::5", "called_aet": "B", "calling_aet": None},
    ]
    probes = _report_inputs.echo_endpoints(entries, {"calling_aet": "ME", "connection_timeout": 5, "dimse_timeout": None}, propose_expected=True)
    assert probes[0] == {"calling_aet": "ME", "connection_timeout": 2, "name": "a", "host": "h1", "port": 11112, "called_aet": "A",
                         "propose_ts": 2}
    assert probes[1] == {"calling_aet": "ME", "connection_timeout": 5, "host": "fd00::5", "called_aet": "B", "name": "B@[fd00::5]:104"}
    assert entries[0]["expect_transfer_syntaxes"] == ["ExplicitVRLittleEndian"]  # input untouched
    assert "propose_ts" not in _report_inputs.echo_endpoints(entries)[0]
    jpeg = _report_inputs.echo_endpoints([{"host": "h", "expect_transfer_syntaxes": [IMPLICIT, "JPEGBaseline8Bit"]}], propose_expected=True)
    assert jpeg[0]["propose_ts"] == 5
    own = _report_inputs.echo_endpoints([{"host": "h", "propose_ts": 1, "expect_transfer_syntaxes": [JPEG]}], propose_expected=True)
    assert own[0]["propose_ts"] == 1


def test_echo_endpoints_refuses_unknown_transfer_syntax():
    with pytest.raises(_reports.ReportError, match=r"endpoint 0 \(x\): unknown transfer syntax 'Nope'"):
        _report_inputs.echo_endpoints([{"name": "x", "host": "h", "expect_transfer_syntaxes": ["Nope"]}])
    with pytest.raises(_reports.ReportError, match="must be a dict"):
        _report_inputs.echo_endpoints(["h"])


def test_echo_retryable():
    results = [result("up"), result("refused", "connection_refused"),
               result("wrong", "association_rejected", rejection={"result": 1, "source": 1, "reason": 7}),
               result("busy", "association_rejected", rejection={"result": 2, "source": 3, "reason": 1}),
               result("slow", "acse_timeout"), result("noctx", "no_acceptable_context")]
    assert _report_inputs.echo_retryable(results) == ["refused", "busy", "slow"]


def test_inventory_endpoints_groups_by_probe_host():
    hostvars = {
        "pacs1": {"ansible_host": "10.0.0.5", "dicom_port": 104, "dicom_called_aet": "PACS1", "dicom_tls": True, "unrelated": 1},
        "pacs2": {"dicom_host": "pacs2.example.org", "ansible_host": "10.0.0.6", "dicom_probe_from": "gw1"},
        "pacs3": {},
    }
    groups = _report_inputs.inventory_endpoints(hostvars, ["pacs1", "pacs2", "pacs3"], ["host", "port", "called_aet", "tls", "name"],
                                                defaults={"calling_aet": "AUDIT", "port": 11112})
    assert groups == {
        "localhost": [{"calling_aet": "AUDIT", "port": 104, "called_aet": "PACS1", "tls": True, "host": "10.0.0.5", "name": "pacs1"},
                      {"calling_aet": "AUDIT", "port": 11112, "host": "pacs3", "name": "pacs3"}],
        "gw1": [{"calling_aet": "AUDIT", "port": 11112, "host": "pacs2.example.org", "name": "pacs2"}],
    }


# ---- the roles' result_detail: compact results give the same reports --------------------------


def full_results():
    """Real dicom_echo results (full detail) from peers that succeed, reject, answer a non-Success status and refuse,
    plus a TLS result with every key the module returns for a peer certificate."""
    with FaultyPeer("normal") as normal, FaultyPeer("reject") as rejecting, FaultyPeer("echo_status") as status:
        endpoints = [{"name": "ok", "host": "127.0.0.1", "port": normal.port, "repeat": 3, "propose_ts": 3},
                     {"name": "wrong-aet", "host": "127.0.0.1", "port": rejecting.port, "called_aet": "NOPE"},
                     {"name": "status", "host": "127.0.0.1", "port": status.port},
                     {"name": "down", "host": "127.0.0.1", "port": closed_port()}]
        requests = build_requests({"endpoints": endpoints, "log_level": "info"})
        results = probe_all(requests, 4)
    for request, one in zip(requests, results):
        one["name"] = request.name
    assert [one["outcome"] for one in results] == ["success", "association_rejected", "echo_status", "connection_refused"]
    tls = dict(results[0], name="tls")
    tls["tls"] = dict(tls_info(12), cipher_iana="TLS_AES_256_GCM_SHA384", encryption_bits=256, profile="8996", sni=None,
                      client_certificate=False, peer_verified=True)
    tls["tls"]["peer_certificate"] = dict(tls["tls"]["peer_certificate"], signature_algorithm="sha256", self_signed=False)
    return results + [tls]


def written(report, directory):
    """Every format of the report as text, the JSON without each endpoint's probe."""
    paths = _report_files.write_reports(report, str(directory), "run", list(_reports.FORMATS))
    texts = {}
    for fmt, path in paths.items():
        with open(path, encoding="utf-8") as handle:
            texts[fmt] = handle.read()
    document = json.loads(texts.pop("json"))
    probes = [row.pop("probe") for row in document["endpoints"]]
    return texts, document, probes


def test_compact_results_give_the_same_reports(tmp_path, monkeypatch):
    monkeypatch.setattr(_reports, "utc_now", lambda: "2026-01-01T00:00:00Z")
    full = full_results()
    compact = [dict(compact_result(one, "warn"), name=one["name"]) for one in full]
    names = [one["name"] for one in full]
    verify_endpoints = [{"name": "ok", "host": "127.0.0.1", "expect_transfer_syntaxes": [IMPLICIT], "max_rtt_ms": 10000},
                        {"name": "wrong-aet", "host": "127.0.0.1", "expect_rejected": True},
                        {"name": "status", "host": "127.0.0.1"}, {"name": "down", "host": "127.0.0.1"},
                        {"name": "tls", "host": "127.0.0.1", "tls": True, "min_cert_days": 30}]
    builders = {
        "pacs_verify": lambda results: _reports.build_verify_report(verify_endpoints, copy.deepcopy(results), None, {"down": 2},
                                                                    {"probe_hosts": ["localhost"]}),
        "dicom_audit": lambda results: _reports.build_audit_report([{"name": name} for name in names], copy.deepcopy(results), 30,
                                                                   {"probe_hosts": ["localhost"]}),
    }
    for kind, build in builders.items():
        from_full, from_compact = build(full), build(compact)
        baseline = json.loads(json.dumps(from_full))
        for report in (from_full, from_compact):
            _report_diff.compare_baseline(report, baseline)
        texts_full, document_full, probes_full = written(from_full, tmp_path / kind / "full")
        texts_compact, document_compact, probes_compact = written(from_compact, tmp_path / kind / "compact")
        assert document_compact == document_full, "%s: the JSON report (probe aside) differs with compact results" % kind
        for fmt, text in texts_full.items():
            assert texts_compact[fmt] == text, "%s: the %s report differs with compact results" % (kind, fmt)
        assert all("presentation_contexts" in probe and "log" in probe for probe in probes_full)
        assert not any("presentation_contexts" in probe or "log" in probe for probe in probes_compact), \
            "%s: the compact probes still hold the bulky keys" % kind
        assert [len(probe["echoes"]) for probe in probes_compact] == [len(probe["echoes"]) for probe in probes_full]
    assert document_full["summary"]["failed"] == 4 and document_full["summary"]["checks_failed"] >= 4, document_full["summary"]


# ---- pacs_verify checks ----------------------------------------------------------------


def verify_report():
    endpoints = [
        {"name": "ok", "host": "127.0.0.1", "called_aet": "ARCHIVE", "expect_transfer_syntaxes": ["ExplicitVRLittleEndian", IMPLICIT],
         "max_rtt_ms": 10},
        {"name": "slow", "host": "127.0.0.1", "called_aet": "ARCHIVE", "max_rtt_ms": 1},
        {"name": "wrong-aet", "host": "127.0.0.1", "called_aet": "NOPE", "expect_rejected": True},
        {"name": "accepts-anything", "host": "127.0.0.1", "called_aet": "NOPE", "expect_rejected": True},
        {"name": "down", "host": "127.0.0.1", "port": 9, "called_aet": "ARCHIVE", "expect_transfer_syntaxes": [EXPLICIT]},
        {"name": "tls", "host": "127.0.0.1", "called_aet": "ARCHIVE", "min_cert_days": 30, "tls": True},
        {"name": "tls-expiring", "host": "127.0.0.1", "called_aet": "ARCHIVE", "min_cert_days": 30, "tls": True},
        {"name": "no-tls", "host": "127.0.0.1", "called_aet": "ARCHIVE", "min_cert_days": 30},
        {"name": "missing-syntax", "host": "127.0.0.1", "called_aet": "ARCHIVE", "expect_transfer_syntaxes": [JPEG]},
        {"host": "127.0.0.1", "port": 4242, "called_aet": "ORTHANC"},
        {"name": "never-probed", "host": "127.0.0.1"},
    ]
    results = [
        result("ok"), result("slow", rtt=2.5),
        result("wrong-aet", "association_rejected", rejection={"result": 1, "source": 1, "reason": 7, "reason_text": "Called AE Title Not Recognized"}),
        result("accepts-anything"), result("down", "connection_refused", port=9),
        result("tls", tls=tls_info(200)), result("tls-expiring", tls=tls_info(12)), result("no-tls"),
        result("missing-syntax", syntaxes=[IMPLICIT]), result("ORTHANC@127.0.0.1:4242", port=4242, aet="ORTHANC"),
    ]
    discovered = {"ok": [EXPLICIT, IMPLICIT, BIG], "missing-syntax": [IMPLICIT, EXPLICIT]}
    return _reports.build_verify_report(endpoints, results, discovered, attempts={"down": 3}, run={"probe_hosts": ["localhost"]})


def test_verify_checks():
    report = verify_report()
    rows = {row["name"]: row for row in report["endpoints"]}
    assert checks(rows["ok"]) == {"reachable": True, "transfer_syntaxes": True, "max_rtt_ms": True}
    assert rows["ok"]["status"] == "passed"
    assert checks(rows["slow"]) == {"reachable": True, "max_rtt_ms": False}
    assert checks(rows["wrong-aet"]) == {"rejected": True}
    assert rows["wrong-aet"]["status"] == "passed"
    assert "as expected" in rows["wrong-aet"]["checks"][0]["message"]
    assert checks(rows["accepts-anything"]) == {"rejected": False}
    assert "accepted" in rows["accepts-anything"]["checks"][0]["message"]
    assert checks(rows["down"]) == {"reachable": False, "transfer_syntaxes": False}
    assert rows["down"]["attempts"] == 3
    assert checks(rows["tls"]) == {"reachable": True, "min_cert_days": True}
    assert checks(rows["tls-expiring"]) == {"reachable": True, "min_cert_days": False}
    assert rows["tls-expiring"]["checks"][1]["actual"] == 12
    assert checks(rows["no-tls"]) == {"reachable": True, "min_cert_days": False}
    missing = rows["missing-syntax"]["checks"][1]
    assert missing["passed"] is False and "JPEG Baseline" in missing["message"]
    assert rows["ORTHANC@127.0.0.1:4242"]["status"] == "passed"
    assert rows["never-probed"]["outcome"] == "not_probed" and rows["never-probed"]["status"] == "failed"
    summary = report["summary"]
    assert (summary["endpoints"], summary["passed"], summary["failed"]) == (11, 4, 7)
    assert report["verdict"] == "failed"
    assert summary["checks_failed"] == sum(1 for row in report["endpoints"] for check in row["checks"] if not check["passed"])


def test_transfer_syntaxes_without_discovery_use_the_echo():
    endpoints = [{"name": "a", "host": "h", "expect_transfer_syntaxes": [EXPLICIT]},
                 {"name": "b", "host": "h", "expect_transfer_syntaxes": [EXPLICIT, IMPLICIT]}]
    report = _reports.build_verify_report(endpoints, [result("a"), result("b")])
    rows = report["endpoints"]
    assert rows[0]["checks"][1]["passed"] is True
    assert rows[1]["checks"][1]["passed"] is False
    assert "discovery unavailable" in rows[1]["checks"][1]["message"]


def test_transfer_syntaxes_when_discovery_failed():
    endpoints = [{"name": "a", "host": "h", "expect_transfer_syntaxes": [EXPLICIT], "max_rtt_ms": 5}]
    report = _reports.build_verify_report(endpoints, [result("a")], discovered={"a": None})
    ts_check = report["endpoints"][0]["checks"][1]
    assert ts_check["name"] == "transfer_syntaxes" and ts_check["passed"] is False and "could not ask" in ts_check["message"]
    assert checks(report["endpoints"][0])["max_rtt_ms"] is True  # the other checks still run


# ---- audit and baseline ----------------------------------------------------------------


def audit_endpoints(names):
    return [{"name": name, "host": "127.0.0.1", "called_aet": name.upper(), "probe_from": "localhost"} for name in names]


def test_audit_baseline_diff():
    names = ["steady", "regress", "recover", "still-down", "ts", "slower", "jitter", "cert", "new"]
    before = _reports.build_audit_report(audit_endpoints(names[:-1] + ["gone"]), [
        result("steady"), result("regress"), result("recover", "connection_refused"), result("still-down", "connection_refused"),
        result("ts", syntaxes=[EXPLICIT]), result("slower", rtt=2.0), result("jitter", rtt=2.0),
        result("cert", tls=tls_info(100, "AA")), result("gone")])
    after = _reports.build_audit_report(audit_endpoints(names), [
        result("steady"), result("regress", "acse_timeout"), result("recover"), result("still-down", "connect_timeout"),
        result("ts", syntaxes=[IMPLICIT]), result("slower", rtt=40.0), result("jitter", rtt=5.0),
        result("cert", tls=tls_info(300, "BB")), result("new")], min_cert_days=30)
    baseline = json.loads(_report_render.render_json(before))
    _report_diff.compare_baseline(after, baseline, latency_ms=20, latency_pct=50, source="/tmp/before.json")
    rows = {row["name"]: row for row in after["endpoints"]}
    kinds = {name: [change["type"] for change in row["changes"]] for name, row in rows.items()}
    assert kinds == {"steady": [], "regress": ["regression"], "recover": ["recovery"], "still-down": ["outcome"],
                     "ts": ["transfer_syntaxes"], "slower": ["latency"], "jitter": [], "cert": ["certificate"], "new": ["new"]}
    assert rows["regress"]["regression"] and not rows["regress"]["recovery"]
    assert checks(rows["regress"]) == {"reachable": False, "no_regression": False}
    assert checks(rows["recover"]) == {"reachable": True, "no_regression": True}
    assert checks(rows["cert"]) == {"reachable": True, "min_cert_days": True, "no_regression": True}
    assert "new" not in [c["name"] for c in rows["new"]["checks"]] and checks(rows["new"]) == {"reachable": True}
    assert after["removed_endpoints"][0]["name"] == "gone"
    summary = after["summary"]
    assert summary["regressions"] == 1 and summary["recoveries"] == 1 and summary["removed"] == 1
    assert summary["changes"] == {"certificate": 1, "latency": 1, "new": 1, "outcome": 1, "recovery": 1, "regression": 1,
                                  "transfer_syntaxes": 1}
    assert after["baseline"]["path"] == "/tmp/before.json" and after["baseline"]["endpoints"] == 9


def host_variable_report():
    """An audit whose inventory has an invalid value and a misspelled variable beside a good endpoint, as
    audit_endpoints() describes them (the invalid endpoint is not probed: no result)."""
    hostvars = {"good": {"ansible_host": "127.0.0.1", "dicom_called_aet": "GOOD"},
                "typo": {"ansible_host": "127.0.0.1", "dicom_calledaet": "STORESCP"},
                "proto": {"ansible_host": "127.0.0.1", "dicom_called_aet": "PROTO", "dicom_ip_protocol": "ip4"}}
    audit = _report_inputs.audit_endpoints(hostvars, list(hostvars), {"calling_aet": "AUDIT"})
    assert [entry["name"] for entry in audit["invalid"]] == ["proto"]
    entries = [entry for batch in audit["batches"].values() for entry in batch] + audit["invalid"]
    return _reports.build_audit_report(entries, [result("good", aet="GOOD"), result("typo", aet="ANY-SCP")],
                                       run={"probe_hosts": ["localhost"]})


def test_host_variable_problems_fail_their_endpoint_in_every_format():
    report = host_variable_report()
    rows = {row["name"]: row for row in report["endpoints"]}
    assert report["verdict"] == "failed" and report["summary"]["outcomes"] == {"invalid_endpoint": 1, "success": 2}
    assert (report["summary"]["passed"], report["summary"]["failed"]) == (1, 2)
    assert checks(rows["good"]) == {"reachable": True}
    assert checks(rows["typo"]) == {"reachable": True, "host_variables": False}  # probed as ANY-SCP, but it must not pass
    typo = rows["typo"]["checks"][1]["message"]
    assert typo == ("inventory host typo: unknown host variable dicom_calledaet (did you mean dicom_called_aet?); "
                    "the endpoint was probed without it")
    proto = rows["proto"]
    assert (proto["outcome"], proto["status"], proto["attempts"], proto["probe"]) == ("invalid_endpoint", "failed", 0, None)
    assert checks(proto) == {"host_variables": False}
    message = "inventory host proto: dicom_ip_protocol must be one of ipv4, ipv6, auto, got 'ip4'; the endpoint was not probed"
    assert proto["checks"][0]["message"] == message
    assert proto["checks"][0]["actual"] == {"invalid": "dicom_ip_protocol must be one of ipv4, ipv6, auto, got 'ip4'", "unknown": []}
    assert proto["reason"] == "dicom_ip_protocol must be one of ipv4, ipv6, auto, got 'ip4'"
    assert proto["endpoint"]["called_aet"] == "PROTO" and proto["probe_from"] == "localhost"
    assert "endpoints[" not in json.dumps(report)
    table = "\n".join(_report_render.render_table(report))
    markdown = _report_render.render_markdown(report)
    page = _report_html.render_html(report)
    csv_text = _report_render.render_csv(report)
    junit = ET.fromstring(_report_render.render_junit(report))
    for text in (table, markdown, csv_text):
        assert message in text and typo in text and "invalid_endpoint" in text
    assert html.escape(message) in page and html.escape(typo) in page
    failures = {case.get("classname"): case.find("failure") for case in junit.iter("testcase") if case.find("failure") is not None}
    assert failures["dicom_audit.proto"].get("type") == "invalid_endpoint" and message in failures["dicom_audit.proto"].get("message")
    assert typo in failures["dicom_audit.typo"].get("message")
    prom = _report_metrics.render_openmetrics(report)
    assert 'outcome="invalid_endpoint"' in prom and 'check="host_variables"' in prom


def test_an_invalid_endpoint_that_passed_before_is_a_regression():
    before = _reports.build_audit_report(audit_endpoints(["proto"]), [result("proto")])
    after = host_variable_report()
    _report_diff.compare_baseline(after, json.loads(_report_render.render_json(before)))
    row = {row["name"]: row for row in after["endpoints"]}["proto"]
    assert row["regression"] and checks(row) == {"host_variables": False, "no_regression": False}


def test_load_baseline(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(_report_render.render_json(_reports.build_audit_report(audit_endpoints(["a"]), [result("a")])))
    assert _report_diff.load_baseline(str(good))["kind"] == "dicom_audit"
    bad = tmp_path / "bad.json"
    bad.write_text('{"some": "json"}')
    with pytest.raises(_reports.ReportError, match="not a dicom.network connectivity report"):
        _report_diff.load_baseline(str(bad))
    with pytest.raises(_reports.ReportError, match="cannot be read"):
        _report_diff.load_baseline(str(tmp_path / "missing.json"))
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"schema": _reports.SCHEMA, "schema_version": 99, "endpoints": []}))
    with pytest.raises(_reports.ReportError, match="newer"):
        _report_diff.load_baseline(str(newer))


# ---- formats ---------------------------------------------------------------------------


def test_json_keys_are_stable():
    report = json.loads(_report_render.render_json(verify_report()))
    assert list(report) == ["schema", "schema_version", "kind", "title", "generated_at", "verdict", "run", "summary", "baseline",
                            "endpoints", "removed_endpoints"]
    assert list(report["endpoints"][0]) == [
        "name", "status", "endpoint", "probe_from", "outcome", "success", "msg", "reason", "echoscu_exit_code", "attempts", "rtt_ms",
        "rtt_stats", "timing_ms", "accepted_transfer_syntaxes", "discovered_transfer_syntaxes", "association", "implementation", "tls",
        "certificate", "checks", "findings", "changes", "regression", "recovery", "probe", "expectations"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", report["generated_at"])


def test_junit_parses_back():
    report = verify_report()
    root = ET.fromstring(_report_render.render_junit(report))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == report["summary"]["checks"] == int(suite.get("tests")) == int(root.get("tests"))
    failures = [case for case in cases if case.find("failure") is not None]
    assert len(failures) == report["summary"]["checks_failed"] == int(suite.get("failures"))
    down = [case for case in failures if case.get("classname") == "pacs_verify.down" and case.get("name") == "reachable"][0]
    failure = down.find("failure")
    assert failure.get("type") == "connection_refused"
    assert "connection_refused" in failure.get("message") and "it broke" in failure.get("message")
    expiring = [case for case in failures if case.get("classname") == "pacs_verify.tls-expiring"][0].find("failure")
    assert expiring.get("type") == "success" and "12 days" in expiring.get("message")


def test_junit_survives_control_characters():
    report = _reports.build_audit_report(audit_endpoints(["a\x01b"]), [dict(result("a\x01b", "protocol_error"), msg="bad \x00 byte")])
    root = ET.fromstring(_report_render.render_junit(report))
    assert root.find("testsuite/testcase/failure") is not None


def test_csv_round_trip_and_formula_guard():
    report = _reports.build_audit_report(audit_endpoints(["=cmd|' /C calc'!A0", "plain"]),
                                         [result("=cmd|' /C calc'!A0"), result("plain", "connection_refused")])
    rows = list(csv.DictReader(io.StringIO(_report_render.render_csv(report))))
    assert [row["name"] for row in rows] == ["'=cmd|' /C calc'!A0", "plain"]
    assert rows[1]["status"] == "failed" and rows[1]["outcome"] == "connection_refused"
    assert rows[0]["accepted_transfer_syntaxes"] == "Explicit VR Little Endian"
    assert list(rows[0]) == list(_report_render.CSV_COLUMNS)


def test_markdown():
    text = _report_render.render_markdown(verify_report())
    assert text.startswith("# PACS verification\n")
    assert "| **FAILED** | down |" in text
    assert "## Failed checks" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 11  # header + one line per endpoint
    assert all(line.count(" | ") - line.count("\\|") >= 7 for line in table)


def test_html_is_self_contained_and_escaped():
    report = _reports.build_audit_report(audit_endpoints(["<script>alert(1)</script>", "ok"]),
                                         [result("<script>alert(1)</script>", "connection_refused"), result("ok")])
    baseline = copy.deepcopy(report)
    report2 = _reports.build_audit_report(audit_endpoints(["<script>alert(1)</script>", "ok"]),
                                          [result("<script>alert(1)</script>", "connection_refused"), result("ok", "acse_timeout")])
    _report_diff.compare_baseline(report2, baseline)
    page = _report_html.render_html(report2)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert not re.search(r"<(link|script|img|iframe)\b", page)
    assert not re.search(r"(src|href)\s*=", page)
    assert "url(" not in page and "@import" not in page
    assert '<table id="endpoints">' in page and page.count("<tr class=") == 2
    assert 'class="callout" id="regressions"' in page and "REGRESSION" in page


def test_table_lines():
    lines = _report_render.render_table(verify_report())
    assert lines[0].startswith("PACS verification: FAILED - 11 endpoints, 4 passed, 7 failed")
    assert lines[2].split() == ["STATUS", "ENDPOINT", "TARGET", "OUTCOME", "RTT", "ms", "DETAIL"]
    assert lines[3].startswith("FAILED")  # problems first
    assert len(lines) == 3 + 11
    short = _report_render.render_table(verify_report(), max_rows=2)
    assert len(short) == 3 + 2 + 1 and short[-1].startswith("... 9 more endpoints (2 shown")


def test_table_head_counts_in_the_right_number_and_says_what_changed_against_the_baseline():
    one = _reports.build_audit_report(audit_endpoints(["a"]), [result("a")])
    assert _report_render.render_table(one)[0] == "DICOM connectivity audit: PASSED - 1 endpoint, 1 passed, 0 failed; 0/1 checks failed"
    assert "**PASSED** - 1 endpoint: 1 passed, 0 failed; 1 check, 0 failed." in _report_render.render_markdown(one)
    # the baseline had four endpoints; one is left (unchanged), three are gone, one is new
    baseline = _reports.build_audit_report(audit_endpoints(["a", "b", "c", "d"]), [result(name) for name in "abcd"])
    now = _reports.build_audit_report(audit_endpoints(["a", "e"]), [result("a"), result("e")])
    _report_diff.compare_baseline(now, json.loads(_report_render.render_json(baseline)))
    lines = _report_render.render_table(now)
    assert lines[0] == ("DICOM connectivity audit: PASSED - 2 endpoints, 2 passed, 0 failed; 0/3 checks failed; "
                        "against the baseline: 0 regressions, 0 recoveries, 1 added, 3 removed, 0 changed")
    assert lines[-1] == "Removed since the baseline (in the baseline, not in this run): b (was success), c (was success), d (was success)"
    assert "Compared with the baseline of %s: 0 regressions, 0 recoveries, 1 added, 3 removed, 0 changed." % baseline["generated_at"] \
        in _report_render.render_markdown(now)
    # one of each: a regression, a recovery and a changed endpoint (another outcome, still failing), nothing removed
    before = _reports.build_audit_report(audit_endpoints(["r", "v", "o"]),
                                         [result("r"), result("v", "connection_refused"), result("o", "connection_refused")])
    after = _reports.build_audit_report(audit_endpoints(["r", "v", "o"]),
                                        [result("r", "connection_refused"), result("v"), result("o", "acse_timeout")])
    _report_diff.compare_baseline(after, json.loads(_report_render.render_json(before)))
    lines = _report_render.render_table(after)
    assert lines[0].endswith("; against the baseline: 1 regression, 1 recovery, 0 added, 0 removed, 1 changed")
    assert not lines[-1].startswith("Removed")


# ---- writing ---------------------------------------------------------------------------


def test_write_reports(tmp_path):
    report = verify_report()
    paths = _report_files.write_reports(report, str(tmp_path / "out"), "run1", list(_reports.FORMATS))
    assert sorted(os.path.basename(path) for path in paths.values()) == [
        "run1.csv", "run1.html", "run1.json", "run1.junit.xml", "run1.md", "run1.prom"]
    assert json.loads((tmp_path / "out" / "run1.json").read_text())["verdict"] == "failed"
    assert os.listdir(tmp_path / "out") == [name for name in os.listdir(tmp_path / "out") if not name.startswith(".")]
    with pytest.raises(_reports.ReportError, match="unknown report format 'pdf'"):
        _report_files.write_reports(report, str(tmp_path), "x", ["pdf"])
    with pytest.raises(_reports.ReportError, match="plain file name"):
        _report_files.write_reports(report, str(tmp_path), "../x", ["json"])


def test_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_text("old complete report")

    class Boom(Exception):
        pass

    def failing_write(*_args, **_kwargs):
        raise Boom()

    real_fdopen = os.fdopen

    def half_writer(fd, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)
        handle.write("half a rep")
        monkeypatch.setattr(handle, "write", failing_write)
        return handle

    monkeypatch.setattr(_report_files.os, "fdopen", half_writer)
    with pytest.raises(Boom):
        _report_files.write_atomic(str(target), "new complete report")
    assert target.read_text() == "old complete report"
    assert os.listdir(tmp_path) == ["report.html"]  # the temporary file is gone too


# ---- the HTML page in a real browser (headless Chromium) ----------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def chromium(*args):
    if CHROMIUM is None:  # fail, not skip: make test installs Debian's chromium, and a skipped render proves nothing
        pytest.fail("no chromium on PATH (make test installs Debian's chromium)", pytrace=False)
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + profile, *args],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def audit_pages(tmp_path):
    names = ["node%02d" % number for number in range(1, 13)]
    before = _reports.build_audit_report(audit_endpoints(names), [result(name, tls=tls_info(90, "AA")) for name in names])
    now = [result(name, tls=tls_info(90, "AA")) for name in names]
    now[0] = result("node01", "connection_refused")
    now[1] = result("node02", syntaxes=["1.2.840.10008.1.2"], tls=tls_info(90, "AA"))
    now[2] = result("node03", tls=tls_info(5, "BB"))
    report = _reports.build_audit_report(audit_endpoints(names), now, min_cert_days=30)
    _report_diff.compare_baseline(report, before)
    return _report_files.write_reports(report, str(tmp_path), "audit", ["html"])["html"], report


def test_chromium_renders_the_table(tmp_path):
    page, report = audit_pages(tmp_path)
    dom = chromium("--dump-dom", "file://" + page)
    assert '<table id="endpoints">' in dom
    body = dom.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr ") == report["summary"]["endpoints"] == 12
    assert re.search(r'<tr class="regression" data-name="node01">', body)  # problems first: the regression leads
    assert 'id="verdict">FAILED<' in dom
    assert 'id="regressions"' in dom and "node01" in dom.split('id="regressions"', 1)[1].split("</div>", 1)[0]


def test_chromium_screenshot(tmp_path):
    page, _report = audit_pages(tmp_path)
    shot = tmp_path / "page.png"
    chromium("--screenshot=" + str(shot), "--window-size=1400,900", "file://" + page)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000


class TaggedStr(str):
    """What Ansible hands plugins for a YAML string: AnsibleUnicode on 2.16, _AnsibleTaggedStr on 2.19."""


def test_limits_given_as_text_are_checked():
    # -e key=value and quoted YAML give numbers as strings; they were silently not checked
    endpoints = [{"name": "slow", "host": "h", "max_rtt_ms": TaggedStr("1")}, {"name": "fast", "host": "h", "max_rtt_ms": " 2.5 "},
                 {"name": "tls", "host": "h", "min_cert_days": "30", "tls": True}]
    report = _reports.build_verify_report(endpoints, [result("slow", rtt=2.5), result("fast", rtt=2.5), result("tls", tls=tls_info(12))])
    rows = {row["name"]: row for row in report["endpoints"]}
    assert checks(rows["slow"]) == {"reachable": True, "max_rtt_ms": False} and rows["slow"]["checks"][1]["expected"] == 1
    assert checks(rows["fast"]) == {"reachable": True, "max_rtt_ms": True} and rows["fast"]["checks"][1]["expected"] == 2.5
    assert checks(rows["tls"]) == {"reachable": True, "min_cert_days": False} and rows["tls"]["checks"][1]["expected"] == 30


@pytest.mark.parametrize("key, value, words", [
    ("max_rtt_ms", TaggedStr("fast"), "max_rtt_ms must be a number of milliseconds, got 'fast'"),
    ("max_rtt_ms", True, "max_rtt_ms must be a number of milliseconds, got True"),
    ("max_rtt_ms", "nan", "max_rtt_ms must be a number of milliseconds, got 'nan'"),
    ("max_rtt_ms", [5], "max_rtt_ms must be a number of milliseconds, got [5]"),
    ("min_cert_days", "soon", "min_cert_days must be a whole number of days, got 'soon'"),
    ("min_cert_days", 2.5, "min_cert_days must be a whole number of days, got 2.5"),
])
def test_unusable_limits_are_refused_naming_the_endpoint_and_the_value(key, value, words):
    with pytest.raises(_reports.ReportError) as info:
        _report_inputs.echo_endpoints([{"host": "h"}, {"name": "pacs", "host": "h", key: value}])
    assert str(info.value) == "endpoint 1 (pacs): " + words
    assert "Tagged" not in str(info.value)
    with pytest.raises(_reports.ReportError, match="^pacs: " + re.escape(words)):
        _reports.build_verify_report([{"name": "pacs", "host": "h", key: value}], [result("pacs")])
