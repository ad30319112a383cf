#!/usr/bin/env bash
# I4: a notification the server dropped is never a lost case.
#  1. backport: the server drops notifications; the next one's event number
#     shows the gap and nenfhir catches up.
#  2. R4 rest-hook (HAPI): a dropped notification has no gap to see; the
#     periodic safety-net catch-up (poll.catchup_interval) finds it.
source "$(dirname "$0")/lib.sh"
e2e_init I4_dropped_notification "$@"
e2e_start_server
# 1. backport with a gap: every notification of the first case dropped.
e2e_config subscription.mode=backport subscription.payload=full-resource poll.catchup_interval=3600
e2e_start_daemon
n=$(grep -c '"resourceType": *"\(Observation\|Condition\)"' "$E2E_ROOT/examples/fhir/thymus-net.json" || true)
e2e_control drop "{\"count\":$n}" >/dev/null
e2e_lis post "$E2E_ROOT"/examples/fhir/thymus-net.json >"$E2E_DIR/post1.txt"
e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type1.json >>"$E2E_DIR/post1.txt"
e2e_wait_reports 2 "" 60
e2e_check_examples "$E2E_ROOT"/examples/fhir/thymus-net.json "$E2E_ROOT"/examples/fhir/gastric-type1.json
grep -q "were not received" "$E2E_DIR/daemon.log" || e2e_fail "the event-number gap was not noticed"
e2e_kill_daemon TERM
# 2. HAPI style, nothing after the drop to reveal it: the periodic catch-up.
before=$(grep -c "changed input(s) found" "$E2E_DIR/daemon.log" || true)
e2e_config subscription.mode=rest-hook poll.catchup_interval=3
e2e_start_daemon
n=$(grep -c '"resourceType": *"\(Observation\|Condition\)"' "$E2E_ROOT/examples/fhir/minen.json" || true)
e2e_control drop "{\"count\":$n}" >/dev/null
e2e_lis post "$E2E_ROOT"/examples/fhir/minen.json >"$E2E_DIR/post2.txt"
e2e_wait_reports 3 "" 60
e2e_check_examples "$E2E_ROOT"/examples/fhir/minen.json
after=$(grep -c "changed input(s) found" "$E2E_DIR/daemon.log" || true)
[ "$after" -gt "$before" ] || e2e_fail "the periodic catch-up did not find the dropped case"
e2e_finish
e2e_pass "dropped notifications recovered: by the event-number gap (backport) and by the periodic catch-up (rest-hook)"
