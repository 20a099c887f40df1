#!/usr/bin/env bash
# The differential fuzzer's short run (tests/fuzz, docs/dev/fuzzing.md): 400 generated answers, half with a fixed
# seed and half with a random one (printed, so a failure can be replayed), each played to the engine and to DCMTK's
# echoscu at once. Fails if the engine reports success where echoscu does not, or a probe breaks its bounds.
# By hand: `make fuzz` (same run, from the build tree).
set -euo pipefail
# ansible-test points ANSIBLE_COLLECTIONS_PATH at the directory holding ansible_collections/.
if [[ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    echo "fuzz_differential runs under ansible-test (make integration); by hand use: make fuzz" >&2
    exit 1
fi
root="${ANSIBLE_COLLECTIONS_PATH%%:*}"
python="$(command -v python || command -v python3)"
cd "$root/ansible_collections/dicom/network"
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" timeout 600 "$python" -m ansible_collections.dicom.network.tests.fuzz \
    --cases "${FUZZ_CASES:-400}" --seed 20250601 --seed random --jobs 24
