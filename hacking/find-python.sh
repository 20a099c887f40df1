#!/usr/bin/env bash
# Print the absolute path of a Python >= 3.11 to build the project's .venv with.
#
# Order of preference:
#   1. $PYTHON, if the caller set it;
#   2. the pyenv build this project is developed and tested with (3.11.7);
#   3. python3.11, then python3 from PATH.
# pyenv shims are resolved to the real interpreter (sys.executable), so the venv and
# ansible-test never go through a shim (shims exit 127 for versions pyenv has not
# selected; see docs/dev/ansible-test-harness.md 4).
set -euo pipefail

MIN_MAJOR=3
MIN_MINOR=11

candidates=()
if [[ -n "${PYTHON:-}" ]]; then
    candidates+=("$PYTHON")
fi
candidates+=(
    "${PYENV_ROOT:-/root/.pyenv}/versions/3.11.7/bin/python3.11"
    /root/.pyenv/versions/3.11.7/bin/python3.11
    python3.11
    python3
)

for candidate in "${candidates[@]}"; do
    if ! command -v "$candidate" >/dev/null 2>&1; then
        continue
    fi
    # Ask the interpreter itself: works for shims and symlinks alike.
    if real=$("$candidate" -c "
import sys
if sys.version_info[:2] < ($MIN_MAJOR, $MIN_MINOR):
    raise SystemExit(1)
import venv, ensurepip  # both needed: .venv creation and the offline pip bootstrap
print(sys.executable)
" 2>/dev/null) && [[ -n "$real" ]]; then
        echo "$real"
        exit 0
    fi
done

cat >&2 <<MSG
ERROR: no usable Python >= $MIN_MAJOR.$MIN_MINOR (with the venv and ensurepip modules) was found.
Tried: ${candidates[*]}
Install one, for example on Debian/Ubuntu:  apt-get install python3 python3-venv
(Debian 12 ships Python 3.11), or point the Makefile at one:  make test PYTHON=/path/to/python3.X
MSG
exit 1
