#!/usr/bin/env bash
# I6 against real HAPI FHIR (label hapi): nenfhir's rest-hook Subscription
# carries HAPI's subscription-send-delete-messages extension, so HAPI sends
# DELETE {endpoint}/{Type}/{id} when an input is deleted; the final report
# of that case is amended without the deleted input.
E2E_WAIT_REPORT_TIMEOUT=150
source "$(dirname "$0")/lib.sh"
e2e_init hapi_I6_delete "$@"
# With HAPI's default (referential integrity on delete) the LIS cannot delete
# an input once nenfhir has reported on it: nenfhir's derived Observations
# (derivedFrom) and its report refer to it, and HAPI answers 409 Conflict.
# This server lets such deletes through, as a server configured for them.
e2e_start_hapi -- --nenfhir.delete-integrity=false
e2e_config
e2e_start_daemon --debug
mapfile -t files < <(e2e_hapi_examples lung-atypical-carcinoid)
e2e_lis post "${files[@]}" >"$E2E_DIR/post.txt"
e2e_wait_reports 1 final,amended 120
acc=$(awk '/^REPORT/ {print $2}' "$E2E_DIR/reports.txt")
fhir() { curl -sS --max-time 20 --cacert "$E2E_CERTS/ca.crt" "$@"; }
first_id() {
    "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const b=JSON.parse(s);console.log(b.entry?.[0]?.resource?.id??"")})'
}
spec=$(fhir "$E2E_BASE/Specimen?accession=$acc" | first_id)
obs=$(fhir "$E2E_BASE/Observation?specimen=Specimen/$spec&code=http://loinc.org%7C29593-1" | first_id)
[ -n "$obs" ] || e2e_fail "no Ki-67 Observation found for $acc"
sub=$(fhir "$E2E_BASE/Subscription?_count=50" | grep -c "subscription-send-delete-messages" || true)
[ "$sub" -ge 1 ] || e2e_fail "nenfhir's Subscription does not ask HAPI for delete messages"
code=$(fhir -o "$E2E_DIR/delete.json" -w '%{http_code}' -X DELETE "$E2E_BASE/Observation/$obs")
case $code in 2*) ;; *) e2e_fail "HAPI refused DELETE Observation/$obs: HTTP $code $(cat "$E2E_DIR/delete.json")" ;; esac
e2e_wait_reports 1 amended 60
for i in $(seq 1 60); do
    grep -q "notification DELETE /Observation/$obs" "$E2E_DIR/daemon.log" && break
    sleep 0.5
done
grep -q "notification DELETE /Observation/$obs" "$E2E_DIR/daemon.log" ||
    e2e_fail "HAPI's DELETE notification did not arrive"
e2e_hapi_assert_accepted
e2e_finish
e2e_pass "HAPI FHIR: DELETE notification for Observation/$obs; the final report was amended"
