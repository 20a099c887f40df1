# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks of the roles: the probe plan, the findings in every report format, the implementation change
against a baseline, and the openmetrics format read back by prometheus_client's two parsers. The verdicts on
real peers' answers are in tests/integration/targets/engine_dcmtk_peers/test_check_verdicts.py, promtool runs
in the integration targets."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families as prometheus_families

from ansible_collections.dicom.network.plugins.plugin_utils import (
    _report_checks,
    _report_diff,
    _report_files,
    _report_metrics,
    _report_render,
    _reports,
)


def probes(check_plan, kind, probe_from=None):
    jobs = [job for job in check_plan["jobs"] if job["kind"] == kind and job["probe_from"] == probe_from]
    assert len(jobs) <= 1
    return jobs[0]["endpoints"] if jobs else []


def findings_of(row):
    return sorted(finding["id"] for finding in row["findings"])


# ---- the plan -----------------------------------------------------------------------------------

def test_plan_has_one_probe_list_per_kind_with_random_titles():
    entries = [{"name": "a", "host": "h1", "called_aet": "ARCHIVE", "repeat": 3},
               {"name": "b", "host": "h2", "called_aet": "ORTHANC", "tls": True, "plain_port": 104, "checks": ["tls_versions"],
                "ciphers": ["TLS_RSA_WITH_AES_128_CBC_SHA"]}]
    plan = _report_checks.plan(entries, ["called_aet_enforced", "calling_aet_enforced", "default_aet", "query"],
                               tls_available=("TLSv1.1", "TLSv1.2", "TLSv1.3"))
    assert plan["checks"] == {"a": ["called_aet_enforced", "calling_aet_enforced", "default_aet", "query"], "b": ["tls_versions"]}
    called = probes(plan, "called_aet_enforced")[0]
    assert called["called_aet"] not in ("ARCHIVE",) and len(called["called_aet"]) <= 16 and "repeat" not in called
    assert probes(plan, "calling_aet_enforced")[0]["calling_aet"] != called["called_aet"]  # each probe its own title
    defaults = [probe["called_aet"] for probe in probes(plan, "default_aet")]
    assert len(defaults) == 1 + len(_report_checks.DEFAULT_AETS) and "ORTHANC" in defaults
    assert probes(plan, "query") == [{"host": "h1", "called_aet": "ARCHIVE", "query_model": "study", "name": "a~query~study"}]
    tls = probes(plan, "tls_versions")
    assert [probe.get("tls_version") for probe in tls] == ["TLSv1.1", "TLSv1.2", "TLSv1.3", None]
    assert tls[-1] == {"host": "h2", "called_aet": "ORTHANC", "tls": False, "port": 104, "name": "b~tls_versions~plain",
                       "ciphers": ["TLS_RSA_WITH_AES_128_CBC_SHA"]}
    assert all(probe["verify_peer_cert"] is False and "ciphers" not in probe for probe in tls[:3])
    assert plan["untested"] == {"b": ["TLSv1"]}
    assert [(job["kind"], job["module"]) for job in plan["jobs"]] == [
        ("called_aet_enforced", "dicom_echo"), ("calling_aet_enforced", "dicom_echo"), ("default_aet", "dicom_echo"),
        ("tls_versions", "dicom_echo"), ("query", "dicom_find")]
    for job in plan["jobs"]:
        kind = job["kind"]
        for probe in job["endpoints"]:
            assert plan["index"][probe["name"]][:2] == [probe["name"].split("~")[0], kind]
            allowed = {"query_model"} if kind == "query" else set()  # dicom_find takes it
            assert not set(probe) & (set(_reports.CHECK_KEYS) - allowed)


def test_plan_per_probe_host_with_what_each_can_offer():
    plan = _report_checks.plan({"probe_a": [{"name": "a", "host": "h", "tls": True}], "probe_b": [{"name": "b", "host": "h", "tls": True}]},
                               ["tls_versions"], tls_available={"probe_a": ["TLSv1.2", "TLSv1.3"], "probe_b": list(_report_checks.TLS_VERSIONS)})
    assert [(job["probe_from"], len(job["endpoints"])) for job in plan["jobs"]] == [("probe_a", 2), ("probe_b", 4)]
    assert plan["untested"] == {"a": ["TLSv1", "TLSv1.1"]}


@pytest.mark.parametrize("checks, text", [("query", "must be a list"), (["query", "ping"], "unknown check 'ping'")])
def test_plan_refuses_bad_check_lists_naming_the_endpoint(checks, text):
    with pytest.raises(_reports.ReportError) as info:
        _report_checks.plan([{"name": "pacs9", "host": "h", "checks": checks}])
    assert text in str(info.value) and "pacs9" in str(info.value)


# ---- findings in every format ------------------------------------------------------------------

def _report_with_findings():
    """A report whose rows carry findings of every severity, built from the catalog."""
    rows = []
    for index, finding_id in enumerate(_report_checks.FINDINGS):
        probe = {"name": "ep%02d" % index, "success": True, "outcome": "success", "msg": "ok",
                 "endpoint": {"host": "10.0.0.%d" % index, "port": 104, "called_aet": "AE%d" % index},
                 "association": {"established": True, "peer_implementation_class_uid": "1.2.3.%d" % index},
                 "timing_ms": {"connect": 0.5, "total": 4.25}}
        row = _reports._base_row("ep%02d" % index, probe)
        row["checks"] = [_reports._check("reachable", True, "ok", "success", "success")]
        row["findings"] = [_report_checks.finding(finding_id, "seen on ep%02d, with \"quotes\" and a \\ backslash" % index)]
        rows.append(_reports._finish_row(row))
    return _reports._document("dicom_audit", rows, {"probe_hosts": ["localhost"]}, "Audit")


def test_every_format_carries_every_finding_with_severity_explanation_and_remedy(tmp_path):
    report = _report_with_findings()
    paths = _report_files.write_reports(report, str(tmp_path), "r", list(_reports.FORMATS))
    texts = {fmt: open(path, encoding="utf-8").read() for fmt, path in paths.items()}
    back = json.loads(texts["json"])
    assert back["summary"]["findings"]["total"] == len(_report_checks.FINDINGS)
    assert back["summary"]["findings"]["by_severity"] == {"high": 6, "medium": 4, "low": 1, "info": 2}
    rows = list(csv.DictReader(io.StringIO(texts["csv"])))
    junit = ET.fromstring(texts["junit"])
    outs = "\n".join(element.text for element in junit.iter("system-out"))
    for index, (finding_id, (check, severity, explanation, remedy)) in enumerate(_report_checks.FINDINGS.items()):
        entry = back["endpoints"][index]["findings"][0]
        assert (entry["id"], entry["check"], entry["severity"], entry["explanation"], entry["remedy"]) == (
            finding_id, check, severity, explanation, remedy)
        assert rows[index]["findings"].startswith("%s (%s): seen on ep%02d" % (finding_id, severity, index))
        assert "finding %s (%s)" % (finding_id, severity) in outs and remedy in outs
        for fmt in ("markdown", "html"):
            assert finding_id in texts[fmt] and severity in texts[fmt]
        assert remedy.replace("'", "&#x27;").replace('"', "&quot;") in texts["html"] and remedy in texts["markdown"]
    markdown_findings = [line for line in texts["markdown"].splitlines() if line.startswith("| high ") or line.startswith("| info ")]
    assert len(markdown_findings) == 8 and texts["markdown"].index("| high ") < texts["markdown"].index("| info ")


def test_implementation_change_against_the_baseline_is_a_change_and_a_finding():
    def report(uid, asked=True):
        row = _reports._base_row("pacs", {"name": "pacs", "success": True, "outcome": "success", "msg": "ok",
                                          "endpoint": {"host": "h", "port": 104, "called_aet": "A"},
                                          "association": {"established": True, "peer_implementation_class_uid": uid,
                                                          "peer_implementation_version_name": "V1"}})
        row["checks"] = [_reports._check("reachable", True, "ok")]
        if asked:
            row["checks"].append(_report_checks._implementation_check(row, {}))
        return _reports._document("dicom_audit", [_reports._finish_row(row)], {}, "t")

    baseline = report("1.2.3")
    changed = _report_diff.compare_baseline(report("1.2.4"), json.loads(json.dumps(baseline)), 20, 50)
    row = changed["endpoints"][0]
    assert [change["type"] for change in row["changes"]] == ["implementation"] and "was 1.2.3" in row["changes"][0]["message"]
    assert findings_of(row) == ["implementation_changed"] and row["status"] == "passed"
    old_schema = json.loads(json.dumps(baseline))
    del old_schema["endpoints"][0]["implementation"]  # a report written before rows had it
    assert [c["type"] for c in _report_diff.compare_baseline(report("1.2.4", asked=False), old_schema, 20, 50)["endpoints"][0]["changes"]] \
        == ["implementation"]
    same = _report_diff.compare_baseline(report("1.2.3"), json.loads(json.dumps(baseline)), 20, 50)
    assert same["endpoints"][0]["changes"] == [] and same["endpoints"][0]["findings"] == []


# ---- openmetrics -----------------------------------------------------------------------------

def _tls_report():
    report = _report_with_findings()
    row = report["endpoints"][0]
    row["certificate"] = {"not_after": "2030-01-02T03:04:05Z", "days_remaining": 1000}
    row["tls"] = {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384"}
    row["endpoint"]["called_aet"] = 'AE "quoted"\\'
    report["endpoints"][1]["status"] = "failed"
    report["endpoints"][1]["checks"].append(_reports._check("query", False, "refused"))
    return _reports.summarize(report)


def _samples(families):
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value for family in families for sample in family.samples}


def test_openmetrics_parses_with_both_parsers_and_carries_the_numbers():
    report = _tls_report()
    text = _report_metrics.render_openmetrics(report)
    assert text.endswith("# EOF\n") and "\n\n" not in text
    strict = list(openmetrics_families(text))
    loose = list(prometheus_families(text))
    assert {family.name for family in strict} == {family.name for family in loose}
    assert all(family.type == "gauge" for family in strict)
    assert all(family.documentation for family in strict)
    samples = _samples(strict)
    who = (("endpoint", "ep00"), ("kind", "dicom_audit"))
    assert samples[("dicom_endpoint_up", who)] == 1.0
    assert samples[("dicom_endpoint_certificate_expiry_timestamp_seconds", who)] == 1893553445.0
    assert samples[("dicom_endpoint_phase_duration_seconds", tuple(sorted(who + (("phase", "total"),))))] == 0.00425
    assert samples[("dicom_endpoint_passed", (("endpoint", "ep01"), ("kind", "dicom_audit")))] == 0.0
    assert samples[("dicom_report_endpoints", (("kind", "dicom_audit"), ("status", "failed")))] == 1.0
    assert samples[("dicom_report_checks", (("kind", "dicom_audit"), ("result", "failed")))] == 1.0
    assert samples[("dicom_report_findings", (("kind", "dicom_audit"), ("severity", "high")))] == 6.0
    info = [labels for (name, labels), value in samples.items() if name == "dicom_endpoint_info" and dict(labels)["endpoint"] == "ep00"]
    assert dict(info[0])["called_aet"] == 'AE "quoted"\\' and dict(info[0])["tls_version"] == "TLSv1.3"
    for finding_id, (check, severity, explanation, remedy) in _report_checks.FINDINGS.items():
        assert any(name == "dicom_endpoint_finding" and dict(labels)["finding"] == finding_id for name, labels in samples)
        assert samples[("dicom_finding_info", tuple(sorted({"kind": "dicom_audit", "finding": finding_id, "check": check, "severity": severity,
                                                            "explanation": explanation, "remedy": remedy}.items())))] == 1.0
    units = {family.name: family.unit for family in strict if family.unit}
    assert units == {"dicom_endpoint_phase_duration_seconds": "seconds",
                     "dicom_endpoint_certificate_expiry_timestamp_seconds": "seconds",
                     "dicom_report_generated_timestamp_seconds": "seconds"}


def test_openmetrics_is_written_atomically_as_a_prom_file(tmp_path):
    paths = _report_files.write_reports(_tls_report(), str(tmp_path), "fleet", ["openmetrics"])
    assert paths == {"openmetrics": str(tmp_path / "fleet.prom")}
    assert [path.name for path in tmp_path.iterdir()] == ["fleet.prom"]  # no temporary file left behind
    assert list(openmetrics_families((tmp_path / "fleet.prom").read_text()))


def test_the_printed_table_shows_findings():
    table = "\n".join(_report_render.render_table(_report_with_findings()))
    assert "finding calling_aet_not_enforced (high)" in table
