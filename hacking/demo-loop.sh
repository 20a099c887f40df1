#!/usr/bin/env bash
# Run `make demo` RUNS times in a row, HOG_RUNS of them beside a CPU-bound process, and count passes
# and failures: the main job has to pass every time, also on a small, busy machine.
#
#   hacking/demo-loop.sh [RUNS] [HOG_RUNS]      default 20 runs, 10 of them with a hog
#
# The hog is `python3 -c 'while True: pass'`, started before the run and stopped after it; hog runs
# alternate with quiet ones. Each run's output is kept in demo-loop-output/run-NN[-hog].log (and its
# demo-output/ copied next to it when it failed). Exits 0 only when every run passed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${1:-20}
HOG_RUNS=${2:-10}
LOGS=$ROOT/demo-loop-output

case "$RUNS$HOG_RUNS" in
    *[!0-9]*) echo "demo-loop: RUNS and HOG_RUNS must be whole numbers (got '$RUNS' and '$HOG_RUNS')" >&2; exit 2 ;;
esac
if [ "$HOG_RUNS" -gt "$RUNS" ]; then
    echo "demo-loop: HOG_RUNS ($HOG_RUNS) cannot exceed RUNS ($RUNS)" >&2
    exit 2
fi

rm -rf "$LOGS"
mkdir -p "$LOGS"

HOG_PID=
stop_hog() {
    if [ -n "$HOG_PID" ]; then
        kill "$HOG_PID" 2>/dev/null || true
        wait "$HOG_PID" 2>/dev/null || true
        HOG_PID=
    fi
}
trap stop_hog EXIT
trap 'exit 130' INT TERM

# How close the noise came: of the endpoints not flagged as latency shifts in the second audit, the largest
# movement of the median and of the fastest echo against the first audit, next to the floor the demo uses.
closest_call() {
    "$ROOT/.venv/bin/python" - "$ROOT/demo-output/audit" <<'PY' 2>/dev/null || true
import json, os, sys
def rows(name):
    with open(os.path.join(sys.argv[1], name), encoding="utf-8") as handle:
        report = json.load(handle)
    return report, {row["name"]: row for row in report["endpoints"]}
_before, before = rows("audit-before.json")
after, now = rows("audit-after.json")
moves = []
for name, row in now.items():
    old, new = (before.get(name) or {}).get("rtt_stats"), row.get("rtt_stats")
    if old and new and not any(change["type"] == "latency" for change in row["changes"]):
        moves.append((abs(new["median"] - old["median"]), abs(new["min"] - old["min"])))
if moves:
    print("; unflagged endpoints moved up to %.1f ms (median), %.1f ms (fastest echo); floor %s ms"
          % (max(move[0] for move in moves), max(move[1] for move in moves), (after.get("baseline") or {}).get("latency_threshold_ms")))
PY
}

passed=0 failed=0 passed_hog=0 failed_hog=0 hogs=0
failures=()
for run in $(seq 1 "$RUNS"); do
    # Spread the hog runs: every other run, and all the remaining ones once only that many runs are left.
    left=$((RUNS - run + 1))
    hog=0
    if [ "$hogs" -lt "$HOG_RUNS" ] && { [ $((run % 2)) -eq 0 ] || [ "$left" -le $((HOG_RUNS - hogs)) ]; }; then
        hog=1
        hogs=$((hogs + 1))
    fi
    name=$(printf 'run-%02d' "$run")
    [ "$hog" -eq 1 ] && name=$name-hog
    if [ "$hog" -eq 1 ]; then
        python3 -c 'while True: pass' &
        HOG_PID=$!
    fi
    started=$SECONDS
    if make -C "$ROOT" --no-print-directory demo >"$LOGS/$name.log" 2>&1; then
        result=passed
        passed=$((passed + 1))
        [ "$hog" -eq 1 ] && passed_hog=$((passed_hog + 1))
    else
        result=FAILED
        failed=$((failed + 1))
        [ "$hog" -eq 1 ] && failed_hog=$((failed_hog + 1))
        failures+=("$name")
        cp -r "$ROOT/demo-output" "$LOGS/$name.demo-output" 2>/dev/null || true
    fi
    stop_hog
    printf '%s: %s in %d s%s%s\n' "$name" "$result" $((SECONDS - started)) "$(closest_call)" \
        "$([ "$result" = FAILED ] && grep -m1 -o 'Unexpected [a-z]* result: .*' "$LOGS/$name.log" | cut -c1-300 | sed 's/^/ - /')"
done

echo
echo "demo-loop: $passed of $RUNS runs passed, $failed failed"
echo "  without a CPU hog: $((passed - passed_hog)) passed, $((failed - failed_hog)) failed (of $((RUNS - hogs)))"
echo "  beside a CPU hog:  $passed_hog passed, $failed_hog failed (of $hogs)"
if [ "$failed" -gt 0 ]; then
    echo "  failed: ${failures[*]} (logs in $LOGS)"
    exit 1
fi
