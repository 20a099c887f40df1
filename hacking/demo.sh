#!/usr/bin/env bash
# `make demo`: start loopback Verification SCPs, run playbooks/demo.yml (pacs_verify, then
# dicom_audit twice around a simulated change), print the summary and the report paths, and
# stop the SCPs whatever happens. No root needed; everything stays on 127.0.0.0/8.
#
#   hacking/demo.sh [PYTHON]        PYTHON: the virtualenv's python (default .venv/bin/python)
#   DEMO_ENDPOINTS=300 DEMO_PORT=24104 DEMO_PROBE_HOSTS=2   (environment, optional)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${1:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PY")
OUT=$ROOT/demo-output
ENDPOINTS=${DEMO_ENDPOINTS:-300}
PORT=${DEMO_PORT:-24104}
PROBE_HOSTS=${DEMO_PROBE_HOSTS:-2}

[ -x "$BIN/ansible-playbook" ] || { echo "demo: $BIN/ansible-playbook not found (run make demo)" >&2; exit 1; }

# A fresh output directory; the collection is found through a symlink to this checkout.
rm -rf "$OUT"
mkdir -p "$OUT/collections/ansible_collections/dicom"
ln -s "$ROOT" "$OUT/collections/ansible_collections/dicom/network"

"$PY" "$ROOT/hacking/demo_inventory.py" --out "$OUT" --endpoints "$ENDPOINTS" --port "$PORT" --probe-hosts "$PROBE_HOSTS"

"$PY" "$ROOT/hacking/demo_scp.py" --config "$OUT/listeners.json" --ready-file "$OUT/scp.ready" \
    --lifetime 900 >"$OUT/scp.log" 2>&1 &
SCP_PID=$!
stop_scp() {
    if kill -0 "$SCP_PID" 2>/dev/null; then
        kill "$SCP_PID" 2>/dev/null || true
        wait "$SCP_PID" 2>/dev/null || true
    fi
}
trap stop_scp EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 100); do
    [ -s "$OUT/scp.ready" ] && break
    kill -0 "$SCP_PID" 2>/dev/null || { echo "demo: the demo SCP did not start:" >&2; cat "$OUT/scp.log" >&2; exit 1; }
    sleep 0.1
done
[ -s "$OUT/scp.ready" ] || { echo "demo: the demo SCP did not get ready in 10 s" >&2; exit 1; }
echo "demo: SCP pid $SCP_PID serving $(cat "$OUT/scp.ready") on loopback, port $PORT"

export ANSIBLE_COLLECTIONS_PATH="$OUT/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_RETRY_FILES_ENABLED=false
cd "$OUT"
"$BIN/ansible-playbook" -i "$OUT/inventory.yml" dicom.network.demo \
    -e "demo_output=$OUT" -e "demo_scp_pid=$SCP_PID"

echo
echo "demo: reports in $OUT/verify and $OUT/audit; open $OUT/audit/audit-after.html in a browser."
