#!/usr/bin/env bash
# I8 + I14 + I11 (issue 13 item 3) against real HAPI FHIR (label hapi):
# server.write_mode = auto reads HAPI's CapabilityStatement (conditionalUpdate
# for every type, transactions) and writes each report as one transaction of
# conditional updates by identifier (PUT Type?identifier=SYSTEM|VALUE, the
# Provenance by its _tag, references as urn:uuid); HAPI accepts them, so
# nenfhir never falls back to single writes (nenfhir_write_single 0). The
# reports are right, each identity is written once, an amendment updates the
# same DiagnosticReport, a restart and a re-post duplicate nothing, and
# HAPI's validator accepted every write.
source "$(dirname "$0")/lib.sh"
e2e_init hapi_I8_write_conditional "$@"
source "$E2E_ROOT/tests/e2e/I8_write_common.sh"
WM_MODE=conditional WM_HAPI=1
wm_run
grep -q "software 'HAPI FHIR Server').*in one transaction per report" "$E2E_DIR/daemon.log" ||
    e2e_fail "auto did not read HAPI's CapabilityStatement"
grep -q "refused the conditional transaction" "$E2E_DIR/daemon.log" &&
    e2e_fail "HAPI refused a conditional transaction"
[ "$(e2e_metric nenfhir_write_single)" = 0 ] || e2e_fail "nenfhir_write_single is not 0"
e2e_hapi_assert_accepted
e2e_finish
e2e_pass "HAPI FHIR: conditional transactions (auto); one resource per identity through amendment, restart and re-post; every write validated"
