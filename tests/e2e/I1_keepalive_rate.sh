#!/usr/bin/env bash
# I1 (issue 11 item 7c): a server that delivers serially on one kept-alive
# connection is not held back by the listener. Each answer leaves as two TLS
# records; without TCP_NODELAY the second waits for the sender's delayed ACK
# (~40 ms a notification: ~22/s). With TCP_NODELAY a notification takes
# about a millisecond plus the store's commit. notify_rate.mjs posts N
# notifications on one connection; the mean must stay under 20 ms (half the
# delayed-ACK wait, so a slow shared machine does not fail it).
source "$(dirname "$0")/lib.sh"
e2e_init I1_keepalive_rate "$@"
n=${E2E_RATE_N:-200}
e2e_start_server
e2e_config
e2e_start_daemon
out=$("$NODE" "$E2E_ROOT/tests/e2e/notify_rate.mjs" "https://127.0.0.1:$E2E_LISTEN_PORT/notify" \
    "$E2E_CERTS/ca.crt" X-Nenfhir-Secret "$(cat "$E2E_DIR/secret")" "$n") ||
    e2e_fail "posting $n notifications failed: $out"
echo "serial notifications on one connection: $out"
case $out in *'"sockets":1}'*) ;; *) e2e_fail "not one kept-alive connection: $out" ;; esac
mean=$(printf '%s' "$out" | sed 's/.*"meanMs":\([0-9.]*\).*/\1/')
awk -v m="$mean" 'BEGIN { exit !(m < 20) }' ||
    e2e_fail "a notification takes $mean ms on a kept-alive connection (Nagle + delayed ACK?)"
e2e_finish
e2e_pass "$n notifications serially on one kept-alive connection, mean $mean ms"
