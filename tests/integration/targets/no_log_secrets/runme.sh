#!/usr/bin/env bash
# private_key_password must never show. The module (one probe, batches, refused input), the
# transfer_syntaxes lookup, pacs_verify and dicom_audit (one probe host, and two with async jobs) run
# at -vvv against DCMTK storescp +tls, which refuses a client without a certificate, with a client
# key encrypted with a password made for this run (canary.py): every echo that succeeds proves the
# password reached the engine. Then neither that password nor the wrong one tried on the way may
# occur in the output, in Ansible's log file or in any report file.
set -euo pipefail

# shellcheck source=../setup_dicom_reports/peers.sh
source ../setup_dicom_reports/peers.sh
TLS_DIR=$(mktemp -d)
trap 'peers_stop_all; tls_stop "$TLS_DIR"; rm -rf "$TLS_DIR"' EXIT
WORK=${OUTPUT_DIR:-$(mktemp -d)}/no_log_secrets
rm -rf "$WORK"
mkdir -p "$WORK"
CHECK=("$PEER_PY" ../setup_dicom_reports/check_reports.py)

tls_start "$TLS_DIR"
"$PEER_PY" canary.py "$TLS_DIR/vars.yml" "$WORK"
CANARY=$("$PEER_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["canary"])' "$WORK/module.json")
WRONG=$("$PEER_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["wrong_canary"])' "$WORK/module.json")

# occurrences of either password in the files given (0 when there are none)
occurrences() {
    { grep -o -F -e "$CANARY" -e "$WRONG" -- "$@" || true; } | wc -l
}

LEAKS=()
# play NAME ARGS...: ansible-playbook -vvv ARGS, output in $WORK/NAME.out, Ansible's log in NAME.log;
# a failed play fails the test, every occurrence of the password is recorded in LEAKS
play() {
    local name=$1
    shift
    if ! ANSIBLE_LOG_PATH="$WORK/$name.log" ansible-playbook -vvv "$@" >"$WORK/$name.out" 2>&1; then
        cat "$WORK/$name.out"
        echo "FAILED: the $name play failed (output above)"
        exit 1
    fi
    local file found
    for file in "$WORK/$name.out" "$WORK/$name.log"; do
        found=$(occurrences "$file")
        echo "$name: $found occurrence(s) of the passwords in $(basename "$file")"
        [ "$found" -eq 0 ] || LEAKS+=("$(basename "$file"): $found")
    done
}

# reports NAME DIR BASENAME EXPECT: the reports are as expected, and hold no password
reports() {
    local name=$1 dir=$2 basename=$3 expect=$4 file found count=0
    "${CHECK[@]}" "$dir" "$basename" "$expect"
    for file in "$dir/$basename".*; do
        count=$((count + 1))
        found=$(occurrences "$file")
        [ "$found" -eq 0 ] || LEAKS+=("$name report $(basename "$file"): $found")
    done
    echo "$name: $count report files checked for the password"
    [ "$count" -eq 5 ] || { echo "FAILED: $name wrote $count report files, expected 5 (json, junit, csv, markdown, html)"; exit 1; }
}

echo "== 0. control: passwords that are printed are found"
ansible localhost -m ansible.builtin.debug -a '{"msg": "{{ canary }} {{ wrong_canary }}"}' -e "@$WORK/module.json" >"$WORK/control.out" 2>&1
found=$(occurrences "$WORK/control.out")
[ "$found" -ge 2 ] || { cat "$WORK/control.out"; echo "FAILED: the printed passwords were not found: the counts below would prove nothing"; exit 1; }

echo "== 1. the module and the lookup"
play module -i localhost, -c local -e "ansible_python_interpreter=$PEER_PY" -e "@$WORK/module.json" module.yml

echo "== 2. pacs_verify: password in an endpoint entry and in pacs_verify_echo_options, discovery through the lookup"
play verify -i localhost, -c local -e "ansible_python_interpreter=$PEER_PY" -e "@$WORK/verify.json" verify.yml
cat >"$WORK/expect-verify.json" <<'JSON'
{"formats": ["json", "junit", "csv", "markdown", "html"],
 "summary": {"endpoints": 3, "passed": 3, "failed": 0, "checks_failed": 0},
 "status": {"own": "passed", "from-echo-options": "passed", "plain": "passed"},
 "checks": {"own": {"reachable": true, "transfer_syntaxes": true, "min_cert_days": true},
            "from-echo-options": {"reachable": true, "transfer_syntaxes": true}}}
JSON
reports pacs_verify "$WORK/verify" pacs_verify "$WORK/expect-verify.json"
"$PEER_PY" - "$WORK/verify/pacs_verify.json" <<'PY'
import json, sys
rows = {row["name"]: row for row in json.load(open(sys.argv[1]))["endpoints"]}
for name in ("own", "from-echo-options"):
    assert rows[name]["discovered_transfer_syntaxes"], "%s: the lookup discovered nothing: %r" % (name, rows[name])
PY

echo "== 3. dicom_audit: password in a host variable and in dicom_audit_echo_options, one probe host"
play audit-one -i "$WORK/inventory-one.json" -e "@$WORK/audit.json" -e "dicom_audit_report_dir=$WORK/audit-one" audit.yml
cat >"$WORK/expect-audit.json" <<'JSON'
{"formats": ["json", "junit", "csv", "markdown", "html"],
 "summary": {"endpoints": 3, "passed": 3, "failed": 0, "checks_failed": 0},
 "status": {"tls-own": "passed", "tls-from-echo-options": "passed", "plain": "passed"}}
JSON
reports dicom_audit-one "$WORK/audit-one" dicom_audit "$WORK/expect-audit.json"
grep -q "Send C-ECHO to every endpoint in one batch" "$WORK/audit-one.out" || { echo "FAILED: the one-probe-host path did not run"; exit 1; }

echo "== 4. dicom_audit: two probe hosts, async jobs"
play audit-two -i "$WORK/inventory-two.json" -e "@$WORK/audit.json" -e "dicom_audit_report_dir=$WORK/audit-two" audit.yml
reports dicom_audit-two "$WORK/audit-two" dicom_audit "$WORK/expect-audit.json"
grep -q "Start one C-ECHO batch on every probe host" "$WORK/audit-two.out" || { echo "FAILED: the two-probe-host path did not run"; exit 1; }

if [ "${#LEAKS[@]}" -gt 0 ]; then
    echo "FAILED: private_key_password was shown:"
    printf '  %s\n' "${LEAKS[@]}"
    exit 1
fi
echo "no_log_secrets: the passwords occur 0 times in the output, the log files and the reports of every run"
