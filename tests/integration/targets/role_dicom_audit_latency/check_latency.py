#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check one dicom_audit JSON report of the latency test:

    check_latency.py REPORT.json ENDPOINTS ECHOES [--baseline BASELINE.json --shifted NAME,NAME | --shifted '']

Every endpoint must have passed with ECHOES echoes measured. With --baseline, the report must have been compared with
that file and show no regression and no change at all except a latency shift of exactly the --shifted endpoints,
each slower than before. Prints every mismatch and exits 1; prints the largest movements of the other endpoints
either way, so a run that passed also shows how close the noise came.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("endpoints", type=int)
    parser.add_argument("echoes", type=int)
    parser.add_argument("--baseline")
    parser.add_argument("--shifted", default=None)
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as handle:
        report = json.load(handle)
    problems = []
    summary, rows = report["summary"], report["endpoints"]
    name = os.path.basename(args.report)
    if summary["endpoints"] != args.endpoints or summary["passed"] != args.endpoints:
        failed = ["%s: %s" % (row["name"], row["msg"]) for row in rows if row["status"] != "passed"]
        problems.append("%d endpoints, %d passed; expected all %d to pass. Failed: %s"
                        % (summary["endpoints"], summary["passed"], args.endpoints, failed[:10]))
    wrong_count = ["%s: %s" % (row["name"], (row.get("rtt_stats") or {}).get("samples")) for row in rows
                   if (row.get("rtt_stats") or {}).get("samples") != args.echoes]
    if wrong_count:
        problems.append("endpoints without %d echo round trips in rtt_stats (dicom_audit_echo_repeat): %s" % (args.echoes, wrong_count[:10]))
    if args.baseline:
        expected = sorted(filter(None, (args.shifted or "").split(",")))
        base = report.get("baseline") or {}
        if base.get("path") != os.path.abspath(args.baseline):
            problems.append("compared with %r, expected the baseline %s" % (base.get("path"), os.path.abspath(args.baseline)))
        if summary["regressions"] != 0:
            problems.append("%d regressions: %s" % (summary["regressions"], [row["name"] for row in rows if row["regression"]]))
        wanted_changes = {"latency": len(expected)} if expected else {}
        if summary["changes"] != wanted_changes:
            problems.append("changes %s, expected %s" % (summary["changes"], wanted_changes))
        flagged = {row["name"]: change for row in rows for change in row["changes"] if change["type"] == "latency"}
        if sorted(flagged) != expected:
            problems.append("latency shifts flagged for %s, expected exactly %s; flagged: %s"
                            % (sorted(flagged) or "no endpoint", expected or "none", {key: value["message"] for key, value in flagged.items()}))
        for key, change in flagged.items():
            if not change["after"] > change["before"]:
                problems.append("%s flagged, but not as slower: %s" % (key, change["message"]))
        with open(args.baseline, encoding="utf-8") as handle:
            before = {row["name"]: row.get("rtt_stats") for row in json.load(handle)["endpoints"]}
        moves = []
        for row in rows:
            old, new = before.get(row["name"]), row.get("rtt_stats")
            if old and new and row["name"] not in flagged:
                moves.append((abs(new["median"] - old["median"]), abs(new["min"] - old["min"]), row["name"]))
        if moves:
            median_move, min_move = max(moves), max(moves, key=lambda move: move[1])
            print("%s: largest movement of an unflagged endpoint: median %.2f ms (%s), fastest echo %.2f ms (%s)"
                  % (name, median_move[0], median_move[2], min_move[1], min_move[2]))
        for key, change in sorted(flagged.items()):
            print("%s: %s: %s" % (name, key, change["message"]))
    if problems:
        print("latency check FAILED for %s:" % args.report)
        for problem in problems:
            print("  - " + problem)
        return 1
    print("latency check passed for %s: %d endpoints, changes %s" % (name, summary["endpoints"], summary["changes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
