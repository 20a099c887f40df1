#!/usr/bin/env bash
# dicom_echo and dicom_audit over SSH, on probe hosts whose Python has no pip package at all.
#
# Two sshd (Debian openssh-server) on 127.0.0.1, started here as root with host and user keys made
# in a temporary directory, are the probe hosts probe_a and probe_b; their ansible_python_interpreter
# is a virtualenv made with --without-pip and without site-packages. Checked: the interpreter imports
# none of cryptography, pydicom, pynetdicom or pip; a plain C-ECHO to DCMTK storescp succeeds on it;
# a TLS echo fails before any traffic, saying that cryptography is missing; a dicom_audit whose two
# probe hosts are those sshd probes each host's own endpoints (dicom_probe_from), and both sshd logged
# the sessions. A missing sshd or a run without root fails the target; nothing is skipped.
set -euo pipefail

# shellcheck source=../setup_dicom_reports/peers.sh
source ../setup_dicom_reports/peers.sh
CHECK=("$PEER_PY" ../setup_dicom_reports/check_reports.py)
SSHD=/usr/sbin/sshd

fail() {
    echo "dicom_echo_ssh: $*" >&2
    exit 1
}

[ -x "$SSHD" ] || fail "$SSHD not found: install the Debian package openssh-server (make deps installs it)"
[ "$(id -u)" = 0 ] || fail "sshd must run as root to accept logins; run the integration tests as root (CI does)"
command -v ssh-keygen >/dev/null || fail "ssh-keygen not found: install the Debian package openssh-client"

WORK=$(mktemp -d /tmp/dicom-echo-ssh.XXXXXX)
chmod 700 "$WORK"
SSHD_PIDS=()
cleanup() {
    local status=$?
    local pid
    for pid in "${SSHD_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    peers_stop_all
    if [ "$status" -ne 0 ]; then
        for log in "$WORK"/sshd-*.log; do
            [ -e "$log" ] && { echo "--- $log"; tail -n 20 "$log"; }
        done
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT

echo "== keys, sshd configuration and a Python without packages in $WORK"
ssh-keygen -q -t ed25519 -N '' -C dicom-echo-ssh-host -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -C dicom-echo-ssh-user -f "$WORK/user_key"
cp "$WORK/user_key.pub" "$WORK/authorized_keys"
# Debian's sshd refuses to start without its privilege separation directory, which the service unit
# would create; it is empty and root's.
mkdir -p /run/sshd
chmod 755 /run/sshd

BARE="$WORK/bare-python"
"$PEER_PY" -m venv --without-pip "$BARE"
BARE_PY="$BARE/bin/python"
grep -q "include-system-site-packages = false" "$BARE/pyvenv.cfg" || fail "$BARE was made with system site-packages"

declare -A PORTS
start_sshd() {
    local name=$1 port
    port=$(free_port)
    cat >"$WORK/sshd_$name.conf" <<CONF
ListenAddress 127.0.0.1
HostKey $WORK/host_key
PidFile $WORK/sshd_$name.pid
AuthorizedKeysFile $WORK/authorized_keys
AllowUsers root
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel VERBOSE
Subsystem sftp internal-sftp
CONF
    "$SSHD" -t -f "$WORK/sshd_$name.conf" -p "$port" || fail "sshd refuses the configuration $WORK/sshd_$name.conf"
    "$SSHD" -D -f "$WORK/sshd_$name.conf" -p "$port" -E "$WORK/sshd-$name.log" &
    SSHD_PIDS+=($!)
    # the host key is ours: known_hosts is written from it, not learnt from the server
    echo "[127.0.0.1]:$port $(cat "$WORK/host_key.pub")" >>"$WORK/known_hosts"
    local _
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            PORTS[$name]=$port
            return 0
        fi
        sleep 0.1
    done
    fail "sshd $name did not listen on 127.0.0.1:$port (log: $(tail -n 5 "$WORK/sshd-$name.log" 2>/dev/null))"
}

start_sshd a
start_sshd b
[ "${PORTS[a]}" != "${PORTS[b]}" ] || fail "both sshd got port ${PORTS[a]}"

peer_start storescp storescp
STORESCP_PORT=$(peer_port storescp)
CLOSED_PORT=$(free_port)

cat >"$WORK/inventory.json" <<JSON
{"all": {"children": {
  "probes": {
    "vars": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_user": "root",
             "ansible_ssh_private_key_file": "$WORK/user_key",
             "ansible_ssh_common_args": "-o UserKnownHostsFile=$WORK/known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes",
             "ansible_python_interpreter": "$BARE_PY"},
    "hosts": {"probe_a": {"ansible_port": ${PORTS[a]}}, "probe_b": {"ansible_port": ${PORTS[b]}}}},
  "dicom_endpoints": {
    "vars": {"ansible_host": "127.0.0.1", "dicom_called_aet": "STORESCP", "dicom_port": $STORESCP_PORT},
    "hosts": {"a-storescp": {"dicom_probe_from": "probe_a"},
              "a-storescp-again": {"dicom_probe_from": "probe_a", "dicom_calling_aet": "PROBE-A"},
              "b-storescp": {"dicom_probe_from": "probe_b"},
              "b-closed": {"dicom_probe_from": "probe_b", "dicom_port": $CLOSED_PORT}}}
}}}
JSON

# One "Starting session" per command or file transfer: Ansible's SSH control master keeps one
# authenticated connection per probe host open across tasks (and playbooks), so logins are no measure.
sessions() {
    grep -c "Starting session: " "$WORK/sshd-$1.log" || true
}

echo "== 1. dicom_echo on probe_a over SSH: plain echo, TLS without cryptography"
ansible-playbook -i "$WORK/inventory.json" echo.yml -e "storescp_port=$STORESCP_PORT" -e "sshd_port=${PORTS[a]}" "$@"
[ "$(sessions a)" -gt 0 ] || fail "sshd a logged no session: the module did not run over SSH"

echo "== 2. dicom_audit with probe_a and probe_b over SSH"
before_a=$(sessions a)
before_b=$(sessions b)
ansible-playbook -i "$WORK/inventory.json" audit.yml -e "dicom_audit_report_dir=$WORK/reports" "$@"
[ "$(sessions a)" -gt "$before_a" ] || fail "the audit opened no SSH session to probe_a (sshd a)"
[ "$(sessions b)" -gt "$before_b" ] || fail "the audit opened no SSH session to probe_b (sshd b)"
cat >"$WORK/expect.json" <<'JSON'
{"formats": ["json", "junit", "csv", "markdown", "html", "openmetrics"],
 "summary": {"endpoints": 4, "passed": 3, "failed": 1, "checks": 4, "checks_failed": 1},
 "status": {"a-storescp": "passed", "a-storescp-again": "passed", "b-storescp": "passed", "b-closed": "failed"},
 "outcome": {"a-storescp": "success", "a-storescp-again": "success", "b-storescp": "success", "b-closed": "connection_refused"}}
JSON
"${CHECK[@]}" "$WORK/reports" dicom_audit "$WORK/expect.json"
"$PEER_PY" - "$WORK/reports/dicom_audit.json" <<'PY'
import json
import sys

report = json.load(open(sys.argv[1], encoding="utf-8"))
problems = []
wanted = {"a-storescp": "probe_a", "a-storescp-again": "probe_a", "b-storescp": "probe_b", "b-closed": "probe_b"}
rows = {row["name"]: row for row in report["endpoints"]}
for name, probe in wanted.items():
    if rows[name]["probe_from"] != probe:
        problems.append("%s was probed from %s, its dicom_probe_from is %s" % (name, rows[name]["probe_from"], probe))
if rows["a-storescp-again"]["endpoint"]["calling_aet"] != "PROBE-A":
    problems.append("a-storescp-again's dicom_calling_aet was not used: %s" % rows["a-storescp-again"]["endpoint"])
if sorted(report["run"]["probe_hosts"]) != ["probe_a", "probe_b"]:
    problems.append("run.probe_hosts is %s, expected probe_a and probe_b" % report["run"]["probe_hosts"])
for name, row in rows.items():
    probe = row["probe"] or {}
    if "presentation_contexts" in probe or "log" in probe or "echoes" not in probe:
        problems.append("%s: the role's default result_detail (compact) was not used: %s" % (name, sorted(probe)))
if problems:
    sys.exit("audit over SSH:\n  " + "\n  ".join(problems))
print("audit over SSH: every endpoint probed from its own probe host")
PY
echo "dicom_echo_ssh: all scenarios passed"
