#!/usr/bin/env bash
# build.sh [DIR] [cmake options...] - configure and build nenfhir into DIR
# (default build/). Used by demo.sh and test.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
shift || true
cmake -S "$root" -B "$root/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$root/$dir" -j"$(nproc)" -- --no-print-directory >/dev/null
