# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connectivity reports of the pacs_verify and dicom_audit roles: the report document and its checks.

Private to this collection; runs on the controller only (the dicom_report action plugin and the
role filters call it). No Ansible imports, so it is unit-testable on its own.

One report document (docs/reports.md describes every key) is built from dicom_echo results for
both roles. The rest of the report code builds on this module:

* _report_inputs: role input -> dicom_echo endpoints (the echo_endpoints, echo_retryable and
  inventory_endpoints filters);
* _report_diff: the comparison with an earlier report (baseline);
* _report_render: the row texts, JSON, JUnit XML, CSV, Markdown and the plain-text summary table;
* _report_html: the self-contained HTML page;
* _report_files: writing every format, atomically.
"""

from __future__ import annotations

import datetime
import math
import statistics

from ansible_collections.dicom.network.plugins.module_utils._negotiation import resolve_uid, uid_label
from ansible_collections.dicom.network.plugins.module_utils._request import OPTIONS, RequestError, endpoint_label

SCHEMA = "dicom.network/connectivity-report"
SCHEMA_VERSION = 2
KINDS = ("pacs_verify", "dicom_audit")
FORMATS = ("json", "junit", "csv", "markdown", "html", "openmetrics")
EXTENSIONS = {"json": ".json", "junit": ".junit.xml", "csv": ".csv", "markdown": ".md", "html": ".html", "openmetrics": ".prom"}

# Keys a pacs_verify endpoint may carry besides the dicom_echo endpoint options: expectations, and
# what the checks of _report_checks need (CHECK_KEYS there; spelled out here to keep the import one-way).
EXPECTATION_KEYS = ("expect_transfer_syntaxes", "expect_rejected", "max_rtt_ms", "min_cert_days")
CHECK_KEYS = ("checks", "query_model", "plain_port", "expect_implementation_class_uid", "expect_implementation_version_name")
SEVERITIES = ("high", "medium", "low", "info")
# Keys a dicom_audit endpoint carries about its host variables (the audit_endpoints filter), read by the report only:
# ``invalid`` (why its values cannot be probed with; it was not probed) and ``unknown_variables`` (dicom_* variables
# the role does not read: [{variable, suggestion, note}]).
INVENTORY_KEYS = ("invalid", "unknown_variables")
# Outcomes of report rows that are no dicom_echo outcome: no result came back; the host variables are invalid.
REPORT_OUTCOMES = ("not_probed", "invalid_endpoint")

_NOT_DISCOVERED = object()


class ReportError(ValueError):
    """Bad input for a report (unreadable baseline, unknown format ...); the text says what."""


# --------------------------------------------------------------------------------------------
# small helpers


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def transfer_syntax_uid(value):
    """A transfer syntax as a UID: a UID, a DICOM keyword, DCMTK's or pydicom's name; None if unknown.

    _negotiation.resolve_uid() is the one parser of these names (the transfer_syntaxes lookup and the
    ts_uid filter use it too); the reports want None instead of its error.
    """
    try:
        return resolve_uid(value, kind="transfer")
    except RequestError:
        return None


def _syntax_entries(uids):
    # uid_label's "name" style: pydicom's names, the same the ts_name filter prints by default.
    return [{"uid": uid, "name": uid_label(uid)} for uid in uids or []]


def _label(endpoint):
    return endpoint_label(endpoint.get("called_aet") or OPTIONS["called_aet"]["default"], endpoint.get("host") or "?",
                          endpoint.get("port") or OPTIONS["port"]["default"])


def endpoint_name(entry):
    """The name dicom_echo gives an endpoint entry: its ``name``, else ``AET@host:port``."""
    return entry.get("name") or _label(entry)


def _num(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# expectation -> (what it is, integer only); a limit given as text ("200", as -e key=value gives it) is a limit too
_LIMITS = {"max_rtt_ms": ("a number of milliseconds", False), "min_cert_days": ("a whole number of days", True)}


def expectation_limit(spec, key, where="endpoint"):
    """The number an endpoint's max_rtt_ms or min_cert_days asks for, or None when it is not set.

    Checked here rather than by the role's argument spec, whose message for ``max_rtt_ms: fast`` names
    Ansible's own string class instead of the value.
    """
    value = spec.get(key)
    if value is None:
        return None
    what, integer = _LIMITS[key]
    number = None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
    elif not isinstance(value, bool) and isinstance(value, (int, float)):
        number = float(value)
    if number is None or not math.isfinite(number) or integer and not number.is_integer():
        raise ReportError("%s: %s must be %s, got %r" % (where, key, what, value))
    return int(number) if integer or number.is_integer() else number


def rtt_stats(result):
    """Robust statistics of a probe's echo round trips (ms): samples, min, median, mad, max, and the result's
    timing_source (kernel or user, None when unknown); None without an echo.

    ``result`` is a dicom_echo result, or the ``probe`` of a report row. MAD is the median absolute deviation from the
    median, unscaled: unlike a standard deviation it is not blown up by the one echo that waited for a busy scheduler.
    Without ``echoes`` (a result trimmed to its summary) the module's ``rtt_ms`` is all there is: the median is its
    ``median`` (else ``avg``), and samples and mad are unknown (None).
    """
    if not isinstance(result, dict):
        return None
    samples = sorted(echo["rtt_ms"] for echo in result.get("echoes") or []
                     if isinstance(echo, dict) and _num(echo.get("rtt_ms")) is not None)
    if samples:
        median = statistics.median(samples)
        return {"samples": len(samples), "min": samples[0], "median": round(median, 3),
                "mad": round(statistics.median(abs(sample - median) for sample in samples), 3), "max": samples[-1],
                "timing_source": result.get("timing_source")}
    rtt = result.get("rtt_ms")
    if not isinstance(rtt, dict) or _num(rtt.get("min")) is None:
        return None
    middle = _num(rtt.get("median"))
    return {"samples": None, "min": rtt["min"], "median": middle if middle is not None else _num(rtt.get("avg")),
            "mad": None, "max": _num(rtt.get("max")), "timing_source": result.get("timing_source")}


def _fmt_ms(value):
    value = _num(value)
    if value is None:
        return ""
    return "%.1f" % value if value >= 10 else "%.2f" % value


# --------------------------------------------------------------------------------------------
# building the report document


def _certificate(result):
    tls = result.get("tls") or {}
    cert = tls.get("peer_certificate") if isinstance(tls, dict) else None
    if not cert:
        return None
    keys = ("subject", "issuer", "serial", "not_before", "not_after", "days_remaining", "sha256_fingerprint", "key_type", "key_bits")
    return {key: cert.get(key) for key in keys}


def _base_row(name, result, extra=None):
    """The report entry of one endpoint, from its dicom_echo result (may be None: never probed)."""
    result = result or {}
    endpoint = result.get("endpoint") or {}
    assoc = result.get("association") or {}
    tls = result.get("tls") if isinstance(result.get("tls"), dict) else None
    probe = {key: value for key, value in result.items() if key not in ("changed", "name", "failed", "invocation", "probe_from")}
    row = {
        "name": name,
        "status": None,
        "endpoint": {key: endpoint.get(key) for key in ("host", "port", "address", "ip_protocol", "calling_aet", "called_aet")},
        "probe_from": None,
        "outcome": result.get("outcome", "not_probed"),
        "success": bool(result.get("success")),
        "msg": result.get("msg") or "not probed",
        "reason": result.get("reason") if result else "not probed",
        "echoscu_exit_code": result.get("echoscu_exit_code"),
        "attempts": 1 if result else 0,
        "rtt_ms": result.get("rtt_ms"),
        "rtt_stats": rtt_stats(result),
        "timing_ms": result.get("timing_ms"),
        "accepted_transfer_syntaxes": _syntax_entries(result.get("accepted_transfer_syntaxes")),
        "discovered_transfer_syntaxes": None,
        "association": {
            "established": assoc.get("established"),
            "rejection": assoc.get("rejection"),
            "abort": assoc.get("abort"),
            "peer_max_pdu": assoc.get("peer_max_pdu"),
            "peer_implementation_class_uid": assoc.get("peer_implementation_class_uid"),
            "peer_implementation_version_name": assoc.get("peer_implementation_version_name"),
        },
        "implementation": {"class_uid": assoc.get("peer_implementation_class_uid"),
                           "version_name": assoc.get("peer_implementation_version_name")} if assoc.get("established") else None,
        "tls": {"version": tls.get("version"), "cipher": tls.get("cipher")} if tls else None,
        "certificate": _certificate(result),
        "checks": [],
        "findings": [],
        "changes": [],
        "regression": False,
        "recovery": False,
        "probe": probe or None,
    }
    if extra:
        row.update(extra)
    return row


def _check(name, passed, message, expected=None, actual=None):
    return {"name": name, "passed": bool(passed), "message": message, "expected": expected, "actual": actual}


def _reachable_check(row):
    if row["success"]:
        return _check("reachable", True, row["msg"], "success", "success")
    return _check("reachable", False, row["msg"], "success", row["outcome"])


def _cert_check(row, min_days):
    cert = row["certificate"]
    if cert is None or _num(cert.get("days_remaining")) is None:
        why = "no peer certificate: TLS is not in use or the association failed" if row["tls"] is None or not row["success"] \
            else "the peer certificate has no expiry date"
        return _check("min_cert_days", False, why, min_days, None)
    days = cert["days_remaining"]
    if days >= min_days:
        return _check("min_cert_days", True, "peer certificate valid for %s more days (until %s), at least %s required"
                      % (days, cert.get("not_after"), min_days), min_days, days)
    return _check("min_cert_days", False, "peer certificate expires in %s days (%s), %s required"
                  % (days, cert.get("not_after"), min_days), min_days, days)


def _verify_checks(row, spec, discovered):
    checks = []
    if spec.get("expect_rejected"):
        outcome = row["outcome"]
        if outcome == "association_rejected":
            rejection = row["association"].get("rejection") or {}
            checks.append(_check("rejected", True, "association rejected as expected (%s)" % (rejection.get("reason_text") or "rejected"),
                                 "association_rejected", outcome))
        elif row["success"]:
            checks.append(_check("rejected", False, "expected the association to be rejected, but it was accepted: %s" % row["msg"],
                                 "association_rejected", outcome))
        else:
            checks.append(_check("rejected", False, "expected a rejection, got %s instead: %s" % (outcome, row["msg"]),
                                 "association_rejected", outcome))
        return checks
    checks.append(_reachable_check(row))
    expected = spec.get("expect_transfer_syntaxes")
    if expected:
        wanted = [transfer_syntax_uid(value) or value for value in expected]
        if discovered is _NOT_DISCOVERED:
            checks.append(_check("transfer_syntaxes", False, "not checked: transfer syntax discovery could not ask the endpoint", wanted, None))
            return _more_checks(checks, row, spec)
        if discovered is not None:
            accepted = list(discovered)
            source = "accepted in discovery"
        else:
            accepted = [entry["uid"] for entry in row["accepted_transfer_syntaxes"]]
            source = "accepted by the echo association (transfer syntax discovery unavailable)"
        missing = [uid for uid in wanted if uid not in accepted]
        if not row["success"] and discovered is None:
            checks.append(_check("transfer_syntaxes", False, "not checked: the endpoint did not answer the echo", wanted, None))
        elif missing:
            checks.append(_check("transfer_syntaxes", False, "not accepted: %s (%s: %s)" % (
                ", ".join(uid_label(uid) for uid in missing), source,
                ", ".join(uid_label(uid) for uid in accepted) or "none"), wanted, accepted))
        else:
            checks.append(_check("transfer_syntaxes", True, "all %d expected transfer syntaxes accepted" % len(wanted), wanted, accepted))
    return _more_checks(checks, row, spec)


def _more_checks(checks, row, spec):
    limit = expectation_limit(spec, "max_rtt_ms", row["name"])
    if limit is not None:
        rtt = _num((row["rtt_ms"] or {}).get("max"))
        if rtt is None:
            checks.append(_check("max_rtt_ms", False, "no echo round trip to measure", limit, None))
        elif rtt <= limit:
            checks.append(_check("max_rtt_ms", True, "echo round trip %s ms, at most %s ms allowed" % (_fmt_ms(rtt), limit), limit, rtt))
        else:
            checks.append(_check("max_rtt_ms", False, "echo round trip %s ms exceeds %s ms" % (_fmt_ms(rtt), limit), limit, rtt))
    min_days = expectation_limit(spec, "min_cert_days", row["name"])
    if min_days is not None:
        checks.append(_cert_check(row, min_days))
    return checks


def _finish_row(row):
    row["status"] = "passed" if all(check["passed"] for check in row["checks"]) else "failed"
    return row


def _by_name(results):
    out = {}
    for result in results or []:
        if isinstance(result, dict) and result.get("name") is not None:
            out[result["name"]] = result
    return out


def build_verify_report(endpoints, results, discovered=None, attempts=None, run=None, title=None):
    """The pacs_verify report: every endpoint's result checked against its expectations."""
    by_name = _by_name(results)
    discovered = discovered or {}
    attempts = attempts or {}
    rows = []
    for spec in endpoints or []:
        name = endpoint_name(spec)
        result = by_name.get(name)
        row = _base_row(name, result)
        if result is None:
            row["endpoint"].update({key: spec.get(key) for key in ("host", "port", "calling_aet", "called_aet")})
        if name in attempts:
            row["attempts"] = attempts[name]
        found = discovered.get(name)
        if found is not None:
            row["discovered_transfer_syntaxes"] = _syntax_entries(found)
        elif name in discovered:  # asked, but the lookup could not get an answer
            found = _NOT_DISCOVERED
        row["expectations"] = {key: spec.get(key) for key in EXPECTATION_KEYS + CHECK_KEYS if spec.get(key) not in (None, False, [])}
        row["checks"] = _verify_checks(row, spec, found)
        rows.append(_finish_row(row))
    return _document("pacs_verify", rows, run, title or "PACS verification")


def unknown_variable_text(entry):
    """One unknown host variable ({variable, suggestion, note}) in words."""
    hints = []
    if entry.get("suggestion"):
        hints.append("did you mean %s?" % entry["suggestion"])
    if entry.get("note"):
        hints.append(entry["note"])
    return "unknown host variable %s%s" % (entry.get("variable"), " (%s)" % " ".join(hints) if hints else "")


def host_variable_problems(spec):
    """What an audit endpoint's host variables are wrong in, one text each: the invalid value, then each unknown variable."""
    problems = [spec["invalid"]] if spec.get("invalid") else []
    return problems + [unknown_variable_text(entry) for entry in spec.get("unknown_variables") or []]


def host_variables_check(spec):
    """The ``host_variables`` check of a dicom_audit endpoint whose host variables have a problem, else None.

    An unknown variable fails it too: the endpoint was probed without what the variable was meant to say (a misspelled
    dicom_called_aet probes ANY-SCP), so its other checks do not verify what the inventory says.
    """
    problems = host_variable_problems(spec)
    if not problems:
        return None
    consequence = "the endpoint was not probed" if spec.get("invalid") else "the endpoint was probed without %s" % (
        "it" if len(problems) == 1 else "them")
    return _check("host_variables", False, "inventory host %s: %s; %s" % (spec.get("name"), "; ".join(problems), consequence),
                  "known dicom_* host variables with valid values",
                  {"invalid": spec.get("invalid"), "unknown": [entry.get("variable") for entry in spec.get("unknown_variables") or []]})


def build_audit_report(endpoints, results, min_cert_days=None, run=None, title=None):
    """The dicom_audit report: reachability (and certificate lifetime) of every inventory endpoint.

    ``endpoints``: dicts with ``name`` (and ``probe_from``, and INVENTORY_KEYS); ``results``: dicom_echo results with
    ``name`` (and ``probe_from``). Without either, the one host of ``run["probe_hosts"]`` is the probe host. An
    endpoint with ``invalid`` was not probed: its outcome is ``invalid_endpoint``, and its one check, ``host_variables``,
    fails with the message; ``unknown_variables`` fail that check too, beside the probe's checks.
    """
    by_name = _by_name(results)
    probe_hosts = (run or {}).get("probe_hosts") or []
    only_probe = probe_hosts[0] if len(probe_hosts) == 1 else None
    rows = []
    for spec in endpoints or []:
        name = spec["name"]
        result = None if spec.get("invalid") else by_name.get(name)
        row = _base_row(name, result)
        row["probe_from"] = spec.get("probe_from") or (result or {}).get("probe_from") or only_probe
        if result is None:
            row["endpoint"].update({key: spec.get(key) for key in ("host", "port", "calling_aet", "called_aet")})
        variables = host_variables_check(spec)
        if spec.get("invalid"):
            row.update(outcome="invalid_endpoint", reason=spec["invalid"],
                       msg="inventory host %s: %s; not probed" % (name, spec["invalid"]))
            row["checks"] = [variables]
            rows.append(_finish_row(row))
            continue
        row["checks"] = [_reachable_check(row)] + ([variables] if variables else [])
        uses_tls = row["tls"] is not None or bool(spec.get("tls"))
        if _num(min_cert_days) is not None and uses_tls:
            row["checks"].append(_cert_check(row, min_cert_days))
        rows.append(_finish_row(row))
    return _document("dicom_audit", rows, run, title or "DICOM connectivity audit")


def _document(kind, rows, run, title):
    report = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "title": title,
        "generated_at": utc_now(),
        "verdict": None,
        "run": dict(run or {}),
        "summary": None,
        "baseline": None,
        "endpoints": rows,
        "removed_endpoints": [],
    }
    summarize(report)
    return report


def summarize(report):
    """(Re)compute ``summary`` and ``verdict`` from the endpoint entries."""
    rows = report["endpoints"]
    outcomes = {}
    for row in rows:
        outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + 1
    checks = [check for row in rows for check in row["checks"]]
    rtts = [row["rtt_ms"]["avg"] for row in rows if row["rtt_ms"] and _num(row["rtt_ms"].get("avg")) is not None]
    change_types = {}
    for row in rows:
        for change in row["changes"]:
            change_types[change["type"]] = change_types.get(change["type"], 0) + 1
    failed = sum(1 for row in rows if row["status"] == "failed")
    findings = [finding for row in rows for finding in row.get("findings") or []]
    by_id = {}
    for finding in findings:
        by_id[finding["id"]] = by_id.get(finding["id"], 0) + 1
    report["summary"] = {
        "endpoints": len(rows),
        "passed": len(rows) - failed,
        "failed": failed,
        "checks": len(checks),
        "checks_failed": sum(1 for check in checks if not check["passed"]),
        "outcomes": dict(sorted(outcomes.items())),
        "rtt_ms": {
            "median": round(statistics.median(rtts), 3) if rtts else None,
            "p95": round(sorted(rtts)[max(0, int(round(0.95 * len(rtts))) - 1)], 3) if rtts else None,
            "max": max(rtts) if rtts else None,
        },
        "regressions": sum(1 for row in rows if row["regression"]),
        "recoveries": sum(1 for row in rows if row["recovery"]),
        "changes": dict(sorted(change_types.items())),
        "removed": len(report.get("removed_endpoints") or []),
        "findings": {
            "total": len(findings),
            "endpoints": sum(1 for row in rows if row.get("findings")),
            "by_severity": {severity: sum(1 for finding in findings if finding["severity"] == severity) for severity in SEVERITIES},
            "by_id": dict(sorted(by_id.items())),
        },
    }
    report["verdict"] = "failed" if failed else "passed"
    return report
