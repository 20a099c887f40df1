#!/usr/bin/env bash
# dicom_audit through ansible-playbook against real peers (DCMTK storescp and dcmqrscp, Orthanc) and
# tests/peers acceptors, twice around changes in the "fleet", with the reports parsed and checked:
# counts, failures, and regressions, recoveries and changes against the first run as baseline.
set -euo pipefail

# shellcheck source=../setup_dicom_reports/peers.sh
source ../setup_dicom_reports/peers.sh
trap peers_stop_all EXIT
CHECK=("$PEER_PY" ../setup_dicom_reports/check_reports.py)
WORK=$OUTPUT_DIR/dicom_audit
rm -rf "$WORK"
mkdir -p "$WORK"
# The checks beyond the echo have their own target (role_checks); this one is about reachability and baselines.
COMMON=(-e "dicom_audit_report_dir=$WORK/reports" -e '{"dicom_audit_echo_options": {"propose_ts": 3}}'
        -e dicom_audit_latency_threshold_ms=50 -e '{"dicom_audit_checks": []}')

peer_start storescp storescp
peer_start qr dcmqrscp
peer_start orthanc orthanc
peer_start bulk normal
RECOVER=$(free_port)
TS=$(free_port)
SLOW=$(free_port)
faulty_start ts normal "$TS"
faulty_start slow normal "$SLOW"
cat >"$WORK/ports.json" <<JSON
{"storescp": $(peer_port storescp), "qr": $(peer_port qr), "orthanc": $(peer_port orthanc), "bulk": $(peer_port bulk),
 "recover": $RECOVER, "ts": $TS, "slow": $SLOW}
JSON

echo "== 1. first audit: two probe hosts in parallel"
"$PEER_PY" inventory.py "$WORK/inventory1.json" "$WORK/ports.json" 1
ansible-playbook -i "$WORK/inventory1.json" audit.yml "${COMMON[@]}" -e dicom_audit_report_basename=run1 "$@" | tee "$WORK/run1.log"
grep -q "Start one C-ECHO batch on every probe host" "$WORK/run1.log" || { echo "the parallel path did not run"; exit 1; }
cat >"$WORK/expect1.json" <<'JSON'
{"browser": true,
 "summary": {"endpoints": 47, "passed": 45, "failed": 2, "checks": 47, "checks_failed": 2, "regressions": 0},
 "status": {"pacs-storescp": "passed", "pacs-qrscp": "passed", "pacs-orthanc": "passed", "orthanc-wrong": "failed",
            "recover": "failed", "ts": "passed", "slow": "passed", "bulk01": "passed", "bulk40": "passed"},
 "outcome": {"orthanc-wrong": "association_rejected", "recover": "connection_refused"}}
JSON
"${CHECK[@]}" "$WORK/reports" run1 "$WORK/expect1.json"
"$PEER_PY" - "$WORK/reports/run1.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
probes = {row["name"]: row["probe_from"] for row in report["endpoints"]}
assert set(probes.values()) == {"probe_a", "probe_b"}, probes
assert sorted(report["run"]["probe_hosts"]) == ["probe_a", "probe_b"], report["run"]
PY

echo "== changes: storescp goes down, a late peer comes up, one switches transfer syntax, one gets slow"
"$PEER_PY" -m tests.peers stop storescp --dir "$PEER_DIR"
faulty_stop ts
faulty_stop slow
faulty_start recover normal "$RECOVER"
faulty_start ts explicit_only "$TS"
faulty_start slow delay_echo "$SLOW" delay=0.25

echo "== 2. second audit against the first: one probe host, a host removed and one added; fail on regressions"
"$PEER_PY" inventory.py "$WORK/inventory2.json" "$WORK/ports.json" 2
set +e
ansible-playbook -i "$WORK/inventory2.json" audit.yml "${COMMON[@]}" -e dicom_audit_report_basename=run2 \
    -e "dicom_audit_baseline=$WORK/reports/run1.json" -e dicom_audit_fail_on=regressions "$@" >"$WORK/run2.log" 2>&1
rc=$?
set -e
cat "$WORK/run2.log"
[ "$rc" -ne 0 ] || { echo "expected dicom_audit_fail_on=regressions to fail the play"; exit 1; }
grep -q "1 endpoint(s) regressed since the baseline: pacs-storescp" "$WORK/run2.log" || { echo "no regression message"; exit 1; }
if grep -q "Start one C-ECHO batch on every probe host" "$WORK/run2.log"; then echo "one probe host must not use async jobs"; exit 1; fi
cat >"$WORK/expect2.json" <<'JSON'
{"browser": true,
 "summary": {"endpoints": 47, "passed": 45, "failed": 2, "regressions": 1, "recoveries": 1, "removed": 1,
             "changes.transfer_syntaxes": 1, "changes.latency": 1, "changes.new": 1, "changes.outcome": 0,
             "checks": 93, "checks_failed": 3},
 "status": {"pacs-storescp": "failed", "recover": "passed", "orthanc-wrong": "failed", "newcomer": "passed"},
 "outcome": {"pacs-storescp": "connection_refused"},
 "checks": {"pacs-storescp": {"reachable": false, "no_regression": false}, "recover": {"reachable": true, "no_regression": true}},
 "changes": {"pacs-storescp": ["regression"], "recover": ["recovery"], "ts": ["transfer_syntaxes"], "slow": ["latency"],
             "newcomer": ["new"], "orthanc-wrong": [], "pacs-qrscp": [], "bulk01": []}}
JSON
"${CHECK[@]}" "$WORK/reports" run2 "$WORK/expect2.json"

echo "== 3. check mode against the second run: nothing changed since"
ansible-playbook -i "$WORK/inventory2.json" audit.yml --check "${COMMON[@]}" -e dicom_audit_report_basename=run3 \
    -e "dicom_audit_baseline=$WORK/reports/run2.json" -e '{"dicom_audit_report_formats": ["json", "junit"]}' "$@"
cat >"$WORK/expect3.json" <<'JSON'
{"formats": ["json", "junit"],
 "summary": {"endpoints": 47, "failed": 2, "regressions": 0, "recoveries": 0, "removed": 0, "changes.transfer_syntaxes": 0,
             "changes.latency": 0, "changes.new": 0}}
JSON
"${CHECK[@]}" "$WORK/reports" run3 "$WORK/expect3.json"

echo "== 4. a missing group is a clear error"
set +e
out=$(ansible-playbook -i "$WORK/inventory2.json" audit.yml -e dicom_audit_group=no_such_group "${COMMON[@]}" "$@" 2>&1)
rc=$?
set -e
if [ "$rc" -eq 0 ] || ! echo "$out" | grep -q "The inventory group no_such_group"; then
    echo "missing group not reported:"
    echo "$out"
    exit 1
fi
echo "== 5. host variables: a misspelled name and invalid values are reported, the rest of the audit still runs"
"$PEER_PY" inventory.py "$WORK/inventory3.json" "$WORK/ports.json" 3
ansible-playbook -i "$WORK/inventory3.json" audit.yml "${COMMON[@]}" -e dicom_audit_report_basename=run5 "$@" 2>&1 | tee "$WORK/run5.log"
for text in "inventory host typo: unknown host variable dicom_calledaet (did you mean dicom_called_aet?); the endpoint was probed without it" \
            "inventory host bad-protocol: dicom_ip_protocol must be one of ipv4, ipv6, auto, got 'ip4'; the endpoint was not probed" \
            "inventory host bad-port: dicom_port must be an integer, got 'abc'; the endpoint was not probed"; do
    # once as a warning, once in the printed summary
    grep -qF "[WARNING]: $text" "$WORK/run5.log" || { echo "no warning: $text"; exit 1; }
    grep -F -- "$text" "$WORK/run5.log" | grep -qv WARNING || { echo "not in the summary: $text"; exit 1; }
done
grep -q "DICOM connectivity audit: FAILED - 5 endpoints, 2 passed, 3 failed" "$WORK/run5.log" || { echo "summary line"; exit 1; }
if grep -q "endpoints\[" "$WORK/run5.log"; then echo "a message names a list position instead of the inventory host"; exit 1; fi
cat >"$WORK/expect5.json" <<'JSON'
{"summary": {"endpoints": 5, "passed": 2, "failed": 3, "outcomes.invalid_endpoint": 2, "outcomes.success": 3},
 "status": {"good-bulk": "passed", "good-qrscp": "passed", "typo": "failed", "bad-protocol": "failed", "bad-port": "failed"},
 "outcome": {"typo": "success", "bad-protocol": "invalid_endpoint", "bad-port": "invalid_endpoint"},
 "attempts": {"bad-protocol": 0, "bad-port": 0},
 "checks": {"good-bulk": {"reachable": true}, "good-qrscp": {"reachable": true, "called_aet_enforced": true},
            "typo": {"reachable": true, "host_variables": false},
            "bad-protocol": {"host_variables": false}, "bad-port": {"host_variables": false}},
 "messages": {"typo": {"host_variables": "unknown host variable dicom_calledaet (did you mean dicom_called_aet?)"},
              "bad-protocol": {"host_variables": "inventory host bad-protocol: dicom_ip_protocol must be one of ipv4, ipv6, auto, got 'ip4'"},
              "bad-port": {"host_variables": "inventory host bad-port: dicom_port must be an integer, got 'abc'"}}}
JSON
"${CHECK[@]}" "$WORK/reports" run5 "$WORK/expect5.json"
"$PEER_PY" - "$WORK/reports" <<'PY'
import json, os, sys
report = json.load(open(os.path.join(sys.argv[1], "run5.json")))
rows = {row["name"]: row for row in report["endpoints"]}
assert report["verdict"] == "failed", report["verdict"]
# only the valid endpoints were probed, with their checks; the typo one as ANY-SCP, which is why it must fail
assert sorted(report["run"]["probe_hosts"]) == ["probe_a", "probe_b"], report["run"]
assert rows["typo"]["endpoint"]["called_aet"] == "ANY-SCP" and rows["typo"]["probe"] is not None
assert [c["name"] for c in rows["good-qrscp"]["checks"]] == ["reachable", "called_aet_enforced"], rows["good-qrscp"]["checks"]
for name in ("bad-protocol", "bad-port"):
    assert rows[name]["probe"] is None and [c["name"] for c in rows[name]["checks"]] == ["host_variables"], rows[name]
assert rows["bad-protocol"]["probe_from"] == "probe_b" and rows["bad-port"]["probe_from"] == "localhost"
for suffix in (".md", ".html", ".csv", ".junit.xml"):
    text = open(os.path.join(sys.argv[1], "run5" + suffix), encoding="utf-8").read()
    for needle in ("dicom_calledaet", "dicom_called_aet", "dicom_ip_protocol", "invalid_endpoint"):
        assert needle in text, (suffix, needle)
PY

echo "role_dicom_audit: all scenarios passed"
