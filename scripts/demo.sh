#!/usr/bin/env bash
# demo.sh - the README's first command: install what is missing, build, and
# run the main job on loopback over TLS with the embedded defaults:
#   1. development certificates (certs/make-dev-certs.sh),
#   2. the test FHIR server (tests/fhir-server/server.mjs, a Medplum FHIR
#      engine in memory, HAPI-style rest-hook notifications),
#   3. the daemon, `nenfhir run`, which creates its Subscription,
#   4. the LIS (tests/fhir-server/lis.mjs) posting every example case of
#      examples/fhir/ as separate Patient, Specimen, Observation and Condition
#      resources, in the order a lab system sends them,
# then prints every DiagnosticReport nenfhir wrote back (status, the readable
# conclusion and the synoptic report with its rule trace) and stops both.
# Exits non-zero, naming the step, if any step fails. Logs: build/demo/.
set -euo pipefail
trap 'echo "demo.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/bootstrap.sh >/dev/null
source scripts/node-setup.sh >/dev/null
scripts/build.sh build
certs/make-dev-certs.sh >/dev/null

source tests/e2e/lib.sh
export TMPDIR="$root/build"
e2e_init demo "$root/build/nenfhir" "$root/certs/dev"
e2e_cleanup_demo() {
    local rc=$?
    E2E_FAILED=${E2E_FAILED:-}
    mkdir -p build/demo
    cp "$E2E_DIR"/*.log "$E2E_DIR"/nenfhir.conf build/demo/ 2>/dev/null || true
    e2e_cleanup
    exit "$rc"
}
trap e2e_cleanup_demo EXIT
e2e_start_server --style hapi
echo "test FHIR server: $E2E_BASE (TLS, certificates from certs/dev/)"
e2e_config
e2e_start_daemon
echo "nenfhir: subscribed, listening on https://127.0.0.1:$E2E_LISTEN_PORT/notify (config: build/demo/nenfhir.conf)"
cases=(examples/fhir/*.json)
echo "LIS: posting the ${#cases[@]} example cases of examples/fhir/ one resource at a time..."
e2e_lis post --concurrency 1 "${cases[@]}" | sed 's/^/  /'
echo "waiting for nenfhir's reports..."
e2e_wait_reports "${#cases[@]}"
e2e_lis reports
echo "=================================================================="
echo "nenfhir's log: build/demo/daemon.log; the same cases offline: build/nenfhir classify --summary examples/fhir/*.json"
