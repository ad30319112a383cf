#!/usr/bin/env bash
# I1 (issue 12 item 7): a cap on connections, per peer and in all. With
# listen.max_connections = 8 and listen.max_connections_per_peer = 4:
#  1. 10 connections from 127.0.0.2: 4 stay open, 6 are closed at once and
#     counted (peer); /healthz from 127.0.0.1 still answers;
#  2. 10 more from 127.0.0.3: 4 stay (8 open in all);
#  3. 3 from 127.0.0.4: closed at once (cap), counted;
#  4. once the clients are gone, every connection state is freed (open
#     connections gauge back to the one asking /metrics) and /healthz answers.
# Before the change every connection stayed open (this test saw
# {"open":10,"closed":0} in step 1).
source "$(dirname "$0")/lib.sh"
e2e_init I1_listener_connections "$@"
CLIENT=$E2E_ROOT/tests/e2e/listener_client.mjs
e2e_start_server
e2e_config listen.max_connections=8 listen.max_connections_per_peer=4 listen.request_timeout=120
e2e_start_daemon
conns() { # FROM COUNT HOLD_SECONDS OUT
    "$NODE" "$CLIENT" conns --port "$E2E_LISTEN_PORT" --ca "$E2E_CERTS/ca.crt" --from "$1" \
        --count "$2" --wait 4 --hold "$3" >"$E2E_DIR/$4" &
}
wait_line() { # FILE: until the client printed its line (up to 60 s)
    local i
    for i in $(seq 1 300); do [ -s "$E2E_DIR/$1" ] && return 0; sleep 0.2; done
    e2e_fail "no answer from the client in $1"
}
conns 127.0.0.2 10 60 a.json; pid_a=$!
wait_line a.json
cat "$E2E_DIR/a.json"
grep -q '"open":4,"closed":6' "$E2E_DIR/a.json" || e2e_fail "per-peer cap: $(cat "$E2E_DIR/a.json"), want 4 open, 6 closed"
[ "$(e2e_curl_listener /healthz)" = ok ] || e2e_fail "/healthz from another peer did not answer"
[ "$(e2e_metric 'nenfhir_listen_connections_refused_total{reason="peer"}')" = 6 ] || e2e_fail "peer refusals not counted"
conns 127.0.0.3 10 60 b.json; pid_b=$!
wait_line b.json
cat "$E2E_DIR/b.json"
grep -q '"open":4,"closed":6' "$E2E_DIR/b.json" || e2e_fail "second peer: $(cat "$E2E_DIR/b.json"), want 4 open"
conns 127.0.0.4 3 0 c.json; pid_c=$!
wait_line c.json
cat "$E2E_DIR/c.json"
grep -q '"open":0,"closed":3' "$E2E_DIR/c.json" || e2e_fail "over the cap: $(cat "$E2E_DIR/c.json"), want 3 closed"
grep -q "listen.max_connections = 8 are open" "$E2E_DIR/daemon.log" || e2e_fail "no log line for the cap"
wait "$pid_c"
kill "$pid_a" "$pid_b" 2>/dev/null || true
wait "$pid_a" "$pid_b" 2>/dev/null || true
# the held connections are gone: their states are freed, /healthz answers
deadline=$((SECONDS + 30))
until [ "$(e2e_metric nenfhir_listen_connections_open 2>/dev/null)" = 1 ]; do
    [ $SECONDS -lt $deadline ] || e2e_fail "open connections gauge: $(e2e_metric nenfhir_listen_connections_open), want 1"
    sleep 0.5
done
[ "$(e2e_metric 'nenfhir_listen_connections_refused_total{reason="cap"}')" -ge 3 ] || e2e_fail "cap refusals not counted"
[ "$(e2e_curl_listener /healthz)" = ok ] || e2e_fail "/healthz does not answer after the clients left"
e2e_finish
e2e_pass "connections capped per peer (4) and in all (8), /healthz reachable from another peer"
