# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dicom.network benchmarks: one command, one run, the same local peers for every number.

    .venv/bin/python bench/run.py            (make bench)
    .venv/bin/python bench/run.py --quick    (fewer repetitions)

Starts storescp, Orthanc and the asyncio Verification SCP of tests/peers/ on loopback, measures,
stops them, prints one table (metric | ours | baseline | ratio | target | met?) with the targets of
the issue that asked for them, and writes it with every raw sample to bench/results/latest.json.

Every figure of ours uses the module's DEFAULT options (socket_timeout 60, acse_timeout 30,
concurrency 64, facts on, result_detail full, ...: _request.OPTIONS, checked on every request the
bench builds), and where it says "engine only", the same request run by _engine in one process,
beside it. What is measured, exactly:

1. time per echo.  Module: the dicom_echo module as one process (python -m ...dicom_echo args.json,
   no Ansible) with repeat=N_OURS and nothing else set; the median of its echoes[].rtt_ms.  Engine
   only: _engine.probe on the request _request.build_requests makes of the same arguments.  echoscu:
   (median wall of `echoscu --repeat N` - median wall of `echoscu` [one echo]) / (N - 1), the wall
   time a further echo adds.  Target (storescp): module median <= 1 ms and >= 20x echoscu.
2. whole probe (connect + associate + one echo + release): the engine's probe() wall in this warm
   process vs one `echoscu` process; and the module as one process vs one echoscu process.
3. per-host pattern: an inventory of 20 hosts (all storescp), forks 5, a play over them with ONE
   task per host: dicom_echo (host/port/called_aet from host variables) vs `command: echoscu` vs
   ansible.builtin.ping, run in turn, each several times; the task's time from
   v2_playbook_on_task_start to its last host's result (callback bench/callback_plugins/
   dicom_bench_timer.py), and the playbook's wall.  Target: dicom_echo <= 1.0x command: echoscu.
4. single-endpoint dicom_echo task vs ansible.builtin.ping: one playbook alternating the two
   tasks, the first pair dropped (AnsiballZ cache warm-up), median task time of each.  Target:
   <= 1.3x ping.  With python -X importtime of both module paths to explain the difference.
5. 1,000 endpoints in one ansible-playbook task (endpoints 127.0.x.y, the peer listening on
   0.0.0.0), endpoints/s, beside the engine alone on the same endpoints and the Ansible `loop:` of
   single-endpoint tasks.
6. 10,000 endpoints in one task against Orthanc: the task time through ansible-playbook with the
   module's defaults, with facts: false, and with facts: false + result_detail: compact (what the
   roles use), each against the engine alone on the same endpoints and concurrency (probe_all in a
   fresh process, its wall time); the module process's peak RSS (ru_maxrss from wait4, through a
   fork/exec wrapper set as ansible_python_interpreter).  Targets: <= 1.5x the engine, <= 150 MB.
7. the 1,000-host audit (`ansible-playbook -i <1,000 hosts> dicom.network.audit`, whole run,
   all reports) vs the per-host `command: echoscu` loop over the same inventory, timed on two
   samples and extrapolated to 1,000 hosts (bench/audit_bench.py).  Target: >= 100x.

The machine is shared: every number is a median of repetitions, with its min-max spread and the
load average at the start and end of each step.  The run is bounded (--budget skips optional
repetitions) and only connects to 127.0.0.0/8.
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

import audit_bench  # noqa: E402  # pylint: disable=wrong-import-position
import peers  # noqa: E402  # pylint: disable=wrong-import-position

ECHOSCU = "/usr/bin/echoscu" if os.path.exists("/usr/bin/echoscu") else "echoscu"  # not pynetdicom's in .venv/bin
MODULE_FQN = "ansible_collections.dicom.network.plugins.modules.dicom_echo"
# The engine alone on a batch, in a fresh process like the module's: argv[1] holds the module-style
# arguments, the request is built as the module builds it (defaults included); prints its numbers.
ENGINE_BATCH = r"""
import json, sys, time
from ansible_collections.dicom.network.plugins.module_utils import _engine, _request
with open(sys.argv[1], encoding="utf-8") as handle:
    params = json.load(handle)
requests = _request.build_requests(params)
concurrency = params.get("concurrency", _request.OPTIONS["concurrency"]["default"])
started = time.perf_counter()
results = _engine.probe_all(requests, concurrency)
wall = time.perf_counter() - started
print(json.dumps({"wall_s": wall, "total": len(results), "succeeded": sum(1 for r in results if r["success"]),
                  "concurrency": concurrency, "failed_msgs": [r["msg"] for r in results if not r["success"]][:3]}))
"""
PER_HOST_COUNT = 20
PER_HOST_FORKS = 5


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

    def defaults_request(self, params):
        """The request the module builds from ``params`` (only what the row needs; every other option at its
        default), checked to carry the module's default timeouts: the bench measures what users get."""
        _engine, request = self.engine()
        req = request.build_requests(params)[0]
        for name in ("connection_timeout", "socket_timeout", "acse_timeout", "dimse_timeout", "max_pdu"):
            if name not in params and getattr(req, name) != request.OPTIONS[name].get("default"):
                raise RuntimeError("the bench's request has %s=%r, the module's default is %r"
                                   % (name, getattr(req, name), request.OPTIONS[name].get("default")))
        return req

    def module_defaults(self):
        _engine, request = self.engine()
        return {name: request.OPTIONS[name].get("default") for name in
                ("socket_timeout", "acse_timeout", "connection_timeout", "dimse_timeout", "concurrency", "facts", "result_detail")}

    def probe(self, port, repeat=1, host="127.0.0.1"):
        engine, _request = self.engine()
        req = self.defaults_request({"host": host, "port": port, "repeat": repeat})
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

    def module_echo(self, port, repeat):
        """The dicom_echo module as one process (no Ansible), module defaults, ``repeat`` echoes: its result."""
        args = os.path.join(self.tmp, "echo-repeat-args.json")
        with open(args, "w", encoding="utf-8") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"host": "127.0.0.1", "port": port, "repeat": repeat}}, handle)
        out = subprocess.run([self.python, "-m", MODULE_FQN, args], env=dict(self.env, PYTHONPATH=self.collections),
                             cwd=self.tmp, capture_output=True, text=True, timeout=120, check=False)
        try:
            result = json.loads(out.stdout)
        except ValueError:
            raise RuntimeError("dicom_echo as a process printed no JSON: %s %s" % (out.stdout[-500:], out.stderr[-500:])) from None
        if out.returncode != 0 or not result.get("success"):
            raise RuntimeError("dicom_echo as a process failed: %s" % result.get("msg"))
        return result

    def measure_echo_and_probe(self, name):
        """Metrics 1 and 2 against one peer, ours and echoscu interleaved."""
        port = self.peers[name].port
        a = self.args
        self.probe(port, repeat=5)  # warm-up: first-use caches in _pdu, pynetdicom codecs
        ours_run_medians, ours_all, ours_phase = [], [], []
        module_run_medians, timing_sources = [], set()
        echoscu_one, echoscu_n = [], []
        probe_wall, probe_total = [], []
        for _rep in range(a.echo_runs):
            result, _wall = self.probe(port, repeat=a.n_ours)
            rtts = [echo["rtt_ms"] for echo in result["echoes"]]
            ours_run_medians.append(median(rtts))
            ours_all.extend(rtts)
            ours_phase.append(result["timing_ms"]["echo"] / a.n_ours)
            timing_sources.add(result.get("timing_source"))
            module = self.module_echo(port, a.n_ours)
            module_run_medians.append(median([echo["rtt_ms"] for echo in module["echoes"]]))
            timing_sources.add(module.get("timing_source"))
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
            "echoscu_per_echo_ms_runs": per_echo_runs, "module_rtt_ms_run_medians": module_run_medians,
            "timing_sources": sorted(str(source) for source in timing_sources),
        }
        self.raw["probe_" + name] = {"ours_wall_ms": probe_wall, "ours_timing_total_ms": probe_total,
                                     "echoscu_process_wall_ms": [w * 1000.0 for w in echoscu_one]}
        return {
            "echo_ours": median(ours_run_medians), "echo_ours_spread": spread(ours_run_medians),
            "echo_module": median(module_run_medians), "echo_module_spread": spread(module_run_medians),
            "timing_sources": sorted(str(source) for source in timing_sources),
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
                 utils + "_request", utils + "_tls_context", utils + "_pdu", utils + "_engine")
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
    def playbook(self, name, plays, timeout, interpreter=None, extra_env=None, inventory="localhost,", forks=None):
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
        argv = [os.path.join(self.bin, "ansible-playbook"), "-i", inventory, path]
        if forks:
            argv += ["--forks", str(forks)]
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.tmp)
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

    @staticmethod
    def endpoints(count):
        return [{"host": "127.0.%d.%d" % (i // 250, i % 250 + 1)} for i in range(count)]

    def batch(self, port, count, label, options=None):
        """One dicom_echo task with ``count`` endpoints through ansible-playbook; ``options`` are what the task sets
        besides port and endpoints (none: the module's defaults)."""
        task = dict({"port": port, "endpoints": self.endpoints(count)}, **(options or {}))
        plays = [{"tasks": [{"name": "batch %d" % count, "dicom.network.dicom_echo": task}]}]
        timings, wall, usage = self.playbook("batch-%d-%s" % (count, label), plays, timeout=300, interpreter=self.rss_python)
        task = timings[0]
        if task["status"] != "ok":
            raise RuntimeError("batch of %d against %s: %s" % (count, label, task["status"]))
        module = usage[-1] if usage else {}
        return {"task_s": task["seconds"], "playbook_wall_s": wall, "endpoints_per_s": count / task["seconds"],
                "module_maxrss_mb": module.get("maxrss_kb", 0) / 1024.0, "module_wall_s": module.get("wall_s"),
                "module_cpu_s": (module.get("user_s") or 0) + (module.get("sys_s") or 0), "options": options or {},
                "loadavg": loadavg()}

    def engine_batch(self, port, count):
        """The same endpoints as batch(), the engine alone in a fresh process: probe_all's wall, the process's peak RSS."""
        args = os.path.join(self.tmp, "engine-batch-%d.json" % count)
        with open(args, "w", encoding="utf-8") as handle:
            json.dump({"port": port, "endpoints": self.endpoints(count)}, handle)
        if os.path.exists(self.rss_file):
            os.unlink(self.rss_file)
        out = subprocess.run([self.rss_python, "-c", ENGINE_BATCH, args], env=dict(self.env, PYTHONPATH=self.collections),
                             cwd=self.tmp, capture_output=True, text=True, timeout=300, check=False)
        try:
            result = json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError("engine batch printed no result: %s %s" % (out.stdout[-500:], out.stderr[-1500:])) from None
        if result["succeeded"] != count:
            raise RuntimeError("engine batch: %d of %d succeeded (%s)" % (result["succeeded"], count, result["failed_msgs"]))
        with open(self.rss_file, encoding="utf-8") as handle:
            usage = json.loads(handle.read().splitlines()[-1])
        return {"probe_all_s": result["wall_s"], "process_wall_s": usage["wall_s"], "maxrss_mb": usage["maxrss_kb"] / 1024.0,
                "concurrency": result["concurrency"], "loadavg": loadavg()}

    def per_host(self, peer, variant):
        """One play over 20 inventory hosts (forks 5), one task per host: dicom_echo, command: echoscu or ping."""
        inventory = os.path.join(self.tmp, "per-host-inventory.json")
        if not os.path.exists(inventory):
            hosts = {"pacs%02d" % (index + 1): {"ansible_host": "127.0.0.1", "dicom_port": peer.port, "dicom_called_aet": "STORESCP"}
                     for index in range(PER_HOST_COUNT)}
            with open(inventory, "w", encoding="utf-8") as handle:
                json.dump({"all": {"vars": {"ansible_connection": "local", "ansible_python_interpreter": self.python},
                                   "children": {"pacs": {"hosts": hosts}}}}, handle)
        tasks = {
            "dicom_echo": {"dicom.network.dicom_echo": {"host": "{{ ansible_host }}", "port": "{{ dicom_port }}",
                                                        "called_aet": "{{ dicom_called_aet }}"}},
            "command_echoscu": {"ansible.builtin.command": {"argv": [ECHOSCU, "-aec", "{{ dicom_called_aet }}", "{{ ansible_host }}",
                                                                     "{{ dicom_port }}"]}, "changed_when": False},
            "ping": {"ansible.builtin.ping": {}},
        }
        plays = [{"hosts": "pacs", "tasks": [dict({"name": variant}, **tasks[variant])]}]
        timings, wall, _usage = self.playbook("per-host-" + variant, plays, timeout=180, inventory=inventory, forks=PER_HOST_FORKS)
        if timings[0]["status"] != "ok":
            raise RuntimeError("per-host %s: the task ended %s" % (variant, timings[0]["status"]))
        return {"task_s": timings[0]["seconds"], "playbook_wall_s": wall}

    def per_host_pattern(self, peer):
        """Metric 3: the three variants in turn, ``per_host_runs`` times each."""
        samples = {variant: [] for variant in ("dicom_echo", "command_echoscu", "ping")}
        load = [loadavg()]
        for run in range(self.args.per_host_runs):
            if run >= 2 and self.remaining() < 200:
                self.notes.append("per-host pattern: run %d skipped (time budget)" % (run + 1))
                break
            for variant, values in samples.items():
                values.append(self.per_host(peer, variant))
        load.append(loadavg())
        self.raw["per_host"] = samples
        return {variant: {"task_s": median([v["task_s"] for v in values]), "task_s_spread": spread([v["task_s"] for v in values]),
                          "playbook_wall_s": median([v["playbook_wall_s"] for v in values]),
                          "playbook_wall_s_spread": spread([v["playbook_wall_s"] for v in values]), "n": len(values)}
                for variant, values in samples.items()} | {"loadavg": load}

    def big_batch(self, peer):
        """Metric 6: the engine alone, then the task with the module's defaults, facts: false, and the roles' settings."""
        count = self.args.big_count
        variants = (("defaults", None), ("facts_false", {"facts": False}),
                    ("compact", {"facts": False, "result_detail": "compact"}))
        engine, tasks = [], {name: [] for name, _options in variants}
        for run in range(self.args.big_runs):
            if run and self.remaining() < 150:
                self.notes.append("%d batch: run %d skipped (time budget)" % (count, run + 1))
                break
            engine.append(self.engine_batch(peer.port, count))
            for name, options in variants:
                log("   %d endpoints through ansible-playbook, %s" % (count, name))
                tasks[name].append(self.batch(peer.port, count, name, options))
        self.raw["batch%d" % count] = {"engine": engine, "tasks": tasks}
        return {"peer": peer.name, "count": count, "engine": engine, "tasks": tasks}

    def audit_vs_loop(self, peer):
        """Metric 7 (bench/audit_bench.py's two measurements, against this run's Orthanc)."""
        work = os.path.join(self.tmp, "audit")
        os.makedirs(work, exist_ok=True)
        hosts = {"pacs%04d" % (index + 1): {"ansible_host": "127.0.0.1", "dicom_port": peer.port, "dicom_called_aet": "ORTHANC"}
                 for index in range(self.args.audit_hosts)}
        env = {key: value for key, value in self.env.items() if key != "ANSIBLE_CALLBACKS_ENABLED"}
        load = [loadavg()]
        audits = audit_bench.audit_runs(hosts, work, env, self.args.audit_runs)
        loop = audit_bench.per_host_runs(hosts, work, env, ECHOSCU, "loop", self.args.audit_samples, self.args.audit_hosts)
        load.append(loadavg())
        self.raw["audit"] = {"audit_runs_s": audits, "loop": loop}
        return {"hosts": self.args.audit_hosts, "audit_s": median(audits), "audit_s_spread": spread(audits), "audit_runs_s": audits,
                "loop": loop, "loadavg": load}

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


def load_text(value):
    """A load average triple, or a [start, end] pair of them, as text."""
    if not value:
        return "?"
    if isinstance(value[0], list):
        return " -> ".join(load_text(item) for item in value)
    return "/".join("%.1f" % item for item in value)


def build_rows(m):
    rows = []

    def row(metric, ours, baseline, ratio, ratio_text, target, met, ours_value=None, baseline_value=None, unit=None, load=None):
        rows.append({"metric": metric, "ours": ours, "baseline": baseline, "ratio": ratio, "ratio_text": ratio_text,
                     "target": target, "met": met, "ours_value": ours_value, "baseline_value": baseline_value, "unit": unit,
                     "load": load_text(load)})

    for peer in ("storescp", "Orthanc"):
        e = m.get("echo", {}).get(peer)
        if not e:
            continue
        ratio = e["echo_echoscu"] / e["echo_module"] if e["echo_module"] else None
        target = "<= 1 ms and >= 20x" if peer == "storescp" else "(none)"
        met = ("yes" if e["echo_module"] <= 1.0 and ratio is not None and ratio >= 20 else "NO") if peer == "storescp" else "-"
        row("per echo vs %s, module defaults: dicom_echo process (rtt_ms median; echoscu: (T(--repeat %d)-T(1))/%d)"
            % (peer, m["n_echoscu"], m["n_echoscu"] - 1),
            fmt_ms(e["echo_module"], e["echo_module_spread"], 3), "echoscu " + fmt_ms(e["echo_echoscu"], e["echo_echoscu_spread"], 1),
            ratio, "%.0fx faster" % ratio, target, met, e["echo_module"], e["echo_echoscu"], "ms", e.get("loadavg"))
        ratio = e["echo_echoscu"] / e["echo_ours"] if e["echo_ours"] else None
        row("  engine only, same request (module defaults)", fmt_ms(e["echo_ours"], e["echo_ours_spread"], 3),
            "echoscu " + fmt_ms(e["echo_echoscu"], None, 1), ratio, "%.0fx faster" % ratio, "(engine figure)", "-",
            e["echo_ours"], e["echo_echoscu"], "ms", e.get("loadavg"))
    for peer in ("storescp", "Orthanc"):
        e = m.get("echo", {}).get(peer)
        if not e:
            continue
        ratio = e["probe_echoscu"] / e["probe_ours"]
        row("whole probe vs %s, engine only (probe() wall, warm process; echoscu: one process)" % peer,
            fmt_ms(e["probe_ours"], e["probe_ours_spread"]), "echoscu " + fmt_ms(e["probe_echoscu"], e["probe_echoscu_spread"], 1),
            ratio, "%.0fx faster" % ratio, "(none)", "-", e["probe_ours"], e["probe_echoscu"], "ms", e.get("loadavg"))
    proc = m.get("module_process")
    e = m.get("echo", {}).get("storescp")
    if proc and e:
        ours = proc["dicom_echo"]["wall_ms"]
        ratio = e["probe_echoscu"] / ours
        row("whole probe vs storescp as one OS process each (python -m dicom_echo vs echoscu)",
            fmt_ms(ours, proc["dicom_echo"]["wall_ms_spread"], 0), "echoscu " + fmt_ms(e["probe_echoscu"], None, 0),
            ratio, "%.2fx (%s)" % (ratio, "faster" if ratio >= 1 else "slower"), "(none)", "-", ours, e["probe_echoscu"], "ms",
            proc.get("loadavg"))
    ph = m.get("per_host")
    if ph:
        echo, cmd, ping = ph["dicom_echo"], ph["command_echoscu"], ph["ping"]
        ratio = echo["task_s"] / cmd["task_s"]
        row("per-host pattern: %d hosts, forks %d, one dicom_echo task per host vs command: echoscu (task s, median of %d)"
            % (PER_HOST_COUNT, PER_HOST_FORKS, echo["n"]),
            "%.2f s [%.2f-%.2f]" % (echo["task_s"], echo["task_s_spread"][0], echo["task_s_spread"][1]),
            "echoscu %.2f s [%.2f-%.2f]" % (cmd["task_s"], cmd["task_s_spread"][0], cmd["task_s_spread"][1]),
            ratio, "%.2fx echoscu" % ratio, "<= 1.0x", "yes" if ratio <= 1.0 else "NO", echo["task_s"], cmd["task_s"], "s",
            ph["loadavg"])
        ratio = echo["task_s"] / ping["task_s"]
        row("  the same play vs ansible.builtin.ping per host (task s)",
            "%.2f s" % echo["task_s"], "ping %.2f s [%.2f-%.2f]" % (ping["task_s"], ping["task_s_spread"][0], ping["task_s_spread"][1]),
            ratio, "%.2fx ping" % ratio, "(none)", "-", echo["task_s"], ping["task_s"], "s", ph["loadavg"])
    pve = m.get("ping_vs_echo")
    if pve:
        ours = pve["dicom.network.dicom_echo"]["median_ms"]
        base = pve["ansible.builtin.ping"]["median_ms"]
        ratio = ours / base
        row("single-endpoint dicom_echo task vs ansible.builtin.ping (task time, median of %d)" % pve["dicom.network.dicom_echo"]["n"],
            fmt_ms(ours, pve["dicom.network.dicom_echo"]["spread_ms"], 0), "ping " + fmt_ms(base, pve["ansible.builtin.ping"]["spread_ms"], 0),
            ratio, "%.2fx ping" % ratio, "<= 1.3x ping", "yes" if ratio <= 1.3 else "NO", ours, base, "ms", pve.get("loadavg"))
    loop = m.get("loop_baseline")
    for peer in ("Orthanc", "asyncio-scp"):
        b = m.get("batch1000", {}).get(peer)
        if not b:
            continue
        rates = [r["endpoints_per_s"] for r in b["tasks"]]
        rate = median(rates)
        engine = median([1000 / r["probe_all_s"] for r in b["engine"]]) if b["engine"] else None
        row("1,000 endpoints in one task vs %s (endpoints/s, task start->result; module defaults)" % peer,
            "%.0f/s [%.0f-%.0f]" % (rate, min(rates), max(rates)),
            ("engine only %.0f/s" % engine) if engine else "n/a", (rate / engine) if engine else None,
            ("%.2fx the engine" % (rate / engine)) if engine else "-", ">= 200/s", met_text(rate >= 200, min(rates) >= 200),
            rate, engine, "endpoints/s", [b["tasks"][0]["loadavg"], b["tasks"][-1]["loadavg"]])
        if loop and peer == "Orthanc":
            row("  Ansible loop: of single-endpoint dicom_echo tasks (endpoints/s)", "%.0f/s" % rate,
                "loop %.1f/s" % loop["endpoints_per_s"], rate / loop["endpoints_per_s"],
                "%.0fx the loop" % (rate / loop["endpoints_per_s"]), "(none)", "-", rate, loop["endpoints_per_s"], "endpoints/s",
                loop.get("loadavg"))
    big = m.get("batch_big")
    if big and big["engine"]:
        engine = median([r["probe_all_s"] for r in big["engine"]])
        labels = {"defaults": "module defaults (facts on, result_detail full)", "facts_false": "facts: false",
                  "compact": "facts: false, result_detail: compact (the roles)"}
        for name, runs in big["tasks"].items():
            if not runs:
                continue
            times = [r["task_s"] for r in runs]
            rss = [r["module_maxrss_mb"] for r in runs]
            ratio = median(times) / engine
            row("%s endpoints in one task vs %s through ansible-playbook, %s (task s)" % (format(big["count"], ","), big["peer"], labels[name]),
                "%.1f s [%.1f-%.1f]" % (median(times), min(times), max(times)), "engine only %.1f s" % engine, ratio,
                "%.2fx the engine" % ratio, "<= 1.5x", met_text(ratio <= 1.5, max(times) / engine <= 1.5), median(times), engine, "s",
                [runs[0]["loadavg"], runs[-1]["loadavg"]])
            row("  peak RSS of the module process (wait4 ru_maxrss), %s" % labels[name],
                "%.1f MB [%.1f-%.1f]" % (median(rss), min(rss), max(rss)),
                "engine only %.1f MB" % median([r["maxrss_mb"] for r in big["engine"]]),
                median(rss) / median([r["maxrss_mb"] for r in big["engine"]]), "-", "<= 150 MB", met_text(median(rss) <= 150, max(rss) <= 150),
                median(rss), median([r["maxrss_mb"] for r in big["engine"]]), "MB", [runs[0]["loadavg"], runs[-1]["loadavg"]])
    audit = m.get("audit")
    if audit:
        loop = audit["loop"]
        ratio = loop["extrapolated_s"] / audit["audit_s"]
        row("%s-host audit (dicom.network.audit, whole run) vs per-host command: echoscu loop (s; loop extrapolated from %s hosts)"
            % (format(audit["hosts"], ","), " and ".join(loop["samples_s"])),
            "%.2f s [%.2f-%.2f]" % (audit["audit_s"], audit["audit_s_spread"][0], audit["audit_s_spread"][1]),
            "loop %.0f s (%.3f s/host)" % (loop["extrapolated_s"], loop["per_host_s"]), ratio, "%.0fx faster" % ratio, ">= 100x",
            "yes" if ratio >= 100 else "NO", audit["audit_s"], loop["extrapolated_s"], "s", audit["loadavg"])
    return rows


def render(rows):
    headers = ["metric", "ours", "baseline", "ratio", "target", "met?", "load avg"]
    table = [[r["metric"], r["ours"], r["baseline"], r["ratio_text"], r["target"], r["met"], r["load"]] for r in rows]
    widths = [max(len(str(line[i])) for line in table + [headers]) for i in range(len(headers))]
    widths[0] = min(widths[0], 110)
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
    parser.add_argument("--budget", type=float, default=600.0, help="seconds after which optional repetitions are skipped")
    parser.add_argument("--big-count", type=int, default=10000, help="endpoints of the big batch (default 10,000)")
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
    args.per_host_runs = 2 if quick else 3  # per-host pattern: playbooks of each variant (metric 3)
    args.batch_runs = 2 if quick else 3    # 1,000-endpoint batches per peer (metric 5)
    args.loop_items = 10 if quick else 20  # Ansible loop baseline (metric 5)
    args.big_runs = 1 if quick else 2      # big batches: engine + three task variants each (metric 6)
    args.audit_hosts = 1000                # metric 7
    args.audit_runs = 2 if quick else 3
    args.audit_samples = [10, 30]

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
        meta["versions"] = {"ansible-core": ansible.__version__, "pydicom": pydicom.__version__}
    except ImportError as exc:
        sys.exit("bench/run.py needs the project's venv (make deps): %s" % exc)
    meta["versions"]["echoscu"] = peers._first_line([ECHOSCU, "--version"])  # pylint: disable=protected-access
    failures = []
    if "dcmtk" not in (meta["versions"]["echoscu"] or ""):
        failures.append("DCMTK echoscu not found at %s (got %s): the echoscu baselines are missing" % (ECHOSCU, meta["versions"]["echoscu"]))

    def step(title, func):
        log("== %s (%.0f s elapsed, load average %s)" % (title, time.monotonic() - bench.started, load_text(loadavg())))
        started = loadavg()
        try:
            value = func()
            if isinstance(value, dict) and "loadavg" not in value:
                value["loadavg"] = [started, loadavg()]
            return value
        except Exception as exc:  # pylint: disable=broad-except  # one failed metric must not hide the others
            failures.append("%s: %s" % (title, exc))
            log("   FAILED: %s" % exc)
            return None

    try:
        bench.start_peers()
        meta["peers"] = {name: {"version": peer.version, "port": peer.port} for name, peer in bench.peers.items()}
        meta["module_defaults"] = bench.module_defaults()
        for peer in ("storescp", "Orthanc"):
            if peer in bench.peers:
                value = step("per echo and whole probe vs echoscu against %s" % peer,
                             lambda peer=peer: bench.measure_echo_and_probe(peer))
                if value:
                    measured["echo"][peer] = value
        if "storescp" in bench.peers:
            storescp = bench.peers["storescp"]
            measured["module_process"] = step("dicom_echo and ping as plain processes", lambda: bench.module_process(storescp.port))
            measured["per_host"] = step("per-host pattern: %d hosts, forks %d" % (PER_HOST_COUNT, PER_HOST_FORKS),
                                        lambda: bench.per_host_pattern(storescp))
            measured["ping_vs_echo"] = step("dicom_echo task vs ansible.builtin.ping", lambda: bench.ping_vs_echo(storescp.port))
            measured["inside_ansible"] = step("module process inside Ansible, AnsiballZ import profile",
                                              lambda: bench.inside_ansible(storescp.port))
        measured["importtime"] = step("python -X importtime of both module paths", bench.import_profile)
        batch_peers = [name for name in ("Orthanc", "asyncio-scp") if name in bench.peers]
        if batch_peers:
            measured["loop_baseline"] = step("Ansible loop baseline (%d single-endpoint tasks)" % args.loop_items,
                                             lambda: bench.loop_baseline(bench.peers[batch_peers[0]].port, args.loop_items))
        for name in batch_peers:
            engine = step("1,000 endpoints, engine only, against %s" % name, lambda name=name: bench.engine_batch(bench.peers[name].port, 1000))
            measured["batch1000"][name] = {"engine": [engine] if engine else [], "tasks": []}
        for rep in range(args.batch_runs):
            for name in batch_peers:
                if rep and bench.remaining() < 300:
                    bench.notes.append("1,000 batch against %s: run %d skipped (time budget)" % (name, rep + 1))
                    continue
                value = step("1,000-endpoint batch against %s, run %d" % (name, rep + 1),
                             lambda name=name: bench.batch(bench.peers[name].port, 1000, name))
                if value:
                    measured["batch1000"][name]["tasks"].append(value)
        if "Orthanc" in bench.peers:
            orthanc = bench.peers["Orthanc"]
            measured["batch_big"] = step("%d endpoints in one task vs the engine alone, against Orthanc" % args.big_count,
                                         lambda: bench.big_batch(orthanc))
            measured["audit"] = step("%d-host audit vs a per-host command: echoscu loop, against Orthanc" % args.audit_hosts,
                                     lambda: bench.audit_vs_loop(orthanc))
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
    out = ["run: %.0f s on %s CPUs; load average %s at start, %s at end (other work shares this machine); "
           "the table's last column is the load average (1/5/15 min) before -> after each step"
           % (meta["seconds"], meta["cpus"], meta["loadavg_start"], meta["loadavg_end"]),
           "module defaults every row of ours uses: %s" % ", ".join("%s=%s" % item for item in sorted(meta.get("module_defaults", {}).items())),
           "versions: %s" % ", ".join("%s %s" % item for item in meta["versions"].items()),
           "task times: callback dicom_bench_timer in the controller, v2_playbook_on_task_start -> the task's last "
           "v2_runner_on_* (playbook start-up and parsing excluded); echoscu is DCMTK's %s" % ECHOSCU,
           "peers: %s" % ", ".join("%s (%s)" % (name, info["version"]) for name, info in meta.get("peers", {}).items())]
    for peer, e in m.get("echo", {}).items():
        out.append("%s: timing_source of the per-echo runs: %s" % (peer, ", ".join(e.get("timing_sources") or ["?"])))
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
    for peer, b in m.get("batch1000", {}).items():
        runs = b["tasks"]
        out.append("1,000 batch vs %s: task %s s; module process wall %s s, CPU %s s, peak RSS %s MB; playbook wall %s s; "
                   "engine only %s s (probe_all), %s MB"
                   % (peer, [round(r["task_s"], 2) for r in runs], [round(r["module_wall_s"] or 0, 2) for r in runs],
                      [round(r["module_cpu_s"], 2) for r in runs], [round(r["module_maxrss_mb"], 1) for r in runs],
                      [round(r["playbook_wall_s"], 2) for r in runs], [round(r["probe_all_s"], 2) for r in b["engine"]],
                      [round(r["maxrss_mb"], 1) for r in b["engine"]]))
    big = m.get("batch_big")
    if big:
        out.append("%d batch vs %s, engine only: probe_all %s s, process wall %s s, peak RSS %s MB, concurrency %s"
                   % (big["count"], big["peer"], [round(r["probe_all_s"], 2) for r in big["engine"]],
                      [round(r["process_wall_s"], 2) for r in big["engine"]], [round(r["maxrss_mb"], 1) for r in big["engine"]],
                      big["engine"][0]["concurrency"] if big["engine"] else "?"))
        for name, runs in big["tasks"].items():
            out.append("%d batch vs %s, %s: task %s s; module process wall %s s, CPU %s s, peak RSS %s MB; playbook wall %s s; "
                       "load average %s" % (big["count"], big["peer"], name, [round(r["task_s"], 2) for r in runs],
                                            [round(r["module_wall_s"] or 0, 2) for r in runs], [round(r["module_cpu_s"], 2) for r in runs],
                                            [round(r["module_maxrss_mb"], 1) for r in runs], [round(r["playbook_wall_s"], 2) for r in runs],
                                            [load_text(r["loadavg"]) for r in runs]))
    ph = m.get("per_host")
    if ph:
        out.append("per-host pattern (%d hosts, forks %d): playbook wall medians: %s" % (
            PER_HOST_COUNT, PER_HOST_FORKS, ", ".join("%s %.2f s" % (name, ph[name]["playbook_wall_s"])
                                                      for name in ("dicom_echo", "command_echoscu", "ping"))))
    audit = m.get("audit")
    if audit:
        out.append("audit: %d hosts, runs %s s; per-host echoscu loop: %s hosts took %s s, %.3f s/host + %.2f s fixed"
                   % (audit["hosts"], [round(v, 2) for v in audit["audit_runs_s"]], " and ".join(audit["loop"]["samples_s"]),
                      " and ".join("%.1f" % v for v in audit["loop"]["samples_s"].values()), audit["loop"]["per_host_s"],
                      audit["loop"]["fixed_s"]))
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
