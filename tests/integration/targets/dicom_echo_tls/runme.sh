#!/usr/bin/env bash
# dicom_echo with TLS through ansible-playbook: a throwaway PKI and DCMTK storescp +tls peers on
# loopback (tests/peers/tls_peers.py), started here and always stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peers="$here/../../../peers/tls_peers.py"
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3 || command -v python)}"

if [ ! -x /usr/bin/storescp ] && [ ! -x /usr/local/bin/storescp ]; then
    echo "SKIP: DCMTK storescp not installed" >&2
    exit 0
fi

work="$(mktemp -d)"
cleanup() {
    "$python" "$peers" stop "$work" || true
    rm -rf "$work"
}
trap cleanup EXIT

timeout 60 "$python" "$peers" start "$work"
timeout 300 ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$python" -e "@$work/vars.yml" "$here/tls.yml" "$@"
