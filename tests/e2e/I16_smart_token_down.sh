#!/usr/bin/env bash
# I16 + I9 (issue 12 item 8): the SMART token endpoint is down (503
# temporarily_unavailable, the test server's /_test/smart-down) for 30 s
# while LIS inputs arrive over rest-hook. Access tokens live 4 s, so the one
# nenfhir holds expires during the outage. nenfhir acknowledges and keeps
# the notifications (SQLite), writes nothing without a token, asks the
# token endpoint again only after a doubling backoff (the token requests
# during the outage are bounded by its length: n requests need 2^(n-1)-1 s),
# logs the failure once, and once the endpoint is back every case gets its
# report as its .expected says; nothing dead-lettered, and no job spent its
# attempts waiting (work.max_attempts stays at the e2e default, 8).
source "$(dirname "$0")/lib.sh"
e2e_init I16_smart_token_down "$@"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$E2E_DIR/smart.key" 2>/dev/null ||
    e2e_fail "openssl cannot make an EC P-384 key"
chmod 600 "$E2E_DIR/smart.key"
openssl pkey -in "$E2E_DIR/smart.key" -pubout -out "$E2E_DIR/smart.pub" 2>/dev/null || e2e_fail "no public key"
printf 'e2e-lis-token-smart-0123456789\n' >"$E2E_DIR/token"
e2e_start_server --token-file "$E2E_DIR/token" --smart-public-key "$E2E_DIR/smart.pub" \
    --smart-token-seconds 4
e2e_lis() {
    local cmd=$1
    shift
    "$NODE" "$E2E_SERVER_DIR/lis.mjs" "$cmd" --base "$E2E_BASE" --ca "$E2E_CERTS/ca.crt" \
        --token-file "$E2E_DIR/token" "$@"
}
stats() { e2e_control smart-stats; }
stat() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$(stats)"; }
token_url="https://127.0.0.1:$E2E_SERVER_PORT/auth/token"
e2e_config server.auth=smart-backend server.smart_client_id=nenfhir-e2e \
    server.smart_key_file="$E2E_DIR/smart.key"
e2e_start_daemon # the Subscription is in place: a token was issued
[ "$(stat issued)" -ge 1 ] || e2e_fail "no token issued at start: $(stats)"

outage=30
e2e_control "smart-down?seconds=$outage" >/dev/null
down_at=$SECONDS
requests0=$(stat requests)
# the token held expires (its lifetime, 4 s) before the inputs come
sleep 5
cases=("$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json
       "$E2E_ROOT"/examples/fhir/lung-atypical-carcinoid.json)
e2e_lis post --repeat 2 "${cases[@]}" >"$E2E_DIR/post.txt"
# the notifications are acknowledged and kept while no token can be had
for _ in $(seq 1 100); do [ "$(stat unavailable)" -ge 2 ] && break; sleep 0.2; done
[ "$(stat unavailable)" -ge 2 ] || e2e_fail "nenfhir did not ask the token endpoint again: $(stats)"
jobs=$(e2e_metric nenfhir_queue_jobs)
[ "${jobs:-0}" -ge 1 ] || e2e_fail "no job kept in the store during the outage ($jobs)"
written=$(e2e_lis count --type DiagnosticReport --tag)
[ $((SECONDS - down_at)) -lt "$outage" ] || e2e_fail "the outage ended before the checks (machine too slow)"
[ "$written" = 0 ] || e2e_fail "$written reports written during the token outage"
line_re="SMART token request to $token_url failed: HTTP 503: error 'temporarily_unavailable': token endpoint down"
grep -q "$line_re" "$E2E_DIR/daemon.log" || e2e_fail "no clear log line for the token endpoint down"

# the endpoint comes back: every case reported
E2E_CHECK_TIMEOUT=150 e2e_check_examples --copies 2 "${cases[@]}"
during=$(($(stat unavailable)))
requests=$(($(stat requests) - requests0)) # with the renewals since (tokens live 4 s)
# every request during the outage was answered 503, the last at most $outage s after the first:
# with backoff 1, 2, 4, ... s, n of them need 2^(n-1) - 1 s, so n <= log2(outage + 1) + 1
bound=1
while [ $(((1 << (bound - 1)) - 1)) -le "$outage" ]; do bound=$((bound + 1)); done
[ "$during" -le "$bound" ] || e2e_fail "$during token requests answered 503 in a $outage s outage (backoff allows $bound): $(stats)"
lines=$(grep -c "SMART token request to .* failed" "$E2E_DIR/daemon.log" || true)
[ "$lines" = 1 ] || e2e_fail "$lines log lines for the token endpoint down (one expected)"
grep -q "SMART access token [0-9]* from $token_url, valid 4 s (after [0-9]* failed request(s))" "$E2E_DIR/daemon.log" ||
    e2e_fail "no log line for the token after the outage"
grep -q "no access token" "$E2E_DIR/daemon.log" && e2e_fail "requests failed one by one while waiting for a token"
dead=$(e2e_metric nenfhir_queue_dead)
[ "$dead" = "0" ] || e2e_fail "$dead dead letters after a token outage"
e2e_finish
e2e_pass "token endpoint down $outage s: $during requests answered 503 (bound $bound), $requests token requests in all, 6 cases reported, 0 dead letters"
