#!/usr/bin/env bash
# Print the absolute path of a Python interpreter for one of the project's virtualenvs.
#
#   find-python.sh              a Python >= 3.11, for .venv and .venv-2.16
#   find-python.sh --exact X.Y  a Python X.Y exactly, e.g. 3.12 for .venv-2.21 (ansible-core
#                               2.20+ needs a controller Python >= 3.12)
#
# Order of preference:
#   1. $PYTHON, if the caller set it (the Makefile passes PYTHON, or PYTHON_312 for --exact 3.12):
#      then it is the only candidate, and an unusable one is an error;
#   2. the pyenv build: 3.11.7, the one this project is developed with, or with --exact the
#      newest ${PYENV_ROOT:-/root/.pyenv}/versions/X.Y.* build;
#   3. python3.11, then python3 from PATH, or with --exact pythonX.Y from PATH.
# pyenv shims are resolved to the real interpreter (sys.executable), so the venv and
# ansible-test never go through a shim (a shim for a version pyenv has not selected exits 127;
# docs/dev/ansible-test-harness.md 4).
#
# Exit status: 0 with the path on stdout; 1 when an interpreter was found but cannot be used
# (wrong version, no venv/ensurepip module: install python3.X-venv), or none at all without
# --exact; 3 with --exact when no Python X.Y is installed at all -- the one case the Makefile
# reports as a skip (of the ansible-core 2.21 steps) instead of a failure.
set -euo pipefail

exact=
if [[ "${1:-}" == "--exact" ]]; then
    exact="${2:?usage: find-python.sh [--exact MAJOR.MINOR]}"
    if ! [[ "$exact" =~ ^[0-9]+\.[0-9]+$ ]]; then
        echo "find-python.sh: --exact wants MAJOR.MINOR, not '$exact'" >&2
        exit 2
    fi
fi

pyenv_root="${PYENV_ROOT:-/root/.pyenv}"
if [[ -n "$exact" ]]; then
    check="sys.version_info[:2] == ($(tr . , <<<"$exact"))"
    wanted="Python $exact"
else
    check="sys.version_info[:2] >= (3, 11)"
    wanted="Python >= 3.11"
fi
candidates=()
if [[ -n "${PYTHON:-}" ]]; then
    candidates+=("$PYTHON")  # the caller's choice, and then the only one
elif [[ -n "$exact" ]]; then
    # Newest patch release first (3.12.10 before 3.12.9).
    while IFS= read -r dir; do
        candidates+=("$dir/bin/python$exact")
    done < <(compgen -G "$pyenv_root/versions/$exact.*" | grep -E "/$exact\.[0-9]+$" | sort -rV || true)
    candidates+=("python$exact")
else
    candidates+=(
        "$pyenv_root/versions/3.11.7/bin/python3.11"
        /root/.pyenv/versions/3.11.7/bin/python3.11
        python3.11
        python3
    )
fi

found_any=
unusable=()
for candidate in "${candidates[@]}"; do
    if ! command -v "$candidate" >/dev/null 2>&1; then
        continue
    fi
    # Ask the interpreter itself: works for shims and symlinks alike.  Exit 4: wrong version,
    # 5: no venv/ensurepip (both needed: the venv and ansible-test's offline pip bootstrap).
    rc=0
    real=$("$candidate" -c "
import sys
if not ($check):
    raise SystemExit(4)
try:
    import venv, ensurepip
except ImportError:
    raise SystemExit(5)
print(sys.executable)
" 2>/dev/null) || rc=$?
    case "$rc" in
        0)
            if [[ -n "$real" ]]; then
                echo "$real"
                exit 0
            fi
            ;;
        4)
            found_any=1
            unusable+=("$candidate is $("$candidate" --version 2>&1 | head -n1), not $wanted")
            ;;
        5)
            found_any=1
            unusable+=("$candidate has no venv/ensurepip module")
            ;;
        *)
            # Does not run at all (a pyenv shim of a version that is not installed: 127).
            ;;
    esac
done

if [[ -n "$exact" && -z "$found_any" && -z "${PYTHON:-}" ]]; then
    echo "no Python $exact interpreter on this machine (looked for $pyenv_root/versions/$exact.*/bin/python$exact and python$exact on PATH)" >&2
    exit 3
fi

{
    echo "ERROR: no usable $wanted (with the venv and ensurepip modules) was found."
    echo "Tried: ${candidates[*]}"
    for line in "${unusable[@]+"${unusable[@]}"}"; do
        echo "  $line"
    done
    if [[ -n "$exact" ]]; then
        echo "Install one (Debian/Ubuntu: apt-get install python$exact python$exact-venv), or point the"
        echo "Makefile at one:  make test PYTHON_${exact//./}=/path/to/python$exact"
    else
        echo "Install one, for example on Debian/Ubuntu:  apt-get install python3 python3-venv"
        echo "(Debian 12 ships Python 3.11), or point the Makefile at one:  make test PYTHON=/path/to/python3.X"
    fi
} >&2
exit 1
