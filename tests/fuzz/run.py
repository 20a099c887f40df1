"""The differential fuzzer: the same answers to our engine and to DCMTK's echoscu, verdicts compared.

    python -m ansible_collections.dicom.network.tests.fuzz --cases 400 --seed 1 --seed random
    python -m ansible_collections.dicom.network.tests.fuzz --replay 1:1234      # one case, in detail

(`make fuzz FUZZ_ARGS='...'` runs it from the build tree; docs/dev/fuzzing.md.) For every case the fake
SCP (tests/fuzz/scp.py, a process of its own) plays the case's bytes to two requestors started at the
same moment: probe_async() with the module's default options and short timeouts (acse_timeout 2,
socket_timeout 2, dimse_timeout 2 in half of the cases) and /usr/bin/echoscu with the same (-ta 2
-ts 2 [-td 2]). echoscu says the echo succeeded when it exits 0 and logged "Received Echo Response
(Success)" and no "Echo Failed".

The run fails if, for any case, we report success and echoscu does not; if a probe ends in
internal_error; or if a probe outlives its deadlines (three messages of at most acse/socket +
socket_timeout each). The other disagreements (echoscu succeeds and we do not: we are stricter) and
the exit-code mismatches are reported, grouped, without failing the run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import re
import sys
import time
import traceback

from ...plugins.module_utils._engine import probe_async
from ...plugins.module_utils._request import build_requests
from ..peers._proc import tool
from .cases import generate

TIMEOUT = 2                      # acse_timeout, socket_timeout and dimse_timeout of both requestors
# Three messages, each complete at most 2 x TIMEOUT after it was due (docs/dev/timeouts.md), plus
# slack for a loaded machine: a probe that takes longer has escaped its deadlines.
PROBE_BOUND = 3 * 2 * TIMEOUT + 2.0
ECHOSCU_KILL = 60.0              # echoscu is killed after this long (it has no bound on a stream)
CASE_LIMIT = ECHOSCU_KILL + 30   # a run of a case taking longer is a failure (both sides are bounded below that)
SUCCESS_LINE = "I: Received Echo Response (Success)"
DURATION_BUCKETS = (0.5, 1, 2, 3, 4, 6, 10, 20, float("inf"))


def _normalize(text):
    """A reason without its numbers and UIDs, to group similar ones."""
    text = re.sub(r"0x[0-9a-fA-F]+|\b[0-9a-f]{4}:[0-9a-f]{4}\b", lambda m: m.group(0) if ":" in m.group(0) else "0x#", text or "")
    return re.sub(r"\d+(\.\d+)*", "#", text)[:160]


def echoscu_reason(stderr):
    """echoscu's own reason: its first E: or F: line (DCMTK condition), else its last line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("E: ", "F: ")):
            return line
    return lines[-1] if lines else "(no output)"


class Tally:
    """Counts and grouped disagreements of a run."""

    def __init__(self):
        self.cases = 0
        self.by_category = collections.defaultdict(collections.Counter)
        self.by_delivery = collections.defaultdict(collections.Counter)
        self.failures = []                                    # (case, record, why)
        self.unconfirmed = []                                 # the same, where a second run of the case did not fail
        self.stricter = collections.defaultdict(list)         # key -> [replay]
        self.exit_mismatch = collections.defaultdict(list)
        self.verdicts = collections.Counter()
        self.slowest = 0.0
        self.seconds = collections.Counter()
        self.durations = collections.Counter()

    def broken(self, case, text):
        """A case the fuzzer could not run to the end (a case over CASE_LIMIT, a failed fork): a failure of the run."""
        self.cases += 1
        record = {"outcome": "(not run)", "our_exit": None, "our_seconds": 0.0, "reason": text.strip().splitlines()[-1],
                  "echoscu_exit": None, "echoscu_killed": False, "echoscu_reason": ""}
        why = ["the fuzzer could not run the case: %s" % text.strip()]
        self.failures.append((case, record, why))
        print("\n".join(failure_lines(case, record, why)), flush=True)

    def add(self, case, record):
        self.cases += 1
        ours, theirs = record["ours_ok"], record["theirs_ok"]
        verdict = {(True, True): "both succeed", (False, False): "both fail", (True, False): "WE SUCCEED, ECHOSCU FAILS",
                   (False, True): "echoscu succeeds, we fail"}[(ours, theirs)]
        self.verdicts[verdict] += 1
        exit_match = record["our_exit"] == record["echoscu_exit"]
        for table, key in ((self.by_category, case.category.rsplit(".", 1)[0] if case.category.count(".") > 1 else case.category),
                           (self.by_delivery, case.delivery)):
            table[key]["cases"] += 1
            table[key][verdict] += 1
            if not exit_match:
                table[key]["exit mismatch"] += 1
        self.slowest = max(self.slowest, record["our_seconds"])
        slower = max(record["our_seconds"], record["echoscu_seconds"])
        self.seconds[case.category.split(".")[0] + "/" + case.delivery] += slower
        self.durations[next(bound for bound in DURATION_BUCKETS if slower < bound)] += 1
        why = failure_reasons(record)
        if why and record.get("reproduced", True):
            self.failures.append((case, record, why))
            print("\n".join(failure_lines(case, record, why)), flush=True)
        elif why:
            self.unconfirmed.append((case, record, why))
        if theirs and not ours:
            self.stricter[(case.category, record["outcome"], _normalize(record["reason"]))].append(case.replay)
        if not exit_match and not record["echoscu_killed"]:
            key = (record["outcome"], record["our_exit"], record["echoscu_exit"], _normalize(record["echoscu_reason"]))
            self.exit_mismatch[key].append((case.category, case.replay))


def failure_reasons(record):
    """Why this record fails the run (empty: it does not)."""
    why = []
    if record["ours_ok"] and not record["theirs_ok"]:
        why.append("we report success, echoscu does not")
    if record["outcome"] == "internal_error":
        why.append("internal_error: %s" % record["reason"])
    if record["our_seconds"] > PROBE_BOUND:
        why.append("the probe took %.1f s, more than its deadlines allow (%.0f s)" % (record["our_seconds"], PROBE_BOUND))
    return why


async def run_echoscu(argv):
    """(exit code, stderr, killed) of one echoscu run."""
    proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        _out, err = await asyncio.wait_for(proc.communicate(), ECHOSCU_KILL)
        return proc.returncode, err.decode("utf-8", "replace"), False
    except asyncio.TimeoutError:
        proc.kill()
        _out, err = await proc.communicate()
        return proc.returncode, err.decode("utf-8", "replace"), True
    except BaseException:  # cancelled (the case's watchdog, the end of the run): leave no echoscu behind
        if proc.returncode is None:
            proc.kill()
        raise


async def run_case(case, port, echoscu, log_level="info"):
    params = dict(host="127.0.0.1", port=port, called_aet=case.aet, acse_timeout=TIMEOUT, socket_timeout=TIMEOUT, log_level=log_level)
    argv = [echoscu, "-v", "-ta", str(TIMEOUT), "-ts", str(TIMEOUT)]
    if case.dimse_timeout:
        params["dimse_timeout"] = case.dimse_timeout
        argv += ["-td", str(case.dimse_timeout)]
    argv += ["-aec", case.aet, "127.0.0.1", str(port)]
    request = build_requests(params)[0]

    async def ours():
        started = time.monotonic()
        try:
            result = await probe_async(request)
        except Exception as exc:  # pylint: disable=broad-except  # a probe must never raise: a failure of the run
            result = {"outcome": "internal_error", "msg": "probe_async raised %s: %s" % (type(exc).__name__, exc), "echoscu_exit_code": None,
                      "log": []}
        return result, time.monotonic() - started

    async def theirs():
        started = time.monotonic()
        outcome = await run_echoscu(argv)
        return outcome + (time.monotonic() - started,)

    (result, seconds), (code, stderr, killed, their_seconds) = await asyncio.gather(ours(), theirs())
    return {
        "ours_ok": result["outcome"] == "success", "outcome": result["outcome"], "reason": result["msg"],
        "our_exit": result["echoscu_exit_code"], "our_seconds": seconds, "our_log": result.get("log", []),
        "theirs_ok": code == 0 and SUCCESS_LINE in stderr and "E: Echo Failed" not in stderr,
        "echoscu_exit": code, "echoscu_reason": echoscu_reason(stderr), "echoscu_output": stderr, "echoscu_killed": killed,
        "echoscu_seconds": their_seconds,
    }


async def start_scp(seeds):
    module = __package__ + ".scp"
    args = [sys.executable, "-m", module] + [arg for seed in seeds for arg in ("--seed", str(seed))]
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    if not line:
        raise RuntimeError("the fuzzer's SCP (%s) did not start" % module)
    return proc, json.loads(line)["port"]


async def run(seeds, cases, start, jobs, progress):
    """Run ``cases`` cases of every seed; returns the Tally and the wall time."""
    echoscu = tool("echoscu")
    scp, port = await start_scp(seeds)
    tally = Tally()
    work = iter([(slot, seed, index) for slot, seed in enumerate(seeds) for index in range(start, start + cases)])
    total = cases * len(seeds)
    started = time.monotonic()

    async def one(case):
        record = await asyncio.wait_for(run_case(case, port, echoscu), CASE_LIMIT)
        if failure_reasons(record):
            # run it again: a disagreement that does not come back was the machine's timing (a peer or echoscu
            # starved of CPU for seconds), not the codec; it is reported, not counted as a failure
            record["reproduced"] = bool(failure_reasons(await asyncio.wait_for(run_case(case, port, echoscu), CASE_LIMIT)))
        return record

    async def worker():
        for slot, seed, index in work:
            if scp.returncode is not None:
                raise RuntimeError("the fuzzer's SCP exited (status %s) after %d cases" % (scp.returncode, tally.cases))
            case = generate(seed, index, slot)
            try:
                tally.add(case, await one(case))
            except Exception:  # pylint: disable=broad-except  # the run goes on; the case counts as a failure
                tally.broken(case, traceback.format_exc())
            if progress and tally.cases % progress == 0:
                elapsed = time.monotonic() - started
                print("  %d/%d cases, %.0f s, %.1f cases/s, %d failures"
                      % (tally.cases, total, elapsed, tally.cases / elapsed, len(tally.failures)), flush=True)
    workers = [asyncio.ensure_future(worker()) for _index in range(jobs)]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if scp.returncode is None:
            scp.terminate()
        await scp.wait()
    return tally, time.monotonic() - started


def _table(title, table):
    columns = ["cases", "both succeed", "both fail", "echoscu succeeds, we fail", "WE SUCCEED, ECHOSCU FAILS", "exit mismatch"]
    lines = ["", title, "  %-28s %s" % ("", " ".join("%9s" % name.split(",", maxsplit=1)[0][:9] for name in columns))]
    for key in sorted(table):
        lines.append("  %-28s %s" % (key, " ".join("%9d" % table[key][name] for name in columns)))
    return lines


def report(tally, seeds, wall, examples=3):
    lines = ["", "differential fuzzer: %d cases, seeds %s, %.1f s (%.1f cases/s), slowest probe %.1f s"
             % (tally.cases, ", ".join(map(str, seeds)), wall, tally.cases / max(wall, 1e-9), tally.slowest)]
    for verdict, count in sorted(tally.verdicts.items()):
        lines.append("  %-28s %d" % (verdict, count))
    lines += _table("by change (columns: cases, both succeed, both fail, only echoscu succeeds, only we succeed, exit codes differ)",
                    tally.by_category)
    lines += _table("by delivery", tally.by_delivery)
    buckets = ", ".join("< %g s: %d" % (bound, tally.durations[bound]) for bound in DURATION_BUCKETS if tally.durations[bound])
    lines += ["", "case time (the slower side): " + buckets,
              "  summed by change/delivery: " + ", ".join("%s %.0f s" % item for item in tally.seconds.most_common(12))]
    lines += ["", "where echoscu succeeds and we do not (we are stricter): %d groups" % len(tally.stricter)]
    for (category, outcome, reason), replays in sorted(tally.stricter.items(), key=lambda item: -len(item[1])):
        lines.append("  %5d  %s -> %s: %s   e.g. --replay %s" % (len(replays), category, outcome, reason, " ".join(replays[:examples])))
    lines += ["", "exit codes that differ (our echoscu_exit_code vs echoscu's): %d groups" % len(tally.exit_mismatch)]
    for (outcome, ours, theirs, reason), where in sorted(tally.exit_mismatch.items(), key=lambda item: -len(item[1])):
        categories = collections.Counter(category for category, _replay in where)
        lines.append("  %5d  %s: ours %s, echoscu %s (%s)   in %s   e.g. --replay %s"
                     % (len(where), outcome, ours, theirs, reason, ", ".join("%s %d" % item for item in categories.most_common(4)),
                        " ".join(replay for _category, replay in where[:examples])))
    lines += ["", "not reproduced (failed once, not when run again: timing on a loaded machine): %d" % len(tally.unconfirmed)]
    for case, record, why in tally.unconfirmed[:examples * 3]:
        lines.append("  %s %s (%s): %s; echoscu exit %s: %s"
                     % (case.replay, case.category, case.delivery, "; ".join(why), record["echoscu_exit"], record["echoscu_reason"]))
    lines += ["", "FAILURES: %d" % len(tally.failures)]
    for case, record, why in tally.failures[:20]:
        lines += failure_lines(case, record, why)
    return "\n".join(lines)


def failure_lines(case, record, why):
    lines = ["", "  case %s (%s: %s), delivery %s, dimse_timeout %s" % (case.replay, case.category, case.label, case.delivery, case.dimse_timeout),
             "    " + "; ".join(why),
             "    ours: %s, exit %s, %.2f s: %s" % (record["outcome"], record["our_exit"], record["our_seconds"], record["reason"]),
             "    echoscu: exit %s%s: %s" % (record["echoscu_exit"], " (killed)" if record["echoscu_killed"] else "", record["echoscu_reason"])]
    lines += ["    " + line for line in case.describe()]
    lines.append("    replay: make fuzz FUZZ_ARGS='--replay %s'" % case.replay)
    return lines


def replay(spec):
    seed, index = (int(part) for part in spec.split(":"))
    case = generate(seed, index, 0)

    async def one():
        scp, port = await start_scp([seed])
        try:
            return await run_case(case, port, tool("echoscu"), log_level="trace")
        finally:
            scp.terminate()
            await scp.wait()
    record = asyncio.run(one())
    print("case %s: %s (%s), delivery %s, dimse_timeout %s" % (case.replay, case.category, case.label, case.delivery, case.dimse_timeout))
    for line in case.describe():
        print("  " + line)
    print("ours: %s, echoscu_exit_code %s, %.2f s: %s" % (record["outcome"], record["our_exit"], record["our_seconds"], record["reason"]))
    print("\n".join("  " + line for line in record["our_log"] if not line.startswith("T: ")))
    print("echoscu: exit %s, echo %s" % (record["echoscu_exit"], "succeeded" if record["theirs_ok"] else "did not succeed"))
    print("\n".join("  " + line for line in record["echoscu_output"].splitlines()))
    return 1 if record["ours_ok"] and not record["theirs_ok"] else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="make fuzz FUZZ_ARGS=...", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--cases", type=int, default=400, help="cases in all, shared by the seeds (default 400)")
    parser.add_argument("--seed", action="append", default=[], help="a number or 'random' (repeatable; default: 1 and a random one)")
    parser.add_argument("--start", type=int, default=0, help="first case index (default 0)")
    parser.add_argument("--jobs", type=int, default=24, help="cases run at once, i.e. echoscu processes (default 24)")
    parser.add_argument("--replay", metavar="SEED:INDEX", help="run one case and show both sides in detail")
    parser.add_argument("--json", metavar="FILE", help="also write the counts and every disagreement as JSON")
    parser.add_argument("--progress", type=int, default=0, help="print a line every N cases")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay)
    seeds = [random.SystemRandom().randrange(1, 2 ** 31) if seed == "random" else int(seed) for seed in (args.seed or ["1", "random"])]
    per_seed = -(-args.cases // len(seeds))
    print("differential fuzzer: %d cases for each of the seeds %s, %d at a time (replay one with --replay SEED:INDEX)"
          % (per_seed, ", ".join(map(str, seeds)), args.jobs), flush=True)
    tally, wall = asyncio.run(run(seeds, per_seed, args.start, args.jobs, args.progress))
    print(report(tally, seeds, wall))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"seeds": seeds, "cases": tally.cases, "wall_seconds": round(wall, 1), "verdicts": tally.verdicts,
                       "by_category": tally.by_category, "by_delivery": tally.by_delivery,
                       "stricter": [{"category": k[0], "outcome": k[1], "reason": k[2], "count": len(v), "replay": v[:20]}
                                    for k, v in tally.stricter.items()],
                       "exit_mismatch": [{"outcome": k[0], "ours": k[1], "echoscu": k[2], "echoscu_reason": k[3], "count": len(v),
                                          "where": v[:20]} for k, v in tally.exit_mismatch.items()],
                       "failures": [{"replay": c.replay, "category": c.category, "label": c.label, "why": w, "bytes": c.describe(),
                                     "ours": r["outcome"], "echoscu_exit": r["echoscu_exit"]} for c, r, w in tally.failures],
                       "not_reproduced": [{"replay": c.replay, "category": c.category, "delivery": c.delivery, "why": w,
                                           "echoscu_reason": r["echoscu_reason"]} for c, r, w in tally.unconfirmed]},
                      handle, indent=1)
    if tally.failures:
        print("\nFAILED: %d case(s) where we are not at least as strict as echoscu, or a probe broke its bounds" % len(tally.failures))
        return 1
    return 0
