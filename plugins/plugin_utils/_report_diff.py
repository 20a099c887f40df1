# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Report baselines: reading an earlier JSON report and marking regressions, recoveries and changes
against it. Private to this collection; no Ansible imports."""

from __future__ import annotations

import json
import math

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
    rtt_stats,
    summarize,
)

# MAD x 1.4826 estimates the standard deviation of normally distributed samples; the standard error of the median of n
# such samples is about 1.2533 x sigma / sqrt(n) (docs/reports.md, "Latency shifts").
MAD_TO_SIGMA = 1.4826
MEDIAN_SE_FACTOR = 1.2533


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


def _row_stats(row):
    """The round-trip statistics of a report row: its ``rtt_stats`` (schema 2), else computed from what a schema 1
    row kept, the echoes of its ``probe`` or, without them, its ``rtt_ms`` summary."""
    stats = row.get("rtt_stats")
    if not isinstance(stats, dict):
        stats = rtt_stats(row.get("probe") or row)
    if not stats or _num(stats.get("median")) is None or _num(stats.get("min")) is None:
        return None
    return stats


def _sigma(stats):
    samples, mad = _num(stats.get("samples")), _num(stats.get("mad"))
    if samples is None or samples < 2 or mad is None:
        return None  # one echo, or a summary without samples: its spread is unknown
    return MAD_TO_SIGMA * mad


def latency_threshold(old, new, latency_ms, latency_pct, noise_factor):
    """How far the median round trip may move before it is a latency shift (ms); docs/reports.md, "Latency shifts".

    ``latency_ms`` (the floor: what the probe host's own load can add to every echo of a run, which no spread within the
    run shows) + ``latency_pct`` percent of the lower of the two medians (a slow path varies more between runs; the lower
    one, so that a step up and the same step back down are judged alike) + ``noise_factor``
    standard errors of the difference of the two medians, 1.2533 x sqrt(sigma_old^2 / n_old + sigma_new^2 / n_new) with
    sigma = 1.4826 x MAD. A run whose spread is unknown (one echo; a result without its echoes) is taken to be as noisy
    per echo as the other one.
    """
    sigma_old, sigma_new = _sigma(old), _sigma(new)
    if sigma_old is None:
        sigma_old = sigma_new
    if sigma_new is None:
        sigma_new = sigma_old
    if sigma_old is None:
        noise = 0.0
    else:
        noise = MEDIAN_SE_FACTOR * math.sqrt(sigma_old ** 2 / (_num(old.get("samples")) or 1) + sigma_new ** 2 / (_num(new.get("samples")) or 1))
    return latency_ms + latency_pct / 100.0 * min(old["median"], new["median"]) + noise_factor * noise


def latency_change(old_row, new_row, latency_ms=20.0, latency_pct=25.0, noise_factor=3.0):
    """A ``latency`` change when the round trip of an endpoint moved beyond its noise, else None.

    Both the median and the minimum must have moved by more than the threshold, the same way: a real change of the path
    or of the peer moves the whole distribution, while our own host's load delays some echoes and leaves the fastest one
    (nearly) where it was.
    """
    old, new = _row_stats(old_row), _row_stats(new_row)
    if old is None or new is None:
        return None
    threshold = latency_threshold(old, new, latency_ms, latency_pct, noise_factor)
    moved, moved_min = new["median"] - old["median"], new["min"] - old["min"]
    if abs(moved) <= threshold or abs(moved_min) <= threshold or (moved > 0) != (moved_min > 0):
        return None
    pct = "%+.0f%%, " % (moved / old["median"] * 100.0) if old["median"] > 0 else ""
    samples = new.get("samples")
    sources = (old.get("timing_source"), new.get("timing_source"))
    # A reply timed in user space includes the wait for our own event loop; one timed by the kernel does not.
    mixed = "; timed by %s before, by %s now" % sources if None not in sources and sources[0] != sources[1] else ""
    return {"type": "latency",
            "message": "echo round trip %s ms -> %s ms (%smedian%s; fastest %s -> %s ms), beyond the %s ms this measurement's noise allows%s"
                       % (_fmt_ms(old["median"]), _fmt_ms(new["median"]), pct, " of %d echoes" % samples if samples else "",
                          _fmt_ms(old["min"]), _fmt_ms(new["min"]), _fmt_ms(threshold), mixed),
            "before": old["median"], "after": new["median"]}


def compare_baseline(report, baseline, latency_ms=20.0, latency_pct=25.0, source=None, noise_factor=3.0):
    """Mark regressions, recoveries and changes of ``report`` against an earlier report.

    * regression: passed in the baseline, failed now; recovery: the reverse (every endpoint of the
      baseline also gets a ``no_regression`` check, which fails on a regression);
    * outcome: failed in both, for another reason;
    * transfer_syntaxes: both answered, with different accepted transfer syntaxes;
    * certificate: another peer certificate (fingerprint) or expiry;
    * latency: the echo round trip moved beyond the noise of both measurements (latency_change());
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
            change = latency_change(old, row, latency_ms, latency_pct, noise_factor)
            if change:
                changes.append(change)
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
        "schema_version": baseline.get("schema_version", 1),
        "latency_threshold_ms": latency_ms,
        "latency_threshold_pct": latency_pct,
        "latency_noise_factor": noise_factor,
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
