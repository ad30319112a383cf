#!/usr/bin/env bash
# I8 + I14 + I11 (issue 13 item 3) on the Node test server (Medplum's
# fhir-router): server.write_mode = auto picks conditional update by
# identifier from the CapabilityStatement; fhir-router refuses a
# transaction with conditional entries and more than 8 entries, so the
# first report's transaction is refused and nenfhir writes each resource
# on its own, in order, and keeps doing so (nenfhir_write_single 1). The
# reports are right, each identity is written once, an amendment updates
# the same DiagnosticReport, a restart and a re-post duplicate nothing.
source "$(dirname "$0")/lib.sh"
e2e_init I8_write_conditional "$@"
source "$E2E_ROOT/tests/e2e/I8_write_common.sh"
WM_MODE=conditional
wm_run
grep -q "refused the conditional transaction (HTTP 400.*Transaction requires strict isolation" "$E2E_DIR/daemon.log" ||
    e2e_fail "the server's refusal of the conditional transaction was not seen"
grep -q "from now on reports are written one resource at a time" "$E2E_DIR/daemon.log" ||
    e2e_fail "nenfhir did not learn to write one resource at a time"
[ "$(e2e_metric nenfhir_write_single)" = 1 ] || e2e_fail "nenfhir_write_single is not 1"
e2e_finish
e2e_pass "conditional writes (auto) on fhir-router: ordered single writes after the refused transaction; one resource per identity through amendment, restart and re-post"
