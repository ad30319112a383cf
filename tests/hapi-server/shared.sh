#!/usr/bin/env bash
# shared.sh - the one HAPI FHIR server of a ctest run (CTest fixture hapi_server:
# tests hapi_server_start / hapi_server_stop in tests/CMakeLists.txt).
#
# Usage: tests/hapi-server/shared.sh start STATE_DIR CERT_DIR
#        tests/hapi-server/shared.sh stop STATE_DIR
# start: runs run.sh --tenants in the background (its own session, so ctest
#        does not wait for it), waits until it listens and GET /fhir/DEFAULT/metadata
#        answers (up to NENFHIR_HAPI_START_TIMEOUT s, default 360), then
#        writes STATE_DIR/port and STATE_DIR/pid (run.sh's pid); its log is
#        STATE_DIR/server.log. Each test then makes its own tenant (HAPI
#        partition) with POST /_test/tenant?name=T and uses the base /fhir/T
#        (tests/e2e/lib.sh, e2e_start_hapi). Exits 77 (skipped) unless
#        NENFHIR_HAPI=1, or when java or mvn are missing (as the tests do).
# stop:  SIGTERM to the server, waits for it (up to 60 s), removes port and pid.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmd=${1:-} state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || { echo "usage: shared.sh start|stop STATE_DIR [CERT_DIR]" >&2; exit 2; }

stop() {
    [ -f "$state/pid" ] || { echo "shared.sh: no shared HAPI server in $state"; return 0; }
    local pid i
    pid=$(cat "$state/pid")
    rm -f "$state/port" "$state/pid"
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || { echo "shared.sh: HAPI server $pid stopped"; return 0; }
        sleep 0.5
    done
    echo "shared.sh: HAPI server $pid did not stop within 60 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

case $cmd in
    stop) stop; exit 0 ;;
    start) ;;
    *) echo "shared.sh: unknown command $cmd" >&2; exit 2 ;;
esac

certs=${3:?shared.sh start needs CERT_DIR}
if [ "${NENFHIR_HAPI:-}" != 1 ]; then
    echo "SKIP: the HAPI FHIR tests run with NENFHIR_HAPI=1"
    exit 77
fi
if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    [ -n "${NENFHIR_HAPI_REQUIRED:-}" ] && { echo "shared.sh: java or mvn missing" >&2; exit 1; }
    echo "SKIP: java or mvn missing (NENFHIR_HAPI=1 scripts/bootstrap.sh installs them)"
    exit 77
fi
mkdir -p "$state"
stop >/dev/null # a server left over by an interrupted run
"$here/run.sh" --build-only >>"$state/server.log" 2>&1 || { tail -n 40 "$state/server.log" >&2; exit 1; }
start=$SECONDS
limit=${NENFHIR_HAPI_START_TIMEOUT:-360}
rm -f "$state/server.port"
setsid "$here/run.sh" --tenants --certs "$certs" --port-file "$state/server.port" \
    >>"$state/server.log" 2>&1 </dev/null &
pid=$!
fail() {
    echo "shared.sh: $*" >&2
    kill -TERM "$pid" 2>/dev/null || true
    tail -n 40 "$state/server.log" >&2
    exit 1
}
while [ ! -s "$state/server.port" ]; do
    kill -0 "$pid" 2>/dev/null || fail "the HAPI test server exited at start"
    [ $((SECONDS - start)) -lt "$limit" ] || fail "the HAPI test server did not listen within $limit s"
    sleep 0.5
done
port=$(cat "$state/server.port")
until curl -sf --max-time 20 --cacert "$certs/ca.crt" -o /dev/null "https://127.0.0.1:$port/fhir/DEFAULT/metadata"; do
    kill -0 "$pid" 2>/dev/null || fail "the HAPI test server exited at start"
    [ $((SECONDS - start)) -lt "$limit" ] || fail "HAPI's /metadata did not answer within $limit s"
    sleep 0.5
done
echo "$pid" >"$state/pid"
echo "$port" >"$state/port"
echo "shared HAPI FHIR server (pid $pid) ready on port $port after $((SECONDS - start)) s; log $state/server.log"
