#!/usr/bin/env bash
# I4 (+ I9): a catch-up round that fails is asked again soon, with a backoff,
# not only at the next trigger or poll.catchup_interval (here an hour). The
# server drops the notifications of a case (nothing shows the gap), then
# answers the next two Observation searches 503 (test control fail-reads by
# count). A SIGHUP asks for a catch-up: it fails, is asked again 5 s later
# (fails), then 10 s later, and finds the case: its report is written within
# a minute. Before round_retry (catchup.c) the case waited for the hour.
source "$(dirname "$0")/lib.sh"
e2e_init I4_catchup_retry "$@"
e2e_start_server
e2e_config subscription.mode=rest-hook poll.catchup_interval=3600
e2e_start_daemon
# the start's own catch-up round first: the failures are for the next one
for _ in $(seq 1 300); do
    [ "$(e2e_metric nenfhir_catchups_total)" -ge 1 ] 2>/dev/null && break
    sleep 0.2
done
[ "$(e2e_metric nenfhir_catchups_total)" -ge 1 ] || e2e_fail "the first catch-up round did not complete"
n=$(grep -c '"resourceType": *"\(Observation\|Condition\)"' "$E2E_ROOT/examples/fhir/minen.json" || true)
e2e_control drop "{\"count\":$n}" >/dev/null
e2e_lis post "$E2E_ROOT"/examples/fhir/minen.json >"$E2E_DIR/post.txt"
e2e_control fail-reads '{"count":2,"status":503,"path":"Observation"}' >/dev/null
kill -HUP "$E2E_DAEMON_PID"
e2e_wait_reports 1 "" 90
e2e_check_examples "$E2E_ROOT"/examples/fhir/minen.json
grep -q "catch-up Observation: HTTP 503; will try again" "$E2E_DIR/daemon.log" ||
    e2e_fail "no catch-up round failed on the 503: the test proves nothing"
grep -q "catch-up: failed 1 time(s) in a row; asking again in 5 s" "$E2E_DIR/daemon.log" ||
    e2e_fail "the failed round was not asked again after 5 s"
grep -q "catch-up: failed 2 time(s) in a row; asking again in 10 s" "$E2E_DIR/daemon.log" ||
    e2e_fail "the second failure did not double the wait"
grep -q "changed input(s) found" "$E2E_DIR/daemon.log" || e2e_fail "the retried catch-up did not find the case"
e2e_finish
e2e_pass "a failed catch-up asked again after 5 s and 10 s (not poll.catchup_interval, 3600 s): the dropped case reported"
