#!/usr/bin/env bash
# dicom_echo with TLS through ansible-playbook: a throwaway PKI and DCMTK storescp +tls peers on
# loopback (tests/peers/tls_peers.py), started here and always stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# ansible-test copies only this target and points ANSIBLE_COLLECTIONS_PATH at the directory holding
# ansible_collections/; run by hand, the collection is the checkout this target lives in.
if [[ -n "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    collection="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/dicom/network"
else
    collection="$(cd "$here/../../../.." && pwd)"
fi
peers="$collection/tests/peers/tls_peers.py"
python="$(command -v python || command -v python3)"

# tls_peers.py runs DCMTK's storescp from /usr/bin or /usr/local/bin, never pynetdicom's app of that name
if [[ ! -x /usr/bin/storescp && ! -x /usr/local/bin/storescp ]]; then
    echo "DCMTK's storescp not found (Debian: apt-get install dcmtk)" >&2
    exit 1
fi

work="$(mktemp -d)"
cleanup() {
    status=$?
    "$python" "$peers" stop "$work" || true
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

timeout 60 "$python" "$peers" start "$work"
timeout 300 ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$python" -e "@$work/vars.yml" "$here/tls.yml" "$@"
