#!/usr/bin/env bash
# I6 (issue 11 item 6): one patient-level input amends every case of the
# patient, and only that patient's. Patient 10058832 has two cases, a gastric
# biopsy S26-100001 and a resection S26-100002 (examples/fhir/cases/, with
# the serum gastrin and atrophic gastritis that make both complete); patient
# 10061145 has one, S26-100003 (block-results.json). Once all three are
# final, a liver metastasis Condition of patient 10058832 (no specimen)
# arrives: both of that patient's reports are amended (M1a, stage IV, each
# keeping its own grade); S26-100003 keeps its report and its version.
# Expected lines: examples/fhir/cases/README.md (classify on each case's
# resources, checked against the clinical rules).
source "$(dirname "$0")/lib.sh"
e2e_init I6_patient_level_amends "$@"
cases=$E2E_ROOT/examples/fhir/cases
BX=S26-100001 RX=S26-100002 OTHER=S26-100003
e2e_start_server
e2e_config work.preliminary_after=2s
e2e_start_daemon
# one at a time: both files create (conditionally) the same Patient
e2e_lis post --concurrency 1 "$cases/two-specimens-biopsy.json" "$cases/two-specimens-resection.json" \
    "$cases/serum-gastrin.json" "$cases/block-results.json" >"$E2E_DIR/post.txt" || e2e_fail "posting the cases failed"
e2e_wait_report "$BX" final grade=G1 type=1 t=T1 n=N0 m=M0 stage=I status=final
e2e_wait_report "$RX" final grade=G2 type=1 t=T1 n=N0 m=M0 stage=I status=final
e2e_wait_report "$OTHER" final grade=G2 type=not-applicable t=T1 n=N0 m=M0 stage=I status=final
v_other=$(e2e_report_version "$OTHER")
e2e_lis post "$cases/liver-metastasis.json" >>"$E2E_DIR/post.txt" || e2e_fail "posting the liver metastasis failed"
e2e_wait_report "$BX" amended grade=G1 type=1 m=M1a stage=IV status=final '~^warning=input-conflict: mets:'
e2e_wait_report "$RX" amended grade=G2 type=1 m=M1a stage=IV status=final '~^warning=input-conflict: mets:'
# the other patient's case: same report, same version, still M0 (both
# amendments above are written, so its turn, had it one, has come too)
e2e_wait_report "$OTHER" final m=M0 stage=I '!^warning=input-conflict'
[ "$(e2e_report_version "$OTHER")" = "$v_other" ] ||
    e2e_fail "patient 10058832's Condition rewrote patient 10061145's report $OTHER (version $v_other -> $(e2e_report_version "$OTHER"))"
e2e_assert_one_report_per_case "$BX" "$RX" "$OTHER"
e2e_finish
e2e_pass "one patient-level Condition amended both cases of its patient (M1a, IV; G1 and G2 kept) and left the other patient's report as it was"
