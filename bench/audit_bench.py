# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Audit benchmark: dicom.network.audit over a 1,000-host inventory vs a per-host `command: echoscu` play.

    .venv/bin/python bench/audit_bench.py [--hosts 1000] [--samples 10,30] [--repeat 3] [--peers demo,orthanc]

For each peer, in the same run and against the same listeners:
  1. the whole `ansible-playbook -i <1,000 hosts> dicom.network.audit` (wall time, `--repeat` runs, median);
  2. the same endpoints audited the usual way, `ansible.builtin.command: echoscu -aec AET host port` per host,
     written two ways: "play", a play over the endpoint hosts (delegate_to localhost, default 5 forks in
     parallel), and "loop", one task looping over the hosts; each timed for two sample sizes (--samples) and
     extrapolated linearly to --hosts (time = fixed + hosts x per-host, both fitted from the two samples) -
     the per-host runs do not cover all 1,000 hosts;
  3. the ratio of (2) to (1).

Peers: "demo" is hacking/demo_scp.py with one listener per inventory host (127.20.x.y, loopback);
"orthanc" is one Orthanc (Debian package) that all inventory hosts point at (tests/peers/real.py).
Results are printed and written to bench/results/audit-<timestamp>.json (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
BIN = os.path.dirname(sys.executable)
PLAYBOOK = os.path.join(BIN, "ansible-playbook")
ECHOSCU_LOOP = """---
- name: Audit the old way, one echoscu per inventory host in a loop
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Echo every endpoint with echoscu
      ansible.builtin.command:
        argv: ["{{ echoscu }}", -aec, "{{ hostvars[item].dicom_called_aet }}", "{{ hostvars[item].ansible_host }}",
               "{{ hostvars[item].dicom_port }}"]
      loop: "{{ groups['sample'] }}"
      changed_when: false
"""
ECHOSCU_PLAY = """---
- name: Audit the old way, one echoscu per inventory host
  hosts: sample
  gather_facts: false
  tasks:
    - name: Echo the endpoint with echoscu
      ansible.builtin.command:
        argv: ["{{ echoscu }}", -aec, "{{ dicom_called_aet }}", "{{ ansible_host }}", "{{ dicom_port }}"]
      delegate_to: localhost
      changed_when: false
"""


class BenchError(RuntimeError):
    """A measurement could not be taken; the text says which and why."""


def echoscu_path():
    for candidate in ("/usr/bin/echoscu", shutil.which("echoscu")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BenchError("audit_bench: echoscu not found (Debian package dcmtk)")


def run(argv, env, cwd, log):
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as handle:
        code = subprocess.call(argv, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if code != 0:
        with open(log, encoding="utf-8") as handle:
            tail = handle.read()[-3000:]
        raise BenchError("audit_bench: %s failed (exit %d), log %s:\n%s" % (" ".join(argv[:3]), code, log, tail))
    return elapsed


def write_inventory(path, hosts, group="dicom_endpoints"):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"all": {"children": {"probes": {"hosts": {"localhost": local}}, group: {"hosts": hosts}}}}, handle)


class DemoPeer:
    """hacking/demo_scp.py with one listener per host (the inventory comes from hacking/demo_inventory.py)."""

    name = "demo"
    description = "hacking/demo_scp.py, one loopback listener per inventory host"

    def __init__(self, work, count, port):
        self.work = os.path.join(work, "demo")
        os.makedirs(self.work)
        subprocess.check_call([sys.executable, os.path.join(ROOT, "hacking", "demo_inventory.py"), "--out", self.work,
                               "--endpoints", str(count), "--scenario", "bench", "--port", str(port)])
        with open(os.path.join(self.work, "inventory.yml"), encoding="utf-8") as handle:
            self.hosts = json.load(handle)["all"]["children"]["dicom_endpoints"]["hosts"]
        ready = os.path.join(self.work, "scp.ready")
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "hacking", "demo_scp.py"), "--config",
                                      os.path.join(self.work, "listeners.json"), "--ready-file", ready, "--lifetime", "1800"],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.work, "scp.log"), "w", encoding="utf-8"))
        deadline = time.monotonic() + 30
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError("audit_bench: the demo SCP did not start (see %s/scp.log)" % self.work)
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class OrthancPeer:
    """One Orthanc; every inventory host points at it (as many names for one PACS)."""

    name = "orthanc"
    description = "one Orthanc (Debian package) that every inventory host points at"

    def __init__(self, work, count, _port):
        from tests.peers import real  # pylint: disable=import-outside-toplevel
        self.peer = real.orthanc()
        self.hosts = {"pacs%04d" % (index + 1): {"ansible_host": self.peer.host, "dicom_port": self.peer.port,
                                                 "dicom_called_aet": self.peer.aet} for index in range(count)}
        self.work = os.path.join(work, "orthanc")
        os.makedirs(self.work)

    def stop(self):
        self.peer.stop(grace=0)


def audit_runs(hosts, work, env, repeat):
    """Wall seconds of `repeat` whole `ansible-playbook dicom.network.audit` runs over ``hosts`` (the role's defaults, the
    echo only: the checks beyond it have their own benchmark, bench/checks_bench.py)."""
    inventory = os.path.join(work, "audit-inventory.json")
    write_inventory(inventory, hosts)
    audits = []
    for number in range(repeat):
        reports = os.path.join(work, "reports")
        audits.append(run([PLAYBOOK, "-i", inventory, "dicom.network.audit", "-e", "dicom_audit_report_dir=" + reports,
                           "-e", '{"dicom_audit_checks": []}'],
                          env, work, os.path.join(work, "audit-%d.log" % number)))
        with open(os.path.join(reports, "dicom_audit.json"), encoding="utf-8") as handle:
            summary = json.load(handle)["summary"]
        if summary["endpoints"] != len(hosts) or summary["failed"]:
            raise BenchError("audit_bench: the audit of %d hosts found %s" % (len(hosts), summary))
    return audits


def per_host_runs(hosts, work, env, echoscu, style, samples, total):
    """The per-host `command: echoscu` way (``style`` play or loop) on two samples of ``hosts``, extrapolated to ``total``."""
    play = os.path.join(work, "echoscu-%s.yml" % style)
    with open(play, "w", encoding="utf-8") as handle:
        handle.write({"play": ECHOSCU_PLAY, "loop": ECHOSCU_LOOP}[style])
    names = list(hosts)
    times = {}
    for size in samples:
        sample = os.path.join(work, "sample-%d.json" % size)
        write_inventory(sample, {name: hosts[name] for name in names[:size]}, group="sample")
        times[size] = run([PLAYBOOK, "-i", sample, play, "-e", "echoscu=" + echoscu], env, work,
                          os.path.join(work, "echoscu-%s-%d.log" % (style, size)))
    small, big = samples
    per_host = max((times[big] - times[small]) / (big - small), 1e-9)
    fixed = times[small] - small * per_host
    return {"samples_s": {str(size): round(value, 3) for size, value in times.items()}, "per_host_s": round(per_host, 4),
            "fixed_s": round(fixed, 3), "extrapolated_s": round(fixed + total * per_host, 1),
            "endpoints_per_s": round(1 / per_host, 2)}


def bench_peer(peer, args, env, echoscu):
    audits = audit_runs(peer.hosts, peer.work, env, args.repeat)
    audit = statistics.median(audits)
    result = {"peer": peer.name, "peer_description": peer.description, "hosts": args.hosts,
              "audit_runs_s": [round(value, 3) for value in audits], "audit_median_s": round(audit, 3),
              "audit_endpoints_per_s": round(args.hosts / audit, 1), "per_host": {}}
    for style in ("play", "loop"):
        data = per_host_runs(peer.hosts, peer.work, env, echoscu, style, args.samples, args.hosts)
        data["ratio"] = round(data["extrapolated_s"] / audit, 1)
        result["per_host"][style] = data
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--samples", default="10,30", help="two sample sizes for the per-host echoscu play (default 10,30)")
    parser.add_argument("--repeat", type=int, default=3, help="audit runs per peer; the median counts (default 3)")
    parser.add_argument("--peers", default="demo,orthanc", help="demo, orthanc or both (default demo,orthanc)")
    parser.add_argument("--port", type=int, default=26104, help="TCP port of the demo SCP listeners (default 26104)")
    args = parser.parse_args(argv)
    args.samples = sorted(int(value) for value in args.samples.split(","))
    if len(args.samples) != 2 or args.samples[0] >= args.samples[1]:
        parser.error("--samples takes two different sizes, e.g. 10,30")
    if not os.access(PLAYBOOK, os.X_OK):
        raise SystemExit("audit_bench: run it with the virtualenv's python (%s has no ansible-playbook)" % BIN)
    try:
        return measure(args)
    except BenchError as exc:
        raise SystemExit(str(exc)) from None


def measure(args):
    echoscu = echoscu_path()
    work = tempfile.mkdtemp(prefix="dicom-audit-bench-")
    collections = os.path.join(work, "collections", "ansible_collections", "dicom")
    os.makedirs(collections)
    os.symlink(ROOT, os.path.join(collections, "network"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(work, "collections"), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="false")
    env.pop("ANSIBLE_FORKS", None)
    factories = {"demo": DemoPeer, "orthanc": OrthancPeer}
    results = []
    for name in [value.strip() for value in args.peers.split(",") if value.strip()]:
        peer = factories[name](work, args.hosts, args.port)
        try:
            results.append(bench_peer(peer, args, env, echoscu))
        finally:
            peer.stop()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    document = {"benchmark": "dicom_audit", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "cpus": os.cpu_count(), "load_average": load, "forks": 5, "results": results, "work_dir": work}
    print()
    print("Audit benchmark: %d inventory hosts, %d CPUs, load average %s, Ansible default forks (5)"
          % (args.hosts, os.cpu_count(), " ".join("%.2f" % value for value in load) if load else "?"))
    print("%-8s %-34s %-8s %-46s %s" % ("peer", "dicom.network.audit, whole run", "echoscu",
                                        "per-host echoscu, extrapolated to %d" % args.hosts, "ratio"))
    for item in results:
        runs = ", ".join("%.2f" % value for value in item["audit_runs_s"])
        audit_text = "%.2f s (median of %s; %d/s)" % (item["audit_median_s"], runs, item["audit_endpoints_per_s"])
        for style, data in item["per_host"].items():
            print("%-8s %-34s %-8s %-46s %.0fx" % (
                item["peer"], audit_text, style, "%.0f s (%.3f s/host; %s hosts took %s s)" % (
                    data["extrapolated_s"], data["per_host_s"], " and ".join(data["samples_s"]),
                    " and ".join("%.1f" % v for v in data["samples_s"].values())), data["ratio"]))
            audit_text = ""
    print("echoscu 'play': a play over the endpoint hosts, command: echoscu delegated to localhost (5 forks in parallel);")
    print("echoscu 'loop': one command: echoscu task looping over the hosts (one after the other).")
    print("Both ran on %s hosts only; the %d-host time is fixed + hosts x per-host time, fitted from the two samples."
          % (" and ".join(str(size) for size in args.samples), args.hosts))
    results_dir = os.path.join(ROOT, "bench", "results")
    os.makedirs(results_dir, exist_ok=True)
    path = os.path.join(results_dir, "audit-%s.json" % datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
    print("Results: %s (runs and logs in %s)" % (path, work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
