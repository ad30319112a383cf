#!/usr/bin/env bash
# I8 + I11 (issue 13 item 3) on the Node test server: server.write_mode =
# client-id, nenfhir's writes as before the write modes (one transaction of
# PUT Type/<uuid> per report). The reports are right, each identity is
# written once, an amendment updates the same DiagnosticReport, a restart
# and a re-post duplicate nothing.
source "$(dirname "$0")/lib.sh"
e2e_init I8_write_client_id "$@"
source "$E2E_ROOT/tests/e2e/I8_write_common.sh"
WM_MODE=client-id
wm_run
grep -q "write mode client-id: set by \[server\] write_mode" "$E2E_DIR/daemon.log" || e2e_fail "no reason logged"
[ "$(e2e_metric nenfhir_write_single)" = 0 ] || e2e_fail "nenfhir_write_single is not 0"
e2e_finish
e2e_pass "client-id writes on fhir-router: one resource per identity through amendment, restart and re-post"
