#!/usr/bin/env bash
# pacs_verify through ansible-playbook against real peers (DCMTK storescp and dcmqrscp, Orthanc,
# storescp +tls) and misbehaving ones (tests/peers), with the reports parsed and checked.
set -euo pipefail

# shellcheck source=../setup_dicom_reports/peers.sh
source ../setup_dicom_reports/peers.sh
TLS_DIR=$(mktemp -d)
trap 'peers_stop_all; tls_stop "$TLS_DIR"; rm -rf "$TLS_DIR"' EXIT
CHECK=("$PEER_PY" ../setup_dicom_reports/check_reports.py)
WORK=$OUTPUT_DIR/pacs_verify
rm -rf "$WORK"
mkdir -p "$WORK"

peer_start storescp storescp
peer_start storescp_xi storescp +xi
peer_start refuse storescp --refuse
peer_start qr dcmqrscp
peer_start orthanc orthanc
peer_start closed closed_port
peer_start transient transient_reject
peer_start slow delay_echo delay=0.5
tls_start "$TLS_DIR"
TLS_PORT=$("$PEER_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["tls_ports"]["anonymous"])' "$TLS_DIR/vars.yml")
CA=$("$PEER_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["pki"]["ca.pem"])' "$TLS_DIR/vars.yml")

cat >"$WORK/vars.json" <<JSON
{
  "pacs_verify_retries": 2,
  "pacs_verify_delay": 1,
  "pacs_verify_report_dir": "$WORK/all",
  "pacs_verify_report_formats": ["json", "junit", "csv", "markdown", "html"],
  "pacs_verify_endpoints": [
    {"name": "storescp", "host": "127.0.0.1", "port": $(peer_port storescp), "called_aet": "STORESCP",
     "expect_transfer_syntaxes": ["ExplicitVRLittleEndian", "ImplicitVRLittleEndian", "Explicit VR Big Endian"], "max_rtt_ms": 1000},
    {"name": "storescp-xi", "host": "127.0.0.1", "port": $(peer_port storescp_xi), "called_aet": "STORESCP",
     "expect_transfer_syntaxes": ["Implicit VR Little Endian"]},
    {"name": "storescp-xi-explicit", "host": "127.0.0.1", "port": $(peer_port storescp_xi), "called_aet": "STORESCP",
     "expect_transfer_syntaxes": ["1.2.840.10008.1.2.1"]},
    {"name": "qrscp", "host": "127.0.0.1", "port": $(peer_port qr), "called_aet": "QRSCP"},
    {"name": "qrscp-wrong-aet", "host": "127.0.0.1", "port": $(peer_port qr), "called_aet": "NOT-QRSCP", "expect_rejected": true},
    {"name": "orthanc", "host": "127.0.0.1", "port": $(peer_port orthanc), "called_aet": "ORTHANC"},
    {"name": "orthanc-wrong-aet", "host": "127.0.0.1", "port": $(peer_port orthanc), "called_aet": "NOT-ORTHANC", "expect_rejected": true},
    {"name": "refuse", "host": "127.0.0.1", "port": $(peer_port refuse), "called_aet": "STORESCP", "expect_rejected": true},
    {"name": "closed", "host": "127.0.0.1", "port": $(peer_port closed), "called_aet": "ARCHIVE"},
    {"name": "transient", "host": "127.0.0.1", "port": $(peer_port transient), "called_aet": "ARCHIVE"},
    {"name": "slow", "host": "127.0.0.1", "port": $(peer_port slow), "called_aet": "ARCHIVE", "max_rtt_ms": 200},
    {"name": "accepts-wrong-aet", "host": "127.0.0.1", "port": $(peer_port storescp), "called_aet": "NOT-STORESCP",
     "expect_rejected": true},
    {"name": "tls", "host": "localhost", "port": $TLS_PORT, "called_aet": "STORESCP", "tls": true, "ca_files": ["$CA"],
     "min_cert_days": 30, "expect_transfer_syntaxes": ["ExplicitVRLittleEndian"],
     "seed_file": "$WORK/seed", "write_seed_file": "$WORK/seed.out"},
    {"name": "tls-expires-too-soon", "host": "localhost", "port": $TLS_PORT, "called_aet": "STORESCP", "tls": true,
     "ca_files": ["$CA"], "min_cert_days": 5000}
  ]
}
JSON

echo "== 1. every kind of expectation; pacs_verify_fail fails the play at the end, after the reports"
set +e
ansible-playbook verify.yml -e "@$WORK/vars.json" "$@" >"$WORK/run1.log" 2>&1
rc=$?
set -e
cat "$WORK/run1.log"
[ "$rc" -ne 0 ] || { echo "expected the play to fail"; exit 1; }
grep -q "5 check(s) failed: storescp-xi-explicit transfer_syntaxes, closed reachable, slow max_rtt_ms, accepts-wrong-aet rejected, tls-expires-too-soon min_cert_days" \
    "$WORK/run1.log" || { echo "the final failure does not name the failed checks"; exit 1; }
grep -q "Send C-ECHO to the pending endpoints, attempt 3" "$WORK/run1.log" || { echo "no third attempt"; exit 1; }
# every endpoint option of dicom_echo passes the role's argument spec (write_seed_file was refused once)
[ "$(wc -c <"$WORK/seed.out")" -eq 1024 ] || { echo "write_seed_file of an endpoint was not honoured"; exit 1; }
if grep -q "attempt 4" "$WORK/run1.log"; then echo "more attempts than pacs_verify_retries allows"; exit 1; fi
cat >"$WORK/expect1.json" <<'JSON'
{"formats": ["json", "junit", "csv", "markdown", "html"], "browser": true,
 "summary": {"endpoints": 14, "passed": 9, "failed": 5, "checks": 22, "checks_failed": 5, "regressions": 0},
 "status": {"storescp": "passed", "storescp-xi": "passed", "storescp-xi-explicit": "failed", "qrscp": "passed",
            "qrscp-wrong-aet": "passed", "orthanc": "passed", "orthanc-wrong-aet": "passed", "refuse": "passed",
            "closed": "failed", "transient": "passed", "slow": "failed", "accepts-wrong-aet": "failed",
            "tls": "passed", "tls-expires-too-soon": "failed"},
 "outcome": {"qrscp-wrong-aet": "association_rejected", "orthanc-wrong-aet": "association_rejected",
             "refuse": "association_rejected", "closed": "connection_refused", "transient": "success",
             "accepts-wrong-aet": "success"},
 "checks": {"storescp": {"reachable": true, "transfer_syntaxes": true, "max_rtt_ms": true},
            "storescp-xi-explicit": {"reachable": true, "transfer_syntaxes": false},
            "slow": {"reachable": true, "max_rtt_ms": false}, "accepts-wrong-aet": {"rejected": false},
            "tls": {"reachable": true, "min_cert_days": true, "transfer_syntaxes": true},
            "tls-expires-too-soon": {"reachable": true, "min_cert_days": false}},
 "attempts": {"storescp": 1, "closed": 3, "transient": 2, "refuse": 1}}
JSON
"${CHECK[@]}" "$WORK/all" pacs_verify "$WORK/expect1.json"
"$PEER_PY" - "$WORK/all/pacs_verify.json" <<'PY'
import json, sys
rows = {row["name"]: row for row in json.load(open(sys.argv[1]))["endpoints"]}
# discovery found all three syntaxes storescp accepts, the echo association only negotiated one
found = [entry["uid"] for entry in rows["storescp"]["discovered_transfer_syntaxes"]]
assert found == ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"], found
assert rows["storescp-xi-explicit"]["discovered_transfer_syntaxes"] == [], rows["storescp-xi-explicit"]
cert = rows["tls"]["certificate"]
assert rows["tls"]["tls"]["version"] and cert["days_remaining"] > 30 and cert["not_after"], rows["tls"]
assert rows["tls-expires-too-soon"]["checks"][1]["actual"] == cert["days_remaining"]
PY

echo "== 2. check mode, only working endpoints, default formats: the play passes"
"$PEER_PY" - "$WORK/vars.json" "$WORK/vars2.json" "$WORK/ok" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
keep = {"storescp", "storescp-xi", "qrscp", "qrscp-wrong-aet", "orthanc", "orthanc-wrong-aet", "refuse"}
data["pacs_verify_endpoints"] = [e for e in data["pacs_verify_endpoints"] if e["name"] in keep]
data["pacs_verify_report_dir"] = sys.argv[3]
del data["pacs_verify_report_formats"]
json.dump(data, open(sys.argv[2], "w"))
PY
ansible-playbook verify.yml --check -e "@$WORK/vars2.json" "$@"
cat >"$WORK/expect2.json" <<'JSON'
{"formats": ["json", "junit", "markdown", "html"], "browser": false,
 "summary": {"endpoints": 7, "passed": 7, "failed": 0, "checks_failed": 0}}
JSON
"${CHECK[@]}" "$WORK/ok" pacs_verify "$WORK/expect2.json"
"$PEER_PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["run"]["check_mode"] is True, r["run"]' "$WORK/ok/pacs_verify.json"

echo "== 3. bad input is refused before any probe, naming the problem in the user's words"
# refused EXTRA_VARS PATTERN: the play fails, its output matches PATTERN and names no Python class
# (Ansible's string classes: _AnsibleTaggedStr on 2.19, AnsibleUnicode on 2.16), no report is written
refused() {
    local bad=$1 pattern=$2 out rc
    set +e
    out=$(ansible-playbook verify.yml -e "$bad" -e "pacs_verify_report_dir=$WORK/bad" "${PLAY_ARGS[@]}" 2>&1)
    rc=$?
    set -e
    [ "$rc" -ne 0 ] || { echo "accepted bad input: $bad"; exit 1; }
    echo "$out" | grep -Eq "$pattern" || { echo "unclear message for $bad:"; echo "$out"; exit 1; }
    if echo "$out" | grep -Eq "Tagged|AnsibleUnicode|<class"; then echo "the message for $bad names Python classes:"; echo "$out"; exit 1; fi
    [ ! -e "$WORK/bad" ] || { echo "reports written for bad input $bad"; exit 1; }
}
PLAY_ARGS=("$@")
for bad in '{"pacs_verify_endpoints": [{"host": "127.0.0.1", "expect_transfer_syntaxes": ["NoSuchSyntax"]}]}' \
           '{"pacs_verify_endpoints": [{"name": "a", "host": "h1"}, {"name": "a", "host": "h2"}]}' \
           '{"pacs_verify_endpoints": [{"host": "127.0.0.1", "called_aet": "WAY-TOO-LONG-AE-TITLE"}]}' \
           '{"pacs_verify_endpoints": [{"host": "127.0.0.1", "no_such_option": 1}]}'; do
    refused "$bad" "unknown transfer syntax 'NoSuchSyntax'|more than one endpoint the name a;|called_aet|no_such_option"
done
# from a YAML file, where Ansible hands over its own string class
cat >"$WORK/bad-limit.yml" <<'YAML'
pacs_verify_endpoints:
  - {name: pacs, host: 127.0.0.1, max_rtt_ms: fast}
YAML
refused "@$WORK/bad-limit.yml" "endpoint 0 \(pacs\): max_rtt_ms must be a number of milliseconds, got 'fast'"
echo "role_pacs_verify: all scenarios passed"
