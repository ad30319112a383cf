#!/usr/bin/env bash
# I15 + I16 + I1: TLS both ways, with client certificates required on both
# sides, and a bearer token on the FHIR server.
#  - nenfhir's FHIR client presents its client certificate and token and works;
#  - the listener refuses a client certificate from another CA, and none;
#  - a wrong shared secret (403), a missing one (401) and a wrong
#    X-Signature (403) are refused and nothing is stored;
#  - plain HTTP to the listener gets nowhere.
source "$(dirname "$0")/lib.sh"
e2e_init I15_I1_refused "$@"
printf 'e2e-bearer-token-0123456789\n' >"$E2E_DIR/token"
e2e_start_server --require-client-cert --token-file "$E2E_DIR/token"
e2e_config server.client_cert="$E2E_CERTS/client.crt" server.client_key="$E2E_CERTS/client.key" \
    server.token_file="$E2E_DIR/token" listen.client_ca="$E2E_CERTS/ca.crt"
good=(--cert "$E2E_CERTS/client.crt" --key "$E2E_CERTS/client.key")
# the daemon's own readiness probe needs a client certificate now
e2e_curl_listener() {
    local path=$1
    shift
    curl -sS --max-time 10 --cacert "$E2E_CERTS/ca.crt" "${good[@]}" "$@" "https://127.0.0.1:$E2E_LISTEN_PORT$path"
}
e2e_lis() {
    local cmd=$1
    shift
    "$NODE" "$E2E_SERVER_DIR/lis.mjs" "$cmd" --base "$E2E_BASE" --ca "$E2E_CERTS/ca.crt" "${good[@]}" \
        --token-file "$E2E_DIR/token" "$@"
}
e2e_start_daemon
body='{"resourceType":"Observation","id":"x1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p-refused"}}'
post() { curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$E2E_CERTS/ca.crt" "$@" \
    -H 'Content-Type: application/fhir+json' -d "$body" "https://127.0.0.1:$E2E_LISTEN_PORT/notify" 2>/dev/null || true; }
code=$(post --cert "$E2E_CERTS/bad-client.crt" --key "$E2E_CERTS/bad-client.key")
[ "$code" = "000" ] || e2e_fail "a client certificate from another CA got HTTP $code"
code=$(post)
[ "$code" = "000" ] || e2e_fail "no client certificate got HTTP $code"
# each refusal logged with the peer's address and counted (issue 14 item 3)
grep -q "listen: refused the client certificate of 127\.0\.0\.1:[0-9]" "$E2E_DIR/daemon.log" ||
    e2e_fail "a refused client certificate was not logged with the peer's address: $(grep 'listen:' "$E2E_DIR/daemon.log" | tail -2)"
[ "$(e2e_metric nenfhir_tls_client_cert_refused_total)" -ge 2 ] ||
    e2e_fail "refused client certificates not counted: $(e2e_metric nenfhir_tls_client_cert_refused_total)"
code=$(post "${good[@]}" -H 'X-Nenfhir-Secret: wrong')
[ "$code" = "403" ] || e2e_fail "wrong secret: HTTP $code, want 403"
code=$(post "${good[@]}")
[ "$code" = "401" ] || e2e_fail "no secret: HTTP $code, want 401"
code=$(post "${good[@]}" -H 'X-Signature: 00112233')
[ "$code" = "403" ] || e2e_fail "wrong X-Signature: HTTP $code, want 403"
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$E2E_LISTEN_PORT/notify" -d x 2>/dev/null || true)
case "$code" in 2*) e2e_fail "plain HTTP was answered $code" ;; esac
[ "$(e2e_metric nenfhir_queue_jobs)" = "0" ] || e2e_fail "a refused notification was stored"
[ "$(e2e_metric nenfhir_notifications_refused_total)" -ge 3 ] || e2e_fail "refusals not counted"
# and the real path works end to end with mTLS + token
e2e_lis post "$E2E_ROOT"/examples/fhir/thymus-net.json >"$E2E_DIR/post.txt"
e2e_wait_reports 1 final,amended
e2e_check_examples "$E2E_ROOT"/examples/fhir/thymus-net.json
e2e_finish
e2e_pass "bad/no client certificate refused at TLS; wrong/missing secret 403/401; bad HMAC 403; nothing stored; mTLS + token path works"
