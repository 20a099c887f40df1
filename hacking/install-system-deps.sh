#!/usr/bin/env bash
# Make sure the Debian/Ubuntu packages the tests need are installed.
#
# Usage: install-system-deps.sh PACKAGE[:BINARY[,BINARY...]] ...
#   e.g. install-system-deps.sh dcmtk:storescp,echoscu,dcmqrscp orthanc:/usr/sbin/Orthanc chromium:chromium
# A package counts as present when all its binaries are found (a bare name is looked up
# on PATH, plus /usr/sbin and /sbin because root's PATH is not everyone's); a package
# given without binaries is checked with dpkg-query.
#
# As root, missing packages are installed with apt-get (one "apt-get update", then one
# non-interactive install).  Services shipped by the packages (the orthanc package
# starts an Orthanc daemon on ports 4242/8042 by default) are kept from starting with a
# temporary policy-rc.d, and stopped/disabled afterwards if they run anyway: the tests
# start their own peers on random loopback ports and must not find a daemon we left.
# Not root: print what is missing and how to install it, and fail.
set -euo pipefail

missing_pkgs=()
missing_desc=()

have_binary() {
    local bin="$1"
    if [[ "$bin" == /* ]]; then
        [[ -x "$bin" ]]
    else
        PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null 2>&1
    fi
}

for spec in "$@"; do
    pkg="${spec%%:*}"
    bins=""
    [[ "$spec" == *:* ]] && bins="${spec#*:}"
    absent=()
    if [[ -n "$bins" ]]; then
        IFS=, read -r -a bin_list <<<"$bins"
        for bin in "${bin_list[@]}"; do
            have_binary "$bin" || absent+=("$bin")
        done
    elif ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        absent+=("package $pkg")
    fi
    if ((${#absent[@]})); then
        missing_pkgs+=("$pkg")
        missing_desc+=("$pkg (missing: ${absent[*]})")
    fi
done

if ((${#missing_pkgs[@]} == 0)); then
    echo "system-deps: all present ($*)"
    exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
    {
        echo "ERROR: system packages needed by the tests are missing:"
        printf '  - %s\n' "${missing_desc[@]}"
        echo "Install them as root, then re-run make:"
        echo "  sudo apt-get update && sudo apt-get install --no-install-recommends ${missing_pkgs[*]}"
        echo "(or run 'make test' as root, which installs them itself)"
    } >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ERROR: missing ${missing_desc[*]}, and apt-get is not available to install them." >&2
    exit 1
fi

echo "system-deps: installing ${missing_pkgs[*]} with apt-get"

# Keep maintainer scripts from starting services (invoke-rc.d and deb-systemd-invoke both
# ask policy-rc.d; exit status 101 = "action forbidden").  Only add one if none exists,
# and remove only the one we added.
POLICY=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e "$POLICY" ]]; then
    printf '#!/bin/sh\n# temporary, added by dicom.network hacking/install-system-deps.sh\nexit 101\n' >"$POLICY"
    chmod 755 "$POLICY"
    added_policy=1
fi
cleanup() { if ((added_policy)); then rm -f "$POLICY"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends: the tests need the programs, not documentation or GUI extras.
apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing_pkgs[@]}"

# If a service got started anyway (e.g. a policy-rc.d that allowed it), stop it and keep
# it from coming back at boot: only for packages we installed just now.
for pkg in "${missing_pkgs[@]}"; do
    for unit in $(dpkg -L "$pkg" 2>/dev/null | grep -E '^/(lib|usr/lib)/systemd/system/[^/]+\.service$' | xargs -r -n1 basename); do
        if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
            systemctl disable --now "$unit" >/dev/null 2>&1 || true
        fi
    done
    for initscript in $(dpkg -L "$pkg" 2>/dev/null | grep -E '^/etc/init\.d/[^/]+$'); do
        if "$initscript" status >/dev/null 2>&1; then
            "$initscript" stop >/dev/null 2>&1 || true
        fi
        update-rc.d "$(basename "$initscript")" disable >/dev/null 2>&1 || true
    done
done

# Check again: a package that installed but lacks the expected binary is a real problem.
still_missing=()
for spec in "$@"; do
    pkg="${spec%%:*}"
    [[ "$spec" == *:* ]] || continue
    IFS=, read -r -a bin_list <<<"${spec#*:}"
    for bin in "${bin_list[@]}"; do
        have_binary "$bin" || still_missing+=("$pkg:$bin")
    done
done
if ((${#still_missing[@]})); then
    echo "ERROR: still missing after apt-get install: ${still_missing[*]}" >&2
    exit 1
fi
echo "system-deps: installed ${missing_pkgs[*]}"
