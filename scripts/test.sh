#!/usr/bin/env bash
# test.sh - install what is missing, build, and run every test twice: once in
# a normal build (with the valgrind checks) and once under AddressSanitizer +
# UBSan. Exit status is non-zero if anything fails. The HAPI FHIR tests
# (label hapi: one real HAPI server for the run, tests/hapi-server) run in
# the normal build only, in a ctest of their own beside the other tests
# and the ASan run (they mostly wait on HAPI and nenfhir; log
# build/hapi-ctest.log); NENFHIR_HAPI=0 leaves them out (skipped).
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
hapi_pid=""
hapi_stop() { # on an early exit: no ctest or HAPI server left behind
    [ -n "$hapi_pid" ] || return 0
    pkill -TERM -P "$hapi_pid" 2>/dev/null || true # its ctest
    wait "$hapi_pid" 2>/dev/null || true
    tests/hapi-server/shared.sh stop build/hapi-shared >/dev/null 2>&1 || true
}
trap hapi_stop EXIT
if [ "$NENFHIR_HAPI" = 1 ]; then
    (cd build && ctest -R '^e2e_certs$' >/dev/null) # made once (idempotent), shared by both runs
    echo "== the HAPI FHIR tests (ctest -L hapi) in the background: build/hapi-ctest.log"
    (set +e; cd build && start=$SECONDS && ctest -L '^hapi$' -FS e2e_certs -j3 --output-on-failure \
        >hapi-ctest.log 2>&1; rc=$?; echo "hapi ctest: $((SECONDS - start)) s, status $rc" >>hapi-ctest.log; exit $rc) &
    hapi_pid=$!
fi
(cd build && ctest --output-on-failure -j2 -LE hapi)
grep -h -E "^clinical vectors:|^rule files checked:|^cli_explain:|^cli_classify:|^validate:|^server selftest:|^PASS: " \
    build/Testing/Temporary/LastTest.log | sort -u

echo "== build with AddressSanitizer + UBSan and test"
scripts/build.sh build-asan -DNENFHIR_SANITIZE=ON
(cd build-asan && NENFHIR_HAPI=0 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j2)

if [ -n "$hapi_pid" ]; then
    echo "== waiting for the HAPI FHIR tests"
    hapi_rc=0
    wait "$hapi_pid" || hapi_rc=$?
    hapi_pid=""
    grep -E "tests passed|tests failed|hapi ctest:|^PASS: |\*\*\*" build/hapi-ctest.log || true
    [ "$hapi_rc" = 0 ] || { cat build/hapi-ctest.log >&2; echo "test.sh: the HAPI FHIR tests failed" >&2; exit 1; }
fi

echo "== fuzz targets (clang, libFuzzer + ASan + UBSan): short fixed runs"
tests/fuzz/run.sh
