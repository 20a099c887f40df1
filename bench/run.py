# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dicom.network benchmarks: one command, one run, the same local peers for every number.

    .venv/bin/python bench/run.py            (make bench)
    .venv/bin/python bench/run.py --quick    (fewer repetitions, about half the time)

Starts storescp, Orthanc and the asyncio Verification SCP of tests/peers/ on loopback, measures,
stops them, prints one table (metric | ours | baseline | ratio | target | met?) and writes it
with every raw sample to bench/results/latest.json.  What is measured, exactly:

1. time per echo.  Ours: the engine (_engine.probe on a request from _request.build_requests,
   repeat=N_OURS) on one association; the median of echoes[].rtt_ms of each run (rtt is timed
   at the socket: encode + send -> whole C-ECHO-RSP read and decoded); the row shows the median
   of the per-run medians.  echoscu: per_echo = (median wall of `echoscu --repeat N` - median
   wall of `echoscu` [one echo]) / (N - 1), i.e. the wall time a further echo adds, with the
   process start, association and release of the single-echo run subtracted.
2. whole probe (connect + associate + one echo + release).  Ours: wall time of one
   _engine.probe() call in this warm process (asyncio.run included), median of N.  echoscu: wall
   time of one `echoscu HOST PORT` process, median of N.  Also: the dicom_echo module as one
   process (`python -m ...dicom_echo args.json`, no Ansible), so the import cost is visible.
3. endpoints/s of a 1,000-endpoint batch in ONE ansible-playbook task (endpoints: 127.0.x.y, one
   peer listening on 0.0.0.0): the task's time from v2_playbook_on_task_start to its result in
   the controller (callback bench/callback_plugins/dicom_bench_timer.py), so playbook start-up
   and parsing are not counted.  Baseline: the same module in an Ansible `loop:` of single-
   endpoint tasks (endpoints/s = items / task time).
4. a 10,000-endpoint batch in one task: the task time as in 3; memory is the peak RSS
   (ru_maxrss from wait4) of the module process, taken by running the module under a small
   interpreter wrapper (ansible_python_interpreter) that forks/execs the venv python and
   records the child's rusage and wall time; AnsiballZ runs the module in that same process.
5. single-endpoint dicom_echo task vs ansible.builtin.ping: one playbook alternating the two
   tasks, the first pair dropped (AnsiballZ cache warm-up), median task time of each (callback
   as in 3), over BENCH_PING_PLAYBOOKS playbook runs.  With python -X importtime of both
   module paths to explain the difference.

The machine is shared: every number is a median of repetitions, with its min-max spread and the
load average around the run.  The whole run is bounded (< 5 min; a budget skips repetitions
past --budget seconds) and only connects to 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import peers  # noqa: E402  # pylint: disable=wrong-import-position

ECHOSCU = "/usr/bin/echoscu" if os.path.exists("/usr/bin/echoscu") else "echoscu"  # not pynetdicom's in .venv/bin
MODULE_FQN = "ansible_collections.dicom.network.plugins.modules.dicom_echo"


def log(text):
    print(text, file=sys.stderr, flush=True)


def median(values):
    return statistics.median(values) if values else None


def spread(values):
    return [min(values), max(values)] if values else None


def loadavg():
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


class Bench:
    def __init__(self, args):
        self.args = args
        self.started = time.monotonic()
        self.tmp = tempfile.mkdtemp(prefix="dicom-network-bench-")
        self.peers = {}
        self.raw = {}
        self.notes = []
        self.python = sys.executable  # the venv's python: ansible, pynetdicom, pydicom
        self.bin = os.path.dirname(sys.executable)
        self.collections = self._collection_tree()
        sys.path.insert(0, self.collections)
        self.rss_file = os.path.join(self.tmp, "rss.jsonl")
        self.rss_python = self._rss_wrapper()
        self.env = self._ansible_env()

    # ---- set-up ----------------------------------------------------------------------------
    def _collection_tree(self):
        """<tmp>/collections/ansible_collections/dicom/network -> the repository (a symlink)."""
        base = os.path.join(self.tmp, "collections")
        os.makedirs(os.path.join(base, "ansible_collections", "dicom"))
        os.symlink(ROOT, os.path.join(base, "ansible_collections", "dicom", "network"))
        return base

    def _rss_wrapper(self):
        """An interpreter for ansible_python_interpreter that records the module process's peak RSS."""
        path = os.path.join(self.tmp, "rss-python")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("#!%s -S\n" % self.python)
            handle.write(
                "import json, os, sys, time\n"
                "real, out = %r, %r\n"
                "started = time.perf_counter()\n"
                "pid = os.fork()\n"
                "if pid == 0:\n"
                "    os.execv(real, [real] + sys.argv[1:])\n"
                "_, status, usage = os.wait4(pid, 0)\n"
                "with open(out, 'a') as handle:\n"
                "    handle.write(json.dumps({'maxrss_kb': usage.ru_maxrss, 'wall_s': time.perf_counter() - started,\n"
                "                             'user_s': usage.ru_utime, 'sys_s': usage.ru_stime}) + '\\n')\n"
                "code = os.waitstatus_to_exitcode(status)\n"
                "sys.exit(code if code >= 0 else 128 - code)\n" % (self.python, self.rss_file))
        os.chmod(path, 0o755)
        return path

    def _ansible_env(self):
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
        config = os.path.join(self.tmp, "ansible.cfg")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write("[defaults]\n")
        for name in ("local", "remote"):
            os.makedirs(os.path.join(self.tmp, "ansible-" + name))
        env.update({
            "ANSIBLE_CONFIG": config,  # no stray ansible.cfg from cwd or home
            "ANSIBLE_COLLECTIONS_PATH": self.collections,
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "dicom_bench_timer",
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.tmp, "ansible-local"),
            "ANSIBLE_REMOTE_TMP": os.path.join(self.tmp, "ansible-remote"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "PATH": self.bin + os.pathsep + env.get("PATH", ""),
        })
        return env

    def remaining(self):
        return self.args.budget - (time.monotonic() - self.started)

    def start_peers(self):
        lifetime = self.args.budget + 120
        for name, starter in (("storescp", peers.start_storescp), ("Orthanc", peers.start_orthanc),
                              ("asyncio-scp", peers.start_asyncio_scp)):
            try:
                self.peers[name] = starter(self.tmp, lifetime)
                log("peer: " + self.peers[name].describe())
            except peers.PeerError as exc:
                self.notes.append("%s not started: %s" % (name, exc))
                log("peer %s NOT started: %s" % (name, exc))

    def stop_peers(self):
        for peer in self.peers.values():
            peer.stop()

    def cleanup(self):
        self.stop_peers()
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- engine ----------------------------------------------------------------------------
    def engine(self):
        from ansible_collections.dicom.network.plugins.module_utils import _engine, _request  # pylint: disable=import-outside-toplevel
        return _engine, _request

    def probe(self, port, repeat=1, host="127.0.0.1"):
        engine, request = self.engine()
        req = request.build_requests({"host": host, "port": port, "repeat": repeat})[0]
        started = time.perf_counter()
        result = engine.probe(req)
        wall = time.perf_counter() - started
        if not result["success"]:
            raise RuntimeError("engine probe of %s:%s failed: %s" % (host, port, result["msg"]))
        return result, wall

    def run_echoscu(self, port, repeat=1):
        argv = [ECHOSCU]
        if repeat > 1:
            argv += ["--repeat", str(repeat)]
        argv += ["127.0.0.1", str(port)]
        started = time.perf_counter()
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        wall = time.perf_counter() - started
        text = out.stdout + out.stderr
        if out.returncode != 0 or re.search(r"^[EF]: ", text, re.M):
            raise RuntimeError("echoscu failed (%s): %s" % (out.returncode, text.strip()))
        return wall

    def measure_echo_and_probe(self, name):
        """Metrics 1 and 2 against one peer, ours and echoscu interleaved."""
        port = self.peers[name].port
        a = self.args
        self.probe(port, repeat=5)  # warm-up: first-use caches in _pdu, pynetdicom codecs
        ours_run_medians, ours_all, ours_phase = [], [], []
        echoscu_one, echoscu_n = [], []
        probe_wall, probe_total = [], []
        for _rep in range(a.echo_runs):
            result, _wall = self.probe(port, repeat=a.n_ours)
            rtts = [echo["rtt_ms"] for echo in result["echoes"]]
            ours_run_medians.append(median(rtts))
            ours_all.extend(rtts)
            ours_phase.append(result["timing_ms"]["echo"] / a.n_ours)
            echoscu_n.append(self.run_echoscu(port, repeat=a.n_echoscu))
            for _single in range(a.singles_per_run):
                echoscu_one.append(self.run_echoscu(port))
                for _probe in range(3):
                    result, wall = self.probe(port)
                    probe_wall.append(wall * 1000.0)
                    probe_total.append(result["timing_ms"]["total"])
        one = median(echoscu_one) * 1000.0
        per_echo_runs = [(wall * 1000.0 - one) / (a.n_echoscu - 1) for wall in echoscu_n]
        ours_all.sort()
        self.raw["echo_" + name] = {
            "ours_rtt_ms_run_medians": ours_run_medians, "ours_rtt_ms_p90_all": ours_all[int(0.9 * (len(ours_all) - 1))],
            "ours_echo_phase_ms_per_echo": ours_phase, "ours_repeat": a.n_ours,
            "echoscu_repeat": a.n_echoscu, "echoscu_wall_ms_repeat_n": [w * 1000.0 for w in echoscu_n],
            "echoscu_wall_ms_one_echo": [w * 1000.0 for w in echoscu_one],
            "echoscu_per_echo_ms_runs": per_echo_runs,
        }
        self.raw["probe_" + name] = {"ours_wall_ms": probe_wall, "ours_timing_total_ms": probe_total,
                                     "echoscu_process_wall_ms": [w * 1000.0 for w in echoscu_one]}
        return {
            "echo_ours": median(ours_run_medians), "echo_ours_spread": spread(ours_run_medians),
            "echo_echoscu": median(per_echo_runs), "echo_echoscu_spread": spread(per_echo_runs),
            "probe_ours": median(probe_wall), "probe_ours_spread": spread(probe_wall),
            "probe_ours_total": median(probe_total),
            "probe_echoscu": one, "probe_echoscu_spread": spread([w * 1000.0 for w in echoscu_one]),
        }

    # ---- module as a process ---------------------------------------------------------------
    def module_process(self, port):
        """dicom_echo and ping as plain processes (no Ansible): wall time and peak RSS, medians."""
        echo_args = os.path.join(self.tmp, "echo-args.json")
        ping_args = os.path.join(self.tmp, "ping-args.json")
        with open(echo_args, "w", encoding="utf-8") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"host": "127.0.0.1", "port": port}}, handle)
        with open(ping_args, "w", encoding="utf-8") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {}}, handle)
        env = dict(self.env, PYTHONPATH=self.collections)
        samples = {"dicom_echo": [], "ping": []}
        for _run in range(self.args.process_runs):
            for key, argv in (("dicom_echo", [self.rss_python, "-m", MODULE_FQN, echo_args]),
                              ("ping", [self.rss_python, "-m", "ansible.modules.ping", ping_args])):
                # through the small fork/exec wrapper: ru_maxrss of a child forked from this big
                # process would start at this process's RSS; wall_s is timed by the wrapper
                if os.path.exists(self.rss_file):
                    os.unlink(self.rss_file)
                out = subprocess.run(argv, env=env, cwd=self.tmp, capture_output=True, timeout=60, check=False)
                if out.returncode != 0 or b'"failed": true' in out.stdout:
                    raise RuntimeError("%s as a process failed: %s %s" % (key, out.stdout[-500:], out.stderr[-500:]))
                with open(self.rss_file, encoding="utf-8") as handle:
                    usage = json.loads(handle.read().splitlines()[-1])
                samples[key].append({"wall_ms": usage["wall_s"] * 1000.0, "maxrss_kb": usage["maxrss_kb"]})
        self.raw["module_process"] = samples
        return {key: {"wall_ms": median([s["wall_ms"] for s in values]),
                      "wall_ms_spread": spread([s["wall_ms"] for s in values]),
                      "maxrss_mb": median([s["maxrss_kb"] for s in values if s["maxrss_kb"]]) / 1024.0}
                for key, values in samples.items()}

    def import_profile(self):
        """python -X importtime: ping's path (ansible.module_utils.basic) vs dicom_echo's."""
        statements = {
            "ping": "import ansible.module_utils.basic",
            "dicom_echo": "import ansible.module_utils.basic; "
                          "from ansible_collections.dicom.network.plugins.module_utils import _request, _pdu, _engine",
        }
        env = dict(self.env, PYTHONPATH=self.collections)
        runs = {key: [] for key in statements}
        for _run in range(3):
            for key, statement in statements.items():
                out = subprocess.run([self.python, "-X", "importtime", "-c", statement], env=env, capture_output=True,
                                     text=True, timeout=60, check=True, cwd=self.tmp)
                runs[key].append(parse_importtime(out.stderr))
        summary = {}
        for key, parsed in runs.items():
            summary[key] = {"total_ms": median([p["total_us"] for p in parsed]) / 1000.0}
        utils = "ansible_collections.dicom.network.plugins.module_utils."
        focus = ("ansible.module_utils.basic", "pynetdicom", "pydicom", "cryptography.x509", "asyncio", "ssl",
                 utils + "_request", utils + "_tls", utils + "_pdu", utils + "_engine")
        summary["dicom_echo"]["cumulative_ms"] = {  # where each was first imported (nested under another, maybe)
            name: median([p["cumulative_us"].get(name, 0) for p in runs["dicom_echo"]]) / 1000.0 for name in focus
            if any(name in p["cumulative_us"] for p in runs["dicom_echo"])}
        summary["dicom_echo"]["modules_loaded"] = runs["dicom_echo"][0]["count"]
        summary["ping"]["modules_loaded"] = runs["ping"][0]["count"]
        top = sorted(runs["dicom_echo"][0]["self_us"].items(), key=lambda item: -item[1])[:12]
        summary["dicom_echo"]["top_self_ms"] = [[name, us / 1000.0] for name, us in top]
        self.raw["importtime"] = summary
        return summary

    # ---- Ansible ---------------------------------------------------------------------------
    def playbook(self, name, plays, timeout, interpreter=None, extra_env=None):
        """Run one playbook; returns (per-task timings, playbook wall seconds, module rusage lines)."""
        for play in plays:
            play.setdefault("hosts", "localhost")
            play.setdefault("gather_facts", False)
            play.setdefault("connection", "local")
            play.setdefault("vars", {})["ansible_python_interpreter"] = interpreter or self.python
        path = os.path.join(self.tmp, name + ".yml")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(plays, handle)  # JSON is YAML; Ansible's loader reads it without the YAML parser
        timer = os.path.join(self.tmp, name + ".timer.json")
        if os.path.exists(self.rss_file):
            os.unlink(self.rss_file)
        env = dict(self.env, DICOM_BENCH_TIMER_OUT=timer, **(extra_env or {}))
        started = time.perf_counter()
        out = subprocess.run([os.path.join(self.bin, "ansible-playbook"), "-i", "localhost,", path], env=env,
                             capture_output=True, text=True, timeout=timeout, check=False, cwd=self.tmp)
        wall = time.perf_counter() - started
        if out.returncode != 0:
            raise RuntimeError("ansible-playbook %s exited %s:\n%s\n%s" % (name, out.returncode, out.stdout[-3000:], out.stderr[-3000:]))
        with open(timer, encoding="utf-8") as handle:
            tasks = json.load(handle)
        usage = []
        if os.path.exists(self.rss_file):
            with open(self.rss_file, encoding="utf-8") as handle:
                usage = [json.loads(line) for line in handle if line.strip()]
        return tasks, wall, usage

    def ping_vs_echo(self, port):
        pairs = self.args.ping_pairs
        tasks = []
        for index in range(pairs):
            tasks.append({"name": "ping %d" % index, "ansible.builtin.ping": {}})
            tasks.append({"name": "echo %d" % index, "dicom.network.dicom_echo": {"host": "127.0.0.1", "port": port}})
        samples = {"ansible.builtin.ping": [], "dicom.network.dicom_echo": []}
        walls = []
        for run in range(self.args.ping_playbooks):
            if run and self.remaining() < 150:
                self.notes.append("ping vs dicom_echo: playbook run %d skipped (time budget)" % (run + 1))
                break
            timings, wall, _usage = self.playbook("ping-vs-echo", [{"tasks": list(tasks)}], timeout=180)
            walls.append(wall)
            for timing in timings[2:]:  # drop the first pair: AnsiballZ cache build, first imports
                if timing["status"] != "ok":
                    raise RuntimeError("task %s: %s" % (timing["name"], timing["status"]))
                samples[timing["action"]].append(timing["seconds"] * 1000.0)
        self.raw["ping_vs_echo"] = {"task_ms": samples, "playbook_wall_s": walls, "pairs_per_playbook": pairs}
        return {key: {"median_ms": median(values), "spread_ms": spread(values), "n": len(values)}
                for key, values in samples.items()}

    def inside_ansible(self, port):
        """Where a task's time goes: the module process inside Ansible, and its imports under AnsiballZ.

        One more alternating playbook, run through the rusage wrapper (so its task times are not
        the ones in the table) with ANSIBLE_KEEP_REMOTE_FILES=1: per task, the module process's
        own wall time and peak RSS; task - module = Ansible's own part (worker fork, AnsiballZ
        build/transfer, result parsing and processing).  Then python -X importtime on the kept
        AnsiballZ_ping.py and AnsiballZ_dicom_echo.py (each re-runs its module: one ping, one echo).
        """
        pairs = max(4, self.args.ping_pairs // 2)
        tasks = []
        for index in range(pairs):
            tasks.append({"name": "ping %d" % index, "ansible.builtin.ping": {}})
            tasks.append({"name": "echo %d" % index, "dicom.network.dicom_echo": {"host": "127.0.0.1", "port": port}})
        keep = os.path.join(self.tmp, "ansible-kept")
        os.makedirs(keep)
        timings, _wall, usage = self.playbook("inside-ansible", [{"tasks": tasks}], timeout=120, interpreter=self.rss_python,
                                              extra_env={"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TMP": keep})
        if len(usage) != len(timings):
            raise RuntimeError("%d tasks but %d module processes recorded" % (len(timings), len(usage)))
        split = {}
        for timing, module in list(zip(timings, usage))[2:]:
            entry = split.setdefault(timing["action"], {"task_ms": [], "module_ms": [], "ansible_ms": [], "maxrss_mb": []})
            entry["task_ms"].append(timing["seconds"] * 1000.0)
            entry["module_ms"].append(module["wall_s"] * 1000.0)
            entry["ansible_ms"].append((timing["seconds"] - module["wall_s"]) * 1000.0)
            entry["maxrss_mb"].append(module["maxrss_kb"] / 1024.0)
        found = {}
        for dirpath, _dirs, files in os.walk(keep):
            for filename in files:
                if filename in ("AnsiballZ_ping.py", "AnsiballZ_dicom_echo.py"):
                    found.setdefault(filename, os.path.join(dirpath, filename))
        profile = {}
        for filename, path in sorted(found.items()):
            parsed = []
            for _run in range(3):
                out = subprocess.run([self.python, "-X", "importtime", path], env=self.env, capture_output=True, text=True,
                                     timeout=60, check=False, cwd=self.tmp)
                parsed.append(parse_importtime(out.stderr))
            top_level = {}
            for p in parsed:
                for name, cum in p["top_level_us"].items():
                    top_level.setdefault(name, []).append(cum)
            ranked = sorted(((name, median(values) / 1000.0) for name, values in top_level.items()), key=lambda item: -item[1])
            profile[filename] = {"total_ms": median([p["total_us"] for p in parsed]) / 1000.0,
                                 "modules_loaded": parsed[0]["count"], "top_level_ms": [[n, round(v, 1)] for n, v in ranked[:6]]}
        self.raw["inside_ansible"] = {"split": split, "ansiballz_importtime": profile}
        return {"split": {action: {key: median(values) for key, values in entry.items()} for action, entry in split.items()},
                "ansiballz_importtime": profile}

    def batch(self, port, count, label):
        endpoints = [{"host": "127.0.%d.%d" % (i // 250, i % 250 + 1)} for i in range(count)]
        plays = [{"tasks": [{"name": "batch %d" % count, "dicom.network.dicom_echo": {"port": port, "endpoints": endpoints}}]}]
        timings, wall, usage = self.playbook("batch-%d-%s" % (count, label), plays, timeout=150, interpreter=self.rss_python)
        task = timings[0]
        if task["status"] != "ok":
            raise RuntimeError("batch of %d against %s: %s" % (count, label, task["status"]))
        module = usage[-1] if usage else {}
        return {"task_s": task["seconds"], "playbook_wall_s": wall, "endpoints_per_s": count / task["seconds"],
                "module_maxrss_mb": module.get("maxrss_kb", 0) / 1024.0, "module_wall_s": module.get("wall_s"),
                "module_cpu_s": (module.get("user_s") or 0) + (module.get("sys_s") or 0)}

    def loop_baseline(self, port, items):
        """The Ansible way without `endpoints`: a loop of single-endpoint dicom_echo tasks."""
        plays = [{"tasks": [{"name": "loop", "dicom.network.dicom_echo": {"host": "{{ item }}", "port": port},
                             "loop": ["127.0.0.%d" % (i + 1) for i in range(items)]}]}]
        timings, wall, _usage = self.playbook("loop-%d" % items, plays, timeout=120)
        task = timings[0]
        if task["status"] != "ok":
            raise RuntimeError("loop baseline: %s" % task["status"])
        return {"task_s": task["seconds"], "playbook_wall_s": wall, "endpoints_per_s": items / task["seconds"]}


def parse_importtime(text):
    total, cumulative, self_us, count, top_level = 0, {}, {}, 0, {}
    for line in text.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not match:
            continue
        own, cum, indent, name = int(match.group(1)), int(match.group(2)), len(match.group(3)), match.group(4)
        count += 1
        if indent == 1:
            total += cum
            top_level[name] = top_level.get(name, 0) + cum
        cumulative.setdefault(name, cum)
        self_us[name] = self_us.get(name, 0) + own
    return {"total_us": total, "cumulative_us": cumulative, "self_us": self_us, "count": count, "top_level_us": top_level}


# ---- the table ---------------------------------------------------------------------------------
def fmt_ms(value, spread_values=None, digits=2):
    if value is None:
        return "n/a"
    text = "%.*f ms" % (digits, value)
    if spread_values:
        text += " [%.*f-%.*f]" % (digits, spread_values[0], digits, spread_values[1])
    return text


def met_text(by_median, by_worst):
    """The verdict is the median's; a worst run on the other side of the target is said too."""
    if by_median:
        return "yes" if by_worst else "yes (median; not every run)"
    return "NO"


def build_rows(m):
    rows = []

    def row(metric, ours, baseline, ratio, ratio_text, target, met, ours_value=None, baseline_value=None, unit=None):
        rows.append({"metric": metric, "ours": ours, "baseline": baseline, "ratio": ratio, "ratio_text": ratio_text,
                     "target": target, "met": met, "ours_value": ours_value, "baseline_value": baseline_value, "unit": unit})

    for peer in ("storescp", "Orthanc"):
        e = m.get("echo", {}).get(peer)
        if not e:
            continue
        ratio = e["echo_echoscu"] / e["echo_ours"] if e["echo_ours"] else None
        met = e["echo_ours"] <= 2.0 and ratio is not None and ratio >= 20
        row("time per echo vs %s (ours: rtt_ms median; echoscu: (T(--repeat %d)-T(1))/%d)" % (peer, m["n_echoscu"], m["n_echoscu"] - 1),
            fmt_ms(e["echo_ours"], e["echo_ours_spread"], 3), "echoscu " + fmt_ms(e["echo_echoscu"], e["echo_echoscu_spread"], 1),
            ratio, "%.0fx faster" % ratio, "<= 2 ms and >= 20x", "yes" if met else "NO",
            e["echo_ours"], e["echo_echoscu"], "ms")
    for peer in ("storescp", "Orthanc"):
        e = m.get("echo", {}).get(peer)
        if not e:
            continue
        ratio = e["probe_echoscu"] / e["probe_ours"]
        row("whole probe vs %s (ours: engine probe() wall, warm process; echoscu: one process)" % peer,
            fmt_ms(e["probe_ours"], e["probe_ours_spread"]), "echoscu " + fmt_ms(e["probe_echoscu"], e["probe_echoscu_spread"], 1),
            ratio, "%.0fx faster" % ratio, "(none)", "-", e["probe_ours"], e["probe_echoscu"], "ms")
    proc = m.get("module_process")
    e = m.get("echo", {}).get("storescp")
    if proc and e:
        ours = proc["dicom_echo"]["wall_ms"]
        ratio = e["probe_echoscu"] / ours
        row("whole probe vs storescp as one OS process each (python -m dicom_echo vs echoscu)",
            fmt_ms(ours, proc["dicom_echo"]["wall_ms_spread"], 0), "echoscu " + fmt_ms(e["probe_echoscu"], None, 0),
            ratio, "%.2fx (%s)" % (ratio, "faster" if ratio >= 1 else "slower"), "(none)", "-", ours, e["probe_echoscu"], "ms")
    loop = m.get("loop_baseline")
    for peer in ("Orthanc", "asyncio-scp"):
        b = m.get("batch1000", {}).get(peer)
        if not b:
            continue
        rate = median([r["endpoints_per_s"] for r in b])
        rates = [r["endpoints_per_s"] for r in b]
        base = loop["endpoints_per_s"] if loop else None
        ratio = rate / base if base else None
        row("1,000-endpoint batch in one task vs %s (endpoints/s, task start->result)" % peer,
            "%.0f/s [%.0f-%.0f]" % (rate, min(rates), max(rates)),
            ("Ansible loop: %.1f/s" % base) if base else "n/a", ratio, ("%.0fx" % ratio) if ratio else "-",
            ">= 200/s", met_text(rate >= 200, min(rates) >= 200), rate, base, "endpoints/s")
    big = m.get("batch10000")
    if big:
        times = [r["task_s"] for r in big["runs"]]
        rss = [r["module_maxrss_mb"] for r in big["runs"]]
        small = m.get("batch1000", {}).get(big["peer"]) or []
        small_rss = median([r["module_maxrss_mb"] for r in small]) if small else None
        small_s = median([r["task_s"] for r in small]) if small else None
        row("10,000-endpoint batch in one task vs %s (task seconds)" % big["peer"],
            "%.1f s [%.1f-%.1f]" % (median(times), min(times), max(times)),
            ("1,000 batch: %.2f s" % small_s) if small_s else "n/a", (median(times) / small_s) if small_s else None,
            ("%.1fx the 1,000 batch" % (median(times) / small_s)) if small_s else "-",
            "<= 30 s", met_text(median(times) <= 30, max(times) <= 30), median(times), small_s, "s")
        row("10,000-endpoint batch: peak RSS of the module process (wait4 ru_maxrss)",
            "%.1f MB [%.1f-%.1f]" % (median(rss), min(rss), max(rss)),
            ("1,000 batch: %.1f MB" % small_rss) if small_rss else "n/a",
            (median(rss) / small_rss) if small_rss else None,
            ("%.2fx the 1,000 batch" % (median(rss) / small_rss)) if small_rss else "-",
            "<= 150 MB", met_text(median(rss) <= 150, max(rss) <= 150), median(rss), small_rss, "MB")
    pve = m.get("ping_vs_echo")
    if pve:
        ours = pve["dicom.network.dicom_echo"]["median_ms"]
        base = pve["ansible.builtin.ping"]["median_ms"]
        ratio = ours / base
        row("single-endpoint dicom_echo task vs ansible.builtin.ping (task time, median of %d)" % pve["dicom.network.dicom_echo"]["n"],
            fmt_ms(ours, pve["dicom.network.dicom_echo"]["spread_ms"], 0), "ping " + fmt_ms(base, pve["ansible.builtin.ping"]["spread_ms"], 0),
            ratio, "%.2fx ping" % ratio, "<= 1.3x ping", "yes" if ratio <= 1.3 else "NO", ours, base, "ms")
    return rows


def render(rows):
    headers = ["metric", "ours", "baseline", "ratio", "target", "met?"]
    table = [[r["metric"], r["ours"], r["baseline"], r["ratio_text"], r["target"], r["met"]] for r in rows]
    widths = [max(len(str(line[i])) for line in table + [headers]) for i in range(len(headers))]
    widths[0] = min(widths[0], 96)
    lines = []

    def emit(cells):
        lines.append("| " + " | ".join(str(cell).ljust(width) for cell, width in zip(cells, widths)) + " |")

    emit(headers)
    lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for line in table:
        emit(line)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about half the time)")
    parser.add_argument("--budget", type=float, default=270.0, help="seconds after which optional repetitions are skipped")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"), help="where to write the results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (playbooks, peer logs)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.n_ours = 200                      # echoes per engine run (metric 1)
    args.n_echoscu = 11 if quick else 21   # echoscu --repeat N (metric 1)
    args.echo_runs = 3 if quick else 5     # runs of each, interleaved
    args.singles_per_run = 2               # per run: echoscu single-echo processes (metric 2, T(1) of metric 1), 3 engine probes each
    args.process_runs = 3 if quick else 7  # module-as-a-process runs
    args.ping_pairs = 8 if quick else 12   # ping/dicom_echo pairs per playbook (metric 5)
    args.ping_playbooks = 1 if quick else 2
    args.batch_runs = 2 if quick else 3    # 1,000-endpoint batches per peer (metric 3)
    args.big_runs = 1 if quick else 2      # 10,000-endpoint batches (metric 4)
    args.loop_items = 10 if quick else 20  # Ansible loop baseline (metric 3)

    bench = Bench(args)

    def on_signal(signum, _frame):
        bench.cleanup()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    measured = {"n_echoscu": args.n_echoscu, "echo": {}, "batch1000": {}}
    meta = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": platform.node(),
            "cpus": os.cpu_count(), "python": platform.python_version(), "loadavg_start": loadavg(),
            "quick": quick, "parameters": {k: v for k, v in vars(args).items() if k not in ("json",)}}
    try:
        import ansible  # pylint: disable=import-outside-toplevel
        import pydicom  # pylint: disable=import-outside-toplevel
        import pynetdicom  # pylint: disable=import-outside-toplevel
        meta["versions"] = {"ansible-core": ansible.__version__, "pynetdicom": pynetdicom.__version__,
                            "pydicom": pydicom.__version__}
    except ImportError as exc:
        sys.exit("bench/run.py needs the project's venv (make deps): %s" % exc)
    meta["versions"]["echoscu"] = peers._first_line([ECHOSCU, "--version"])  # pylint: disable=protected-access
    failures = []
    if "dcmtk" not in (meta["versions"]["echoscu"] or ""):
        failures.append("DCMTK echoscu not found at %s (got %s): the echoscu baselines are missing" % (ECHOSCU, meta["versions"]["echoscu"]))

    def step(title, func):
        log("== %s (%.0f s elapsed)" % (title, time.monotonic() - bench.started))
        try:
            return func()
        except Exception as exc:  # pylint: disable=broad-except  # one failed metric must not hide the others
            failures.append("%s: %s" % (title, exc))
            log("   FAILED: %s" % exc)
            return None

    try:
        bench.start_peers()
        meta["peers"] = {name: {"version": peer.version, "port": peer.port} for name, peer in bench.peers.items()}
        for peer in ("storescp", "Orthanc"):
            if peer in bench.peers:
                value = step("echo and whole probe vs echoscu against %s" % peer,
                             lambda peer=peer: bench.measure_echo_and_probe(peer))
                if value:
                    measured["echo"][peer] = value
        if "storescp" in bench.peers:
            port = bench.peers["storescp"].port
            measured["module_process"] = step("dicom_echo and ping as plain processes", lambda: bench.module_process(port))
            measured["ping_vs_echo"] = step("dicom_echo task vs ansible.builtin.ping", lambda: bench.ping_vs_echo(port))
            measured["inside_ansible"] = step("module process inside Ansible, AnsiballZ import profile",
                                              lambda: bench.inside_ansible(port))
        measured["importtime"] = step("python -X importtime of both module paths", bench.import_profile)
        batch_peers = [name for name in ("Orthanc", "asyncio-scp") if name in bench.peers]
        if batch_peers:
            measured["loop_baseline"] = step("Ansible loop baseline (%d single-endpoint tasks)" % args.loop_items,
                                             lambda: bench.loop_baseline(bench.peers[batch_peers[0]].port, args.loop_items))
        for rep in range(args.batch_runs):
            for name in batch_peers:
                if rep and bench.remaining() < 90:
                    bench.notes.append("1,000 batch against %s: run %d skipped (time budget)" % (name, rep + 1))
                    continue
                value = step("1,000-endpoint batch against %s, run %d" % (name, rep + 1),
                             lambda name=name: bench.batch(bench.peers[name].port, 1000, name))
                if value:
                    measured["batch1000"].setdefault(name, []).append(value)
        if batch_peers:
            big_peer = batch_peers[0]
            runs = []
            for rep in range(args.big_runs):
                if rep and bench.remaining() < 45:
                    bench.notes.append("10,000 batch: run %d skipped (time budget)" % (rep + 1))
                    break
                value = step("10,000-endpoint batch against %s, run %d" % (big_peer, rep + 1),
                             lambda: bench.batch(bench.peers[big_peer].port, 10000, big_peer))
                if value:
                    runs.append(value)
            if runs:
                measured["batch10000"] = {"peer": big_peer, "runs": runs}
    finally:
        bench.cleanup()
    meta["loadavg_end"] = loadavg()
    meta["seconds"] = round(time.monotonic() - bench.started, 1)
    rows = build_rows(measured)
    table = render(rows)
    print()
    print(table)
    print()
    details = details_text(measured, meta)
    print(details)
    for note in bench.notes + failures:
        print("NOTE: " + note)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump({"meta": meta, "rows": rows, "measured": measured, "raw": bench.raw, "notes": bench.notes,
                   "failures": failures, "table": table}, handle, indent=1)
    print("results: %s" % os.path.relpath(args.json))
    return 1 if failures else 0


def details_text(m, meta):
    out = ["run: %.0f s on %s CPUs; load average %s at start, %s at end (other work shares this machine)"
           % (meta["seconds"], meta["cpus"], meta["loadavg_start"], meta["loadavg_end"]),
           "versions: %s" % ", ".join("%s %s" % item for item in meta["versions"].items()),
           "task times: callback dicom_bench_timer in the controller, v2_playbook_on_task_start -> the task's last "
           "v2_runner_on_* (playbook start-up and parsing excluded); echoscu is DCMTK's %s" % ECHOSCU,
           "peers: %s" % ", ".join("%s (%s)" % (name, info["version"]) for name, info in meta.get("peers", {}).items())]
    for peer, e in m.get("echo", {}).items():
        out.append("%s: engine timing_ms.total median %.2f ms (in-probe), probe() wall %.2f ms; echoscu single-echo process %.1f ms"
                   % (peer, e["probe_ours_total"], e["probe_ours"], e["probe_echoscu"]))
    proc = m.get("module_process")
    if proc:
        out.append("module as a plain process (python -m, no Ansible): dicom_echo %.0f ms / %.1f MB peak RSS, ping %.0f ms / %.1f MB"
                   % (proc["dicom_echo"]["wall_ms"], proc["dicom_echo"]["maxrss_mb"], proc["ping"]["wall_ms"], proc["ping"]["maxrss_mb"]))
    imp = m.get("importtime")
    if imp:
        cum = imp["dicom_echo"]["cumulative_ms"]
        where = ", ".join("%s %.0f ms" % (name.rsplit(".", 1)[-1] if "dicom" in name else name, value) for name, value in cum.items())
        out.append("python -X importtime (median of 3): ping path %.0f ms (%d modules), dicom_echo path %.0f ms (%d modules); "
                   "cumulative where first imported: %s" % (imp["ping"]["total_ms"], imp["ping"]["modules_loaded"],
                                                            imp["dicom_echo"]["total_ms"], imp["dicom_echo"]["modules_loaded"], where))
    inside = m.get("inside_ansible")
    if inside:
        for action, entry in sorted(inside["split"].items()):
            out.append("inside Ansible (wrapped run, medians): %s task %.0f ms = module process %.0f ms + Ansible's own %.0f ms; "
                       "module peak RSS %.1f MB" % (action, entry["task_ms"], entry["module_ms"], entry["ansible_ms"], entry["maxrss_mb"]))
        for filename, prof in sorted(inside["ansiballz_importtime"].items()):
            out.append("python -X importtime %s: %.0f ms, %d modules; top: %s" % (
                filename, prof["total_ms"], prof["modules_loaded"],
                ", ".join("%s %.0f ms" % (name.replace("ansible_collections.dicom.network.plugins.", ""), value)
                          for name, value in prof["top_level_ms"][:4])))
    loop = m.get("loop_baseline")
    if loop:
        out.append("Ansible loop baseline: %.2f s task for the loop, %.1f endpoints/s" % (loop["task_s"], loop["endpoints_per_s"]))
    for peer, runs in m.get("batch1000", {}).items():
        out.append("1,000 batch vs %s: task %s s; module process wall %s s, CPU %s s, peak RSS %s MB; playbook wall %s s"
                   % (peer, [round(r["task_s"], 2) for r in runs], [round(r["module_wall_s"] or 0, 2) for r in runs],
                      [round(r["module_cpu_s"], 2) for r in runs], [round(r["module_maxrss_mb"], 1) for r in runs],
                      [round(r["playbook_wall_s"], 2) for r in runs]))
    big = m.get("batch10000")
    if big:
        runs = big["runs"]
        out.append("10,000 batch vs %s: task %s s; module process wall %s s, CPU %s s, peak RSS %s MB; playbook wall %s s"
                   % (big["peer"], [round(r["task_s"], 2) for r in runs], [round(r["module_wall_s"] or 0, 2) for r in runs],
                      [round(r["module_cpu_s"], 2) for r in runs], [round(r["module_maxrss_mb"], 1) for r in runs],
                      [round(r["playbook_wall_s"], 2) for r in runs]))
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
