# Sourced by the role_* targets' runme.sh: start and stop DICOM peers from tests/peers/ on loopback.
#
#   peer_start NAME KIND [ARGS...]       tests/peers (storescp, dcmqrscp, orthanc, closed_port, faulty modes)
#   peer_port NAME / peer_field NAME KEY  what it listens on
#   faulty_start NAME MODE PORT [k=v...] a faulty peer on a given port (for "same endpoint, new behaviour")
#   faulty_stop NAME
#   peers_stop_all                       everything started here (also run by the EXIT trap)
# shellcheck shell=bash

COLLECTION_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
PEER_DIR=${OUTPUT_DIR:-$(mktemp -d)}/peers
mkdir -p "$PEER_DIR"
export PYTHONPATH="$COLLECTION_ROOT${PYTHONPATH:+:$PYTHONPATH}"
PEER_PY=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}

# pynetdicom installs console scripts named storescp, echoscp and qrscp into the virtualenv, which
# shadow DCMTK's programs when the virtualenv comes first on PATH: the peers get DCMTK's own.
PEER_BIN=$PEER_DIR/bin
mkdir -p "$PEER_BIN"
for tool in storescp dcmqrscp echoscu; do
    if [ -x "/usr/bin/$tool" ]; then
        ln -sf "/usr/bin/$tool" "$PEER_BIN/$tool"
    fi
done

peer_start() {
    local name=$1
    shift
    PATH="$PEER_BIN:$PATH" "$PEER_PY" -m tests.peers start "$name" "$@" --dir "$PEER_DIR" --lifetime 900 >/dev/null
}

peer_field() {
    "$PEER_PY" -m tests.peers get "$1" "$2" --dir "$PEER_DIR"
}

peer_port() {
    peer_field "$1" port
}

faulty_start() {
    local name=$1 mode=$2 port=$3
    shift 3
    "$PEER_PY" -m tests.peers.faulty "$mode" "$@" --port "$port" --lifetime 900 >"$PEER_DIR/$name.faulty" 2>"$PEER_DIR/$name.faulty.log" &
    echo $! >"$PEER_DIR/$name.faulty.pid"
    local _
    for _ in $(seq 1 100); do
        [ -s "$PEER_DIR/$name.faulty" ] && return 0
        sleep 0.05
    done
    echo "faulty peer $name ($mode) did not start:" >&2
    cat "$PEER_DIR/$name.faulty.log" >&2
    return 1
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
