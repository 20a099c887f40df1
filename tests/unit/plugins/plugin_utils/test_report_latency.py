# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The latency rule of the baseline comparison (docs/reports.md, "Latency shifts"): no shift on noise, a shift on a
real step, on loopback and on a slow link, with baselines of this schema and of schema 1.

The sample sets are drawn from seeded generators shaped like what was measured: a loopback echo of ~0.2 ms with the
occasional scheduler spike; the same echo from a busy probe host, where a whole association waits (an offset shared
by its echoes) and single echoes wait longer; a WAN link of 40 ms median with 5 ms jitter.
"""

from __future__ import annotations

import json
import random
import statistics

import pytest

from ansible_collections.dicom.network.plugins.plugin_utils import _report_diff, _report_render, _reports

TRIALS = 200


# ---- sample generators ----------------------------------------------------------------------


def loopback(rng, n, step=0.0):
    """A quiet loopback echo: 0.2 ms, a little jitter, now and then a scheduler hiccup of a few ms."""
    return [step + 0.2 + abs(rng.gauss(0, 0.03)) + (rng.expovariate(1 / 2.0) if rng.random() < 0.1 else 0.0) for _echo in range(n)]


def busy_loopback(rng, n, step=0.0):
    """Loopback from a probe host under CPU load: the association waits 0-15 ms as a whole, each echo up to more."""
    offset = rng.uniform(0, 15)
    return [step + 0.2 + offset + rng.expovariate(1 / 3.0) for _echo in range(n)]


def busy_event_loop(rng, n, step=0.0):
    """What make demo measured on two cores before this rule (issue 8): loopback echoes of 25-110 ms, median ~35 ms;
    user-space timestamps of a probe whose event loop serves 128 associations."""
    offset = rng.uniform(20, 40)
    return [step + offset + rng.expovariate(1 / 6.0) + (rng.uniform(20, 60) if rng.random() < 0.1 else 0.0) for _echo in range(n)]


def wan(rng, n, step=0.0):
    """A slow link: 40 ms median, 5 ms jitter."""
    return [max(1.0, step + rng.gauss(40.0, 5.0)) for _echo in range(n)]


def busy_wan(rng, n, step=0.0):
    """The slow link from a busy probe host: the link's jitter plus the host's own delays."""
    offset = rng.uniform(0, 15)
    return [max(1.0, step + offset + rng.gauss(40.0, 5.0) + rng.expovariate(1 / 3.0)) for _echo in range(n)]


SCENARIOS = {"loopback": loopback, "busy_loopback": busy_loopback, "busy_event_loop": busy_event_loop, "wan": wan, "busy_wan": busy_wan}

# A step each scenario's noise cannot hide from the default rule (floor 20 ms, 25 %, 3 standard errors), in ms. The
# noisier the measurement, the larger the step must be: that is the rule's purpose. 60 ms is what the integration test
# adds on loopback; on the slow link the relative part (25 % of 40 ms) and the jitter come on top.
DETECTED_STEP = {"loopback": 60.0, "busy_loopback": 60.0, "wan": 80.0, "busy_wan": 100.0, "busy_event_loop": 150.0}


# ---- results and reports ----------------------------------------------------------------------


def probe_result(name, samples, timing_source="kernel"):
    """A successful dicom_echo result with these echo round trips (the keys the reports read)."""
    samples = [round(value, 3) for value in samples]
    return {
        "name": name, "changed": False, "success": True, "outcome": "success",
        "msg": "C-ECHO to ARCHIVE@127.0.0.1:104 succeeded: %d/%d echoes" % (len(samples), len(samples)),
        "echoscu_exit_code": 0,
        "endpoint": {"host": "127.0.0.1", "port": 104, "address": "127.0.0.1", "ip_protocol": "ipv4", "calling_aet": "ECHOSCU",
                     "called_aet": "ARCHIVE"},
        "association": {"established": True, "released": True, "rejection": None, "abort": None, "peer_max_pdu": 16384},
        "accepted_transfer_syntaxes": ["1.2.840.10008.1.2"],
        "echoes": [{"message_id": index + 1, "status": 0, "status_text": "Success", "rtt_ms": value} for index, value in enumerate(samples)],
        "rtt_ms": {"min": min(samples), "avg": round(sum(samples) / len(samples), 3), "max": max(samples),
                   "stdev": round(statistics.pstdev(samples), 3)},
        "timing_ms": {"connect": 0.1, "associate": 0.5, "echo": round(sum(samples), 3), "release": 0.2, "total": 1.0},
        "tls": None,
        "timing_source": timing_source,
        "log": [],
    }


def audit(samples_by_name):
    endpoints = [{"name": name, "host": "127.0.0.1", "probe_from": "localhost"} for name in samples_by_name]
    return _reports.build_audit_report(endpoints, [probe_result(name, samples) for name, samples in samples_by_name.items()])


def as_baseline(report):
    return json.loads(_report_render.render_json(report))


def schema1(report):
    """A report as schema 1 wrote it: no rtt_stats; the echoes only in each row's probe."""
    old = as_baseline(report)
    old["schema_version"] = 1
    for row in old["endpoints"]:
        del row["rtt_stats"]
    return old


def latency_changes(report):
    return {row["name"]: change for row in report["endpoints"] for change in row["changes"] if change["type"] == "latency"}


def row(samples):
    """The report row of one endpoint with these echo round trips."""
    return audit({"x": samples})["endpoints"][0]


# ---- the statistics kept per row ----------------------------------------------------------------


def test_rtt_stats_are_robust_statistics_of_the_echoes():
    stats = _reports.rtt_stats(probe_result("x", [0.31, 0.2, 0.25, 12.0, 0.22]))
    # sorted 0.2, 0.22, 0.25, 0.31, 12.0: median 0.25; deviations 0.05, 0.03, 0, 0.06, 11.75 -> MAD 0.05
    assert stats == {"samples": 5, "min": 0.2, "median": 0.25, "mad": 0.05, "max": 12.0, "timing_source": "kernel"}


def test_rtt_stats_without_echoes_use_the_summary():
    result = probe_result("x", [1.0, 2.0, 6.0])
    del result["echoes"]
    assert _reports.rtt_stats(result) == {"samples": None, "min": 1.0, "median": 3.0, "mad": None, "max": 6.0, "timing_source": "kernel"}
    result["rtt_ms"]["median"] = 2.0
    assert _reports.rtt_stats(result)["median"] == 2.0
    assert _reports.rtt_stats({"outcome": "connection_refused", "echoes": [], "rtt_ms": None}) is None


def test_report_rows_carry_rtt_stats():
    report = audit({"a": [0.3, 0.2, 0.4]})
    assert report["schema_version"] == 2
    assert report["endpoints"][0]["rtt_stats"] == {"samples": 3, "min": 0.2, "median": 0.3, "mad": 0.1, "max": 0.4, "timing_source": "kernel"}


# ---- the rule --------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_no_shift_on_noise(scenario):
    """Two runs of an unchanged endpoint, 5 echoes each: never a latency shift."""
    rng = random.Random("noise-" + scenario)
    draw = SCENARIOS[scenario]
    flagged = []
    for trial in range(TRIALS):
        before, after = draw(rng, 5), draw(rng, 5)
        change = _report_diff.latency_change(row(before), row(after))
        if change:
            flagged.append("trial %d: %s (before %s, after %s)" % (trial, change["message"], before, after))
    assert not flagged, "%s: %d of %d unchanged endpoints flagged, e.g. %s" % (scenario, len(flagged), TRIALS, flagged[0])


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_shift_on_a_real_step(scenario):
    """The same endpoint slower by DETECTED_STEP (and, the other way round, faster): always a shift, in that direction."""
    rng = random.Random("step-" + scenario)
    draw, step = SCENARIOS[scenario], DETECTED_STEP[scenario]
    missed = []
    for trial in range(TRIALS):
        before, after = draw(rng, 5), draw(rng, 5, step=step)
        slower = _report_diff.latency_change(row(before), row(after))
        faster = _report_diff.latency_change(row(after), row(before))
        if not slower or slower["after"] <= slower["before"]:
            missed.append("trial %d slower: before %s, after %s" % (trial, before, after))
        if not faster or faster["after"] >= faster["before"]:
            missed.append("trial %d faster: before %s, after %s" % (trial, after, before))
    assert not missed, "%s: %d of %d steps of %s ms missed, e.g. %s" % (scenario, len(missed), 2 * TRIALS, step, missed[0])


def test_a_step_within_the_noise_of_a_slow_link_is_not_a_shift():
    """On the 40 ms link, 20 ms more is within floor, relative part and jitter: not reported, however often it is drawn."""
    rng = random.Random("small-step")
    flagged = [trial for trial in range(TRIALS) if _report_diff.latency_change(row(wan(rng, 5)), row(wan(rng, 5, step=20.0)))]
    assert not flagged, "a 20 ms step on a 40 ms +- 5 ms link was flagged in trials %s" % flagged[:10]


def test_the_fastest_echo_must_move_too():
    """Four echoes waited for a busy host, the fastest did not: that is our own delay, not the peer's."""
    quiet = [0.21, 0.2, 0.22, 0.2, 0.23]
    assert _report_diff.latency_change(row(quiet), row([0.2, 30.0, 31.0, 32.0, 33.0])) is None
    step = _report_diff.latency_change(row(quiet), row([60.2, 60.3, 60.25, 61.0, 60.21]))
    assert step is not None and step["before"] == 0.21 and step["after"] == 60.25


def test_threshold_grows_with_the_spread_of_either_run():
    quiet, noisy = _reports.rtt_stats(probe_result("q", [40.0, 40.1, 39.9, 40.2, 39.8])), _reports.rtt_stats(probe_result("n", [30, 35, 40, 45, 50]))
    floor_and_part = 20.0 + 0.25 * 40.0
    both_quiet = _report_diff.latency_threshold(quiet, quiet, 20.0, 25.0, 3.0)
    assert floor_and_part < both_quiet < floor_and_part + 1.0
    assert _report_diff.latency_threshold(noisy, quiet, 20.0, 25.0, 3.0) > both_quiet + 5
    assert _report_diff.latency_threshold(quiet, noisy, 20.0, 25.0, 3.0) > both_quiet + 5
    assert _report_diff.latency_threshold(noisy, quiet, 20.0, 25.0, 0.0) == floor_and_part


def test_unknown_spread_is_taken_from_the_other_run():
    one_echo = _reports.rtt_stats(probe_result("one", [40.0]))
    noisy = _reports.rtt_stats(probe_result("n", [30, 35, 40, 45, 50]))
    quiet = _reports.rtt_stats(probe_result("q", [40.0, 40.1, 39.9, 40.2, 39.8]))
    assert _report_diff.latency_threshold(one_echo, noisy, 20.0, 25.0, 3.0) > _report_diff.latency_threshold(one_echo, quiet, 20.0, 25.0, 3.0) + 10
    assert _report_diff.latency_threshold(one_echo, one_echo, 20.0, 25.0, 3.0) == 30.0  # nothing known: floor and relative part


def test_knobs_change_the_verdict():
    before, after = row([10.0, 10.2, 9.9, 10.1, 10.0]), row([40.0, 40.2, 39.9, 40.1, 40.0])
    assert _report_diff.latency_change(before, after) is not None  # 30 ms over a floor of 20
    assert _report_diff.latency_change(before, after, latency_ms=35.0) is None
    assert _report_diff.latency_change(before, after, latency_pct=200.0) is None
    assert _report_diff.latency_change(row([10.0, 5.0, 15.0, 8.0, 12.0]), after, noise_factor=20.0) is None


# ---- through compare_baseline, with this schema and schema 1 ------------------------------------


def fleet(rng, draw, names, slow=(), step=0.0):
    return {name: draw(rng, 5, step=step if name in slow else 0.0) for name in names}


@pytest.mark.parametrize("old_schema", [False, True], ids=["schema2", "schema1"])
def test_fleet_unchanged_then_two_endpoints_slower(old_schema):
    rng = random.Random("fleet")
    names = ["node%03d" % number for number in range(300)]
    baseline = audit(fleet(rng, busy_loopback, names))
    baseline = schema1(baseline) if old_schema else as_baseline(baseline)

    unchanged = audit(fleet(rng, busy_loopback, names))
    _report_diff.compare_baseline(unchanged, baseline)
    assert unchanged["summary"]["changes"] == {}, "unchanged fleet: %s" % latency_changes(unchanged)
    assert unchanged["baseline"]["schema_version"] == (1 if old_schema else 2)

    slower = audit(fleet(rng, busy_loopback, names, slow=("node007", "node150"), step=60.0))
    _report_diff.compare_baseline(slower, baseline)
    flagged = latency_changes(slower)
    assert sorted(flagged) == ["node007", "node150"], "flagged: %s" % {name: change["message"] for name, change in flagged.items()}
    assert slower["summary"]["changes"] == {"latency": 2} and slower["summary"]["regressions"] == 0
    message = flagged["node007"]["message"]
    assert "median of 5 echoes" in message and "noise allows" in message, message
    assert slower["baseline"]["latency_threshold_ms"] == 20.0 and slower["baseline"]["latency_noise_factor"] == 3.0


def test_schema1_baseline_with_one_echo_each():
    """Before this rule the role sent one echo: the baseline has one sample per endpoint and no spread."""
    rng = random.Random("one-echo")
    names = ["node%03d" % number for number in range(100)]
    old = schema1(audit({name: busy_loopback(rng, 1) for name in names}))
    unchanged = audit(fleet(rng, busy_loopback, names))
    _report_diff.compare_baseline(unchanged, old)
    assert unchanged["summary"]["changes"] == {}, "unchanged fleet: %s" % latency_changes(unchanged)
    slower = audit(fleet(rng, busy_loopback, names, slow=("node042",), step=60.0))
    _report_diff.compare_baseline(slower, old)
    assert sorted(latency_changes(slower)) == ["node042"], latency_changes(slower)


def test_schema1_baseline_without_probe_details_uses_the_summary():
    """A schema 1 row stripped of its probe: the average of rtt_ms stands in for the median."""
    rng = random.Random("summary-only")
    names = ["a", "b"]
    old = schema1(audit({name: loopback(rng, 5) for name in names}))
    for entry in old["endpoints"]:
        entry["probe"] = None
    now = audit({"a": loopback(rng, 5), "b": loopback(rng, 5, step=60.0)})
    _report_diff.compare_baseline(now, old)
    assert sorted(latency_changes(now)) == ["b"], latency_changes(now)
    assert latency_changes(now)["b"]["before"] == old["endpoints"][1]["rtt_ms"]["avg"]


def test_a_change_of_timing_source_is_named():
    """A baseline timed in user space (TLS, or before kernel timestamps) against one timed by the kernel: the message says so."""
    old = _reports.build_audit_report([{"name": "a", "host": "127.0.0.1"}], [probe_result("a", [35.0, 30.0, 40.0, 33.0, 31.0], "user")])
    now = _reports.build_audit_report([{"name": "a", "host": "127.0.0.1"}], [probe_result("a", [95.0, 90.0, 99.0, 93.0, 91.0])])
    _report_diff.compare_baseline(now, as_baseline(old))
    message = latency_changes(now)["a"]["message"]
    assert message.endswith("timed by user before, by kernel now"), message
    same = audit({"a": [95.0, 90.0, 99.0, 93.0, 91.0]})
    _report_diff.compare_baseline(same, as_baseline(audit({"a": [35.0, 30.0, 40.0, 33.0, 31.0]})))
    assert "timed by" not in latency_changes(same)["a"]["message"]


def test_schema1_baseline_file_loads(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps(schema1(audit({"a": [0.2, 0.3, 0.25]}))))
    assert _report_diff.load_baseline(str(path))["schema_version"] == 1


def test_no_latency_change_without_echoes_on_either_side():
    report = audit({"a": [0.2, 0.3, 0.25]})
    down = _reports.build_audit_report([{"name": "a", "host": "127.0.0.1"}],
                                       [dict(probe_result("a", [1.0]), success=False, outcome="connection_refused", echoes=[], rtt_ms=None)])
    _report_diff.compare_baseline(down, as_baseline(report))
    assert [change["type"] for change in down["endpoints"][0]["changes"]] == ["regression"]
    assert _report_diff.latency_change({"rtt_stats": None, "probe": None, "rtt_ms": None}, row([1.0])) is None
