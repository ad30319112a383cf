#!/usr/bin/env bash
# I1 + I4 against real HAPI FHIR (label hapi), payload empty: HAPI's
# rest-hook sends a bodiless POST to the endpoint for each change; nenfhir
# answers it by querying what changed since its cursor and reports every
# case; HAPI's request validator accepted every write.
source "$(dirname "$0")/lib.sh"
e2e_init hapi_I1_empty_payload "$@"
e2e_start_hapi
e2e_config subscription.payload=empty
e2e_start_daemon --debug
mapfile -t files < <(e2e_hapi_examples gastric-type1 thymus-net minen)
e2e_lis post "${files[@]}" >"$E2E_DIR/post.txt"
e2e_wait_reports 3 "" 120
e2e_check_examples "${files[@]}"
pings=$(e2e_hapi_notifications POST)
[ "$pings" -gt 10 ] || e2e_fail "expected HAPI's bodiless POSTs, saw $pings"
e2e_assert_quiet 3
e2e_hapi_assert_accepted
e2e_finish
e2e_pass "HAPI FHIR: 3 cases reported from $pings bodiless pings via catch-up queries, every write validated"
