#!/usr/bin/env bash
# I1 + I2 (Subscriptions Backport IG, topic-based): nenfhir creates a topic
# Subscription, answers the handshake, and receives history Bundles with a
# SubscriptionStatus. Run once per payload kind: full-resource, id-only
# (nenfhir fetches each focus), empty (nenfhir queries since its cursor).
# Usage: I1_backport.sh NENFHIR CERT_DIR PAYLOAD [CONTENT_TYPE]
source "$(dirname "$0")/lib.sh"
payload=$3
ctype=${4:-application/fhir+json}
e2e_init "I1_backport_$payload" "$1" "$2"
e2e_start_server
e2e_config subscription.mode=backport subscription.payload="$payload" subscription.content_type="$ctype"
e2e_start_daemon --debug
# the handshake's delivery is recorded once nenfhir has answered it: wait for it
handshake=
for _ in $(seq 1 100); do
    e2e_control deliveries | grep -q handshake && handshake=1 && break
    sleep 0.1
done
[ -n "$handshake" ] || e2e_fail "no handshake was delivered"
e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type3.json "$E2E_ROOT"/examples/fhir/ileum-mesenteric-mass.json \
    "$E2E_ROOT"/examples/fhir/rectum-small.json >"$E2E_DIR/post.txt"
e2e_wait_reports 3
e2e_check_examples "$E2E_ROOT"/examples/fhir/gastric-type3.json "$E2E_ROOT"/examples/fhir/ileum-mesenteric-mass.json \
    "$E2E_ROOT"/examples/fhir/rectum-small.json
grep -q "REPORT S.* preliminary" "$E2E_DIR/reports.txt" || e2e_fail "rectum-small (no nodes) should be preliminary"
if [ "$ctype" = application/fhir+xml ]; then
    grep -q "notification POST / (application/fhir+xml" "$E2E_DIR/daemon.log" ||
        e2e_fail "no XML notification was received"
fi
e2e_assert_quiet 3
e2e_finish
e2e_pass "backport $payload ($ctype): handshake, 3 cases reported"
