#!/usr/bin/env bash
# Make `ansible-test ... --venv` work without https://ci-files.testing.ansible.com.
#
# Why: for every virtual environment it creates, ansible-test bootstraps pip by running a
# "get-pip" script that it downloads from ci-files.testing.ansible.com and caches as
# ~/.ansible/test/cache/get_pip_<version>.py (23_1_2 for ansible-core 2.16, 24_2 for 2.19,
# 25_2 for 2.20 - 2.22).  That host is not reachable here, so ansible-test fails with
#   "Download failed: ... FATAL: Python 3.11 at .../python does not have pip available."
# (docs/dev/ansible-test-harness.md 2).  We put a small stand-in at the cache paths instead.  It
#   * bootstraps pip from the wheel bundled with CPython (ensurepip, no network),
#   * restores the pip configuration that ensurepip disables (it exports
#     PIP_CONFIG_FILE=/dev/null; without pip.conf the CA bundle / index settings are lost
#     and PyPI fails with CERTIFICATE_VERIFY_FAILED),
#   * then runs "pip install <what ansible-test asked for>" (e.g. pip==24.2) from PyPI,
#     honouring --no-setuptools / --no-wheel by removing what ensurepip added.
#
# A real get-pip script already in the cache (e.g. copied from a connected machine) is
# left alone; our own stand-in is refreshed when this file changes.  Idempotent.
#
#   hacking/ansible-test-offline-pip.sh [VENV_DIR...]
# Each VENV_DIR that exists and holds an ansible-test (the Makefile passes .venv, .venv-2.16,
# .venv-2.21) adds the pip version that its ansible-test bootstraps by default (its
# python_requirements.get_venv_packages), so a core release that moves to another pip gets its
# stand-in without editing VERSIONS below.  Where that version cannot be read the script says so
# and goes on with the known list (ansible-test then fails with "Download failed" if it needs more).
set -euo pipefail

# Same directory ansible-test uses: os.path.expanduser('~/.ansible/test/cache') (which
# falls back to the passwd entry when HOME is unset).
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
CACHE_DIR="$home/.ansible/test/cache"
MARKER="# dicom.network offline get-pip stand-in v2"
# One file per pip version that the supported ansible-core releases bootstrap.
VERSIONS=(23_1_2 24_2 25_2)

for venv in "$@"; do
    [[ -x "$venv/bin/python" && -x "$venv/bin/ansible-test" ]] || continue
    # The default pip of get_venv_packages(): "default_packages = dict(pip='25.2', ...)".
    version=$("$venv/bin/python" - <<'PY' 2>/dev/null || true
import pathlib, re
import ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
match = re.search(r"default_packages = dict\(\s*pip='([0-9.]+)'", src.read_text())
print(match.group(1).replace(".", "_") if match else "")
PY
)
    if [[ -z "$version" ]]; then
        echo "ansible-test-offline-pip: WARNING: cannot tell which pip the ansible-test of $venv bootstraps; providing ${VERSIONS[*]}" >&2
        continue
    fi
    if [[ " ${VERSIONS[*]} " != *" $version "* ]]; then
        echo "ansible-test-offline-pip: the ansible-test of $venv bootstraps pip ${version//_/.}: adding its stand-in"
        VERSIONS+=("$version")
    fi
done

mkdir -p "$CACHE_DIR"

for version in "${VERSIONS[@]}"; do
    target="$CACHE_DIR/get_pip_${version}.py"
    if [[ -e "$target" ]] && ! grep -q "dicom.network offline get-pip stand-in" "$target"; then
        echo "ansible-test-offline-pip: keeping existing $target (not ours)"
        continue
    fi
    if [[ -e "$target" ]] && grep -qxF "$MARKER" "$target"; then
        continue  # already current
    fi
    tmp="$(mktemp "$target.XXXXXX")"
    cat >"$tmp" <<PY
$MARKER
# Installed by hacking/ansible-test-offline-pip.sh; ansible-test runs it in place of the
# get-pip script it would otherwise download from ci-files.testing.ansible.com.
import ensurepip
import os
import subprocess
import sys

DROP = ("--no-setuptools", "--no-wheel")
args = [a for a in sys.argv[1:] if a not in DROP]

def _pip(*pip_args):
    return subprocess.call([sys.executable, "-m", "pip"] + list(pip_args))

saved_config = os.environ.get("PIP_CONFIG_FILE")
ensurepip.bootstrap(upgrade=True)  # offline: the pip wheel bundled with CPython
if saved_config is None:
    os.environ.pop("PIP_CONFIG_FILE", None)  # ensurepip sets it to os.devnull
else:
    os.environ["PIP_CONFIG_FILE"] = saved_config

rc = _pip("install", *args)
if rc:
    sys.exit(rc)

# ensurepip (Python < 3.12) also installs setuptools; the real get-pip does not when
# asked for --no-setuptools, and ansible-test installs what it needs later.
if "--no-setuptools" in sys.argv[1:]:
    _pip("uninstall", "--yes", "--quiet", "setuptools")
sys.exit(0)
PY
    mv "$tmp" "$target"
    echo "ansible-test-offline-pip: installed $target"
done
