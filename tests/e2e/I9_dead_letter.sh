#!/usr/bin/env bash
# I9: the server rejects the report transaction with 400 and an
# OperationOutcome; nenfhir does not retry a 4xx it cannot fix: the job goes
# to dead letter at once with the OperationOutcome kept, `nenfhir
# dead-letter list` shows it, and `replay` writes the report.
source "$(dirname "$0")/lib.sh"
e2e_init I9_dead_letter "$@"
e2e_start_server
e2e_config
e2e_start_daemon
e2e_control reject-writes '{"count":1,"resourceType":"DiagnosticReport"}' >/dev/null
e2e_lis post "$E2E_ROOT"/examples/fhir/thymus-net.json >"$E2E_DIR/post.txt"
for i in $(seq 1 100); do
    [ "$(e2e_metric nenfhir_queue_dead)" = "1" ] && break
    sleep 0.2
done
[ "$(e2e_metric nenfhir_queue_dead)" = "1" ] || e2e_fail "no dead letter after a 400"
"$NENFHIR" dead-letter -c "$E2E_DIR/nenfhir.conf" list >"$E2E_DIR/dead.txt"
grep -q "HTTP 400" "$E2E_DIR/dead.txt" || e2e_fail "dead letter lacks the status: $(cat "$E2E_DIR/dead.txt")"
grep -q "OperationOutcome" "$E2E_DIR/dead.txt" || e2e_fail "dead letter lacks the OperationOutcome"
grep -q "attempts=1" "$E2E_DIR/dead.txt" || e2e_fail "a 400 should not be retried: $(cat "$E2E_DIR/dead.txt")"
[ "$(e2e_lis count --type DiagnosticReport)" = "0" ] || e2e_fail "a report was written despite the 400"
"$NENFHIR" dead-letter -c "$E2E_DIR/nenfhir.conf" replay --all | grep -q "requeued: 1" || e2e_fail "replay"
e2e_control reset >/dev/null
e2e_start_daemon_kick() { kill -HUP "$E2E_DAEMON_PID"; }
e2e_start_daemon_kick
e2e_wait_reports 1 final,amended 60
e2e_check_examples "$E2E_ROOT"/examples/fhir/thymus-net.json
e2e_finish
e2e_pass "400 -> dead letter with its OperationOutcome after 1 attempt; replay wrote the report"
