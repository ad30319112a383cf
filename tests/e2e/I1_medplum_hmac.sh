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
e2e_finish
e2e_pass "2 cases reported from $signed HMAC-signed Medplum notifications"
