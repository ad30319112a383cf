#!/usr/bin/env bash
# I1 (issue 12 item 7): the bytes held by requests being read are bounded.
# With listen.max_body = 4M and listen.max_inflight_bytes = 16M:
#  1. 3 connections each send a 4 MiB notification one byte short and hold
#     it (about 12 MiB counted): all held, /healthz answers meanwhile;
#  2. 13 more do the same: the budget is passed and the connections that
#     pass it are closed (counted busy, logged); at most one more completes.
# The daemon's resident memory (VmRSS) grows by less than 40 MiB in all
# (16 MiB budget plus TLS and allocator slack); once the clients are gone
# the bytes are released (gauge back to 0).
# Before the change all 16 bodies were held (64 MiB): this test saw
# {"sent":13,"closed":0} in step 2 and VmRSS grow by 63 MiB.
source "$(dirname "$0")/lib.sh"
e2e_init I1_listener_inflight "$@"
CLIENT=$E2E_ROOT/tests/e2e/listener_client.mjs
e2e_start_server
e2e_config listen.max_body=4M listen.max_inflight_bytes=16M listen.request_timeout=120
e2e_start_daemon
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$E2E_DAEMON_PID/status"; }
[ "$(e2e_curl_listener /healthz)" = ok ] || e2e_fail "/healthz"
before=$(rss_kb)
hold() { # COUNT OUT
    "$NODE" "$CLIENT" hold --port "$E2E_LISTEN_PORT" --ca "$E2E_CERTS/ca.crt" --count "$1" --bytes 4194304 \
        --header "X-Nenfhir-Secret:$(cat "$E2E_DIR/secret")" --wait 90 --hold 90 >"$E2E_DIR/$2" &
}
wait_line() { # FILE: until the client printed its line (up to 120 s)
    local i
    for i in $(seq 1 600); do [ -s "$E2E_DIR/$1" ] && return 0; sleep 0.2; done
    e2e_fail "no answer from the client in $1"
}
hold 3 a.json; pid_a=$!
wait_line a.json
cat "$E2E_DIR/a.json"
grep -q '"sent":3,"closed":0' "$E2E_DIR/a.json" || e2e_fail "3 bodies within the budget were not all held"
[ "$(e2e_curl_listener /healthz)" = ok ] || e2e_fail "/healthz did not answer while bodies were held"
hold 13 b.json; pid_b=$!
wait_line b.json
cat "$E2E_DIR/b.json"
after=$(rss_kb)
grown=$(((after - before) / 1024))
echo "VmRSS before ${before} kB, while held ${after} kB: +${grown} MiB"
sent=$(sed 's/.*"sent":\([0-9]*\).*/\1/' "$E2E_DIR/b.json")
[ "$sent" -le 1 ] || e2e_fail "$sent more bodies held past the budget"
[ "$(e2e_curl_listener /healthz)" = ok ] || e2e_fail "/healthz did not answer with the budget full"
inflight=$(e2e_metric nenfhir_listen_inflight_bytes)
echo "in flight: $inflight bytes"
[ "$inflight" -le $((16 * 1024 * 1024)) ] || e2e_fail "in-flight bytes $inflight over 16 MiB"
[ "$grown" -lt 40 ] || e2e_fail "VmRSS grew by $grown MiB holding bodies (bound 40 MiB)"
busy=$(e2e_metric 'nenfhir_notifications_by_outcome_total{outcome="refused",reason="busy"}')
[ "${busy:-0}" -ge 12 ] || e2e_fail "$busy connection(s) closed for the in-flight budget, want 12 or more"
grep -q "over listen.max_inflight_bytes" "$E2E_DIR/daemon.log" || e2e_fail "no log line for the budget"
kill "$pid_a" "$pid_b" 2>/dev/null || true
wait "$pid_a" "$pid_b" 2>/dev/null || true
deadline=$((SECONDS + 30))
until [ "$(e2e_metric nenfhir_listen_inflight_bytes)" = 0 ]; do
    [ $SECONDS -lt $deadline ] || e2e_fail "in-flight bytes not released: $(e2e_metric nenfhir_listen_inflight_bytes)"
    sleep 0.5
done
e2e_finish
e2e_pass "16 bodies of 4 MiB held one byte short: VmRSS +$grown MiB (bound 40), $busy connection(s) closed as busy"
