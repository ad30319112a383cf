#!/usr/bin/env bash
# I9 + I4: the FHIR server goes down for 30 s while cases are arriving;
# nenfhir's reads and writes fail, are retried with backoff, and every case
# is reported once the server is back. Nothing is dead-lettered.
source "$(dirname "$0")/lib.sh"
e2e_init I9_server_outage "$@"
e2e_start_server
e2e_config work.backoff=500ms work.backoff_max=4s work.max_attempts=100 poll.catchup_interval=5
e2e_start_daemon
e2e_lis post --repeat 3 "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json \
    >"$E2E_DIR/post.txt"
e2e_control down '{"seconds":30}' >/dev/null
sleep 1
# while it is down the LIS retries too; it finishes once the server is back
e2e_lis post --repeat 2 "$E2E_ROOT"/examples/fhir/lung-atypical-carcinoid.json >>"$E2E_DIR/post.txt"
e2e_wait_reports 8 "" 120
e2e_check_examples --copies 3 "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json
e2e_check_examples --copies 2 "$E2E_ROOT"/examples/fhir/lung-atypical-carcinoid.json
dead=$(e2e_metric nenfhir_queue_dead)
[ "$dead" = "0" ] || e2e_fail "$dead dead letters after an outage"
retries=$(e2e_metric nenfhir_write_retries_total)
e2e_finish
e2e_pass "30 s outage: 8 cases reported, $retries retried attempts, 0 dead letters"
