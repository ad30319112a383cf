#!/usr/bin/env bash
# I6 + I11 against real HAPI FHIR (label hapi): the report of gastric-type1
# is final; its Ki-67 changes (1.5% -> 25%: G1 -> G3) and HAPI's rest-hook
# delivers the new version: the report is amended (a new version of the same
# DiagnosticReport); unchanged inputs write nothing (I8); a retracted Ki-67
# (entered-in-error) amends it again; HAPI's validator accepted every write.
source "$(dirname "$0")/lib.sh"
e2e_init hapi_I6_amended "$@"
e2e_start_hapi
e2e_config
e2e_start_daemon --debug
mapfile -t files < <(e2e_hapi_examples gastric-type1)
e2e_lis post "${files[@]}" >"$E2E_DIR/post.txt"
e2e_wait_reports 1 final,amended 120
acc=$(awk '/^REPORT/ {print $2}' "$E2E_DIR/reports.txt")
e2e_wait_report "$acc" final,amended grade=G1
v1=$(e2e_report_version "$acc")
e2e_lis amend --accession "$acc" --code 29593-1 --value 25 >/dev/null ||
    e2e_lis amend --accession "$acc" --code ki67 --value 25 >/dev/null || e2e_fail "amend failed"
e2e_wait_report "$acc" amended grade=G3
v2=$(e2e_report_version "$acc")
[ "$v1" != "$v2" ] || e2e_fail "the report was not rewritten"
sleep 4
v3=$(e2e_report_version "$acc")
[ "$v2" = "$v3" ] || e2e_fail "the report was rewritten without a change ($v2 -> $v3)"
e2e_lis retract --accession "$acc" --code 29593-1 >/dev/null ||
    e2e_lis retract --accession "$acc" --code ki67 >/dev/null || e2e_fail "retract failed"
e2e_wait_report "$acc" amended '!^grade=G3$'
e2e_assert_one_report_per_case "$acc"
e2e_hapi_assert_accepted
e2e_finish
e2e_pass "HAPI FHIR: final (v$v1) -> amended G3 (v$v2) -> amended again on retraction; unchanged input wrote nothing; every write validated"
