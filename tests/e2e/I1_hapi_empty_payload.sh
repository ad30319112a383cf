#!/usr/bin/env bash
# I1 + I4 (HAPI style, empty payload): the server sends a bodiless POST for
# each change; nenfhir answers it by querying what changed since its cursor
# and reports every case.
source "$(dirname "$0")/lib.sh"
e2e_init I1_hapi_empty_payload "$@"
e2e_start_server --style hapi
e2e_config subscription.payload=empty
e2e_start_daemon
e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json \
    "$E2E_ROOT"/examples/fhir/minen.json >"$E2E_DIR/post.txt"
e2e_wait_reports 3
e2e_check_examples "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json \
    "$E2E_ROOT"/examples/fhir/minen.json
pings=$(e2e_control deliveries | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{console.log(JSON.parse(s).filter(x=>x.method==="POST").length)})')
[ "$pings" -gt 10 ] || e2e_fail "expected bodiless POSTs, saw $pings"
e2e_assert_quiet 3
e2e_finish
e2e_pass "3 cases reported from $pings bodiless pings via catch-up queries"
