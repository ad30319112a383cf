#!/usr/bin/env bash
# I1 (Medplum style): POST {endpoint} with the resource as body and
# X-Signature = HMAC-SHA256(secret, body); no shared header is sent, so the
# HMAC alone must be verified and accepted. Deletes arrive as {} with
# X-Medplum-Deleted-Resource and make nenfhir recompute (I6).
source "$(dirname "$0")/lib.sh"
e2e_init I1_medplum_hmac "$@"
e2e_start_server --style medplum
e2e_config
e2e_start_daemon
e2e_lis post "$E2E_ROOT"/examples/fhir/lung-atypical-carcinoid.json \
    "$E2E_ROOT"/examples/fhir/pancreas-liver-mets.json >"$E2E_DIR/post.txt"
e2e_wait_reports 2
e2e_check_examples "$E2E_ROOT"/examples/fhir/lung-atypical-carcinoid.json \
    "$E2E_ROOT"/examples/fhir/pancreas-liver-mets.json
signed=$(e2e_control deliveries | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{console.log(JSON.parse(s).filter(x=>x.style==="medplum"&&x.status===200).length)})')
[ "$signed" -gt 10 ] || e2e_fail "expected accepted Medplum deliveries, saw $signed"
e2e_assert_quiet 2
# delete the lung case's Ki-67 (LOINC 29593-1): X-Medplum-Deleted-Resource,
# the case is recomputed and its final report amended without it (I6)
fhir() { curl -sS --max-time 10 --cacert "$E2E_CERTS/ca.crt" "$@"; }
acc=$(grep -o 'lung-atypical-carcinoid.json accession=[^ ]*' "$E2E_DIR/post.txt" | cut -d= -f2)
spec=$(fhir "$E2E_BASE/Specimen?accession=$acc" | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).entry[0].resource.id))')
obs=$(fhir "$E2E_BASE/Observation?specimen=Specimen/$spec&code=http://loinc.org%7C29593-1" | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).entry[0].resource.id))')
[ -n "$obs" ] || e2e_fail "no Ki-67 Observation found for $acc"
fhir -X DELETE "$E2E_BASE/Observation/$obs" >/dev/null
e2e_wait_reports 1 amended 60
grep -A3 "REPORT $acc amended" "$E2E_DIR/reports.txt" >/dev/null || e2e_fail "the lung report was not amended after the delete"
grep -q "Observation/$obs deleted: case .* will be recomputed" "$E2E_DIR/daemon.log" ||
    e2e_fail "the delete notification was not seen"
e2e_finish
e2e_pass "2 cases reported from $signed HMAC-signed Medplum notifications; a deleted input amended its report"
