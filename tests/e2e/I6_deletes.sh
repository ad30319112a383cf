#!/usr/bin/env bash
# I6 + I4: deletes are noticed.
#  1. HAPI style (R4 criteria, full-resource): HAPI sends DELETE {endpoint}/
#     {Type}/{id} only to a Subscription whose channel carries the
#     subscription-send-delete-messages extension (the test server does the
#     same): nenfhir asks for it, and a deleted input amends its final report.
#  2. A delete whose notification is lost: the catch-up re-reads the inputs
#     of final reports, finds the one that is gone and amends that report.
#  The inputs deleted here are referenced by nenfhir's derived Observations
#  (derivedFrom), which a stock HAPI refuses to delete (409, referential
#  integrity; hapi_I6_I11_amended uses entered-in-error instead): the server
#  runs with that check off, as HAPI's setEnforceReferentialIntegrityOnDelete(false).
source "$(dirname "$0")/lib.sh"
e2e_init I6_deletes "$@"
e2e_start_server --delete-integrity=false
e2e_config poll.catchup_interval=3 poll.vanished_interval=3
e2e_start_daemon
e2e_lis post "$E2E_ROOT"/examples/fhir/lung-atypical-carcinoid.json \
    "$E2E_ROOT"/examples/fhir/gastric-type1.json >"$E2E_DIR/post.txt"
e2e_wait_reports 2 final,amended
fhir() { curl -sS --max-time 10 --cacert "$E2E_CERTS/ca.crt" "$@"; }
first_id() {
    "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const b=JSON.parse(s);console.log(b.entry?.[0]?.resource?.id??"")})'
}
# ki67_of EXAMPLE: the id of the Ki-67 Observation (LOINC 29593-1) of that example's case
ki67_of() {
    local acc spec
    acc=$(grep -o "$1 accession=[^ ]*" "$E2E_DIR/post.txt" | cut -d= -f2)
    spec=$(fhir "$E2E_BASE/Specimen?accession=$acc" | first_id)
    fhir "$E2E_BASE/Observation?specimen=Specimen/$spec&code=http://loinc.org%7C29593-1" | first_id
}
# 1. a delete notified (DELETE {endpoint}/Observation/{id})
obs=$(ki67_of lung-atypical-carcinoid.json)
[ -n "$obs" ] || e2e_fail "no Ki-67 Observation found for the lung case"
fhir -X DELETE "$E2E_BASE/Observation/$obs" >/dev/null
e2e_wait_reports 1 amended 30
sub=$(fhir "$E2E_BASE/Subscription?_count=50" | grep -c "subscription-send-delete-messages" || true)
[ "$sub" -ge 1 ] || e2e_fail "nenfhir's Subscription does not ask HAPI for delete messages"
grep -q "Observation/$obs deleted: case .* will be recomputed" "$E2E_DIR/daemon.log" ||
    e2e_fail "the delete notification was not received"
# 2. a delete whose notification the server drops
obs2=$(ki67_of gastric-type1.json)
[ -n "$obs2" ] || e2e_fail "no Ki-67 Observation found for the gastric case"
e2e_control drop '{"count":1}' >/dev/null
fhir -X DELETE "$E2E_BASE/Observation/$obs2" >/dev/null
e2e_wait_reports 2 amended 30
grep -q "Observation/$obs2 is gone (HTTP 40[14]) and no delete notification came" "$E2E_DIR/daemon.log" ||
    e2e_fail "the lost delete was not found by the catch-up"
grep -q "Observation/$obs2 deleted" "$E2E_DIR/daemon.log" && e2e_fail "the dropped delete notification arrived"
e2e_finish
e2e_pass "a notified delete and a delete whose notification was lost both amended their final reports"
