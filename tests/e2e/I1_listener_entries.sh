#!/usr/bin/env bash
# I1 (issue 12 item 7): the memory a notification may cost is bounded, and a
# notification refused for its size loses nothing.
#  1. A case's notifications are dropped by the server (the case is known
#     only to a search), then a 13.2 MB notification Bundle of 100,000
#     entries comes (listen.max_body = 16M lets it be read): it is refused
#     413 before it is parsed (more objects than listen.max_entries = 1000
#     entries may hold), the daemon's peak resident memory (VmHWM) grows by
#     less than 80 MiB (the body read and made contiguous), and the catch-up
#     it asks for finds the case: its report is written (nothing lost; the
#     periodic catch-up is an hour away).
#  2. A Bundle of 1,500 small entries (1,501 with its status; under the
#     object bound) is parsed and refused 413 for its entries, also asking
#     a catch-up.
#  3. /healthz answers after both.
# Before the change the 100,000-entry Bundle was parsed and answered 200
# (this test saw HTTP 200 and VmHWM grow by 316 MiB; the issue measured
# 326 MB resident).
source "$(dirname "$0")/lib.sh"
e2e_init I1_listener_entries "$@"
e2e_start_server
e2e_config listen.max_body=16M poll.catchup_interval=3600
e2e_start_daemon
secret=$(cat "$E2E_DIR/secret")
# Subscriptions Backport event-notifications (history Bundles, a
# SubscriptionStatus first, no focus references: every entry is an event)
bundle() { # ENTRIES ENTRY_TEMPLATE (${i}: the entry's number)
    "$NODE" -e '
const [n, tpl] = [Number(process.argv[1]), process.argv[2]], out = [];
out.push(`{"fullUrl":"urn:uuid:9b1c4d0e-0000-4000-8000-000000000001","resource":{"resourceType":"SubscriptionStatus","status":"active","type":"event-notification","eventsSinceSubscriptionStart":"1","subscription":{"reference":"Subscription/flood"},"topic":"http://example.org/flood"}}`);
for (let i = 0; i < n; i++) out.push(tpl.replaceAll("${i}", String(i)));
process.stdout.write(`{"resourceType":"Bundle","id":"flood","type":"history","entry":[${out.join(",")}]}`);
' "$1" "$2"
}
bundle 100000 '{"fullUrl":"Observation/big-${i}","resource":{"resourceType":"Observation","id":"big-${i}","status":"final","code":{"text":"x"}}}' >"$E2E_DIR/big.json"
bundle 1500 '{"resource":{"resourceType":"Observation","id":"m-${i}","status":"final"}}' >"$E2E_DIR/many.json"
echo "big Bundle: $(stat -c %s "$E2E_DIR/big.json") bytes, 100000 entries"
mem() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$E2E_DAEMON_PID/status"; }
# 1. the case's notifications dropped, then the big Bundle
n=$(grep -c '"resourceType": *"\(Observation\|Condition\)"' "$E2E_ROOT/examples/fhir/minen.json" || true)
e2e_control drop "{\"count\":$n}" >/dev/null
e2e_lis post "$E2E_ROOT"/examples/fhir/minen.json >"$E2E_DIR/post.txt"
hwm0=$(mem VmHWM) rss0=$(mem VmRSS)
code=$(e2e_curl_listener /notify -o "$E2E_DIR/big.out" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/fhir+json' -H "X-Nenfhir-Secret: $secret" --data-binary @"$E2E_DIR/big.json")
hwm1=$(mem VmHWM) rss1=$(mem VmRSS)
echo "big Bundle: HTTP $code; VmHWM $hwm0 -> $hwm1 kB (+$(((hwm1 - hwm0) / 1024)) MiB), VmRSS $rss0 -> $rss1 kB"
[ "$code" = 413 ] || e2e_fail "the 100,000-entry Bundle: HTTP $code, want 413 ($(head -c 300 "$E2E_DIR/big.out"))"
[ $(((hwm1 - hwm0) / 1024)) -lt 80 ] || e2e_fail "peak memory grew by $(((hwm1 - hwm0) / 1024)) MiB (bound 80)"
grep -q "listen.max_entries = 1000" "$E2E_DIR/big.out" || e2e_fail "the 413 does not say why: $(head -c 300 "$E2E_DIR/big.out")"
grep -q "refused (413).*catch-up asked" "$E2E_DIR/daemon.log" || e2e_fail "no catch-up asked"
E2E_CHECK_TIMEOUT=90 e2e_check_examples "$E2E_ROOT"/examples/fhir/minen.json
# 2. many small entries: parsed, refused for its entries
code=$(e2e_curl_listener /notify -o "$E2E_DIR/many.out" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/fhir+json' -H "X-Nenfhir-Secret: $secret" --data-binary @"$E2E_DIR/many.json")
[ "$code" = 413 ] || e2e_fail "the 1,500-entry Bundle: HTTP $code, want 413"
grep -q "the Bundle has 1501 entries, more than listen.max_entries = 1000" "$E2E_DIR/many.out" ||
    e2e_fail "the 413 does not say why: $(head -c 300 "$E2E_DIR/many.out")"
too=$(e2e_metric 'nenfhir_notifications_by_outcome_total{outcome="refused",reason="too_large"}')
[ "$too" = 2 ] || e2e_fail "$too too_large refusals counted, want 2"
[ "$(e2e_curl_listener /healthz)" = ok ] || e2e_fail "/healthz"
e2e_finish
e2e_pass "a 100,000-entry Bundle refused 413 unparsed (peak +$(((hwm1 - hwm0) / 1024)) MiB), its catch-up found the dropped case; 1,500 entries refused after parsing"
