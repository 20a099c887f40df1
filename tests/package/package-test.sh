#!/usr/bin/env bash
# `make package-test`: the collection as a user gets it.
#
#   1. ansible-galaxy collection build, and a check of what the tarball holds (galaxy.yml build_ignore);
#   2. ansible-galaxy collection install of the tarball into a fresh, empty collections path;
#   3. tests/package/smoke.yml from that path (module, batch, lookup, filters) against a DCMTK
#      storescp this script starts on loopback, then the shipped playbooks dicom.network.verify_pacs
#      and dicom.network.audit, and ansible-doc of every module, plugin and role; the modules run
#      on an interpreter without any installed package;
#   4. ansible-builder create on tests/ee/execution-environment.yml with the tarball (no container
#      engine needed), and ansible-builder's own introspection of the installed collection.
#
#   tests/package/package-test.sh [VENV_BIN]      VENV_BIN: default .venv/bin
#   KEEP_PACKAGE_TEST=1 keeps the work directory for a look afterwards.
#
# Nothing is skipped: a missing storescp or ansible-builder is a failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${1:-$ROOT/.venv/bin}
HERE=$ROOT/tests/package
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dicom-network-package.XXXXXX")
PEERS=$WORK/peers
STARTED=$SECONDS

step() { printf '\npackage-test: %s (%ss)\n' "$*" "$((SECONDS - STARTED))"; }
fail() { printf 'package-test: FAILED: %s\n' "$*" >&2; exit 1; }
peers() { (cd "$ROOT" && "$BIN/python" -m tests.peers "$@" --dir "$PEERS"); }

cleanup() {
    if [ -d "$PEERS" ]; then
        peers stop-all >/dev/null 2>&1 || true
    fi
    if [ "${KEEP_PACKAGE_TEST:-}" = 1 ]; then
        echo "package-test: work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in ansible-galaxy ansible-playbook ansible-doc ansible-builder python; do
    [ -x "$BIN/$tool" ] || fail "$BIN/$tool not found (run make deps)"
done

# ---- 1. build ------------------------------------------------------------------------------
step "building the tarball"
version=$(sed -n 's/^version: *//p' "$ROOT/galaxy.yml")
"$BIN/ansible-galaxy" collection build --output-path "$WORK/dist" "$ROOT"
tarball=$WORK/dist/dicom-network-$version.tar.gz
[ -f "$tarball" ] || fail "no $tarball"
tar -tzf "$tarball" | sed 's|/$||' | sort >"$WORK/contents.txt"
echo "$(wc -l <"$WORK/contents.txt") entries, $(du -k "$tarball" | cut -f1) KiB"

# Development tooling stays out; what the shipped playbooks, roles and docs need is in.
unwanted=$(grep -E '^(tests|bench|hacking|\.ci|\.venv|\.build|demo-output)(/|$)|^(Makefile|\.ansible-lint|\.gitignore)$|^playbooks/demo\.yml$' \
    "$WORK/contents.txt" || true)
[ -z "$unwanted" ] || fail "the tarball holds development files (galaxy.yml build_ignore): $(echo "$unwanted" | head -5 | tr '\n' ' ')"
for wanted in MANIFEST.json FILES.json README.md CHANGELOG.md requirements.txt bindep.txt \
        meta/runtime.yml meta/execution-environment.yml changelogs/changelog.yaml \
        docs/docsite/extra-docs.yml docs/docsite/links.yml docs/docsite/rst/quickstart.rst docs/reports.md \
        playbooks/verify_pacs.yml playbooks/audit.yml \
        roles/pacs_verify/meta/argument_specs.yml roles/dicom_audit/meta/argument_specs.yml \
        plugins/modules/dicom_echo.py plugins/lookup/transfer_syntaxes.py plugins/filter/ts_name.yml; do
    grep -qxF "$wanted" "$WORK/contents.txt" || fail "the tarball lacks $wanted"
done
# Every file a shipped playbook or role names by path must be shipped too.
while read -r playbook; do
    if grep -En '(hacking|tests|bench)/' "$ROOT/$playbook"; then
        fail "$playbook refers to development files that are not shipped"
    fi
done < <(grep '^playbooks/.*\.yml$' "$WORK/contents.txt")

# ---- 2. install ----------------------------------------------------------------------------
step "installing it into an empty collections path"
# From here on Ansible sees only the installed copy: no checkout, no other collections path.
export ANSIBLE_COLLECTIONS_PATH=$WORK/collections
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export ANSIBLE_RETRY_FILES_ENABLED=false
export ANSIBLE_NOCOLOR=1
# Modules run on a bare interpreter (a venv without any package): a probe host needs nothing but
# Python for a plain C-ECHO. The lookup and the filters run in the controller's .venv.
"$BIN/python" -m venv --without-pip "$WORK/probe-python"
export ANSIBLE_PYTHON_INTERPRETER=$WORK/probe-python/bin/python
"$BIN/ansible-galaxy" collection install --offline -p "$WORK/collections" "$tarball"
installed=$WORK/collections/ansible_collections/dicom/network
[ -f "$installed/MANIFEST.json" ] || fail "not installed at $installed"

mkdir -p "$WORK/run"
cd "$WORK/run"
# Read the whole listing first: grep -q would stop reading at the first match and break ansible-galaxy's pipe.
listing="$("$BIN/ansible-galaxy" collection list dicom.network)"
grep -qF "$WORK/collections" <<<"$listing" || fail "ansible-galaxy does not list the installed copy"

# ---- 3. use it -----------------------------------------------------------------------------
step "starting storescp on loopback"
peers start storescp storescp --lifetime 600 >/dev/null
peers start closed closed_port --lifetime 600 >/dev/null
storescp_port=$(peers get storescp port)
closed_port=$(peers get closed port)
echo "storescp on 127.0.0.1:$storescp_port, nothing on 127.0.0.1:$closed_port"

step "smoke playbook (module, batch, lookup, filters)"
"$BIN/ansible-playbook" -i localhost, -c local "$HERE/smoke.yml" \
    -e "storescp_port=$storescp_port" -e "closed_port=$closed_port" -e "probe_python=$ANSIBLE_PYTHON_INTERPRETER"

step "shipped playbook dicom.network.verify_pacs"
cat >"$WORK/run/endpoints.yml" <<EOF
pacs_verify_endpoints:
  - name: storescp
    host: 127.0.0.1
    port: $storescp_port
    called_aet: STORESCP
    expect_transfer_syntaxes: [ImplicitVRLittleEndian]
pacs_verify_retries: 0
pacs_verify_report_dir: $WORK/run/verify
EOF
"$BIN/ansible-playbook" -i localhost, -c local dicom.network.verify_pacs -e @"$WORK/run/endpoints.yml"
[ -s "$WORK/run/verify/pacs_verify.json" ] || fail "verify_pacs wrote no JSON report"

step "shipped playbook dicom.network.audit"
cat >"$WORK/run/inventory.ini" <<EOF
localhost ansible_connection=local

[dicom_endpoints]
storescp dicom_host=127.0.0.1 dicom_port=$storescp_port dicom_called_aet=STORESCP
EOF
# The checks storescp passes need nothing on the probe host either; the echo-only audit is the default's minus them.
"$BIN/ansible-playbook" -i "$WORK/run/inventory.ini" dicom.network.audit \
    -e "dicom_audit_report_dir=$WORK/run/audit" -e dicom_audit_fail_on=failures \
    -e '{"dicom_audit_checks": ["tls_versions", "implementation", "default_aet"]}'
[ -s "$WORK/run/audit/dicom_audit.json" ] || fail "audit wrote no JSON report"

step "the query check on a probe host without pydicom says why, per endpoint"
"$BIN/ansible-playbook" -i "$WORK/run/inventory.ini" dicom.network.audit \
    -e "dicom_audit_report_dir=$WORK/run/audit-query" -e '{"dicom_audit_checks": ["query"], "dicom_audit_report_formats": ["json"]}'
"$BIN/python" - "$WORK/run/audit-query/dicom_audit.json" <<'EOF'
import json, sys
row = json.load(open(sys.argv[1]))["endpoints"][0]
query = [check for check in row["checks"] if check["name"] == "query"]
if not query or query[0]["passed"] or "pydicom" not in query[0]["message"]:
    sys.exit("the query check does not say that pydicom is missing on the probe host: %s" % query)
EOF

step "ansible-doc of every module, plugin and role of the installed copy"
"$BIN/ansible-doc" --list dicom.network --json >"$WORK/list.json"
"$BIN/python" - "$WORK/list.json" <<'EOF'
import json, sys
names = json.load(open(sys.argv[1]))
missing = {"dicom.network.dicom_echo", "dicom.network.dicom_find", "dicom.network.dicom_report"} - set(names)
if missing:
    sys.exit("ansible-doc --list lacks %s" % ", ".join(sorted(missing)))
EOF
for doc in "module dicom.network.dicom_echo" "module dicom.network.dicom_find" "module dicom.network.dicom_report" \
        "lookup dicom.network.transfer_syntaxes" \
        "filter dicom.network.ts_name" "filter dicom.network.ts_uid" "filter dicom.network.echo_endpoints" \
        "filter dicom.network.echo_retryable" "filter dicom.network.inventory_endpoints" "filter dicom.network.check_plan" \
        "filter dicom.network.with_secrets" "filter dicom.network.audit_endpoints" \
        "role dicom.network.pacs_verify" "role dicom.network.dicom_audit"; do
    read -r kind name <<<"$doc"
    if ! "$BIN/ansible-doc" -t "$kind" "$name" >"$WORK/doc.txt" 2>"$WORK/doc.err"; then
        cat "$WORK/doc.err" >&2
        fail "ansible-doc -t $kind $name"
    fi
    grep -qF "$installed" "$WORK/doc.txt" || fail "ansible-doc -t $kind $name did not read the installed copy"
    [ ! -s "$WORK/doc.err" ] || { cat "$WORK/doc.err" >&2; fail "ansible-doc -t $kind $name warned"; }
    echo "ansible-doc -t $kind $name: $(wc -l <"$WORK/doc.txt") lines"
done

# ---- 4. execution environment --------------------------------------------------------------
step "ansible-builder create with the tarball"
mkdir -p "$WORK/ee"
cp "$ROOT/tests/ee/execution-environment.yml" "$tarball" "$WORK/ee/"
"$BIN/ansible-builder" create -f "$WORK/ee/execution-environment.yml" -c "$WORK/ee/context" -v 2
context_tarball=$WORK/ee/context/_build/collections/$(basename "$tarball")
cmp -s "$tarball" "$context_tarball" || fail "the build context lacks the tarball ($context_tarball)"
grep -q 'ansible-galaxy collection install .*/build/collections/dicom-network-\*\.tar\.gz' "$WORK/ee/context/"*file \
    || fail "the Containerfile does not install the tarball"
# What the image build would read from the installed collection (meta/execution-environment.yml):
"$BIN/python" "$WORK/ee/context/_build/scripts/introspect.py" introspect "$WORK/collections" >"$WORK/ee/introspect.yml"
while read -r requirement; do
    grep -qF -- "$requirement  # from collection dicom.network" "$WORK/ee/introspect.yml" \
        || fail "introspection of the installed collection lacks '$requirement' of requirements.txt"
done < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$installed/requirements.txt")
sed 's/^/  /' "$WORK/ee/introspect.yml"

step "passed"
