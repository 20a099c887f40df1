"""Hostile-peer load test: healthy Orthanc endpoints with and without hostile ones in one dicom_echo batch.

    python -m ansible_collections.dicom.network.tests.load.hostile_batch --healthy 2000     # make hostile-load
    python -m ansible_collections.dicom.network.tests.load.hostile_batch --healthy 300      # integration target

The module runs as a process of its own (through a small launcher, so that its peak RSS is its own) with the
default concurrency (64), acse_timeout and socket_timeout 10, facts off. Three batches against the same Orthanc:
the healthy endpoints alone, twice (their failures show the noise of the machine), then the same endpoints with the
hostile ones spread among them (tests/peers/scripted.py, in this process):

    empty_pdvs      a 4 MiB P-DATA-TF of empty PDVs as the C-ECHO-RSP            protocol_error, at once
    items           an A-ASSOCIATE-AC of 500,000 items (2 MB)                    protocol_error, at once
    gigabyte        a C-ECHO-RSP announcing 1 GiB                                protocol_error, at once
    trickle         every answer one byte every 15 ms                            success (about 4 s)
    never_ending    command fragments every 0.1 s, never the last one            dimse_timeout at 2 x socket_timeout
    distinct_ac_NN  distinct valid answers of 60 KiB (larger than the AC cache)  success
    distinct_4m_NN  distinct 4 MiB answers                                       protocol_error, at once

It fails unless: the healthy endpoints fail no more often with the hostile ones than the worse baseline plus an
allowance (0.5 % of them, at least 2: loopback Orthanc under 64 concurrent associations on a loaded machine drops
an association now and then, and the regression this guards against cost 217 and 266 of 2,000); every hostile
endpoint ends with its outcome within its bound; and the module's peak RSS stays under --rss-limit MB (150).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from ..peers import hostile, real
from ..peers.scripted import ScriptedPeer

MODULE = "ansible_collections.dicom.network.plugins.modules.dicom_echo"
# Runs the module and reports its own children's peak RSS: a child forked from this (large) process would count
# this process's RSS at the fork as its own.
LAUNCHER = ("import resource, subprocess, sys, time\n"
            "started = time.monotonic()\n"
            "done = subprocess.run(sys.argv[1:])\n"
            "sys.stderr.write('\\nLAUNCHER %d %.3f\\n' % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
            " time.monotonic() - started))\n"
            "sys.exit(done.returncode)\n")
TIMEOUT = 10          # acse_timeout and socket_timeout of the batch
DISTINCT = 20         # endpoints of each "distinct" kind


def hostile_kinds():
    """name -> (Script, expected outcome, bound in seconds for the probe's total time)."""
    kinds = {
        "empty_pdvs": (hostile.EMPTY_PDVS, "protocol_error", 2.0),
        "items": (hostile.ITEMS, "protocol_error", 2.0),
        "gigabyte": (hostile.GIGABYTE, "protocol_error", 2.0),
        "trickle": (hostile.TRICKLE, "success", 8.0),  # about 4 s; each message well inside its bounds
        # never complete: ends 2 x socket_timeout after the C-ECHO-RQ (docs/dev/timeouts.md)
        "never_ending": (hostile.never_ending(duration=120), "dimse_timeout", 2 * TIMEOUT + 2.0),
    }
    for number in range(DISTINCT):
        kinds["distinct_ac_%02d" % number] = (hostile.distinct_ac(number), "success", 2.0)
        kinds["distinct_4m_%02d" % number] = (hostile.distinct_4m(number), "protocol_error", 2.0)
    return kinds


def run_module(endpoints, workdir, label):
    """The module as a process on these endpoints: (results, peak RSS in MB, wall seconds)."""
    args_path = os.path.join(workdir, "%s.json" % label)
    with open(args_path, "w", encoding="utf-8") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": {"endpoints": endpoints, "acse_timeout": TIMEOUT, "socket_timeout": TIMEOUT,
                                           "concurrency": 64, "facts": False}}, handle)
    done = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, "-m", MODULE, args_path], capture_output=True,
                          timeout=900, check=False, cwd=workdir)
    marker = [line for line in done.stderr.decode("utf-8", "replace").splitlines() if line.startswith("LAUNCHER ")]
    try:
        output = json.loads(done.stdout)
    except ValueError:
        raise RuntimeError("dicom_echo (%s) printed no JSON; exit %s\n%s" % (label, done.returncode, done.stderr.decode()[-3000:])) from None
    if "results" not in output:
        raise RuntimeError("dicom_echo (%s) failed: %s" % (label, output.get("msg")))
    maxrss_kb, wall = marker[-1].split()[1:3]
    return output["results"], int(maxrss_kb) / 1024.0, float(wall)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="hostile_batch", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--healthy", type=int, default=2000, help="healthy endpoints (default 2000)")
    parser.add_argument("--rss-limit", type=float, default=150.0, help="the module's peak RSS limit in MB (default 150)")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    kinds = hostile_kinds()
    workdir = tempfile.mkdtemp(prefix="hostile-batch-")
    orthanc = real.orthanc()
    hostile = ScriptedPeer(lambda called_aet: kinds[called_aet.lower()][0] if called_aet.lower() in kinds else None,
                           conn_timeout=150).start()
    try:
        healthy = [{"host": orthanc.host, "port": orthanc.port, "called_aet": orthanc.aet, "name": "healthy%04d" % index}
                   for index in range(args.healthy)]
        mixed = list(healthy)
        step = max(1, len(healthy) // len(kinds))
        for index, name in enumerate(kinds):  # spread over the batch: at the start, in the middle, at the end
            mixed.insert(min(len(mixed), index * step + index), {"host": "127.0.0.1", "port": hostile.port, "called_aet": name.upper(),
                                                                 "name": name})
        runs = {}
        for label, endpoints in (("baseline_1", healthy), ("baseline_2", healthy), ("with_hostile", mixed)):
            results, rss, wall = run_module(endpoints, workdir, label)
            failed = [result for result in results if result["name"].startswith("healthy") and not result["success"]]
            # how long a healthy probe took: a hostile answer that blocked the event loop would show here
            totals = sorted(result["timing_ms"]["total"] for result in results if result["name"].startswith("healthy"))
            probe_ms = {"median": totals[len(totals) // 2], "p99": totals[int(len(totals) * 0.99)], "max": totals[-1]}
            runs[label] = {"endpoints": len(endpoints), "healthy_failures": len(failed), "maxrss_mb": round(rss, 1), "wall_s": round(wall, 2),
                           "healthy_failure_outcomes": sorted({result["outcome"] for result in failed}), "healthy_probe_ms": probe_ms,
                           "results": results}
            print("%-13s %5d endpoints: %3d healthy failures %s, peak RSS %.1f MB, %.1f s; healthy probes %.1f / %.1f / %.1f ms "
                  "(median / p99 / max)" % (label, len(endpoints), len(failed), runs[label]["healthy_failure_outcomes"], rss, wall,
                                            probe_ms["median"], probe_ms["p99"], probe_ms["max"]), flush=True)
    finally:
        hostile.stop()
        orthanc.stop(grace=0)

    problems = []
    worse_baseline = max(runs["baseline_1"]["healthy_failures"], runs["baseline_2"]["healthy_failures"])
    allowance = max(2, args.healthy // 200)
    if runs["with_hostile"]["healthy_failures"] > worse_baseline + allowance:
        problems.append("healthy endpoints failed %d times beside the hostile ones, %d without them (allowance %d)"
                        % (runs["with_hostile"]["healthy_failures"], worse_baseline, allowance))
    hostile_rows = []
    for result in runs["with_hostile"]["results"]:
        if result["name"] not in kinds:
            continue
        _script_unused, outcome, bound = kinds[result["name"]]
        seconds = result["timing_ms"]["total"] / 1000.0
        hostile_rows.append((result["name"], result["outcome"], seconds))
        if result["outcome"] != outcome or seconds > bound:
            problems.append("%s: %s after %.1f s (%s), expected %s within %.0f s"
                            % (result["name"], result["outcome"], seconds, result["msg"], outcome, bound))
    for label, run in runs.items():
        if run["maxrss_mb"] > args.rss_limit:
            problems.append("%s: the module's peak RSS was %.1f MB, more than %.0f MB" % (label, run["maxrss_mb"], args.rss_limit))
    for name, outcome, seconds in hostile_rows:
        if not name.startswith("distinct") or name.endswith("_00"):
            print("  %-16s %-15s %6.2f s" % (name, outcome, seconds))
    distinct = [row for row in hostile_rows if row[0].startswith("distinct")]
    print("  %d distinct huge answers: %s, slowest %.2f s" % (len(distinct), sorted({row[1] for row in distinct}), max(row[2] for row in distinct)))
    print("healthy failures: %d and %d alone, %d beside the hostile ones (allowance %d)"
          % (runs["baseline_1"]["healthy_failures"], runs["baseline_2"]["healthy_failures"], runs["with_hostile"]["healthy_failures"], allowance))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({label: {key: value for key, value in run.items() if key != "results"} for label, run in runs.items()}
                      | {"hostile": hostile_rows, "allowance": allowance, "problems": problems}, handle, indent=1)
    for problem in problems:
        print("FAILED: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
