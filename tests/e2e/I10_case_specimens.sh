#!/usr/bin/env bash
# I10 (issue 11 items 1, 6): a case is one tissue specimen's accession, with
# one DiagnosticReport each; patient-level inputs belong to every case of
# the patient; inputs never cross between two tissue specimens.
# Fixtures: examples/fhir/cases/ (README.md there says what each holds and
# how the expected lines below were derived: `nenfhir classify --summary` on
# each case's own resources plus the patient-level ones, checked against
# /work/shared/spec/clinical-rules.md). The LIS posts, in order:
#   a1 two-specimens-biopsy.json   patient 10058832: gastric biopsy S26-100001
#      (Ki-67 1.5%, 5 mm, lamina propria) + primary Condition + staging CT
#      (cN0, no distant metastasis). Gastrin missing: preliminary after
#      work.preliminary_after (2 s): G1, type indeterminate, T1 N0 M0, I.
#   a2 two-specimens-resection.json  the same patient's resection S26-100002
#      (Ki-67 6%, 1 mitosis, 8 mm, submucosa, 0/4 nodes): its own report, G2
#      (never the biopsy's G1); the biopsy's report says input-in-other-case
#      for mitoses and the node counts it lacks, naming S26-100002.
#   b  serum-gastrin.json  gastrin 720 pg/mL (ULN 100) on a serum Specimen
#      (119364003, patient level) + atrophic gastritis: both cases type 1,
#      complete: both final, each with its own grade.
#   c  liver-metastasis.json  a patient-level liver metastasis Condition:
#      both reports amended, M1a, stage IV.
#   d  block-results.json  patient 10061145: ileal resection S26-100003 with
#      Ki-67 and mitoses on its block (Specimen.parent): one report, keyed
#      by the accession, graded from the block's results (G2, T1 N0 M0, I).
# Every step waits for the state it expects (e2e_wait_report), never for a
# count at a moment. At the end: exactly one report per accession, none for
# the serum specimen or the block.
source "$(dirname "$0")/lib.sh"
e2e_init I10_case_specimens "$@"
cases=$E2E_ROOT/examples/fhir/cases
BX=S26-100001 RX=S26-100002 BLOCK=S26-100003
e2e_start_server
e2e_config work.preliminary_after=2s
e2e_start_daemon

step() { echo "-- $*"; }

step "a1: biopsy $BX (gastrin missing: preliminary)"
e2e_lis post "$cases/two-specimens-biopsy.json" >>"$E2E_DIR/post.txt" || e2e_fail "posting the biopsy failed"
e2e_wait_report "$BX" preliminary class=NET grade=G1 type=indeterminate t=T1 n=N0 m=M0 stage=I \
    status=preliminary '~^warning=missing: serum gastrin' '!^warning=input-in-other-case'

step "a2: resection $RX: its own report and grade; the biopsy names what only the resection has"
e2e_lis post "$cases/two-specimens-resection.json" >>"$E2E_DIR/post.txt" || e2e_fail "posting the resection failed"
e2e_wait_report "$RX" preliminary class=NET grade=G2 type=indeterminate t=T1 n=N0 m=M0 stage=I \
    status=preliminary '!^warning=input-in-other-case' '!^warning=grade-ki67-only'
e2e_wait_report "$BX" preliminary class=NET grade=G1 type=indeterminate t=T1 n=N0 m=M0 stage=I \
    status=preliminary '~^warning=grade-ki67-only' \
    "~^warning=input-in-other-case: mitoses: .*$RX" \
    "~^warning=input-in-other-case: nodes_examined: .*$RX" \
    "~^warning=input-in-other-case: nodes_positive: .*$RX" \
    '!^warning=input-in-other-case: (ki67|size|extent|region):'

step "b: serum gastrin + atrophic gastritis (patient level): both cases type 1, final"
e2e_lis post "$cases/serum-gastrin.json" >>"$E2E_DIR/post.txt" || e2e_fail "posting the serum gastrin failed"
e2e_wait_report "$BX" final class=NET grade=G1 type=1 t=T1 n=N0 m=M0 stage=I status=final \
    "~^warning=input-in-other-case: mitoses: .*$RX" '!^warning=missing:'
e2e_wait_report "$RX" final class=NET grade=G2 type=1 t=T1 n=N0 m=M0 stage=I status=final \
    '~^warning=type-usual-grade' '!^warning=input-in-other-case' '!^warning=missing:'

step "c: liver metastasis (patient level): both reports amended, M1a, stage IV"
e2e_lis post "$cases/liver-metastasis.json" >>"$E2E_DIR/post.txt" || e2e_fail "posting the liver metastasis failed"
e2e_wait_report "$BX" amended class=NET grade=G1 type=1 t=T1 n=N0 m=M1a stage=IV status=final \
    '~^warning=input-conflict: mets:'
e2e_wait_report "$RX" amended class=NET grade=G2 type=1 t=T1 n=N0 m=M1a stage=IV status=final \
    '~^warning=input-conflict: mets:'

step "d: another patient, Ki-67 and mitoses on a block of $BLOCK"
e2e_lis post "$cases/block-results.json" >>"$E2E_DIR/post.txt" || e2e_fail "posting the block case failed"
e2e_wait_report "$BLOCK" final class=NET grade=G2 type=not-applicable t=T1 n=N0 m=M0 stage=I status=final \
    '!^warning=missing:' '!^warning=input-in-other-case'

step "the end: one report per accession"
e2e_assert_one_report_per_case "$BX" "$RX" "$BLOCK"
e2e_finish
e2e_pass "biopsy G1 and resection G2 of one patient: one report each, no input crossed (input-in-other-case on the biopsy); serum gastrin typed both (type 1, final); a liver metastasis amended both (M1a, IV); results on a block joined their accession's case"
