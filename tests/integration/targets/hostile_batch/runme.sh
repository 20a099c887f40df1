#!/usr/bin/env bash
# Hostile peers among healthy Orthanc endpoints in one dicom_echo batch (tests/load/hostile_batch.py): the smaller
# variant, 200 healthy endpoints; `make hostile-load` runs the full one with 2,000. Fails if the healthy endpoints fail
# more often beside the hostile ones than without them, a hostile endpoint misses its outcome or bound, or the
# module's peak RSS passes 150 MB.
set -euo pipefail
# ansible-test points ANSIBLE_COLLECTIONS_PATH at the directory holding ansible_collections/.
if [[ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    echo "hostile_batch runs under ansible-test (make integration); by hand use: make hostile-load" >&2
    exit 1
fi
root="${ANSIBLE_COLLECTIONS_PATH%%:*}"
python="$(command -v python || command -v python3)"
cd "$root/ansible_collections/dicom/network"
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" timeout 900 "$python" -m ansible_collections.dicom.network.tests.load.hostile_batch \
    --healthy "${HOSTILE_HEALTHY:-200}"
