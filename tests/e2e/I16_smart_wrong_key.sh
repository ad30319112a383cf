#!/usr/bin/env bash
# I16 (issue 12 item 8): SMART Backend Services with a key the server does
# not know. The test server verifies assertions against key A's public key;
# nenfhir (auth = smart-backend, polling) signs with key B. The token
# endpoint refuses (401 invalid_client): nenfhir logs ONE line naming the
# token URL, the HTTP status and the OAuth error and error_description,
# asks again only after a doubling backoff (the token requests while it is
# refused are bounded by the time: n requests need 2^(n-1)-1 s), writes
# nothing, and /healthz names the failure. Cases arrive meanwhile. The
# config is then pointed at key A and reloaded (SIGHUP): nenfhir gets a
# token at once and every case is reported as its .expected says.
source "$(dirname "$0")/lib.sh"
e2e_init I16_smart_wrong_key "$@"
for k in a b; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$E2E_DIR/smart-$k.key" 2>/dev/null ||
        e2e_fail "openssl cannot make an EC P-384 key"
    chmod 600 "$E2E_DIR/smart-$k.key"
done
openssl pkey -in "$E2E_DIR/smart-a.key" -pubout -out "$E2E_DIR/smart-a.pub" 2>/dev/null || e2e_fail "no public key"
printf 'e2e-lis-token-smart-0123456789\n' >"$E2E_DIR/token"
e2e_start_server --token-file "$E2E_DIR/token" --smart-public-key "$E2E_DIR/smart-a.pub" \
    --smart-token-seconds 300
e2e_lis() {
    local cmd=$1
    shift
    "$NODE" "$E2E_SERVER_DIR/lis.mjs" "$cmd" --base "$E2E_BASE" --ca "$E2E_CERTS/ca.crt" \
        --token-file "$E2E_DIR/token" "$@"
}
stats() { e2e_control smart-stats; }
stat() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$(stats)"; }
token_url="https://127.0.0.1:$E2E_SERVER_PORT/auth/token"
conf=(subscription.mode=poll poll.interval=1 subscription.endpoint= listen.health_max_silence=2
      server.auth=smart-backend server.smart_client_id=nenfhir-e2e
      server.smart_token_url="$token_url")
e2e_config "${conf[@]}" server.smart_key_file="$E2E_DIR/smart-b.key"
started=$SECONDS
e2e_start_daemon
cases=("$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json)
e2e_lis post "${cases[@]}" >"$E2E_DIR/post.txt"

# the refusal: one line with the URL, the status, error and error_description
line_re="SMART token request to $token_url failed: HTTP 401: error 'invalid_client': client assertion refused: .*signature verification failed; next try in"
for _ in $(seq 1 150); do grep -q "$line_re" "$E2E_DIR/daemon.log" && break; sleep 0.2; done
grep -q "$line_re" "$E2E_DIR/daemon.log" || e2e_fail "no clear log line for the refused assertion"
# backoff: wait for the 4th refusal (1 + 2 + 4 s of backoff after the first)
for _ in $(seq 1 120); do [ "$(stat refused)" -ge 4 ] && break; sleep 0.5; done
[ "$(stat refused)" -ge 4 ] || e2e_fail "fewer than 4 token requests in 60 s: $(stats)"
healthz() { h=$(e2e_curl_listener /healthz 2>/dev/null || true); echo "${h//\\/}"; }
health=$(healthz)
for _ in $(seq 1 50); do
    grep -q "auth/token answered HTTP 401" <<<"$health" && break
    sleep 0.2
    health=$(healthz)
done
grep -q '"server".*auth/token answered HTTP 401' <<<"$health" ||
    e2e_fail "/healthz does not name the refused token request: $health"
requests=$(stat requests)
elapsed=$((SECONDS - started))
# n requests with backoff 1, 2, 4, ... s need 2^(n-1) - 1 s: n <= log2(elapsed + 1) + 1
bound=1
while [ $(((1 << (bound - 1)) - 1)) -le "$elapsed" ]; do bound=$((bound + 1)); done
[ "$requests" -le "$bound" ] || e2e_fail "$requests token requests in $elapsed s (backoff allows $bound): $(stats)"
lines=$(grep -c "SMART token request to .* failed" "$E2E_DIR/daemon.log" || true)
[ "$lines" = 1 ] || e2e_fail "$lines log lines for the same refusal (one expected)"
written=$(e2e_lis count --type DiagnosticReport --tag)
[ "$written" = 0 ] || e2e_fail "$written reports written without a token"
grep -q "no access token" "$E2E_DIR/daemon.log" && e2e_fail "requests failed one by one while waiting for a token"

# the right key, by SIGHUP
e2e_config "${conf[@]}" server.smart_key_file="$E2E_DIR/smart-a.key"
kill -HUP "$E2E_DAEMON_PID"
for _ in $(seq 1 150); do grep -q "SMART access token 1 from $token_url" "$E2E_DIR/daemon.log" && break; sleep 0.2; done
grep -q "SMART settings reloaded: client nenfhir-e2e, key kid [0-9a-f]* (ES384).*asking for a new access token" \
    "$E2E_DIR/daemon.log" || e2e_fail "SIGHUP did not reload the SMART key"
grep -q "SMART access token 1 from $token_url, valid 300 s" "$E2E_DIR/daemon.log" ||
    e2e_fail "no token after the reload"
E2E_CHECK_TIMEOUT=120 e2e_check_examples "${cases[@]}"
for _ in $(seq 1 50); do [ "$(e2e_curl_listener /healthz 2>/dev/null)" = ok ] && break; sleep 0.2; done
[ "$(e2e_curl_listener /healthz 2>/dev/null)" = ok ] || e2e_fail "/healthz not ok after the reload"
e2e_finish
e2e_pass "wrong key: one log line, $requests token requests in $elapsed s (bound $bound), nothing written; after SIGHUP every case reported"
