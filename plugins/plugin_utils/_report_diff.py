# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Report baselines: reading an earlier JSON report and marking regressions, recoveries and changes
against it. Private to this collection; no Ansible imports."""

from __future__ import annotations

import json

from ansible_collections.dicom.network.plugins.module_utils._negotiation import uid_label
from ansible_collections.dicom.network.plugins.plugin_utils._report_checks import finding
from ansible_collections.dicom.network.plugins.plugin_utils._reports import (
    SCHEMA,
    SCHEMA_VERSION,
    ReportError,
    _check,
    _finish_row,
    _fmt_ms,
    _num,
    summarize,
)


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
        _implementation_change(old, row, changes)
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


def _implementation(row):
    """{class_uid, version_name} of a report row, also from reports written before rows had "implementation"."""
    if "implementation" in row:
        return row.get("implementation")
    assoc = row.get("association") or {}
    if not assoc.get("established"):
        return None
    return {"class_uid": assoc.get("peer_implementation_class_uid"), "version_name": assoc.get("peer_implementation_version_name")}


def _implementation_change(old, row, changes):
    """Another implementation class UID or version name than the baseline's: a change, and a finding where the check is asked."""
    then, now = _implementation(old), _implementation(row)
    if not then or not now or then == now:
        return
    message = "implementation %s %s (was %s %s)" % (now.get("class_uid"), now.get("version_name") or "(no version name)",
                                                    then.get("class_uid"), then.get("version_name") or "(no version name)")
    changes.append({"type": "implementation", "message": message, "before": then, "after": now})
    if any(check["name"] == "implementation" for check in row["checks"]):
        row.setdefault("findings", []).append(finding("implementation_changed", message, before=then, after=now))
