# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``openmetrics`` report format: a node_exporter textfile-collector file (``<basename>.prom``).

Private to this collection; no Ansible imports. The text is valid OpenMetrics 1.0 (``# UNIT`` lines,
``# EOF`` at the end) and, read as the Prometheus text format that node_exporter's textfile collector
and ``promtool check metrics`` parse, the same metrics (there ``# UNIT`` and ``# EOF`` are comments).
Every family is a gauge (the file is a snapshot of one run); names follow the Prometheus conventions:
a ``dicom_`` prefix, base units in the name (``_seconds``, ``_timestamp_seconds``), no ``_total`` on
gauges, one label set per series. docs/reports.md lists every family.

It is written atomically by _report_files like every format, so a collector never reads half a file.
"""

from __future__ import annotations

import calendar
import re
import time

from ansible_collections.dicom.network.plugins.plugin_utils._reports import SEVERITIES, _num

PHASES = ("resolve", "connect", "tls_handshake", "associate", "echo", "release", "total")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})")


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels):
    return "{%s}" % ",".join('%s="%s"' % (key, _escape("" if value is None else value)) for key, value in labels.items()) if labels else ""


def _value(number):
    if isinstance(number, bool):
        return "1" if number else "0"
    if isinstance(number, int):
        return str(number)
    return repr(float(number))


def _epoch(iso):
    """Seconds since the epoch of a UTC ISO 8601 time (as the reports write them), or None."""
    match = _ISO.match(iso or "")
    if not match:
        return None
    return calendar.timegm(tuple(int(part) for part in match.groups()) + (0, 0, 0))


class _Families:
    """Metric families in insertion order, each written with its HELP, TYPE and UNIT, then its samples."""

    def __init__(self):
        self.families = {}

    def add(self, name, help_text, labels, value, unit=None):
        family = self.families.setdefault(name, {"help": help_text, "unit": unit, "samples": []})
        family["samples"].append((labels, value))

    def render(self):
        lines = []
        for name, family in self.families.items():
            lines.append("# HELP %s %s" % (name, _escape(family["help"])))
            lines.append("# TYPE %s gauge" % name)
            if family["unit"]:
                lines.append("# UNIT %s %s" % (name, family["unit"]))
            lines += ["%s%s %s" % (name, _labels(labels), _value(value)) for labels, value in family["samples"]]
        lines.append("# EOF")
        return "\n".join(lines) + "\n"


def render_openmetrics(report):
    """The report as OpenMetrics text: per endpoint (up, passed, outcome, phase durations, certificate expiry,
    checks, findings), the explanation and remedy of each finding id that occurs, and per report (endpoints,
    checks and findings by result, regressions, when it ran)."""
    kind = report["kind"]
    out = _Families()
    for row in report["endpoints"]:
        who = {"kind": kind, "endpoint": row["name"]}
        endpoint = row.get("endpoint") or {}
        implementation = row.get("implementation") or {}
        out.add("dicom_endpoint_info", "The endpoint as probed: where, as which AE titles, which implementation answered.",
                dict(who, host=endpoint.get("host"), port=endpoint.get("port"), called_aet=endpoint.get("called_aet"),
                     calling_aet=endpoint.get("calling_aet"), probe_from=row.get("probe_from"),
                     implementation_class_uid=implementation.get("class_uid"),
                     implementation_version_name=implementation.get("version_name"),
                     tls_version=(row.get("tls") or {}).get("version")), 1)
        out.add("dicom_endpoint_up", "1 if the C-ECHO probe succeeded (association, every echo Success, release), else 0.",
                who, bool(row.get("success")))
        out.add("dicom_endpoint_passed", "1 if the endpoint passed every check of the report, else 0.", who, row["status"] == "passed")
        out.add("dicom_endpoint_outcome", "The probe's classified outcome as a label (value always 1).", dict(who, outcome=row["outcome"]), 1)
        for phase in PHASES:
            milliseconds = _num((row.get("timing_ms") or {}).get(phase))
            if milliseconds is not None:
                out.add("dicom_endpoint_phase_duration_seconds", "Duration of each phase of the C-ECHO probe.",
                        dict(who, phase=phase), milliseconds / 1000.0, unit="seconds")
        expiry = _epoch((row.get("certificate") or {}).get("not_after"))
        if expiry is not None:
            out.add("dicom_endpoint_certificate_expiry_timestamp_seconds", "When the peer's TLS certificate expires (Unix time).",
                    who, expiry, unit="seconds")
        for check in row["checks"]:
            out.add("dicom_endpoint_check_passed", "1 if the check passed, 0 if it failed.", dict(who, check=check["name"]),
                    bool(check["passed"]))
        findings = row.get("findings") or []
        for severity in SEVERITIES:
            out.add("dicom_endpoint_findings", "Findings on the endpoint, by severity.", dict(who, severity=severity),
                    sum(1 for finding in findings if finding["severity"] == severity))
        for finding in findings:
            out.add("dicom_endpoint_finding", "A finding on the endpoint (value always 1); docs/reports.md explains each id.",
                    dict(who, finding=finding["id"], severity=finding["severity"]), 1)
    described = {}
    for row in report["endpoints"]:
        for finding in row.get("findings") or []:
            described.setdefault(finding["id"], finding)
    for finding_id, finding in described.items():
        out.add("dicom_finding_info", "What a finding id means and what to do about it, one series per id in this report (value always 1).",
                {"kind": kind, "finding": finding_id, "check": finding["check"], "severity": finding["severity"],
                 "explanation": finding["explanation"], "remedy": finding["remedy"]}, 1)
    summary = report["summary"]
    who = {"kind": kind}
    out.add("dicom_report_passed", "1 if every endpoint passed every check, else 0.", who, report["verdict"] == "passed")
    out.add("dicom_report_generated_timestamp_seconds", "When the report was generated (Unix time).", who,
            _epoch(report["generated_at"]) or int(time.time()), unit="seconds")
    for status in ("passed", "failed"):
        out.add("dicom_report_endpoints", "Endpoints of the report, by status.", dict(who, status=status), summary[status])
    out.add("dicom_report_checks", "Checks over all endpoints, by result.", dict(who, result="passed"), summary["checks"] - summary["checks_failed"])
    out.add("dicom_report_checks", "Checks over all endpoints, by result.", dict(who, result="failed"), summary["checks_failed"])
    for outcome, count in summary["outcomes"].items():
        out.add("dicom_report_outcome_endpoints", "Endpoints by probe outcome.", dict(who, outcome=outcome), count)
    by_severity = (summary.get("findings") or {}).get("by_severity") or {}
    for severity in SEVERITIES:
        out.add("dicom_report_findings", "Findings over all endpoints, by severity.", dict(who, severity=severity), by_severity.get(severity, 0))
    out.add("dicom_report_regressions", "Endpoints that passed in the baseline and fail now (0 without a baseline).", who, summary["regressions"])
    out.add("dicom_report_recoveries", "Endpoints that failed in the baseline and pass now.", who, summary["recoveries"])
    return out.render()
