#!/usr/bin/env bash
# I9 (a 404 or 410 on a fetch is not a success): while the server answers
# the patient's first read (Patient?_id=...&_revinclude=..., the search that
# finds the inputs that may predate nenfhir, issue 11) with STATUS (argv[3],
# 404 or 410), nenfhir must not take that as "the patient has nothing else"
# and write a report from the notifications alone: the run fails and is
# retried, nothing is written, and once the server answers again the right
# report is written.
source "$(dirname "$0")/lib.sh"
status=${3:-404}
e2e_init "I9_not_found_$status" "$@"
e2e_start_server
e2e_config work.backoff=300ms work.backoff_max=1s work.max_attempts=40
e2e_start_daemon
e2e_control fail-reads "{\"seconds\":8,\"status\":$status,\"path\":\"Patient\"}" >/dev/null
start=$(date +%s)
e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type1.json >"$E2E_DIR/post.txt"
sleep 5
[ $(($(date +%s) - start)) -lt 8 ] || e2e_fail "posting took too long for this test"
n=$(e2e_control 'counts?type=DiagnosticReport')
[ "$n" = '{"count":0}' ] || e2e_fail "a report was written while the Patient search answered $status: $n"
grep -q "reading the case: HTTP $status (not found: not taken as 'no inputs')" "$E2E_DIR/daemon.log" ||
    e2e_fail "no retry logged for the $status"
e2e_wait_reports 1 final,amended 60
e2e_check_examples "$E2E_ROOT"/examples/fhir/gastric-type1.json
e2e_finish
e2e_pass "HTTP $status on the patient's search retried, nothing written meanwhile; the final report came after"
