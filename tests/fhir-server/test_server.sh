#!/usr/bin/env bash
# Selftest of the test FHIR server (server.mjs). Makes throwaway certificates
# (a CA; one certificate for 127.0.0.1/localhost used by the server, the
# receiver and the client), starts a rest-hook receiver (test_receiver.mjs,
# which requires client certificates) and the server (client certificate and
# bearer token required, one delivery retry) and a second server with HAPI's
# paging, ids and retries (test_server_hapi_checks.mjs), then runs
# test_server_checks.mjs and test_server_hapi_checks.mjs.
# Prints "server selftest: N passed, M failed"; exits non-zero on any failure.
# No arguments; Node is ${NENFHIR_NODE:-node}.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
node=${NENFHIR_NODE:-node}
tmp=$(mktemp -d)
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# Waits up to 60 s for FILE to be non-empty (the machine may be loaded).
wait_for() {
    for _ in $(seq 600); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    echo "FAIL: $2 did not start" >&2
    cat "$1.err" >&2 2>/dev/null || true
    exit 1
}

ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days 1 -subj /CN=nenfhir-test-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req "${ec[@]}" -keyout "$tmp/cert.key" -out "$tmp/cert.csr" -subj /CN=localhost 2>/dev/null
printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'extendedKeyUsage=serverAuth,clientAuth' >"$tmp/ext.cnf"
openssl x509 -req -in "$tmp/cert.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
    -out "$tmp/cert.pem" -days 1 -extfile "$tmp/ext.cnf" 2>/dev/null
printf 'selftest-token\n' >"$tmp/token"

"$node" "$here/test_receiver.mjs" --cert "$tmp/cert.pem" --key "$tmp/cert.key" --ca "$tmp/ca.pem" \
    --out "$tmp/received.jsonl" >"$tmp/receiver.out" 2>"$tmp/receiver.out.err" &
pids+=($!)
"$node" "$here/server.mjs" --cert "$tmp/cert.pem" --key "$tmp/cert.key" --ca "$tmp/ca.pem" \
    --require-client-cert --token-file "$tmp/token" --port-file "$tmp/port" \
    --delivery-retries 1 --delivery-retry-delay-ms 100 >"$tmp/server.out" 2>"$tmp/server.out.err" &
pids+=($!)
# a second server closer to a stock HAPI JPA server: HAPI's stored searches
# and search cache (short lives), sequence ids, HAPI's retry back-off (short
# window), delivery latency, referential integrity off
"$node" "$here/server.mjs" --cert "$tmp/cert.pem" --key "$tmp/cert.key" --ca "$tmp/ca.pem" \
    --require-client-cert --token-file "$tmp/token" --paging hapi --search-expire-ms 2000 \
    --search-cache-ms 1500 --ids sequence --delete-integrity=false --delivery-retry-window-ms 2800 \
    --delivery-delay-ms 300 >"$tmp/server-hapi.out" 2>"$tmp/server-hapi.out.err" &
pids+=($!)
wait_for "$tmp/receiver.out" receiver
wait_for "$tmp/server.out" server
wait_for "$tmp/server-hapi.out" "server (hapi options)"
[ -s "$tmp/port" ] || { echo "FAIL: --port-file not written" >&2; exit 1; }

rc=0
"$node" "$here/test_server_checks.mjs" "$tmp" || rc=1
"$node" "$here/test_server_hapi_checks.mjs" "$tmp" || rc=1
if [ "$rc" -ne 0 ]; then
    for log in server.out.err server-hapi.out.err; do
        echo "--- $log (last 40 lines)" >&2
        tail -n 40 "$tmp/$log" >&2
    done
    exit 1
fi
