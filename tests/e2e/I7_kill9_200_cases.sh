#!/usr/bin/env bash
# I7 + I8 + I10: the LIS streams 200 cases; nenfhir is killed with SIGKILL in
# the middle and restarted on the same store; afterwards there are exactly
# 200 reports, one per case, none duplicated, each with the expected result.
source "$(dirname "$0")/lib.sh"
e2e_init I7_kill9_200_cases "$@"
e2e_start_server
# a loaded machine delivers 200 cases slowly: cases wait long enough for their
# inputs that none is written preliminary from part of them (at load 20-25,
# with reports written one resource at a time, 60 s was once too short: 11
# preliminary reports of cases whose Specimen had not arrived yet)
e2e_config work.parallel=4 poll.catchup_interval=10 work.preliminary_after=600s
e2e_start_daemon
files=("$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/gastric-type3.json
       "$E2E_ROOT"/examples/fhir/pancreas-liver-mets.json "$E2E_ROOT"/examples/fhir/ileum-mesenteric-mass.json
       "$E2E_ROOT"/examples/fhir/lung-atypical-carcinoid.json "$E2E_ROOT"/examples/fhir/thymus-net.json
       "$E2E_ROOT"/examples/fhir/gastric-nec.json "$E2E_ROOT"/examples/fhir/minen.json)
e2e_lis post --repeat 25 --concurrency 4 "${files[@]}" >"$E2E_DIR/post.txt" &
lis=$!
# kill -9 once some reports are written, while the stream goes on
for i in $(seq 1 300); do
    w=$(e2e_metric nenfhir_reports_written_total 2>/dev/null || echo 0)
    [ "${w:-0}" -ge 30 ] && break
    sleep 0.2
done
e2e_kill_daemon KILL
echo "killed with SIGKILL after $w report transactions"
sleep 2
e2e_start_daemon
wait "$lis" || e2e_fail "the LIS could not post all cases"
e2e_wait_reports 200 "" 180
e2e_check_examples --copies 25 "${files[@]}"
count=$(e2e_control 'counts?type=DiagnosticReport' | tr -dc '0-9')
[ "$count" = "200" ] || e2e_fail "the server holds $count DiagnosticReports for 200 cases"
grep -q "^duplicates: 0" "$E2E_DIR/reports.txt" || e2e_fail "duplicate reports: $(grep duplicates "$E2E_DIR/reports.txt")"
e2e_finish
e2e_pass "kill -9 mid-stream: exactly 200 reports for 200 cases, no duplicates"
