# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connectivity reports of the pacs_verify and dicom_audit roles: evaluation, baseline diff, rendering.

Private to this collection; runs on the controller only (the dicom_report action plugin and the
role filters call it). No Ansible imports, so it is unit-testable on its own.

One report document (docs/reports.md describes every key) is built from dicom_echo results and
rendered by one function per format for both roles: JSON, JUnit XML, CSV, Markdown, a
self-contained HTML page, and the plain-text summary table the roles print. Files are written
atomically: a temporary file in the target directory, then a rename over the final name.
"""

from __future__ import annotations

import csv
import datetime
import html
import io
import json
import os
import re
import statistics
import tempfile
import xml.etree.ElementTree as ET

from ansible_collections.dicom.network.plugins.module_utils._negotiation import resolve_uid, uid_label
from ansible_collections.dicom.network.plugins.module_utils._request import RequestError
from ansible_collections.dicom.network.plugins.module_utils._syntaxes import ECHOSCU_TRANSFER_SYNTAXES

SCHEMA = "dicom.network/connectivity-report"
SCHEMA_VERSION = 1
KINDS = ("pacs_verify", "dicom_audit")
FORMATS = ("json", "junit", "csv", "markdown", "html")
EXTENSIONS = {"json": ".json", "junit": ".junit.xml", "csv": ".csv", "markdown": ".md", "html": ".html"}

# Keys a pacs_verify endpoint may carry besides the dicom_echo endpoint options.
EXPECTATION_KEYS = ("expect_transfer_syntaxes", "expect_rejected", "max_rtt_ms", "min_cert_days")

# Outcomes that mean "not up (yet)": worth another attempt while an endpoint is starting.
RETRYABLE_OUTCOMES = frozenset(["dns_error", "connection_refused", "connect_timeout", "acse_timeout", "peer_aborted",
                                "tls_error", "protocol_error", "release_failed", "dimse_timeout"])

# Severity order of a row in the human-readable reports (problems first).
_SEVERITY = {"regression": 0, "failed": 1, "changed": 2, "recovery": 3, "passed": 4}
_ECHOSCU_ORDER = {uid: index for index, (uid, _dcmtk, _keyword) in enumerate(ECHOSCU_TRANSFER_SYNTAXES)}


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
    host = endpoint.get("host") or "?"
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return "%s@%s:%s" % (endpoint.get("called_aet") or "ANY-SCP", host, endpoint.get("port") or 104)


def endpoint_name(entry):
    """The name dicom_echo gives an endpoint entry: its ``name``, else ``AET@host:port``."""
    return entry.get("name") or _label(entry)


def _num(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _fmt_ms(value):
    value = _num(value)
    if value is None:
        return ""
    return "%.1f" % value if value >= 10 else "%.2f" % value


# --------------------------------------------------------------------------------------------
# helpers the roles use through filters


def echo_endpoints(entries, defaults=None, propose_expected=False):
    """pacs_verify endpoints -> the ``endpoints`` of one dicom_echo task.

    Expectation keys are dropped, ``defaults`` (module options for every endpoint) are put under
    each entry, and every entry gets the ``name`` its result will carry. With
    ``propose_expected``, entries with ``expect_transfer_syntaxes`` and no ``propose_ts`` of their
    own propose echoscu's list up to the last expected syntax in it, so the echo association shows
    which of those the peer prefers (no more: DCMTK 3.6 acceptors do not answer a context with more
    than 50 transfer syntaxes).
    """
    if not isinstance(entries, list):
        raise ReportError("the endpoint list must be a list of dicts, got %s" % type(entries).__name__)
    out = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ReportError("endpoint %d must be a dict, got %r" % (index, entry))
        probe = {key: value for key, value in (defaults or {}).items() if value is not None}
        probe.update((key, value) for key, value in entry.items() if key not in EXPECTATION_KEYS and value is not None)
        expected = entry.get("expect_transfer_syntaxes")
        if expected is not None:
            if not isinstance(expected, list):
                raise ReportError("endpoint %d (%s): expect_transfer_syntaxes must be a list, got %r" % (index, endpoint_name(probe), expected))
            unknown = [value for value in expected if transfer_syntax_uid(value) is None]
            if unknown:
                raise ReportError("endpoint %d (%s): unknown transfer syntax %s in expect_transfer_syntaxes (give UIDs, DICOM keywords "
                                  "such as ExplicitVRLittleEndian, or names such as 'Explicit VR Little Endian')"
                                  % (index, endpoint_name(probe), ", ".join(repr(value) for value in unknown)))
        if propose_expected and expected and "propose_ts" not in entry:
            positions = [_ECHOSCU_ORDER[uid] for uid in map(transfer_syntax_uid, expected) if uid in _ECHOSCU_ORDER]
            if positions:
                probe["propose_ts"] = max(positions) + 1
        probe["name"] = endpoint_name(probe)
        out.append(probe)
    return out


def echo_retryable(results):
    """Names of the endpoints worth probing again: not up yet (refused, timed out, transiently rejected ...).

    A success is final, and so is a permanent rejection (a wrong AE title stays wrong).
    """
    names = []
    for result in results or []:
        outcome = result.get("outcome")
        rejection = (result.get("association") or {}).get("rejection") or {}
        if outcome in RETRYABLE_OUTCOMES or (outcome == "association_rejected" and rejection.get("result") == 2):
            names.append(result.get("name"))
    return names


def inventory_endpoints(hostvars, hosts, option_names, defaults=None, prefix="dicom_", probe_default="localhost"):
    """Inventory hosts -> {probe host: [dicom_echo endpoint dicts]} from their ``dicom_*`` host variables.

    ``dicom_host`` defaults to ``ansible_host`` and then to the inventory name; ``dicom_probe_from``
    to ``probe_default``; every name in ``option_names`` (the endpoint options dicom_echo accepts,
    TLS ones included) is read from ``dicom_<option>``. The endpoint ``name`` is the inventory name.
    """
    wanted = {prefix + option: option for option in option_names if option not in ("host", "name")}
    groups = {}
    for host in hosts or []:
        hv = hostvars[host]
        endpoint = dict(defaults or {})
        # Only the variables that are there are read (and templated): a lookup of each possible
        # option name costs more than one pass over the host's variable names.
        for key in [key for key in hv if key in wanted]:
            value = hv[key]
            if value is not None:
                endpoint[wanted[key]] = value
        endpoint["host"] = hv.get(prefix + "host") or hv.get("ansible_host") or host
        endpoint["name"] = host
        probe = hv.get(prefix + "probe_from") or probe_default
        groups.setdefault(probe, []).append(endpoint)
    return groups


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
        "echoscu_exit_code": result.get("echoscu_exit_code"),
        "attempts": 1 if result else 0,
        "rtt_ms": result.get("rtt_ms"),
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
        "tls": {"version": tls.get("version"), "cipher": tls.get("cipher")} if tls else None,
        "certificate": _certificate(result),
        "checks": [],
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
    limit = _num(spec.get("max_rtt_ms"))
    if limit is not None:
        rtt = _num((row["rtt_ms"] or {}).get("max"))
        if rtt is None:
            checks.append(_check("max_rtt_ms", False, "no echo round trip to measure", limit, None))
        elif rtt <= limit:
            checks.append(_check("max_rtt_ms", True, "echo round trip %s ms, at most %s ms allowed" % (_fmt_ms(rtt), limit), limit, rtt))
        else:
            checks.append(_check("max_rtt_ms", False, "echo round trip %s ms exceeds %s ms" % (_fmt_ms(rtt), limit), limit, rtt))
    min_days = _num(spec.get("min_cert_days"))
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
        row["expectations"] = {key: spec.get(key) for key in EXPECTATION_KEYS if spec.get(key) not in (None, False, [])}
        row["checks"] = _verify_checks(row, spec, found)
        rows.append(_finish_row(row))
    return _document("pacs_verify", rows, run, title or "PACS verification")


def build_audit_report(endpoints, results, min_cert_days=None, run=None, title=None):
    """The dicom_audit report: reachability (and certificate lifetime) of every inventory endpoint.

    ``endpoints``: dicts with ``name`` (and ``probe_from``); ``results``: dicom_echo results with ``name`` (and
    ``probe_from``). Without either, the one host of ``run["probe_hosts"]`` is the probe host.
    """
    by_name = _by_name(results)
    probe_hosts = (run or {}).get("probe_hosts") or []
    only_probe = probe_hosts[0] if len(probe_hosts) == 1 else None
    rows = []
    for spec in endpoints or []:
        name = spec["name"]
        result = by_name.get(name)
        row = _base_row(name, result)
        row["probe_from"] = spec.get("probe_from") or (result or {}).get("probe_from") or only_probe
        if result is None:
            row["endpoint"].update({key: spec.get(key) for key in ("host", "port", "calling_aet", "called_aet")})
        row["checks"] = [_reachable_check(row)]
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
    }
    report["verdict"] = "failed" if failed else "passed"
    return report


# --------------------------------------------------------------------------------------------
# baseline


def load_baseline(path):
    """An earlier JSON report; ReportError if it cannot be read or is not one."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ReportError("baseline %s cannot be read: %s" % (path, exc)) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("endpoints"), list):
        raise ReportError("baseline %s is not a dicom.network connectivity report (schema %r)" % (path, SCHEMA))
    if data.get("schema_version", 0) > SCHEMA_VERSION:
        raise ReportError("baseline %s has schema_version %s, newer than this collection's %s"
                          % (path, data.get("schema_version"), SCHEMA_VERSION))
    return data


def _syntax_uids(row, discovered_first=True):
    entries = row.get("discovered_transfer_syntaxes") if discovered_first else None
    if not entries:
        entries = row.get("accepted_transfer_syntaxes") or []
    return [entry.get("uid") for entry in entries if isinstance(entry, dict)]


def compare_baseline(report, baseline, latency_ms=20.0, latency_pct=50.0, source=None):
    """Mark regressions, recoveries and changes of ``report`` against an earlier report.

    * regression: passed in the baseline, failed now; recovery: the reverse (every endpoint of the
      baseline also gets a ``no_regression`` check, which fails on a regression);
    * outcome: failed in both, for another reason;
    * transfer_syntaxes: both answered, with different accepted transfer syntaxes;
    * certificate: another peer certificate (fingerprint) or expiry;
    * latency: the average echo round trip moved by more than ``latency_ms`` AND ``latency_pct`` percent;
    * new: not in the baseline; endpoints only in the baseline are listed in ``removed_endpoints``.
    """
    before = {row.get("name"): row for row in baseline.get("endpoints", []) if isinstance(row, dict)}
    current = set()
    for row in report["endpoints"]:
        current.add(row["name"])
        old = before.get(row["name"])
        changes = []
        if old is None:
            changes.append({"type": "new", "message": "not in the baseline", "before": None, "after": row["outcome"]})
            row["changes"] = changes
            continue
        was_ok, is_ok = old.get("status") == "passed", row["status"] == "passed"
        if was_ok and not is_ok:
            row["regression"] = True
            changes.append({"type": "regression", "message": "was %s, now %s" % (old.get("outcome"), row["outcome"]),
                            "before": old.get("outcome"), "after": row["outcome"]})
        elif is_ok and not was_ok:
            row["recovery"] = True
            changes.append({"type": "recovery", "message": "was %s, now %s" % (old.get("outcome"), row["outcome"]),
                            "before": old.get("outcome"), "after": row["outcome"]})
        elif not is_ok and old.get("outcome") != row["outcome"]:
            changes.append({"type": "outcome", "message": "still failing, now %s (was %s)" % (row["outcome"], old.get("outcome")),
                            "before": old.get("outcome"), "after": row["outcome"]})
        if row["success"] and old.get("success"):
            then, now = _syntax_uids(old), _syntax_uids(row)
            if then and now and then != now:
                changes.append({"type": "transfer_syntaxes", "message": "accepted %s (was %s)" % (
                    ", ".join(uid_label(uid) for uid in now), ", ".join(uid_label(uid) for uid in then)),
                    "before": then, "after": now})
            old_rtt = _num((old.get("rtt_ms") or {}).get("avg"))
            new_rtt = _num((row.get("rtt_ms") or {}).get("avg"))
            if old_rtt is not None and new_rtt is not None:
                delta = new_rtt - old_rtt
                pct = abs(delta) / old_rtt * 100.0 if old_rtt > 0 else float("inf")
                if abs(delta) > latency_ms and pct > latency_pct:
                    changes.append({"type": "latency", "message": "echo round trip %s ms -> %s ms (%+.0f%%)"
                                    % (_fmt_ms(old_rtt), _fmt_ms(new_rtt), (delta / old_rtt * 100.0) if old_rtt > 0 else 100.0),
                                    "before": old_rtt, "after": new_rtt})
        old_cert, new_cert = old.get("certificate"), row.get("certificate")
        if old_cert and new_cert:
            if old_cert.get("sha256_fingerprint") != new_cert.get("sha256_fingerprint"):
                changes.append({"type": "certificate", "message": "new peer certificate %s, valid until %s (was %s, until %s)"
                                % (new_cert.get("subject"), new_cert.get("not_after"), old_cert.get("subject"), old_cert.get("not_after")),
                                "before": old_cert.get("sha256_fingerprint"), "after": new_cert.get("sha256_fingerprint")})
            elif old_cert.get("not_after") != new_cert.get("not_after"):
                changes.append({"type": "certificate", "message": "certificate expiry moved from %s to %s"
                                % (old_cert.get("not_after"), new_cert.get("not_after")),
                                "before": old_cert.get("not_after"), "after": new_cert.get("not_after")})
        elif bool(old_cert) != bool(new_cert) and row["success"] and old.get("success"):
            changes.append({"type": "certificate", "message": "peer certificate %s" % ("appeared" if new_cert else "disappeared"),
                            "before": (old_cert or {}).get("sha256_fingerprint"), "after": (new_cert or {}).get("sha256_fingerprint")})
        row["changes"] = changes
        if row["regression"]:
            row["checks"].append(_check("no_regression", False, "regression since the baseline: " + changes[0]["message"],
                                        old.get("outcome"), row["outcome"]))
        else:
            row["checks"].append(_check("no_regression", True, "no regression since the baseline", old.get("outcome"), row["outcome"]))
        _finish_row(row)
    report["removed_endpoints"] = [
        {"name": name, "outcome": old.get("outcome"), "status": old.get("status"), "endpoint": old.get("endpoint")}
        for name, old in before.items() if name not in current
    ]
    report["baseline"] = {
        "path": source,
        "generated_at": baseline.get("generated_at"),
        "kind": baseline.get("kind"),
        "endpoints": len(before),
        "latency_threshold_ms": latency_ms,
        "latency_threshold_pct": latency_pct,
    }
    return summarize(report)


# --------------------------------------------------------------------------------------------
# rendering


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


_FAILED_MSG = re.compile(r"^C-ECHO to \S+ failed \([a-z_]+\): (.+)$", re.DOTALL)


def short_reason(msg):
    """The reason part of a dicom_echo failure message (the target and outcome are shown beside it)."""
    match = _FAILED_MSG.match(msg or "")
    return match.group(1) if match else (msg or "")


def _failed_checks(row):
    return [check for check in row["checks"] if not check["passed"]]


def _notes(row):
    """What a person needs to read about a row: failed checks, changes, and what passed."""
    notes = ["%s: %s" % (check["name"], check["message"]) for check in _failed_checks(row) if check["name"] not in ("reachable", "no_regression")]
    if any(check["name"] == "reachable" and not check["passed"] for check in row["checks"]):
        notes.insert(0, short_reason(row["msg"]))
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
    for row in report["endpoints"]:
        seconds = ((row.get("timing_ms") or {}).get("total") or 0.0) / 1000.0
        total_time += seconds
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
            if index == 0 and row["changes"]:
                out = ET.SubElement(case, "system-out")
                out.text = _xml_text("\n".join("%s: %s" % (change["type"], change["message"]) for change in row["changes"]))
    suite.set("time", "%.3f" % total_time)
    suites.set("time", "%.3f" % total_time)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


CSV_COLUMNS = ("name", "status", "outcome", "host", "port", "address", "called_aet", "calling_aet", "probe_from",
               "rtt_ms_avg", "rtt_ms_max", "attempts", "accepted_transfer_syntaxes", "tls_version",
               "certificate_not_after", "certificate_days_remaining", "regression", "recovery",
               "failed_checks", "changes", "message")


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
                  "; ".join("%s: %s" % (change["type"], change["message"]) for change in row["changes"]), row["msg"])
        writer.writerow([_csv_cell(value) for value in values])
    return buf.getvalue()


def _md(text):
    return str(text if text is not None else "").replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


_STATUS_WORD = {"regression": "REGRESSION", "failed": "FAILED", "changed": "changed", "recovery": "recovered", "passed": "ok"}


def render_markdown(report):
    summary = report["summary"]
    lines = ["# %s" % _md(report["title"]), "",
             "**%s** - %d endpoints: %d passed, %d failed; %d checks, %d failed. Generated %s."
             % (report["verdict"].upper(), summary["endpoints"], summary["passed"], summary["failed"], summary["checks"],
                summary["checks_failed"], report["generated_at"])]
    if report.get("baseline"):
        lines.append("Compared with the baseline of %s: %d regressions, %d recoveries, %d other changes, %d removed."
                     % (report["baseline"].get("generated_at"), summary["regressions"], summary["recoveries"],
                        sum(count for kind, count in summary["changes"].items() if kind not in ("regression", "recovery")),
                        summary["removed"]))
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
    failed = [(row, check) for row in report["endpoints"] for check in _failed_checks(row)]
    if failed:
        lines += ["", "## Failed checks", ""]
        lines += ["- **%s** `%s`: %s" % (_md(row["name"]), check["name"], _md(check["message"])) for row, check in failed]
    if report.get("removed_endpoints"):
        lines += ["", "## In the baseline, no longer in the inventory", ""]
        lines += ["- %s (was %s)" % (_md(entry["name"]), _md(entry.get("outcome"))) for entry in report["removed_endpoints"]]
    return "\n".join(lines) + "\n"


_CSS = """
:root{--ok:#1a7f37;--okbg:#e9f7ee;--bad:#c62828;--badbg:#fdecea;--warn:#9a6700;--warnbg:#fff8e1;--info:#0b5cad;--infobg:#e8f1fb;
--reg:#8e24aa;--regbg:#f6e8fa;--line:#d8dde3;--muted:#5f6b7a}
*{box-sizing:border-box}body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#fff;border-bottom:1px solid var(--line);padding:18px 28px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 8px}.muted{color:var(--muted)}
main{padding:18px 28px}
.verdict{display:inline-block;padding:3px 12px;border-radius:14px;font-weight:700;letter-spacing:.04em;vertical-align:middle;margin-left:10px;font-size:13px}
.verdict.passed{background:var(--ok);color:#fff}.verdict.failed{background:var(--bad);color:#fff}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:4px 0 10px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:24px;line-height:1.2}.card span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.card.bad b{color:var(--bad)}.card.ok b{color:var(--ok)}.card.reg b{color:var(--reg)}.card.info b{color:var(--info)}.card.warn b{color:var(--warn)}
.chips span{display:inline-block;background:#fff;border:1px solid var(--line);border-radius:12px;padding:1px 9px;margin:0 6px 6px 0;font-size:12px}
.callout{background:var(--regbg);border-left:5px solid var(--reg);padding:10px 14px;border-radius:4px;margin:12px 0}
.callout ul{margin:4px 0 0 18px;padding:0}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
th,td{text-align:left;padding:6px 9px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f4;font-size:12px;text-transform:uppercase;letter-spacing:.04em;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.passed td:first-child{border-left:5px solid var(--ok)}tr.failed{background:var(--badbg)}tr.failed td:first-child{border-left:5px solid var(--bad)}
tr.regression{background:var(--regbg)}tr.regression td:first-child{border-left:5px solid var(--reg)}
tr.changed{background:var(--warnbg)}tr.changed td:first-child{border-left:5px solid var(--warn)}
tr.recovery{background:var(--infobg)}tr.recovery td:first-child{border-left:5px solid var(--info)}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;white-space:nowrap}
.b-passed{background:var(--okbg);color:var(--ok)}.b-failed{background:var(--bad);color:#fff}.b-regression{background:var(--reg);color:#fff}
.b-changed{background:#f5d67b;color:#4a3500}.b-recovery{background:var(--info);color:#fff}
code{white-space:nowrap;font:12px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f1f3f5;padding:1px 4px;border-radius:3px}
.outcome{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}.outcome.bad{color:var(--bad);font-weight:600}
.ts{font-size:12px}.ts span{display:inline-block;background:#eef1f4;border-radius:3px;padding:0 5px;margin:0 3px 3px 0}
.cert.soon{color:var(--bad);font-weight:600}.cert.warn{color:var(--warn);font-weight:600}
.notes{font-size:12px}.notes div{margin-bottom:2px}.notes .f{color:var(--bad)}.notes .c{color:var(--warn)}
.notes .r{color:var(--reg);font-weight:600}.notes .i{color:var(--info)}
footer{padding:14px 28px;color:var(--muted);font-size:12px}
@media print{th{position:static}body{background:#fff}}
"""


def _h(text):
    return html.escape(str(text if text is not None else ""), quote=True)


def _outcome_bad(row):
    """Is the outcome itself the problem? A rejection a negative check asked for is not."""
    return any(not check["passed"] for check in row["checks"] if check["name"] in ("reachable", "rejected"))


def _outcome_note(row):
    rejected = [check for check in row["checks"] if check["name"] == "rejected"]
    if rejected and rejected[0]["passed"]:
        return rejected[0]["message"]
    return "" if row["success"] else row["msg"]


def render_html(report):
    """One self-contained page: inline CSS, no script, no external asset."""
    summary, run = report["summary"], report["run"]
    other_changes = sum(count for kind, count in summary["changes"].items() if kind not in ("regression", "recovery", "new"))
    out = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="generator" content="dicom.network %s">' % _h(report["kind"]),
           "<title>%s - %s</title>" % (_h(report["title"]), _h(report["verdict"].upper())),
           "<style>%s</style></head><body>" % _CSS,
           '<header><h1>%s<span class="verdict %s" id="verdict">%s</span></h1>' % (
               _h(report["title"]), _h(report["verdict"]), _h(report["verdict"].upper())),
           '<div class="muted">%s report generated %s%s%s</div></header><main>' % (
               _h(report["kind"]), _h(report["generated_at"]),
               " &middot; probed from %s" % _h(", ".join(run["probe_hosts"])) if run.get("probe_hosts") else "",
               " &middot; check mode" if run.get("check_mode") else "")]
    cards = [("Endpoints", summary["endpoints"], "info"), ("Passed", summary["passed"], "ok"),
             ("Failed", summary["failed"], "bad" if summary["failed"] else "ok"),
             ("Checks failed", "%d / %d" % (summary["checks_failed"], summary["checks"]), "bad" if summary["checks_failed"] else "ok")]
    if report.get("baseline"):
        cards += [("Regressions", summary["regressions"], "reg" if summary["regressions"] else "ok"),
                  ("Recoveries", summary["recoveries"], "info"), ("Other changes", other_changes, "warn" if other_changes else "ok")]
    if summary["rtt_ms"]["median"] is not None:
        cards.append(("Median RTT", "%s ms" % _fmt_ms(summary["rtt_ms"]["median"]), "info"))
        cards.append(("p95 RTT", "%s ms" % _fmt_ms(summary["rtt_ms"]["p95"]), "info"))
    out.append('<section class="cards" id="summary">')
    out += ['<div class="card %s"><b>%s</b><span>%s</span></div>' % (cls, _h(value), _h(label)) for label, value, cls in cards]
    out.append("</section>")
    chips = "".join("<span><code>%s</code> %d</span>" % (_h(outcome), count) for outcome, count in summary["outcomes"].items())
    out.append('<div class="chips">' + chips + "</div>")
    if report.get("baseline"):
        base = report["baseline"]
        out.append('<div class="muted">Baseline: %s (generated %s, %d endpoints); latency shifts flagged beyond %s ms and %s%%.%s</div>' % (
            _h(base.get("path") or "earlier report"), _h(base.get("generated_at")), base.get("endpoints") or 0,
            _h(base.get("latency_threshold_ms")), _h(base.get("latency_threshold_pct")),
            " %d endpoint(s) of the baseline are gone: %s." % (summary["removed"], _h(", ".join(e["name"] for e in report["removed_endpoints"][:20])))
            if summary["removed"] else ""))
    regressions = [row for row in report["endpoints"] if row["regression"]]
    if regressions:
        out.append('<div class="callout" id="regressions"><b>%d regression%s since the baseline</b><ul>' % (
            len(regressions), "" if len(regressions) == 1 else "s"))
        out += ["<li><b>%s</b> <code>%s</code>: %s</li>" % (_h(row["name"]), _h(_target(row)), _h(row["changes"][0]["message"]))
                for row in regressions[:50]]
        if len(regressions) > 50:
            out.append("<li>... and %d more in the table below</li>" % (len(regressions) - 50))
        out.append("</ul></div>")
    out.append('<h2>Endpoints</h2><table id="endpoints"><thead><tr><th>Status</th><th>Endpoint</th><th>Outcome</th>'
               '<th>RTT ms<br>avg / max</th><th>Accepted transfer syntaxes</th><th>Certificate expiry</th><th>Checks and changes</th>'
               "</tr></thead><tbody>")
    several_probes = len(run.get("probe_hosts") or []) > 1
    for row in _ordered(report["endpoints"]):
        flag = _row_flag(row)
        rtt = row.get("rtt_ms") or {}
        cert = row.get("certificate")
        cert_html = ""
        if cert:
            days = cert.get("days_remaining")
            cls = "soon" if isinstance(days, int) and days < 14 else "warn" if isinstance(days, int) and days < 30 else ""
            cert_html = '<span class="cert %s">%s</span><br><span class="muted">%s days</span>' % (
                cls, _h((cert.get("not_after") or "")[:10]), _h(days))
        elif row.get("tls"):
            cert_html = '<span class="muted">TLS, no certificate</span>'
        else:
            cert_html = '<span class="muted">no TLS</span>'
        notes = []
        for change in row["changes"]:
            cls = {"regression": "r", "recovery": "i", "new": "muted"}.get(change["type"], "c")
            notes.append('<div class="%s">%s: %s</div>' % (cls, _h(change["type"]), _h(change["message"])))
        for check in _failed_checks(row):
            if check["name"] in ("reachable", "no_regression"):
                continue
            notes.append('<div class="f">%s: %s</div>' % (_h(check["name"]), _h(check["message"])))
        passed_checks = [check["name"] for check in row["checks"] if check["passed"]]
        if passed_checks:
            notes.append('<div class="muted">ok: %s</div>' % _h(", ".join(passed_checks)))
        syntaxes = "".join("<span>%s</span>" % _h(name) for name in _syntax_names(row)) or '<i class="muted">none</i>'
        attempts = ' <span class="muted">(%d attempts)</span>' % row["attempts"] if (row.get("attempts") or 0) > 1 else ""
        out.append(
            '<tr class="%s" data-name="%s"><td><span class="badge b-%s">%s</span></td>'
            '<td><b>%s</b><br><code>%s</code>%s</td><td><span class="outcome%s">%s</span><div class="muted notes">%s</div></td>'
            '<td class="num">%s%s</td><td class="ts">%s</td><td>%s</td><td class="notes">%s</td></tr>' % (
                flag, _h(row["name"]), flag, _h(_STATUS_WORD[flag]), _h(row["name"]), _h(_target(row)),
                ' <span class="muted">via %s</span>' % _h(row["probe_from"]) if row.get("probe_from") and several_probes else "",
                " bad" if _outcome_bad(row) else "", _h(row["outcome"]), _h(short_reason(_outcome_note(row))),
                _h(_fmt_ms(rtt.get("avg"))), " / " + _h(_fmt_ms(rtt.get("max"))) if rtt else "", syntaxes, cert_html,
                "".join(notes) + attempts))
    out.append("</tbody></table>")
    out.append('</main><footer>dicom.network %s report, schema %s v%d. Times are the C-ECHO round trips measured at the socket.</footer>'
               % (_h(report["kind"]), _h(report["schema"]), report["schema_version"]))
    out.append("</body></html>\n")
    return "\n".join(out)


RENDERERS = {"json": render_json, "junit": render_junit, "csv": render_csv, "markdown": render_markdown, "html": render_html}


def render_table(report, max_rows=None):
    """The plain-text summary the roles print: a header line and one line per endpoint (problems first)."""
    summary = report["summary"]
    head = "%s: %s - %d endpoints, %d passed, %d failed; %d/%d checks failed" % (
        report["title"], report["verdict"].upper(), summary["endpoints"], summary["passed"], summary["failed"],
        summary["checks_failed"], summary["checks"])
    if report.get("baseline"):
        head += "; %d regressions, %d recoveries" % (summary["regressions"], summary["recoveries"])
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
        lines.append("... %d more endpoints (%d shown: the problems first); see the reports" % (len(rows) - len(shown), len(shown)))
    return lines


# --------------------------------------------------------------------------------------------
# writing


def write_atomic(path, text, mode=0o644):
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one, never half.

    The data goes to a temporary file in the same directory, is flushed to disk, and replaces the
    target with one rename (atomic on POSIX file systems).
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_reports(report, directory, basename, formats):
    """Render and write every format; returns {format: absolute path}."""
    unknown = [fmt for fmt in formats if fmt not in RENDERERS]
    if unknown:
        raise ReportError("unknown report format %s (known: %s)" % (", ".join(map(repr, unknown)), ", ".join(FORMATS)))
    if not basename or "/" in basename or basename in (".", ".."):
        raise ReportError("the report base name %r must be a plain file name" % (basename,))
    directory = os.path.abspath(os.path.expanduser(directory))
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise ReportError("report directory %s cannot be created: %s" % (directory, exc)) from None
    paths = {}
    for fmt in formats:
        path = os.path.join(directory, basename + EXTENSIONS[fmt])
        try:
            write_atomic(path, RENDERERS[fmt](report))
        except OSError as exc:
            raise ReportError("report %s cannot be written: %s" % (path, exc)) from None
        paths[fmt] = path
    return paths
