#!/usr/bin/env bash
# I8 + I11 (issue 13 item 3) against real HAPI FHIR (label hapi):
# server.write_mode = client-id, one transaction of PUT Type/<uuid> per
# report (HAPI creates on update for ids that are not purely numeric). The
# reports are right, each identity is written once, an amendment updates the
# same DiagnosticReport, a restart and a re-post duplicate nothing, and
# HAPI's validator accepted every write.
source "$(dirname "$0")/lib.sh"
e2e_init hapi_I8_write_client_id "$@"
source "$E2E_ROOT/tests/e2e/I8_write_common.sh"
WM_MODE=client-id WM_HAPI=1
wm_run
e2e_hapi_assert_accepted
e2e_finish
e2e_pass "HAPI FHIR: client-id transactions; one resource per identity through amendment, restart and re-post; every write validated"
