#!/usr/bin/env bash
# dicom_echo through ansible-playbook against real peers (DCMTK storescp/dcmqrscp, Orthanc) and
# misbehaving ones from tests/peers, all on loopback, all stopped on exit.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
# ansible-test copies only this target and points ANSIBLE_COLLECTIONS_PATH at the directory holding
# ansible_collections/; run by hand, the collection is the checkout this target lives in.
if [[ -n "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    root="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/dicom/network"
else
    root="$(cd "$here/../../../.." && pwd)"
fi
state=$(mktemp -d)
peers() { (cd "$root" && python -m tests.peers "$@" --dir "$state" --lifetime 900) >/dev/null; }
trap '(cd "$root" && python -m tests.peers stop-all --dir "$state") || true; rm -rf "$state"' EXIT

peers start storescp storescp
peers start qrscp dcmqrscp
peers start orthanc orthanc
peers start silent silent
peers start status echo_status status=0x0110
peers start closed closed_port

timeout 600 ansible-playbook -i localhost, -c local -e "peer_state=$state" -e "ansible_python_interpreter=$(command -v python)" "$here/main.yml" "$@"
