#!/usr/bin/env bash
# The engine against real DCMTK and Orthanc peers on loopback, with DCMTK's echoscu as the oracle:
# storescp in several transfer syntax preferences, dcmqrscp with an AE table, Orthanc (test_engine_real_peers.py),
# storescp +tls behind a throwaway PKI (test_tls.py), hostile peers beside echoscu (test_engine_hostile_echoscu.py),
# the C-FIND probe and tls_version against Orthanc, dcmqrscp, wlmscpfs and storescp +tls (test_engine_find.py), and
# the checks' verdicts (test_check_verdicts.py). These start real servers and need Debian's dcmtk and orthanc, so they
# live here and not in tests/unit (which stays fast and dependency-free); they fail, never
# skip, when a peer is missing.
set -euo pipefail
if [[ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    echo "engine_dcmtk_peers runs under ansible-test (make integration INTEGRATION_ARGS=engine_dcmtk_peers)" >&2
    exit 1
fi
root="${ANSIBLE_COLLECTIONS_PATH%%:*}"
here="$(cd "$(dirname "$0")" && pwd)"
python="$(command -v python || command -v python3)"
cd "$root/ansible_collections/dicom/network"
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" timeout 1200 "$python" -m pytest -q -p no:cacheprovider \
    -o "tmp_path_retention_policy=none" "$here/test_engine_real_peers.py" "$here/test_tls.py" "$here/test_engine_hostile_echoscu.py" \
    "$here/test_engine_find.py" "$here/test_check_verdicts.py"
