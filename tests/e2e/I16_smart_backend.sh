#!/usr/bin/env bash
# I16 (issue 12 item 8): SMART Backend Services. The test server verifies
# private_key_jwt assertions against a public key and issues 5 s access
# tokens; nenfhir (auth = smart-backend, token endpoint discovered) posts
# reports over several token lifetimes: every report written, more than one
# token issued.
source "$(dirname "$0")/lib.sh"
e2e_init I16_smart_backend "$@"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$E2E_DIR/smart.key" 2>/dev/null ||
    e2e_fail "openssl cannot make an EC P-384 key"
chmod 600 "$E2E_DIR/smart.key"
openssl pkey -in "$E2E_DIR/smart.key" -pubout -out "$E2E_DIR/smart.pub" 2>/dev/null || e2e_fail "no public key"
printf 'e2e-lis-token-smart-0123456789\n' >"$E2E_DIR/token"
e2e_start_server --token-file "$E2E_DIR/token" --smart-public-key "$E2E_DIR/smart.pub" \
    --smart-token-seconds 5
e2e_lis() {
    local cmd=$1
    shift
    "$NODE" "$E2E_SERVER_DIR/lis.mjs" "$cmd" --base "$E2E_BASE" --ca "$E2E_CERTS/ca.crt" \
        --token-file "$E2E_DIR/token" "$@"
}
e2e_config subscription.mode=poll poll.interval=1 subscription.endpoint= listen.cert= listen.key= \
    server.auth=smart-backend server.smart_client_id=nenfhir-e2e \
    server.smart_key_file="$E2E_DIR/smart.key"
e2e_start_daemon
e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type1.json >"$E2E_DIR/post1.txt"
e2e_wait_reports 1 final,amended 60
sleep 7
e2e_lis post "$E2E_ROOT"/examples/fhir/thymus-net.json >"$E2E_DIR/post2.txt"
e2e_wait_reports 2 final,amended 60
stats=$(e2e_control smart-stats)
issued=$(sed -n 's/.*"issued":\([0-9]*\).*/\1/p' <<<"$stats")
[ "${issued:-0}" -ge 2 ] || e2e_fail "only ${issued:-0} token(s) issued: $stats"
grep -q "SMART token endpoint discovered: https://127.0.0.1:$E2E_SERVER_PORT/auth/token" \
    "$E2E_DIR/daemon.log" || e2e_fail "no discovery log line"
e2e_finish
e2e_pass "reports written over token expiries ($issued tokens issued)"
