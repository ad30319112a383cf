#!/usr/bin/env bash
# I14 + I7 + I8 (issue 13 item 3): a crash midway through ordered
# conditional writes. On the Node test server (fhir-router refuses a
# conditional transaction of more than 8 entries, so each resource of a
# report is written on its own, in order) the DiagnosticReport writes are
# made to fail (503) after the result Observations were accepted and
# recorded; nenfhir is killed with SIGKILL while it waits to retry, the
# fault lifted, nenfhir restarted on the same store: it resumes after the
# Observations it recorded (written again: none) and the case ends with
# one report, one result Observation per identifier and nothing
# duplicated. (A first case teaches nenfhir that the server wants single
# writes: a 503 on a whole transaction would only be retried.)
source "$(dirname "$0")/lib.sh"
e2e_init I14_ordered_write_crash "$@"
source "$E2E_ROOT/tests/e2e/I8_write_common.sh"
e2e_start_server
e2e_config server.write_mode=conditional work.backoff=2s work.backoff_max=10s
e2e_start_daemon --debug
wm_wait_log "write mode conditional"
# a first case: its transaction refused (400), written one resource at a
# time, and from then on every report so (a 503 on the transaction would
# only be retried)
e2e_lis post "$E2E_ROOT/examples/fhir/gastric-type1.json" >"$E2E_DIR/post1.txt"
e2e_wait_report S26-004711 final,amended
wm_wait_log "from now on reports are written one resource at a time"
lines0=$(wc -l <"$E2E_DIR/daemon.log")
e2e_control fail-writes '{"seconds":600,"status":503,"resourceType":"DiagnosticReport"}' >/dev/null
e2e_lis post "$E2E_ROOT/examples/fhir/gastric-type3.json" >"$E2E_DIR/post.txt"
# the Observations accepted one by one, then the DiagnosticReport refused
acc=$(grep -o '"value": *"S[0-9-]*"' "$E2E_ROOT/examples/fhir/gastric-type3.json" | head -n 1 | grep -o 'S[0-9-]*')
wm_wait_log "DiagnosticReport [0-9]+ of [0-9]+, one resource at a time: the server answered the report transaction of $acc with HTTP 503" 180
nobs=$(tail -n +"$((lines0 + 1))" "$E2E_DIR/daemon.log" |
    grep -Ec "Observation [0-9]+ of [0-9]+ of the report of $acc written: HTTP 20" || true)
[ "$nobs" -ge 6 ] || e2e_fail "only $nobs result Observations written before the DiagnosticReport"
e2e_kill_daemon KILL
echo "killed with SIGKILL after $nobs result Observations, the DiagnosticReport refused"
wm_identities
obs0=$(wm_count Observation)
[ "$(wm_count DiagnosticReport)" = 1 ] || e2e_fail "a DiagnosticReport was written through the fault"
e2e_control reset '{}' >/dev/null
lines=$(wc -l <"$E2E_DIR/daemon.log")
e2e_start_daemon --debug
# what it learnt survives the restart (store meta write_single)
wm_wait_log "write mode conditional \(one resource at a time, in order\): set by \[server\] write_mode; one resource at a time: this server refused"
e2e_wait_report "$acc" final
E2E_CHECK_TIMEOUT=120 e2e_check_examples "$E2E_ROOT/examples/fhir/gastric-type1.json" "$E2E_ROOT/examples/fhir/gastric-type3.json"
tail -n +"$((lines + 1))" "$E2E_DIR/daemon.log" >"$E2E_DIR/after.log"
grep -Eq "report written: .*; $nobs found written before\)" "$E2E_DIR/after.log" ||
    e2e_fail "the restarted run did not resume after the $nobs recorded Observations: $(grep 'report written' "$E2E_DIR/after.log")"
if grep -Eq "Observation [0-9]+ of [0-9]+ of the report of $acc written: HTTP" "$E2E_DIR/after.log"; then
    e2e_fail "a recorded Observation was written again after the restart"
fi
wm_identities
[ "$(wm_count DiagnosticReport)" = 2 ] || e2e_fail "$(wm_count DiagnosticReport) reports for two cases"
[ "$(wm_count Observation)" = "$obs0" ] || e2e_fail "$(wm_count Observation) result Observations after the restart, $obs0 before"
[ "$(wm_count Provenance)" = 2 ] || e2e_fail "$(wm_count Provenance) Provenances for two reports"
e2e_finish
e2e_pass "kill -9 midway through ordered writes: resumed after $nobs recorded Observations; one report, no duplicate"
