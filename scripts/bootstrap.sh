#!/usr/bin/env bash
# bootstrap.sh - install the Debian packages nenfhir needs to build and test,
# only those that are missing. Safe to run again; uses sudo when not root.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libcurl4-openssl-dev libjson-c-dev libxml2-dev libssl-dev
    libcunit1-dev libevent-dev libsqlite3-dev
    valgrind clang libclang-rt-14-dev
    curl openssl ca-certificates   # programs the scripts call (e2e probes, dev certificates)
    chromium                       # headless: the status page test (e2e_I14_health_status)
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "bootstrap: all ${#packages[@]} packages present"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done"
