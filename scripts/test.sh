#!/usr/bin/env bash
# test.sh - install what is missing, build, and run every test twice: once in
# a normal build (with the valgrind checks) and once under AddressSanitizer +
# UBSan. Exit status is non-zero if anything fails. The HAPI FHIR tests
# (label hapi: one real HAPI server for the run, tests/hapi-server) run in
# the normal build only; NENFHIR_HAPI=0 leaves them out (skipped).
set -euo pipefail
trap 'echo "test.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Java 17, Maven and the HAPI test server's dependencies too (NENFHIR_HAPI=1)
export NENFHIR_HAPI=${NENFHIR_HAPI:-1}
if [ "$NENFHIR_HAPI" = 1 ]; then export NENFHIR_HAPI_REQUIRED=1; fi # missing Java fails, not skips
scripts/bootstrap.sh
scripts/node-setup.sh   # Node >= 20.19 and the Medplum validator (tests/fhir-server)

echo "== build (gcc, -Wall -Wextra -Werror) and test"
scripts/build.sh build
(cd build && ctest --output-on-failure -j2)
grep -h -E "^clinical vectors:|^rule files checked:|^cli_explain:|^cli_classify:|^validate:|^server selftest:|^PASS: " \
    build/Testing/Temporary/LastTest.log | sort -u

echo "== build with AddressSanitizer + UBSan and test"
scripts/build.sh build-asan -DNENFHIR_SANITIZE=ON
(cd build-asan && NENFHIR_HAPI=0 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j2)

echo "== fuzz targets (clang, libFuzzer + ASan + UBSan): short fixed runs"
tests/fuzz/run.sh
