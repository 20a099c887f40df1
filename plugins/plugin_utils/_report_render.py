# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Report rendering: how a row reads (status, target, notes), and the JSON, JUnit XML, CSV and Markdown
documents and the plain-text summary table the roles print. The HTML page is in _report_html.

Private to this collection; no Ansible imports.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

from ansible_collections.dicom.network.plugins.plugin_utils._reports import SEVERITIES, _fmt_ms, _label

# Severity order of a row in the human-readable reports (problems first).
_SEVERITY = {"regression": 0, "failed": 1, "changed": 2, "recovery": 3, "passed": 4}


def _row_flag(row):
    if row["regression"]:
        return "regression"
    if row["status"] == "failed":
        return "failed"
    if row["recovery"]:
        return "recovery"
    if any(change["type"] not in ("new",) for change in row["changes"]):
        return "changed"
    return "passed"


def _ordered(rows):
    return sorted(rows, key=lambda row: _SEVERITY[_row_flag(row)])


def _target(row):
    return _label(row["endpoint"])


def _syntax_names(row):
    """What the echo association accepted, then what discovery found besides."""
    names = [entry["name"] for entry in row.get("accepted_transfer_syntaxes") or []]
    names += [entry["name"] for entry in row.get("discovered_transfer_syntaxes") or [] if entry["name"] not in names]
    return names


def _cert_text(row):
    cert = row.get("certificate")
    if not cert:
        return ""
    days = cert.get("days_remaining")
    return "%s (%s d)" % ((cert.get("not_after") or "")[:10], days) if days is not None else (cert.get("not_after") or "")


def short_reason(row):
    """Why a row's probe failed, without the target and outcome shown beside it (the result's ``reason``)."""
    return row.get("reason") or row.get("msg") or ""


def _failed_checks(row):
    return [check for check in row["checks"] if not check["passed"]]


def finding_text(finding):
    """One finding on one line: id, severity and what was seen."""
    return "%s (%s): %s" % (finding["id"], finding["severity"], finding["message"])


def ordered_findings(report):
    """(row, finding) of every finding, the most severe first, then in endpoint order."""
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    pairs = [(row, finding) for row in report["endpoints"] for finding in row.get("findings") or []]
    return sorted(pairs, key=lambda pair: rank.get(pair[1]["severity"], len(rank)))


def _notes(row):
    """What a person needs to read about a row: failed checks, findings, changes, and what passed."""
    explained = {finding["check"] for finding in row.get("findings") or []}  # the finding's line says it
    failed = [check for check in _failed_checks(row) if check["name"] not in ("reachable", "no_regression") and check["name"] not in explained]
    notes = []
    if any(check["name"] == "reachable" and not check["passed"] for check in row["checks"]):
        # an endpoint that does not answer leaves its other checks undetermined: say so once
        undetermined = [check["name"] for check in failed if check["message"].startswith(("not checked", "not determined"))]
        failed = [check for check in failed if check["name"] not in undetermined]
        notes.append(short_reason(row))
        if undetermined:
            notes.append("not checked: %s" % ", ".join(undetermined))
    notes += ["%s: %s" % (check["name"], check["message"]) for check in failed]
    notes += ["finding " + finding_text(finding) for finding in row.get("findings") or []]
    notes += ["%s: %s" % (change["type"], change["message"]) for change in row["changes"] if change["type"] != "new"]
    if not notes:
        rejected = [check for check in row["checks"] if check["name"] == "rejected"]
        notes.append(rejected[0]["message"] if rejected else "ok: " + ", ".join(check["name"] for check in row["checks"]))
    return notes


def render_json(report):
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value):
    return _XML_BAD.sub("\ufffd", str(value if value is not None else ""))


def render_junit(report):
    """JUnit XML: one testsuite, one testcase per endpoint check; a failed check is a <failure>
    whose ``type`` is the outcome and whose ``message`` is the check's message."""
    summary = report["summary"]
    suites = ET.Element("testsuites", name="dicom.network %s" % report["kind"], tests=str(summary["checks"]),
                        failures=str(summary["checks_failed"]), errors="0")
    suite = ET.SubElement(suites, "testsuite", name=report["kind"], tests=str(summary["checks"]),
                          failures=str(summary["checks_failed"]), errors="0", skipped="0",
                          timestamp=report["generated_at"].rstrip("Z"), hostname=_xml_text(report["run"].get("controller", "")))
    total_time = 0.0
    props = ET.SubElement(suite, "properties")
    for key in ("title", "verdict", "generated_at"):
        ET.SubElement(props, "property", name=key, value=_xml_text(report[key]))
    if report.get("baseline"):
        ET.SubElement(props, "property", name="baseline", value=_xml_text(report["baseline"].get("path")))
    findings = report["summary"].get("findings") or {}
    for severity, count in (findings.get("by_severity") or {}).items():
        ET.SubElement(props, "property", name="findings_%s" % severity, value=str(count))
    for row in report["endpoints"]:
        seconds = ((row.get("timing_ms") or {}).get("total") or 0.0) / 1000.0
        total_time += seconds
        names = {check["name"] for check in row["checks"]}
        for index, check in enumerate(row["checks"]):
            case = ET.SubElement(suite, "testcase", classname=_xml_text("%s.%s" % (report["kind"], row["name"])),
                                 name=_xml_text(check["name"]), time="%.3f" % (seconds if index == 0 else 0.0))
            if not check["passed"]:
                message = check["message"] if row["outcome"] in check["message"] else "%s (outcome: %s)" % (check["message"], row["outcome"])
                failure = ET.SubElement(case, "failure", type=_xml_text(row["outcome"]), message=_xml_text(message))
                details = ["endpoint: %s (%s)" % (row["name"], _target(row)), "outcome: %s" % row["outcome"],
                           "check: %s" % check["name"], "message: %s" % check["message"],
                           "expected: %s" % json.dumps(check["expected"]), "actual: %s" % json.dumps(check["actual"]),
                           "probe: %s" % row["msg"]]
                failure.text = _xml_text("\n".join(details))
            lines = []
            if index == 0 and row["changes"]:
                lines += ["%s: %s" % (change["type"], change["message"]) for change in row["changes"]]
            for finding in row.get("findings") or []:  # with their check's test case, else with the endpoint's first
                if finding["check"] == check["name"] or (index == 0 and finding["check"] not in names):
                    lines += ["finding " + finding_text(finding), "  why: " + finding["explanation"], "  remedy: " + finding["remedy"]]
            if lines:
                out = ET.SubElement(case, "system-out")
                out.text = _xml_text("\n".join(lines))
    suite.set("time", "%.3f" % total_time)
    suites.set("time", "%.3f" % total_time)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


CSV_COLUMNS = ("name", "status", "outcome", "host", "port", "address", "called_aet", "calling_aet", "probe_from",
               "rtt_ms_avg", "rtt_ms_max", "attempts", "accepted_transfer_syntaxes", "tls_version",
               "certificate_not_after", "certificate_days_remaining", "regression", "recovery",
               "failed_checks", "changes", "message", "findings", "implementation_class_uid", "implementation_version_name")


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):  # no formula injection when opened in a spreadsheet
        text = "'" + text
    return text


def render_csv(report):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report["endpoints"]:
        endpoint, rtt, cert = row["endpoint"], row.get("rtt_ms") or {}, row.get("certificate") or {}
        values = (row["name"], row["status"], row["outcome"], endpoint.get("host"), endpoint.get("port"), endpoint.get("address"),
                  endpoint.get("called_aet"), endpoint.get("calling_aet"), row.get("probe_from"), rtt.get("avg"), rtt.get("max"),
                  row.get("attempts"), "; ".join(_syntax_names(row)), (row.get("tls") or {}).get("version"),
                  cert.get("not_after"), cert.get("days_remaining"), row["regression"], row["recovery"],
                  "; ".join("%s: %s" % (check["name"], check["message"]) for check in _failed_checks(row)),
                  "; ".join("%s: %s" % (change["type"], change["message"]) for change in row["changes"]), row["msg"],
                  "; ".join(finding_text(finding) for finding in row.get("findings") or []),
                  (row.get("implementation") or {}).get("class_uid"), (row.get("implementation") or {}).get("version_name"))
        writer.writerow([_csv_cell(value) for value in values])
    return buf.getvalue()


def _md(text):
    return str(text if text is not None else "").replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


_STATUS_WORD = {"regression": "REGRESSION", "failed": "FAILED", "changed": "changed", "recovery": "recovered", "passed": "ok"}


def render_markdown(report):
    summary = report["summary"]
    lines = ["# %s" % _md(report["title"]), "",
             "**%s** - %s: %d passed, %d failed; %s, %d failed. Generated %s."
             % (report["verdict"].upper(), counted(summary["endpoints"], "endpoint"), summary["passed"], summary["failed"],
                counted(summary["checks"], "check"), summary["checks_failed"], report["generated_at"])]
    found = summary.get("findings") or {}
    if found.get("total"):
        lines.append("Findings: %d (%s) on %d endpoints." % (found["total"], ", ".join(
            "%d %s" % (count, severity) for severity, count in found["by_severity"].items() if count), found["endpoints"]))
    if report.get("baseline"):
        lines.append("Compared with the baseline of %s: %s." % (report["baseline"].get("generated_at"), baseline_counts(report)))
    lines += ["", "| Status | Endpoint | Target | Outcome | RTT ms | Accepted transfer syntaxes | Certificate | Notes |",
              "|---|---|---|---|---:|---|---|---|"]
    for row in _ordered(report["endpoints"]):
        notes = _notes(row)
        status = _STATUS_WORD[_row_flag(row)]
        if status in ("FAILED", "REGRESSION"):
            status = "**%s**" % status
        lines.append("| %s | %s | `%s` | %s | %s | %s | %s | %s |" % (
            status, _md(row["name"]), _md(_target(row)), _md(row["outcome"]), _fmt_ms((row.get("rtt_ms") or {}).get("avg")),
            _md(", ".join(_syntax_names(row))), _md(_cert_text(row)), _md("; ".join(notes))))
    findings = ordered_findings(report)
    if findings:
        lines += ["", "## Findings", "", "| Severity | Finding | Endpoint | Seen | Why it matters | Remedy |", "|---|---|---|---|---|---|"]
        lines += ["| %s | `%s` | %s | %s | %s | %s |" % (
            finding["severity"], finding["id"], _md(row["name"]), _md(finding["message"]), _md(finding["explanation"]), _md(finding["remedy"]))
            for row, finding in findings]
    failed = [(row, check) for row in report["endpoints"] for check in _failed_checks(row)]
    if failed:
        lines += ["", "## Failed checks", ""]
        lines += ["- **%s** `%s`: %s" % (_md(row["name"]), check["name"], _md(check["message"])) for row, check in failed]
    if report.get("removed_endpoints"):
        lines += ["", "## In the baseline, no longer in the inventory", ""]
        lines += ["- %s (was %s)" % (_md(entry["name"]), _md(entry.get("outcome"))) for entry in report["removed_endpoints"]]
    return "\n".join(lines) + "\n"


def counted(number, word, plural=None):
    """``1 endpoint``, ``3 endpoints``: a count with its noun in the right number."""
    return "%d %s" % (number, word if number == 1 else plural or word + "s")


# Change types that are no change of an endpoint that is still there with the same verdict (counted on their own).
_NOT_CHANGED = ("new", "regression", "recovery")


def baseline_counts(report):
    """What changed against the baseline, in words, or None without one: regressions, recoveries, endpoints added
    (not in the baseline), removed (only in the baseline) and otherwise changed (outcome, transfer syntaxes,
    certificate, latency, implementation)."""
    if not report.get("baseline"):
        return None
    summary = report["summary"]
    changed = sum(1 for row in report["endpoints"] if any(change["type"] not in _NOT_CHANGED for change in row["changes"]))
    return "%s, %s, %d added, %d removed, %d changed" % (
        counted(summary["regressions"], "regression"), counted(summary["recoveries"], "recovery", "recoveries"),
        summary["changes"].get("new", 0), summary["removed"], changed)


def render_table(report, max_rows=None):
    """The plain-text summary the roles print: a header line, one line per endpoint (problems first), and the
    endpoints of the baseline that are gone."""
    summary = report["summary"]
    head = "%s: %s - %s, %d passed, %d failed; %d/%d checks failed" % (
        report["title"], report["verdict"].upper(), counted(summary["endpoints"], "endpoint"), summary["passed"], summary["failed"],
        summary["checks_failed"], summary["checks"])
    against = baseline_counts(report)
    if against:
        head += "; against the baseline: " + against
    rows = _ordered(report["endpoints"])
    shown = rows
    if max_rows is not None and len(rows) > max_rows:
        problems = [row for row in rows if _row_flag(row) != "passed"]
        shown = problems[:max_rows]
    table = [("STATUS", "ENDPOINT", "TARGET", "OUTCOME", "RTT ms", "DETAIL")]
    for row in shown:
        table.append((_STATUS_WORD[_row_flag(row)], row["name"], _target(row), row["outcome"],
                      _fmt_ms((row.get("rtt_ms") or {}).get("avg")), "; ".join(_notes(row))))
    widths = [max(len(str(line[col])) for line in table) for col in range(5)]
    lines = [head, ""]
    for line in table:
        lines.append("  ".join(str(cell).ljust(widths[col]) if col < 5 else str(cell) for col, cell in enumerate(line)).rstrip())
    if len(shown) < len(rows):
        lines.append("... %s (%d shown: the problems first); see the reports" % (counted(len(rows) - len(shown), "more endpoint"), len(shown)))
    removed = report.get("removed_endpoints") or []
    if removed:
        names = ", ".join("%s (was %s)" % (entry["name"], entry.get("outcome")) for entry in removed[:20])
        lines.append("Removed since the baseline (in the baseline, not in this run): %s%s"
                     % (names, ", ... %d more in the reports" % (len(removed) - 20) if len(removed) > 20 else ""))
    return lines
