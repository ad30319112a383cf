#!/usr/bin/env bash
# I15 + I16 (credentials only to their origin): the server hands out Bundle
# links (search `next`) naming another host: localhost instead of the
# configured 127.0.0.1, the same server and certificate, so a client that
# follows them gets through and hands over its bearer token. nenfhir must
# not follow them: no request reaches the other host, the catch-up round
# fails with a clear error naming the link, and once the server's links are
# right again the cases are reported.
source "$(dirname "$0")/lib.sh"
e2e_init I16_credentials_origin "$@"
printf 'e2e-bearer-token-origin-0123456789\n' >"$E2E_DIR/token"
e2e_start_server --token-file "$E2E_DIR/token"
e2e_lis() {
    local cmd=$1
    shift
    "$NODE" "$E2E_SERVER_DIR/lis.mjs" "$cmd" --base "$E2E_BASE" --ca "$E2E_CERTS/ca.crt" \
        --token-file "$E2E_DIR/token" "$@"
}
# poll mode, two resources a page: every catch-up has next links
e2e_config subscription.mode=poll poll.interval=1 poll.count=2 subscription.endpoint= \
    listen.cert= listen.key= server.token_file="$E2E_DIR/token"
e2e_control foreign-next '{"host":"localhost"}' >/dev/null
e2e_start_daemon
e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json \
    >"$E2E_DIR/post.txt"
for _ in $(seq 1 100); do
    grep -q "is not under the configured base" "$E2E_DIR/daemon.log" && break
    [ "$(e2e_control foreign)" = "[]" ] || break
    sleep 0.2
done
# a few more rounds (a state to reach, not a fixed sleep then a count)
for _ in $(seq 1 75); do
    [ "$(grep -c "is not under the configured base" "$E2E_DIR/daemon.log")" -ge 3 ] && break
    sleep 0.2
done
foreign=$(e2e_control foreign)
[ "$foreign" = "[]" ] || e2e_fail "$(grep -o '"method"' <<<"$foreign" | wc -l) request(s) went to another host, the first: $(cut -c1-200 <<<"$foreign")"
grep -q "catch-up Observation: the server's link 'https://localhost:$E2E_SERVER_PORT/fhir/.*' is not under the configured base https://127.0.0.1:$E2E_SERVER_PORT/fhir .*no credentials sent; the round fails" \
    "$E2E_DIR/daemon.log" || e2e_fail "no clear error about the foreign next link"
rounds=$(grep -c "is not under the configured base" "$E2E_DIR/daemon.log")
[ "$rounds" -ge 2 ] || e2e_fail "only $rounds refused round(s)"
# the server's links are right again: every case is reported
e2e_control foreign-next '{}' >/dev/null
e2e_wait_reports 2 final,amended 60
e2e_check_examples "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json
foreign=$(e2e_control foreign)
[ "$foreign" = "[]" ] || e2e_fail "requests went to another host: $(cut -c1-200 <<<"$foreign")"
e2e_finish
e2e_pass "next links to another host refused ($rounds rounds) with no request sent there; reported once the links were right"
