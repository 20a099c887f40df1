#!/usr/bin/env bash
# The checks beyond the echo, through the roles and dicom_find, against real peers with known settings:
# Orthanc with called-AE checking on and off and a registered modality (DicomModalities, DicomAlwaysAllowFind
# false), DCMTK dcmqrscp (AE table), storescp (accepts any AE), wlmscpfs (worklist), DCMTK storescp over TLS
# restricted to TLS 1.2+ and one allowing 1.0/1.1 (BCP 195), and a pynetdicom peer that returns patient data
# for any query. Every check's verdict and finding is asserted, every report format parsed back, and every
# report grepped for the patient-level values the peers hold.
set -euo pipefail

# shellcheck source=../setup_dicom_reports/peers.sh
source ../setup_dicom_reports/peers.sh
TLS_DIR=$(mktemp -d)
trap 'peers_stop_all; tls_stop "$TLS_DIR"; rm -rf "$TLS_DIR"' EXIT
CHECK=("$PEER_PY" ../setup_dicom_reports/check_reports.py)
WORK=$OUTPUT_DIR/role_checks
rm -rf "$WORK"
mkdir -p "$WORK"
SECRETS='["CHECKS^SECRET^PATIENT", "CHECKS-SECRET-ID", "WORKLIST^SECRET", "WL-SECRET-ID", "WLSECRETACC",
           "LEAKY^SECRET^PATIENT", "SECRET-ID-4711", "SECRETACC0815", "19230405"]'

peer_start orthanc_checked orthanc 'modalities={"reg": "REGISTERED"}' always_allow_find=false \
    'studies=[{"PatientName": "CHECKS^SECRET^PATIENT", "PatientID": "CHECKS-SECRET-ID"}]'
peer_start orthanc_open orthanc title=ARCHIVE check_called_aet=false 'modalities={"reg": "REGISTERED"}' always_allow_find=false
peer_start qr dcmqrscp
peer_start storescp storescp
peer_start wl wlmscpfs 'worklist=[{"PatientName": "WORKLIST^SECRET", "PatientID": "WL-SECRET-ID", "AccessionNumber": "WLSECRETACC"}]'
peer_start closed closed_port
LEAKY=$(free_port)
find_start leaky leaky "$LEAKY" matches=5
tls_start "$TLS_DIR"
tls_port() { "$PEER_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["tls_ports"][sys.argv[2]])' "$TLS_DIR/vars.yml" "$1"; }
CA=$("$PEER_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["pki"]["ca.pem"])' "$TLS_DIR/vars.yml")
cat >"$WORK/ports.json" <<JSON
{"orthanc_checked": $(peer_port orthanc_checked), "orthanc_open": $(peer_port orthanc_open), "qr": $(peer_port qr),
 "storescp": $(peer_port storescp), "wl": $(peer_port wl), "closed": $(peer_port closed), "leaky": $LEAKY,
 "tls_modern": $(tls_port anonymous), "tls_legacy": $(tls_port legacy), "plain": $(tls_port plain), "ca": "$CA"}
JSON

# Can this machine's OpenSSL still offer TLS 1.0 and 1.1 alone? Then the legacy peer must be caught accepting them;
# if not, the check must say it could not test them (and this test says so too).
LEGACY_FINDINGS=$(PYTHONPATH="$(dirname "$(dirname "$(dirname "$COLLECTION_ROOT")")")" "$PEER_PY" - <<'PY'
import json
from ansible_collections.dicom.network.plugins.module_utils._tls_profiles import version_problem
findings = []
for version, finding in (("TLSv1", "tls_1_0_accepted"), ("TLSv1.1", "tls_1_1_accepted")):
    problem = version_problem(version)
    if problem:
        print("NOTE: %s" % problem, file=__import__("sys").stderr)
    findings.append("tls_version_untested" if problem else finding)
print(json.dumps(findings + ["plain_port_open"]))
PY
)
echo "legacy TLS peer findings expected here: $LEGACY_FINDINGS"

echo "== 1. dicom_find on its own"
ansible-playbook find.yml -e '{"ports": '"$(cat "$WORK/ports.json")"'}' "$@"

echo "== 2. pacs_verify with every check, opted in per endpoint"
"$PEER_PY" - "$WORK/ports.json" "$WORK/verify.json" "$WORK/verify" <<'PY'
import json, sys
ports = json.load(open(sys.argv[1]))
all_ae = ["called_aet_enforced", "calling_aet_enforced", "default_aet", "query", "implementation"]
endpoint = lambda name, port, aet, **extra: dict(name=name, host="127.0.0.1", port=ports[port], called_aet=aet, **extra)
tls = {"tls": True, "ca_files": [ports["ca"]], "host": "localhost"}
json.dump({
    "pacs_verify_report_dir": sys.argv[3], "pacs_verify_retries": 0, "pacs_verify_fail": False,
    "pacs_verify_report_formats": ["json", "junit", "csv", "markdown", "html", "openmetrics"],
    "pacs_verify_endpoints": [
        endpoint("orthanc-registered", "orthanc_checked", "ORTHANC", calling_aet="REGISTERED", checks=all_ae,
                 expect_implementation_version_name="OFFIS_DCMTK_367"),
        endpoint("orthanc-unregistered", "orthanc_checked", "ORTHANC", calling_aet="UNREGISTERED", checks=["query"]),
        endpoint("orthanc-open", "orthanc_open", "ARCHIVE", calling_aet="REGISTERED",
                 checks=["called_aet_enforced", "default_aet", "query"]),
        endpoint("qrscp", "qr", "QRSCP", checks=all_ae),
        endpoint("qrscp-other-implementation", "qr", "QRSCP", checks=["implementation"], expect_implementation_class_uid="1.2.3.4"),
        endpoint("storescp", "storescp", "STORESCP", checks=["called_aet_enforced", "calling_aet_enforced", "query"]),
        endpoint("worklist", "wl", "WLMSCP", calling_aet="CT01", query_model="worklist", checks=["called_aet_enforced", "query"]),
        endpoint("leaky", "leaky", "FINDSCP", checks=["query"]),
        dict(endpoint("tls-modern", "tls_modern", "STORESCP", plain_port=ports["closed"], checks=["tls_versions"]), **tls),
        dict(endpoint("tls-legacy", "tls_legacy", "STORESCP", plain_port=ports["plain"], checks=["tls_versions"]), **tls),
        endpoint("down", "closed", "DOWN", checks=["query", "called_aet_enforced"]),
    ]}, open(sys.argv[2], "w"))
PY
ansible-playbook verify.yml -e "@$WORK/verify.json" "$@" | tee "$WORK/verify.log"
grep -q "Run the C-ECHO check probes, one batched task per check kind" "$WORK/verify.log" || { echo "no batched check probes"; exit 1; }
cat >"$WORK/expect-verify.json" <<JSON
{"browser": true, "absent": $SECRETS,
 "summary": {"endpoints": 11, "passed": 4, "failed": 7},
 "status": {"qrscp": "passed", "worklist": "passed", "leaky": "passed", "tls-modern": "passed", "tls-legacy": "failed",
            "orthanc-registered": "failed", "orthanc-unregistered": "failed", "orthanc-open": "failed", "storescp": "failed",
            "qrscp-other-implementation": "failed", "down": "failed"},
 "checks": {
   "orthanc-registered": {"reachable": true, "called_aet_enforced": true, "calling_aet_enforced": false, "default_aet": true,
                          "query": true, "implementation": true},
   "orthanc-unregistered": {"reachable": true, "query": false},
   "orthanc-open": {"called_aet_enforced": false, "default_aet": true, "query": true},
   "qrscp": {"called_aet_enforced": true, "calling_aet_enforced": true, "default_aet": true, "query": true, "implementation": true},
   "qrscp-other-implementation": {"reachable": true, "implementation": false},
   "storescp": {"called_aet_enforced": false, "calling_aet_enforced": false, "query": false},
   "worklist": {"called_aet_enforced": true, "query": true},
   "leaky": {"query": true},
   "tls-modern": {"reachable": true, "tls_versions": true},
   "tls-legacy": {"reachable": true, "tls_versions": false},
   "down": {"reachable": false, "query": false, "called_aet_enforced": false}},
 "findings": {
   "orthanc-registered": ["calling_aet_not_enforced", "default_aet"],
   "orthanc-unregistered": ["query_refused"],
   "orthanc-open": ["called_aet_not_enforced"],
   "qrscp": [], "qrscp-other-implementation": [], "worklist": [], "tls-modern": [], "down": [],
   "storescp": ["called_aet_not_enforced", "calling_aet_not_enforced", "query_not_supported"],
   "leaky": ["query_unfiltered"],
   "tls-legacy": $LEGACY_FINDINGS},
 "messages": {
   "orthanc-registered": {"default_aet": "ORTHANC", "query": "Success with no match"},
   "orthanc-unregistered": {"query": "aborted the association instead of answering"},
   "orthanc-open": {"default_aet": "not applicable"},
   "qrscp": {"default_aet": "none of the 8", "implementation": "OFFIS_DCMTK_367"},
   "leaky": {"query": "returned 5 matches"},
   "tls-modern": {"tls_versions": "accepts TLSv1.2, TLSv1.3"},
   "tls-legacy": {"tls_versions": "the AE also answers without TLS on port"},
   "down": {"query": "not checked"}}}
JSON
"${CHECK[@]}" "$WORK/verify" pacs_verify "$WORK/expect-verify.json"

echo "== 3. pacs_verify_fail_on_default_aet turns the default AE title into a failure"
ansible-playbook verify.yml -e "@$WORK/verify.json" -e pacs_verify_fail_on_default_aet=true -e "pacs_verify_report_dir=$WORK/strict" \
    -e '{"pacs_verify_report_formats": ["json"]}' "$@" >"$WORK/strict.log"
"$PEER_PY" - "$WORK/strict/pacs_verify.json" <<'PY'
import json, sys
rows = {row["name"]: row for row in json.load(open(sys.argv[1]))["endpoints"]}
check = [c for c in rows["orthanc-registered"]["checks"] if c["name"] == "default_aet"][0]
assert check["passed"] is False and check["actual"] == ["ORTHANC"], check
PY

echo "== 4. dicom_audit with its default checks, a host asking for default_aet, a modality's worklist"
write_inventory() {
    "$PEER_PY" - "$WORK/ports.json" "$1" "$2" <<'PY'
import json, sys
ports, out, run = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
hosts = {
    "orthanc": {"dicom_port": ports["orthanc_checked"], "dicom_called_aet": "ORTHANC", "dicom_calling_aet": "REGISTERED",
                "dicom_checks": ["called_aet_enforced", "calling_aet_enforced", "default_aet", "query", "implementation"]},
    "orthanc-unregistered": {"dicom_port": ports["orthanc_checked"], "dicom_called_aet": "ORTHANC"},
    "qrscp": {"dicom_port": ports["qr"], "dicom_called_aet": "QRSCP"},
    "storescp": {"dicom_port": ports["storescp"], "dicom_called_aet": "STORESCP", "dicom_checks": ["calling_aet_enforced"]},
    "ct01": {"dicom_port": ports["wl"], "dicom_called_aet": "WLMSCP", "dicom_calling_aet": "CT01", "dicom_query_model": "worklist"},
    "tls-legacy": {"ansible_host": "localhost", "dicom_port": ports["tls_legacy"], "dicom_called_aet": "STORESCP", "dicom_tls": True,
                   "dicom_ca_files": [ports["ca"]], "dicom_plain_port": ports["plain"], "dicom_checks": ["tls_versions"]},
    # the same endpoint name on another implementation in the second run: a change against the baseline
    "swapped": {"dicom_port": ports["qr"] if run == 1 else ports["leaky"], "dicom_called_aet": "QRSCP" if run == 1 else "FINDSCP",
                "dicom_checks": ["implementation"]},
}
for host in hosts.values():
    host.setdefault("ansible_host", "127.0.0.1")
local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
json.dump({"all": {"children": {"probes": {"hosts": {"localhost": local}}, "dicom_endpoints": {"hosts": hosts}}}}, open(out, "w"))
PY
}
write_inventory "$WORK/inventory1.json" 1
AUDIT=(-e "dicom_audit_report_dir=$WORK/audit")
ansible-playbook -i "$WORK/inventory1.json" audit.yml "${AUDIT[@]}" -e dicom_audit_report_basename=run1 "$@" | tee "$WORK/audit1.log"
cat >"$WORK/expect-audit1.json" <<JSON
{"browser": true, "absent": $SECRETS,
 "formats": ["json", "junit", "csv", "markdown", "html", "openmetrics"],
 "summary": {"endpoints": 7, "passed": 2, "failed": 5},
 "checks": {
   "orthanc": {"called_aet_enforced": true, "calling_aet_enforced": false, "default_aet": true, "query": true, "tls_versions": null,
               "implementation": true},
   "orthanc-unregistered": {"called_aet_enforced": true, "calling_aet_enforced": false, "query": false, "tls_versions": true,
                            "implementation": true},
   "qrscp": {"called_aet_enforced": true, "calling_aet_enforced": true, "query": true, "tls_versions": true, "implementation": true},
   "storescp": {"calling_aet_enforced": false, "query": null},
   "ct01": {"called_aet_enforced": true, "calling_aet_enforced": false, "query": true},
   "tls-legacy": {"reachable": true, "tls_versions": false},
   "swapped": {"implementation": true}},
 "findings": {
   "orthanc": ["calling_aet_not_enforced", "default_aet"],
   "orthanc-unregistered": ["calling_aet_not_enforced", "query_refused"],
   "qrscp": [], "swapped": [],
   "storescp": ["calling_aet_not_enforced"],
   "ct01": ["calling_aet_not_enforced"],
   "tls-legacy": $LEGACY_FINDINGS},
 "messages": {"qrscp": {"tls_versions": "not applicable"}}}
JSON
"${CHECK[@]}" "$WORK/audit" run1 "$WORK/expect-audit1.json"

echo "== 5. the second audit against the first: the swapped endpoint's implementation changed"
write_inventory "$WORK/inventory2.json" 2
ansible-playbook -i "$WORK/inventory2.json" audit.yml "${AUDIT[@]}" -e dicom_audit_report_basename=run2 \
    -e "dicom_audit_baseline=$WORK/audit/run1.json" "$@" | tee "$WORK/audit2.log"
cat >"$WORK/expect-audit2.json" <<JSON
{"browser": false, "absent": $SECRETS,
 "summary": {"endpoints": 7, "regressions": 0, "changes.implementation": 1},
 "changes": {"swapped": ["implementation"], "qrscp": []},
 "findings": {"swapped": ["implementation_changed"], "qrscp": []},
 "checks": {"swapped": {"implementation": true, "no_regression": true}}}
JSON
"${CHECK[@]}" "$WORK/audit" run2 "$WORK/expect-audit2.json"

echo "== 6. no report of any run holds a patient-level value the peers have"
if grep -rlE "SECRET|WORKLIST\^|19230405" "$WORK/verify" "$WORK/strict" "$WORK/audit"; then
    echo "patient-level values reached the reports above"
    exit 1
fi
echo "role_checks: all scenarios passed"
