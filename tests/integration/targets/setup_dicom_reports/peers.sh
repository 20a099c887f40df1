# Sourced by the role_* targets' runme.sh: start and stop DICOM peers from tests/peers/ on loopback.
#
#   peer_start NAME KIND [ARGS...]       tests/peers (storescp, dcmqrscp, orthanc, closed_port, faulty modes)
#   peer_port NAME / peer_field NAME KEY  what it listens on
#   faulty_start NAME MODE PORT [k=v...] a faulty peer on a given port (for "same endpoint, new behaviour")
#   faulty_stop NAME
#   find_start NAME MODE PORT [k=v...]   a tests/peers/find_scp.py C-FIND peer (leaky, flood, status ...); stopped like faulty ones
#   peers_stop_all                       everything started here (also run by the EXIT trap)
#   tls_start DIR / tls_stop DIR         tests/peers/tls_peers.py: a PKI and storescp +tls peers (DIR/vars.yml)
# shellcheck shell=bash

# ansible-test copies the targets and points ANSIBLE_COLLECTIONS_PATH at the directory holding
# ansible_collections/; run by hand, the collection is the checkout these targets live in.
if [[ -n "${ANSIBLE_COLLECTIONS_PATH:-}" && -d "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/dicom/network/tests/peers" ]]; then
    COLLECTION_ROOT="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/dicom/network"
else
    COLLECTION_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
fi
PEER_DIR=${OUTPUT_DIR:-$(mktemp -d)}/peers
mkdir -p "$PEER_DIR"
export PYTHONPATH="$COLLECTION_ROOT${PYTHONPATH:+:$PYTHONPATH}"
PEER_PY=${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python || command -v python3)}

peer_start() {
    local name=$1
    shift
    "$PEER_PY" -m tests.peers start "$name" "$@" --dir "$PEER_DIR" --lifetime 900 >/dev/null
}

peer_field() {
    "$PEER_PY" -m tests.peers get "$1" "$2" --dir "$PEER_DIR"
}

peer_port() {
    peer_field "$1" port
}

# A foreground peer CLI (python -m MODULE MODE ... --port PORT) in the background; ready once it printed its JSON line.
_background_peer() {
    local module=$1 name=$2 mode=$3 port=$4
    shift 4
    "$PEER_PY" -m "$module" "$mode" "$@" --port "$port" --lifetime 900 >"$PEER_DIR/$name.faulty" 2>"$PEER_DIR/$name.faulty.log" &
    echo $! >"$PEER_DIR/$name.faulty.pid"
    local _
    for _ in $(seq 1 200); do
        [ -s "$PEER_DIR/$name.faulty" ] && return 0
        sleep 0.05
    done
    echo "peer $name ($module $mode) did not start:" >&2
    cat "$PEER_DIR/$name.faulty.log" >&2
    return 1
}

faulty_start() {
    _background_peer tests.peers.faulty "$@"
}

find_start() {
    _background_peer tests.peers.find_scp "$@"
}

faulty_stop() {
    local pidfile="$PEER_DIR/$1.faulty.pid"
    if [ -f "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        wait "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile" "$PEER_DIR/$1.faulty"
    fi
}

peers_stop_all() {
    local pidfile
    for pidfile in "$PEER_DIR"/*.faulty.pid; do
        [ -e "$pidfile" ] || continue
        faulty_stop "$(basename "$pidfile" .faulty.pid)"
    done
    "$PEER_PY" -m tests.peers stop-all --dir "$PEER_DIR" >/dev/null || true
}

free_port() {
    "$PEER_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

tls_start() {
    timeout 60 "$PEER_PY" "$COLLECTION_ROOT/tests/peers/tls_peers.py" start "$1"
}

tls_stop() {
    "$PEER_PY" "$COLLECTION_ROOT/tests/peers/tls_peers.py" stop "$1" || true
}
