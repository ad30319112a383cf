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
    sqlite3 util-linux             # a second writer holding the lock, prlimit, mount/unshare (e2e I7_fault_*)
)

# NENFHIR_HAPI=1: also Java 17 and Maven for the HAPI FHIR test server
# (tests/hapi-server, `ctest -L hapi`), whose Maven dependencies are then
# fetched once (hapi_fetch below).
if [ "${NENFHIR_HAPI:-}" = 1 ]; then
    packages+=(openjdk-17-jdk-headless maven)
fi

# The HAPI test server's dependencies and plugins, fetched from Maven Central
# once into ~/.m2, then its build (build/hapi-server), so tests run offline.
# `dependency:go-offline` is not used: it also asks for artifacts that HAPI's
# version management names but Central does not serve (for example
# hapi-fhir-validation-resources-dstu2.1) and fails.
hapi_fetch() {
    [ "${NENFHIR_HAPI:-}" = 1 ] || return 0
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    echo "bootstrap: fetching the HAPI FHIR test server's Maven dependencies"
    mvn -B -q -f "$root/tests/hapi-server/pom.xml" dependency:resolve dependency:resolve-plugins >/dev/null
    NENFHIR_HAPI_ONLINE=1 "$root/tests/hapi-server/run.sh" --build-only
    echo "bootstrap: HAPI FHIR test server built in $root/build/hapi-server"
}

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "bootstrap: all ${#packages[@]} packages present"
    hapi_fetch
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
hapi_fetch
echo "bootstrap: done"
