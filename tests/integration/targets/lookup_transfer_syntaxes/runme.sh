#!/usr/bin/env bash
# The transfer_syntaxes lookup and the ts_name/ts_uid filters against real peers on loopback:
# DCMTK storescp in several preferences, Orthanc, a pynetdicom storescp on ::1, a refusing storescp
# and a closed port. oracles.py asks the same peers with pynetdicom's own requestor and with
# `echoscu -d`; the playbook compares the lookup's answers with theirs.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# ansible-test points ANSIBLE_COLLECTIONS_PATH at the directory holding ansible_collections/;
# run by hand, the collection is the checkout this target lives in.
if [[ -n "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    collection="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/dicom/network"
else
    collection="$(cd "$here/../../../.." && pwd)"
fi
work="${OUTPUT_DIR:-$(mktemp -d)}/lookup_transfer_syntaxes"
state="$work/peers"
extra="$work/extra"
mkdir -p "$state" "$extra"
python="$(command -v python || command -v python3)"

peers() { (cd "$collection" && "$python" -m tests.peers "$@"); }
v6_pid=""
cleanup() {
    status=$?
    if [[ -n "$v6_pid" ]]; then kill "$v6_pid" 2>/dev/null || true; fi
    peers stop-all --dir "$state" >/dev/null 2>&1 || true
    if [[ $status -ne 0 ]]; then
        for log in "$state"/*.log "$extra"/*.log; do [[ -f "$log" ]] && { echo "== $log"; tail -n 20 "$log"; }; done
    fi
    exit $status
}
trap cleanup EXIT

start() { peers start "$@" --dir "$state" --lifetime 1200 >/dev/null; }
start storescp storescp                 # default: prefers Explicit VR local endian, accepts the uncompressed three
start storescp_xs storescp +xs          # + JPEG Lossless SV1
start storescp_xv storescp +xv          # + JPEG 2000 lossless
start storescp_xi storescp +xi          # Implicit VR Little Endian only
start storescp_xb storescp +xb          # prefers Explicit VR Big Endian
start storescp_xa storescp +xa          # every syntax storescp 3.6.7 knows (compressed ones included)
start refusing storescp --refuse        # A-ASSOCIATE-RJ 1/1/1 to everybody
start orthanc orthanc                   # checks the called AE title (ORTHANC)
start closed closed_port

# DCMTK 3.6.7 and Orthanc listen on IPv4 only (tests/peers/real.py): pynetdicom's storescp on ::1.
v6_port="$("$python" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1]); s.close()')"
"$python" -m pynetdicom storescp --ae-title V6SCP --bind-address ::1 --ignore "$v6_port" >"$extra/v6.log" 2>&1 &
v6_pid=$!
"$python" - "$v6_port" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 30
while True:
    try:
        socket.create_connection(("::1", int(sys.argv[1])), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("pynetdicom storescp on [::1]:%s did not come up" % sys.argv[1])
        time.sleep(0.1)
PY
printf '{"host": "::1", "port": %s, "aet": "V6SCP"}\n' "$v6_port" >"$extra/v6.json"

PYTHONPATH="${collection%/ansible_collections/dicom/network}${PYTHONPATH:+:$PYTHONPATH}" \
    "$python" "$here/oracles.py" "$state:$extra" \
    storescp storescp_xs storescp_xv storescp_xi storescp_xb storescp_xa orthanc v6 refusing:none closed:none \
    >"$work/oracles.json"

ANSIBLE_COLLECTIONS_PATH="${collection%/ansible_collections/dicom/network}" \
    ansible-playbook -i localhost, -c local "$here/main.yml" -e "@$work/oracles.json" "$@"
