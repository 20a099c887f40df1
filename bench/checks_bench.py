# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks benchmark: a 1,000-host dicom.network.audit with every check on, next to the echo-only audit.

    .venv/bin/python bench/checks_bench.py [--hosts 1000] [--repeat 3] [--peers demo,orthanc]

For each peer (the listeners of bench/audit_bench.py), in the same run, alternating:
  1. the whole `ansible-playbook -i <hosts> dicom.network.audit` with `dicom_audit_checks: []` (the echo only);
  2. the same with all six checks (called_aet_enforced, calling_aet_enforced, default_aet, query, tls_versions,
     implementation): one batched dicom_echo task per check kind, one dicom_find task.
Each run's JSON report must list every endpoint with every check it asked for; the number of probes
(associations) of each run is counted from the plan. Prints one table and writes
bench/results/checks-<timestamp>.json (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit_bench  # noqa: E402  pylint: disable=wrong-import-position  # the peers and the runner of the audit benchmark

ALL_CHECKS = ["called_aet_enforced", "calling_aet_enforced", "default_aet", "query", "tls_versions", "implementation"]
# Probes per endpoint without TLS: 1 echo + called + calling + (1 control + 8 defaults, one fewer when its own title is a default) + 1 query.
PROBES_PER_ENDPOINT = 1 + 1 + 1 + 9 + 1


def one_audit(hosts, work, env, checks, number):
    inventory = os.path.join(work, "audit-inventory.json")
    audit_bench.write_inventory(inventory, hosts)
    mode = "checks" if checks else "echo"
    reports = os.path.join(work, "reports-%s" % mode)
    timer = os.path.join(work, "tasks-%s-%d.json" % (mode, number))
    env = dict(env, DICOM_BENCH_TIMER_OUT=timer)
    elapsed = audit_bench.run([audit_bench.PLAYBOOK, "-i", inventory, "dicom.network.audit", "-e", "dicom_audit_report_dir=" + reports,
                               "-e", json.dumps({"dicom_audit_checks": checks, "dicom_audit_report_formats": ["json", "openmetrics"]})],
                              env, work, os.path.join(work, "audit-%s-%d.log" % (mode, number)))
    with open(os.path.join(reports, "dicom_audit.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    summary = report["summary"]
    if summary["endpoints"] != len(hosts) or summary["outcomes"].get("success") != len(hosts):
        raise SystemExit("checks_bench: not every endpoint answered the echo: %s" % summary)
    wanted = 1 + len(checks)
    short = [row["name"] for row in report["endpoints"] if len(row["checks"]) != wanted]
    if short:
        raise SystemExit("checks_bench: %d endpoints lack checks, e.g. %s" % (len(short), short[:3]))
    with open(timer, encoding="utf-8") as handle:
        tasks = json.load(handle)
    summary["task_seconds"] = [(task["name"], round(task["seconds"], 2)) for task in tasks if task["seconds"] >= 0.1]
    return elapsed, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each audit per peer; the median counts (default 3)")
    parser.add_argument("--peers", default="demo,orthanc", help="demo, orthanc or both (default demo,orthanc)")
    parser.add_argument("--port", type=int, default=26104, help="TCP port of the demo SCP listeners (default 26104)")
    args = parser.parse_args(argv)
    try:
        return measure(args)
    except audit_bench.BenchError as exc:
        raise SystemExit(str(exc)) from None


def measure(args):
    work = tempfile.mkdtemp(prefix="dicom-checks-bench-")
    collections = os.path.join(work, "collections", "ansible_collections", "dicom")
    os.makedirs(collections)
    os.symlink(audit_bench.ROOT, os.path.join(collections, "network"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(work, "collections"), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="false",
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(audit_bench.ROOT, "bench", "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED="dicom_bench_timer")
    factories = {"demo": audit_bench.DemoPeer, "orthanc": audit_bench.OrthancPeer}
    results = []
    for name in [value.strip() for value in args.peers.split(",") if value.strip()]:
        peer = factories[name](work, args.hosts, args.port)
        try:
            runs = {"echo": [], "checks": []}
            summaries = {}
            for number in range(args.repeat):  # alternating, so load changes hit both alike
                for mode, checks in (("echo", []), ("checks", ALL_CHECKS)):
                    elapsed, summaries[mode] = one_audit(peer.hosts, peer.work, env, checks, number)
                    runs[mode].append(round(elapsed, 3))
        finally:
            peer.stop()
        echo, checks = statistics.median(runs["echo"]), statistics.median(runs["checks"])
        results.append({"peer": name, "hosts": args.hosts, "echo_runs_s": runs["echo"], "checks_runs_s": runs["checks"],
                        "echo_median_s": echo, "checks_median_s": checks, "ratio": round(checks / echo, 2),
                        "probes_with_checks": args.hosts * PROBES_PER_ENDPOINT,
                        "findings": summaries["checks"]["findings"]["by_id"], "checks_failed": summaries["checks"]["checks_failed"],
                        "tasks_last_checks_run_s": summaries["checks"]["task_seconds"],
                        "tasks_last_echo_run_s": summaries["echo"]["task_seconds"]})
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print()
    print("Checks benchmark: %d inventory hosts, %d CPUs, load average %s" % (
        args.hosts, os.cpu_count(), " ".join("%.2f" % value for value in load) if load else "?"))
    print("%-8s %-36s %-36s %s" % ("peer", "echo only (median, runs)", "all six checks (median, runs)", "ratio"))
    for item in results:
        print("%-8s %-36s %-36s %.1fx" % (item["peer"], "%.2f s (%s)" % (item["echo_median_s"], ", ".join(map(str, item["echo_runs_s"]))),
                                          "%.2f s (%s)" % (item["checks_median_s"], ", ".join(map(str, item["checks_runs_s"]))),
                                          item["ratio"]))
        print("         findings with all checks: %s" % item["findings"])
        print("         tasks of the last run with checks (>= 0.1 s): %s" % "; ".join("%s %.1f s" % pair for pair in item["tasks_last_checks_run_s"]))
    results_dir = os.path.join(audit_bench.ROOT, "bench", "results")
    os.makedirs(results_dir, exist_ok=True)
    path = os.path.join(results_dir, "checks-%s.json" % datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"benchmark": "dicom_audit checks", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                   "cpus": os.cpu_count(), "load_average": load, "results": results, "work_dir": work}, handle, indent=1)
    print("Results: %s (runs and logs in %s)" % (path, work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
