#!/usr/bin/env bash
# issue 14 items 5 and 6 end to end: work requeued by the command line while
# the daemon runs is picked up within seconds (the daemon watches the store's
# PRAGMA data_version every second; no SIGHUP, no catch-up: catchup_interval
# is 300 s here). A 400 makes a dead letter; `dead-letter replay` (without a
# signal) writes the report; `case show` finds the case by its accession;
# `reprocess --all` requeues it and the job is done within seconds; a second
# `nenfhir run` on the same store refuses, naming the first's pid.
source "$(dirname "$0")/lib.sh"
e2e_init I9_reprocess_pickup "$@"
e2e_start_server
e2e_config
e2e_start_daemon
conf=$E2E_DIR/nenfhir.conf
e2e_control reject-writes '{"count":1,"resourceType":"DiagnosticReport"}' >/dev/null
e2e_lis post "$E2E_ROOT"/examples/fhir/thymus-net.json >"$E2E_DIR/post.txt"
for i in $(seq 1 100); do
    [ "$(e2e_metric nenfhir_queue_dead)" = "1" ] && break
    sleep 0.2
done
[ "$(e2e_metric nenfhir_queue_dead)" = "1" ] || e2e_fail "no dead letter after a 400"
"$NENFHIR" case list -c "$conf" --status dead | grep -q "	dead	" || e2e_fail "case list --status dead: $("$NENFHIR" case list -c "$conf")"
e2e_control reset >/dev/null
"$NENFHIR" dead-letter -c "$conf" replay --all | grep -q "requeued: 1" || e2e_fail "replay"
e2e_wait_reports 1 final,amended 10
"$NENFHIR" case list -c "$conf" --status done >"$E2E_DIR/done.txt"
acc=$(awk -F'\t' 'NR > 1 && $3 == "done" { print $1; exit }' "$E2E_DIR/done.txt")
[ -n "$acc" ] || e2e_fail "no done case: $(cat "$E2E_DIR/done.txt")"
"$NENFHIR" case show "${acc#*|}" -c "$conf" >"$E2E_DIR/show.txt" || e2e_fail "case show ${acc#*|}"
grep -q "^report   $acc" "$E2E_DIR/show.txt" || e2e_fail "case show: $(cat "$E2E_DIR/show.txt")"
grep -q "^job      none" "$E2E_DIR/show.txt" || e2e_fail "case show: a job left: $(cat "$E2E_DIR/show.txt")"
grep -q "Observation/" "$E2E_DIR/show.txt" || e2e_fail "case show: no inputs: $(cat "$E2E_DIR/show.txt")"
"$NENFHIR" reprocess -c "$conf" --all | grep -q "requeued: 1 patient" || e2e_fail "reprocess --all"
start=$SECONDS
for i in $(seq 1 50); do
    [ "$("$NENFHIR" case list -c "$conf" --status pending | grep -c 'Patient/')" = 0 ] && break
    sleep 0.2
done
[ "$("$NENFHIR" case list -c "$conf" --status pending | grep -c 'Patient/')" = 0 ] ||
    e2e_fail "the requeued case was not picked up within 10 s"
echo "reprocessed case picked up in about $((SECONDS - start)) s"
out=$("$NENFHIR" run -c "$conf" 2>&1) && e2e_fail "a second daemon on the same store started"
echo "$out" | grep -q "another nenfhir (pid $E2E_DAEMON_PID) is already running" ||
    e2e_fail "second instance message: $out"
e2e_finish
e2e_pass "dead-letter replay and reprocess picked up within seconds without a signal; case show by accession; one instance per store"
