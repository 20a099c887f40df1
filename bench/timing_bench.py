# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Echo round trips against storescp: kernel receive timestamps vs user-space clocks, idle vs CPU hog.

    python bench/timing_bench.py [--probes 256] [--repeat 5] [--hogs N]

For concurrency 1 and 256, with and without CPU hogs (one busy-looping process per core unless
--hogs says otherwise), it runs the same batch twice: once as the module does (kernel timestamps,
timing_source "kernel") and once with them switched off (user space, the clock read when our event
loop gets to the reply). The module's default options are used (socket_timeout 60, acse_timeout 30);
every probe sends --repeat echoes. Prints one table and the ratios that say how much of a user-space
figure is our own event loop: user / kernel median, and hog / idle median for each source.
docs/dev/timing.md says what is measured. Not a test: it fails only if a measurement cannot be taken.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import peers  # noqa: E402  # pylint: disable=wrong-import-position

HOG = "while True: pass"


def collection_modules(tmp):
    """Import the engine from this checkout, as ansible_collections.dicom.network."""
    base = os.path.join(tmp, "collections")
    os.makedirs(os.path.join(base, "ansible_collections", "dicom"))
    os.symlink(ROOT, os.path.join(base, "ansible_collections", "dicom", "network"))
    sys.path.insert(0, base)
    # pylint: disable=import-outside-toplevel
    from ansible_collections.dicom.network.plugins.module_utils import _engine, _request, _transport
    return _engine, _request, _transport


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(engine, request_mod, transport, port, probes, repeat, concurrency, kernel):
    saved = transport._SO_TIMESTAMPNS  # pylint: disable=protected-access
    if not kernel:
        transport._SO_TIMESTAMPNS = None  # pylint: disable=protected-access
    try:
        requests = request_mod.build_requests({"port": port, "repeat": repeat, "concurrency": concurrency,
                                               "endpoints": [{"name": "p%d" % index, "host": "127.0.0.1"} for index in range(probes)]})
        started = time.perf_counter()
        results = engine.probe_all(requests, concurrency=concurrency)
        wall = time.perf_counter() - started
    finally:
        transport._SO_TIMESTAMPNS = saved  # pylint: disable=protected-access
    failed = [result["outcome"] for result in results if not result["success"]]
    sources = {result["timing_source"] for result in results if result["success"]}
    rtts = [echo["rtt_ms"] for result in results for echo in result["echoes"]]
    if not rtts:
        raise SystemExit("no echo succeeded at concurrency %d: %s" % (concurrency, failed[:5]))
    return {"source": ",".join(sorted(sources)), "n": len(rtts), "failed": len(failed), "wall_s": wall,
            "median": statistics.median(rtts), "p90": percentile(rtts, 0.9), "max": max(rtts)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--probes", type=int, default=256, help="associations per batch (default 256)")
    parser.add_argument("--repeat", type=int, default=5, help="echoes per association (default 5)")
    parser.add_argument("--fork", action="store_true",
                        help="storescp --fork: one process per association, so 256 associations are open at once")
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 1, help="CPU hog processes (default: one per core)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="dicom-network-timing-")
    engine, request_mod, transport = collection_modules(tmp)
    scp = peers.start_storescp(tmp, lifetime=600, fork=args.fork)
    rows = []
    try:
        for hog in (False, True):
            hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _index in range(args.hogs)] if hog else []
            try:
                time.sleep(0.5 if hog else 0)
                for concurrency in (1, 256):
                    for kernel in (True, False):
                        row = measure(engine, request_mod, transport, scp.port, args.probes, args.repeat, concurrency, kernel)
                        row.update(concurrency=concurrency, hog=hog, load=os.getloadavg()[0])
                        rows.append(row)
                        print("  measured: concurrency %3d, hog %-5s, %-6s median %.3f ms" % (concurrency, hog, row["source"], row["median"]),
                              file=sys.stderr, flush=True)
            finally:
                for process in hogs:
                    process.kill()
                    process.wait()
    finally:
        scp.stop()
    print("\nEcho RTT against storescp%s (%s), %d associations x %d echoes, module defaults, %d CPU hog(s) when on"
          % (" --fork" if args.fork else "", scp.version, args.probes, args.repeat, args.hogs))
    print("%-11s %-4s %-7s %6s %9s %9s %9s %7s %6s" % ("concurrency", "hog", "source", "echoes", "median_ms", "p90_ms", "max_ms", "failed", "load"))
    for row in rows:
        values = (row["concurrency"], "yes" if row["hog"] else "no", row["source"], row["n"],
                  row["median"], row["p90"], row["max"], row["failed"], row["load"])
        print("%-11d %-4s %-7s %6d %9.3f %9.3f %9.3f %7d %6.2f" % values)
    key = {(row["concurrency"], row["hog"], row["source"]): row for row in rows}
    print("\nRatios of medians:")
    for concurrency in (1, 256):
        for hog in (False, True):
            user, kernel = key.get((concurrency, hog, "user")), key.get((concurrency, hog, "kernel"))
            if user and kernel:
                print("  concurrency %3d, hog %-3s: user / kernel = %.1fx" % (concurrency, "yes" if hog else "no", user["median"] / kernel["median"]))
        for source in ("kernel", "user"):
            idle, busy = key.get((concurrency, False, source)), key.get((concurrency, True, source))
            if idle and busy:
                print("  concurrency %3d, %-6s: hog / idle = %.1fx" % (concurrency, source, busy["median"] / idle["median"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
