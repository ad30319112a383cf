#!/usr/bin/env bash
# Issue 14 item 2 in poll mode: with listen.cert set, a polling nenfhir (no
# Subscription) serves /healthz, /readyz and /metrics too: ok while the
# polls reach the server, 503 naming the server check once they fail for
# listen.health_max_silence, ok again when the server is back; it still
# creates no Subscription.
source "$(dirname "$0")/lib.sh"
e2e_init I14_poll_health "$@"
e2e_start_server
e2e_config subscription.mode=poll poll.interval=1 subscription.endpoint= listen.health_max_silence=3
e2e_start_daemon
health() { e2e_curl_listener "/$1" 2>/dev/null || true; }
for _ in $(seq 1 100); do [ "$(health healthz)" = ok ] && break; sleep 0.2; done
[ "$(health healthz)" = ok ] || e2e_fail "/healthz in poll mode: $(health healthz)"
health readyz | grep -qx "ready" || e2e_fail "/readyz in poll mode: $(health readyz)"
health metrics | grep -q "^nenfhir_catchups_total " || e2e_fail "no /metrics in poll mode"
e2e_control down '{"seconds":8}' >/dev/null
for _ in $(seq 1 60); do health healthz | grep -q '"server"' && break; sleep 0.2; done
health healthz | grep -q '"server"' || e2e_fail "/healthz did not name the server while it was down: $(health healthz)"
for _ in $(seq 1 100); do [ "$(health healthz)" = ok ] && break; sleep 0.2; done
[ "$(health healthz)" = ok ] || e2e_fail "/healthz not ok once the server was back: $(health healthz)"
subs=$(e2e_lis count --type Subscription)
[ "$subs" = "0" ] || e2e_fail "poll mode made $subs Subscription(s)"
e2e_finish
e2e_pass "poll mode: /healthz ok, 503 naming the server while it was down, ok again"
