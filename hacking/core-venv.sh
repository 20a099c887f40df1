#!/usr/bin/env bash
# Create or refresh a virtualenv that holds one ansible-core release series (and so its
# ansible-test) beside the project's .venv, for the sanity/integration matrix of the Makefile.
#
#   hacking/core-venv.sh VENV_DIR PYTHON SERIES [REQUIREMENTS_FILE...]
#   e.g. hacking/core-venv.sh .venv-2.21 /root/.pyenv/versions/3.12.1/bin/python3.12 2.21 requirements.txt
#
# Installs "ansible-core>=SERIES,<SERIES+1" and the requirements files with PYTHON.  Cheap when
# nothing changed: VENV_DIR/.installed records the interpreter, the series and a checksum of the
# requirements files; the venv is rebuilt from scratch when the interpreter differs and pip runs
# again when anything else does.  Fails loudly (exit 1, "ERROR: ..." naming the series) when the
# release cannot be installed or what got installed is not of that series: a matrix step must
# never pass without the ansible-core it claims to test.  Prints one line with what is there.
set -euo pipefail

if (($# < 3)); then
    echo "usage: $0 VENV_DIR PYTHON SERIES [REQUIREMENTS_FILE...]" >&2
    exit 2
fi
venv=$1
python=$2
series=$3
shift 3
if ! [[ "$series" =~ ^([0-9]+)\.([0-9]+)$ ]]; then
    echo "core-venv: SERIES must be MAJOR.MINOR (e.g. 2.21), not '$series'" >&2
    exit 2
fi
spec="ansible-core>=$series,<${BASH_REMATCH[1]}.$((BASH_REMATCH[2] + 1))"
name=$(basename "$venv")
fail() {
    echo "ERROR: $name: $*" >&2
    exit 1
}

python_id=$("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])') ||
    fail "cannot run $python"
req_sum=$(cat /dev/null "$@" | sha256sum | cut -d' ' -f1)
want=$(printf 'python %s\ncore %s\nrequirements %s\n' "$python_id" "$spec" "$req_sum")
stamp="$venv/.installed"

if ! [[ -f "$stamp" && -x "$venv/bin/ansible-test" ]] || [[ "$(cat "$stamp")" != "$want" ]]; then
    # The interpreter the venv was made with: its base's sys.executable as pyvenv.cfg records it
    # ("executable", Python >= 3.11), and the version.  Another one: start from scratch.
    if [[ -x "$venv/bin/python" ]]; then
        made_with=$(sed -n 's/^executable *= *//p' "$venv/pyvenv.cfg" 2>/dev/null)
        made_with="$made_with $("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || true)"
        if [[ "$made_with" != "$python_id" ]]; then
            echo "core-venv: $name was made with another Python ($made_with): rebuilding it with $python_id"
            rm -rf "$venv"
        fi
    fi
    rm -f "$stamp"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "core-venv: creating $name with $python_id"
        "$python" -m venv "$venv" || fail "python -m venv failed with $python"
    fi
    echo "core-venv: installing $spec${*:+ and $*} into $name"
    req_args=()
    for req in "$@"; do
        req_args+=(-r "$req")
    done
    # pip's stderr after it ends (so our ERROR line comes last), without the "Location ... is
    # ignored" warnings about optional local package indexes.
    errlog=$(mktemp)
    trap 'rm -f "$errlog"' EXIT
    rc=0
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" "${req_args[@]+"${req_args[@]}"}" \
        2>"$errlog" || rc=$?
    grep -v "is ignored: it is neither a file nor a directory" "$errlog" >&2 || true
    if ((rc)); then
        fail "could not install $spec with $python_id (pip failed, see above): ansible-core $series cannot be tested"
    fi
fi

# Whatever the stamp says, check what is really there.
version=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)' 2>/dev/null) ||
    fail "ansible-core is not importable from $venv/bin/python"
[[ "$version" == "$series".* ]] || fail "holds ansible-core $version, not $series.x"
"$venv/bin/ansible-test" --version >/dev/null 2>&1 || fail "$venv/bin/ansible-test does not run"
printf '%s\n' "$want" >"$stamp"
echo "core-venv: $name: ansible-core $version on Python ${python_id#* }"
