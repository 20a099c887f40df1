#!/usr/bin/env bash
# dicom_audit's latency comparison against a real peer: 300 inventory hosts, all Orthanc on loopback, two of them
# through tests/peers/delay_proxy.py. Audited twice with nothing changed, the second time beside a CPU hog and
# compared with the first: no regression, no latency shift, no change at all. Then the proxy holds Orthanc's answers
# back 60 ms, the inventory unchanged: exactly those two endpoints are latency shifts. Role defaults throughout.
set -euo pipefail

# shellcheck source=../setup_dicom_reports/peers.sh
source ../setup_dicom_reports/peers.sh
ENDPOINTS=300
SLOW=node100,node200
ECHOES=5  # dicom_audit_echo_repeat's default, which rtt_stats must show
WORK=$OUTPUT_DIR/dicom_audit_latency
rm -rf "$WORK"
mkdir -p "$WORK"

PROXY_PID=
HOG_PID=
stop_pid() {
    if [ -n "$1" ]; then
        kill "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}
cleanup() {
    stop_pid "$HOG_PID"
    stop_pid "$PROXY_PID"
    peers_stop_all
}
trap cleanup EXIT

peer_start orthanc orthanc
ORTHANC=$(peer_port orthanc)
PROXY_PORT=$(free_port)

# The proxy on PROXY_PORT, delaying Orthanc's answers by $1 ms; restarted in place to change the delay.
proxy_start() {
    stop_pid "$PROXY_PID"
    rm -f "$WORK/proxy.out"
    "$PEER_PY" -m tests.peers.delay_proxy --target-port "$ORTHANC" --port "$PROXY_PORT" --delay-ms "$1" --lifetime 900 \
        >"$WORK/proxy.out" 2>"$WORK/proxy.log" &
    PROXY_PID=$!
    local _
    for _ in $(seq 1 100); do
        [ -s "$WORK/proxy.out" ] && return 0
        kill -0 "$PROXY_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "the delay proxy (port $PROXY_PORT, $1 ms) did not start:" >&2
    cat "$WORK/proxy.log" >&2
    exit 1
}

audit() {
    local basename=$1
    shift
    SECONDS=0
    ansible-playbook -i "$WORK/inventory.json" audit.yml -e "dicom_audit_report_dir=$WORK/reports" \
        -e "dicom_audit_report_basename=$basename" -e '{"dicom_audit_report_formats": ["json"], "dicom_audit_checks": []}' "$@" \
        >"$WORK/$basename.log" 2>&1 \
        || { cat "$WORK/$basename.log"; echo "the audit $basename failed"; exit 1; }
    echo "$basename: audit of $ENDPOINTS endpoints took $SECONDS s"
}

"$PEER_PY" inventory.py "$WORK/inventory.json" "$ENDPOINTS" "$ORTHANC" "$PROXY_PORT" "$SLOW"
proxy_start 0

echo "== 1. baseline: $ENDPOINTS endpoints, nothing else running"
audit run1
"$PEER_PY" check_latency.py "$WORK/reports/run1.json" "$ENDPOINTS" "$ECHOES"

echo "== 2. the same fleet beside a CPU hog, against the first audit: nothing changed, nothing may be reported"
"$PEER_PY" -c 'while True: pass' &
HOG_PID=$!
audit run2 -e "dicom_audit_baseline=$WORK/reports/run1.json"
stop_pid "$HOG_PID"
HOG_PID=
"$PEER_PY" check_latency.py "$WORK/reports/run2.json" "$ENDPOINTS" "$ECHOES" --baseline "$WORK/reports/run1.json" --shifted ''

echo "== 3. $SLOW 60 ms slower (the proxy holds Orthanc's answers back), against the first audit"
proxy_start 60
audit run3 -e "dicom_audit_baseline=$WORK/reports/run1.json"
"$PEER_PY" check_latency.py "$WORK/reports/run3.json" "$ENDPOINTS" "$ECHOES" --baseline "$WORK/reports/run1.json" --shifted "$SLOW"

echo "role_dicom_audit_latency: all scenarios passed"
