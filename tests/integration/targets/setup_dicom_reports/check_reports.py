#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse the reports of one pacs_verify or dicom_audit run and check them against expectations.

    check_reports.py DIR BASENAME EXPECT.json

Every report present (.json, .junit.xml, .csv, .md, .html, .prom) is parsed and checked for
consistency with the JSON report; EXPECT.json says what the run must have found:

    {"summary": {"endpoints": 8, "failed": 2, "regressions": 1},      # summary keys (nested: "changes.latency")
     "status": {"name": "passed"}, "outcome": {"name": "connection_refused"},
     "checks": {"name": {"reachable": false}}, "changes": {"name": ["regression"]},
     "findings": {"name": ["calling_aet_not_enforced"]},               # finding ids of the endpoint, sorted
     "messages": {"name": {"query": "aborted"}},                      # text in a check's message
     "absent": ["PATIENT^NAME"],                                      # strings no report file may contain
     "attempts": {"name": 2}, "formats": ["json", "junit"], "browser": true}

"browser": load the HTML page in headless Chromium (--dump-dom) and find the table in the DOM.
The OpenMetrics file is read by prometheus_client's OpenMetrics and Prometheus parsers and by
`promtool check metrics` (Debian's prometheus package; make installs it).
Exits 1 with every mismatch listed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

EXTENSIONS = {"json": ".json", "junit": ".junit.xml", "csv": ".csv", "markdown": ".md", "html": ".html", "openmetrics": ".prom"}
problems = []


def check(condition, text):
    if not condition:
        problems.append(text)


def dig(data, dotted):
    for part in dotted.split("."):
        data = data.get(part, 0) if isinstance(data, dict) else 0
    return data


def main(directory, basename, expect_path):
    with open(expect_path, encoding="utf-8") as handle:
        expect = json.load(handle)
    paths = {fmt: os.path.join(directory, basename + ext) for fmt, ext in EXTENSIONS.items()}
    present = {fmt for fmt, path in paths.items() if os.path.exists(path)}
    check(present == set(expect.get("formats", present)), "formats written: %s, expected %s" % (sorted(present), expect.get("formats")))
    leftovers = [name for name in os.listdir(directory) if name.startswith(".") and name.endswith(".tmp")]
    check(not leftovers, "temporary files left behind: %s" % leftovers)
    with open(paths["json"], encoding="utf-8") as handle:
        report = json.load(handle)
    rows = {row["name"]: row for row in report["endpoints"]}
    summary = report["summary"]
    check(report["schema"] == "dicom.network/connectivity-report" and report["schema_version"] == 2,
          "schema %s version %s, expected dicom.network/connectivity-report version 2" % (report.get("schema"), report.get("schema_version")))

    for key, value in expect.get("summary", {}).items():
        check(dig(summary, key) == value, "summary.%s = %r, expected %r" % (key, dig(summary, key), value))
    for field in ("status", "outcome", "attempts"):
        for name, value in expect.get(field, {}).items():
            actual = rows.get(name, {}).get(field)
            check(actual == value, "%s of %s = %r, expected %r" % (field, name, actual, value))
    for name, wanted in expect.get("checks", {}).items():
        actual = {c["name"]: c["passed"] for c in rows.get(name, {}).get("checks", [])}
        for check_name, passed in wanted.items():
            check(actual.get(check_name) == passed, "check %s of %s = %r, expected %r" % (check_name, name, actual.get(check_name), passed))
    for name, kinds in expect.get("changes", {}).items():
        actual = [c["type"] for c in rows.get(name, {}).get("changes", [])]
        check(actual == kinds, "changes of %s = %r, expected %r" % (name, actual, kinds))
    for name, wanted in expect.get("messages", {}).items():
        actual = {c["name"]: c["message"] for c in rows.get(name, {}).get("checks", [])}
        for check_name, text in wanted.items():
            check(text in actual.get(check_name, ""), "message of check %s of %s is %r, expected it to contain %r"
                  % (check_name, name, actual.get(check_name), text))
    for name, ids in expect.get("findings", {}).items():
        actual = sorted(finding["id"] for finding in rows.get(name, {}).get("findings", []))
        check(actual == sorted(ids), "findings of %s = %r, expected %r" % (name, actual, sorted(ids)))
    failed_checks = [(row["name"], c) for row in report["endpoints"] for c in row["checks"] if not c["passed"]]
    check(summary["checks_failed"] == len(failed_checks), "checks_failed inconsistent")
    findings = [(row, finding) for row in report["endpoints"] for finding in row.get("findings", [])]
    check(summary["findings"]["total"] == len(findings), "summary.findings.total inconsistent")
    for path in paths.values():
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            for value in expect.get("absent", []):
                check(value not in text, "%s contains %r, which must never reach a report" % (os.path.basename(path), value))

    if "junit" in present:
        root = ET.parse(paths["junit"]).getroot()
        cases = root.findall("testsuite/testcase")
        failures = [case for case in cases if case.find("failure") is not None]
        check(len(cases) == summary["checks"], "JUnit has %d test cases, the JSON %d checks" % (len(cases), summary["checks"]))
        check(len(failures) == summary["checks_failed"] == int(root.get("failures")),
              "JUnit has %d failures (attribute %s), the JSON %d failed checks" % (len(failures), root.get("failures"), summary["checks_failed"]))
        outs = "\n".join(element.text or "" for element in root.iter("system-out"))
        for row, finding in findings:
            check("finding %s (%s): %s" % (finding["id"], finding["severity"], finding["message"]) in outs and finding["remedy"] in outs,
                  "JUnit lacks finding %s of %s" % (finding["id"], row["name"]))
        for case in failures:
            element = case.find("failure")
            name = case.get("classname").split(".", 1)[1]
            check(element.get("type") == rows[name]["outcome"], "JUnit failure type of %s is %s" % (name, element.get("type")))
            check(bool(element.get("message")), "JUnit failure of %s has no message" % name)
    if "csv" in present:
        with open(paths["csv"], encoding="utf-8", newline="") as handle:
            table = list(csv.DictReader(handle))
        check(len(table) == summary["endpoints"], "CSV has %d rows for %d endpoints" % (len(table), summary["endpoints"]))
        check(sum(1 for row in table if row["status"] == "failed") == summary["failed"], "CSV failed count differs")
        by_name = {row["name"]: row for row in table}
        for row, finding in findings:
            check("%s (%s): %s" % (finding["id"], finding["severity"], finding["message"]) in by_name[row["name"]]["findings"],
                  "CSV lacks finding %s of %s" % (finding["id"], row["name"]))
    if "markdown" in present:
        with open(paths["markdown"], encoding="utf-8") as handle:
            text = handle.read()
        table = text.split("| Status |", 1)[-1].split("\n\n", 1)[0]
        lines = [line for line in table.splitlines() if line.startswith("| ")]
        check(len(lines) == summary["endpoints"], "Markdown table has %d rows for %d endpoints" % (len(lines), summary["endpoints"]))
        for row, finding in findings:
            check("`%s`" % finding["id"] in text and finding["remedy"] in text, "Markdown lacks finding %s of %s" % (finding["id"], row["name"]))
    if "html" in present:
        with open(paths["html"], encoding="utf-8") as handle:
            page = handle.read()
        check(not re.search(r"<(link|script|img|iframe)\b|\b(src|href)\s*=|url\(", page), "HTML page is not self-contained")
        check(page.count("<tr class=") == summary["endpoints"], "HTML table rows differ from the endpoint count")
        check(page.count('<span class="sev sev-') == 2 * len(findings), "HTML shows %d severity badges for %d findings"
              % (page.count('<span class="sev sev-'), len(findings)))
        if expect.get("browser"):
            browser = shutil.which("chromium") or shutil.which("chromium-browser")
            check(browser is not None, "chromium is not installed (Debian package chromium; make test installs it)")
            if browser:
                with tempfile.TemporaryDirectory() as profile:
                    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                           "--user-data-dir=" + profile, "--dump-dom", "file://" + os.path.abspath(paths["html"])],
                                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
                dom = proc.stdout
                check(proc.returncode == 0 and '<table id="endpoints">' in dom, "Chromium did not render the table: %s" % proc.stderr[-500:])
                body = dom.split("<tbody>", 1)[-1].split("</tbody>", 1)[0]
                check(body.count("<tr ") == summary["endpoints"], "Chromium DOM has %d rows" % body.count("<tr "))
                verdict = re.search(r'id="verdict">([A-Z]+)<', dom)
                check(verdict is not None and verdict.group(1) == report["verdict"].upper(), "verdict in the DOM: %s" % verdict)
    if "openmetrics" in present:
        check_openmetrics(paths["openmetrics"], report, findings)
    if problems:
        print("report check FAILED for %s/%s:" % (directory, basename))
        for problem in problems:
            print("  - " + problem)
        return 1
    print("report check passed for %s/%s: %d endpoints, %d failed, %d/%d checks failed, %d regressions (%s)" % (
        directory, basename, summary["endpoints"], summary["failed"], summary["checks_failed"], summary["checks"],
        summary["regressions"], ", ".join(sorted(present))))
    return 0


def check_openmetrics(path, report, findings):
    """Both prometheus_client parsers and promtool read the file, and its numbers are the JSON report's."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics  # pylint: disable=import-outside-toplevel
    from prometheus_client.parser import text_string_to_metric_families as prometheus  # pylint: disable=import-outside-toplevel

    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        strict = list(openmetrics(text))
        loose = list(prometheus(text))
    except ValueError as exc:
        check(False, "the OpenMetrics file does not parse: %s" % exc)
        return
    check({family.name for family in strict} == {family.name for family in loose}, "the two parsers see different families")
    promtool = shutil.which("promtool")
    check(promtool is not None, "promtool is not installed (Debian package prometheus; make installs it)")
    if promtool:
        proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60, check=False)
        check(proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(),
              "promtool check metrics: rc %d %s %s" % (proc.returncode, proc.stdout, proc.stderr))
    samples = [sample for family in strict for sample in family.samples]
    up = {sample.labels["endpoint"]: sample.value for sample in samples if sample.name == "dicom_endpoint_up"}
    check(len(up) == len(report["endpoints"]), "dicom_endpoint_up has %d series for %d endpoints" % (len(up), len(report["endpoints"])))
    for row in report["endpoints"]:
        check(up.get(row["name"]) == (1.0 if row["success"] else 0.0), "dicom_endpoint_up of %s is %s" % (row["name"], up.get(row["name"])))
    failed = [sample.value for sample in samples if sample.name == "dicom_report_checks" and sample.labels["result"] == "failed"]
    check(failed == [report["summary"]["checks_failed"]], "dicom_report_checks{result=failed} = %s" % failed)
    listed = sorted((sample.labels["endpoint"], sample.labels["finding"]) for sample in samples if sample.name == "dicom_endpoint_finding")
    check(listed == sorted((row["name"], finding["id"]) for row, finding in findings), "dicom_endpoint_finding series differ from the findings")
    described = {sample.labels["finding"]: sample.labels for sample in samples if sample.name == "dicom_finding_info"}
    for _row, finding in findings:
        labels = described.get(finding["id"]) or {}
        check(labels.get("remedy") == finding["remedy"] and labels.get("explanation") == finding["explanation"],
              "dicom_finding_info lacks the explanation and remedy of %s" % finding["id"])
    expiry = [row for row in report["endpoints"] if (row.get("certificate") or {}).get("not_after")]
    series = [sample for sample in samples if sample.name == "dicom_endpoint_certificate_expiry_timestamp_seconds"]
    check(len(series) == len(expiry), "%d certificate expiry series for %d certificates" % (len(series), len(expiry)))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
