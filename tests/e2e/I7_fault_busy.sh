#!/usr/bin/env bash
# I7 while another process holds the store's write lock (issue 12 item 6):
# SQLITE_BUSY for real, no hook. One case is reported; then the sqlite3
# program opens the daemon's database and runs BEGIN EXCLUSIVE, holding the
# lock far longer than the store's busy_timeout (5 s), and the LIS posts a
# second case:
#  - every notification that arrives is answered 503 after the busy
#    timeout (a PUT straight to the listener: 503 with Retry-After), never
#    200 (the sender, the test server with fixed retries, keeps it), and the
#    daemon runs on; /healthz answers 503 naming the store;
#  - the lock released: the sender's retries get through, the second case
#    is reported, the first case's report is still the one and only, and
#    the daemon drains and exits 0 on SIGTERM.
# No catch-up runs meanwhile (poll.catchup_interval = 1 h): only the
# sender's retry can bring the refused notifications in.
source "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3 program (scripts/bootstrap.sh installs it)"; exit 77; }
e2e_init I7_fault_busy "$@"
# the lock holder ends with the test, whatever happens; then e2e_cleanup
# runs with the test's status (set +e: (exit 1) must not end the trap)
trap 'rc=$?; set +e; touch "$E2E_DIR/release"; [ -n "${HOLDER_PID:-}" ] && wait "$HOLDER_PID" 2>/dev/null;
      (exit $rc); e2e_cleanup' EXIT

e2e_start_server --delivery-retries 400 --delivery-retry-delay-ms 500
e2e_config poll.catchup_interval=3600
e2e_start_daemon

# status code of a GET on the listener (body in body.txt); a generous
# timeout: with the lock held each store write waits 5 s
get() { e2e_curl_listener "$1" --max-time 60 -o "$E2E_DIR/body.txt" -w '%{http_code}' || true; }
# delivery attempts of resource notifications (not heartbeats) answered
# with status $1 so far
answered() {
    e2e_control deliveries | "$NODE" -e '
        let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
            const want = Number(process.argv[1]);
            console.log(JSON.parse(s).filter((r) => r.status === want && /\//.test(r.type ?? "")).length);
        });' "$1"
}
# PUT of one input (HAPI style, a Ki-67 result) straight to the listener:
# prints the status; headers in direct.h, body in direct.out
put_direct() {
    e2e_curl_listener /notify/Observation/fault-direct --max-time 60 -D "$E2E_DIR/direct.h" \
        -o "$E2E_DIR/direct.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/fhir+json' \
        -H "X-Nenfhir-Secret: $(cat "$E2E_DIR/secret")" --data-binary '{"resourceType":"Observation",
        "id":"fault-direct","status":"final","subject":{"reference":"Patient/fault-direct"},
        "code":{"coding":[{"system":"http://loinc.org","code":"29593-1"}]},
        "valueQuantity":{"value":3,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}' || true
}
# the accession of an example's specimen
accession() {
    "$NODE" -e 'const b = require(process.argv[1]); for (const e of b.entry) { const a = e.resource.accessionIdentifier; if (a && !e.resource.parent) { console.log(a.value); break; } }' "$1"
}

first=$E2E_ROOT/examples/fhir/gastric-type1.json
second=$E2E_ROOT/examples/fhir/thymus-net.json
e2e_lis post "$first" >"$E2E_DIR/post1.txt"
e2e_wait_reports 1 "" 120
e2e_check_examples "$first"
# every notification of the first case delivered (none left in the server's queue)
for i in $(seq 1 120); do
    e2e_control stats | "$NODE" -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end",
        () => process.exit(JSON.parse(s).deliveries.queued === 0 ? 0 : 1));' && break
    sleep 0.5
done
ok_before=$(answered 200)

# another process takes the write lock and keeps it until told
{
    echo ".timeout 60000"
    echo "BEGIN EXCLUSIVE;"
    echo ".shell touch '$E2E_DIR/locked'"
    while [ ! -e "$E2E_DIR/release" ]; do sleep 0.2; done
    echo "COMMIT;"
} | sqlite3 -batch -bail "$E2E_DIR/nenfhir.db" >"$E2E_DIR/holder.log" 2>&1 &
HOLDER_PID=$!
for i in $(seq 1 120); do
    [ -e "$E2E_DIR/locked" ] && break
    kill -0 "$HOLDER_PID" 2>/dev/null || e2e_fail "sqlite3 could not take the lock: $(cat "$E2E_DIR/holder.log")"
    sleep 0.5
done
[ -e "$E2E_DIR/locked" ] || e2e_fail "sqlite3 did not take the lock in 60 s"
locked_at=$SECONDS
e2e_lis post "$second" >"$E2E_DIR/post2.txt"

# refused: 503 to the sender (several attempts), 503 on /healthz naming the store
refused=0
deadline=$((SECONDS + 240))
while [ "$SECONDS" -lt "$deadline" ]; do
    refused=$(answered 503)
    ok_during=$(answered 200)
    # an acknowledgement now would be a notification taken but not stored
    [ "$ok_during" = "$ok_before" ] ||
        e2e_fail "$((ok_during - ok_before)) notification(s) acknowledged (200) while the store was locked"
    [ "$refused" -ge 3 ] && break
    kill -0 "$E2E_DAEMON_PID" 2>/dev/null || e2e_fail "the daemon exited while the store was locked"
    sleep 0.5
done
[ "$refused" -ge 3 ] || e2e_fail "no notification was refused with 503 while the store was locked ($refused)"
code=
for i in $(seq 1 20); do
    code=$(get /healthz)
    [ "$code" = 503 ] && grep -q '"store"' "$E2E_DIR/body.txt" && break
    sleep 0.5
done
[ "$code" = 503 ] || e2e_fail "healthz $code with the store locked"
grep -q '"store".*locked' "$E2E_DIR/body.txt" ||
    e2e_fail "healthz does not name the locked store: $(cat "$E2E_DIR/body.txt")"
grep -q "database is locked; the notification was not acknowledged" "$E2E_DIR/daemon.log" ||
    e2e_fail "no log line for the refused notification"
# a notification straight to the listener: 503 with Retry-After
code=$(put_direct)
[ "$code" = 503 ] || e2e_fail "a PUT of an input answered $code, want 503: $(head -c 300 "$E2E_DIR/direct.out")"
grep -qi '^retry-after: [0-9]' "$E2E_DIR/direct.h" || e2e_fail "the 503 has no Retry-After"
kill -0 "$E2E_DAEMON_PID" 2>/dev/null || e2e_fail "the daemon exited while the store was locked"
held=$((SECONDS - locked_at))
echo "store locked for $held s: $refused delivery attempt(s) refused with 503; healthz: $(cat "$E2E_DIR/body.txt")"

# the lock released: the sender's retries get the second case in
touch "$E2E_DIR/release"
wait "$HOLDER_PID" || e2e_fail "sqlite3 (the lock holder) failed: $(cat "$E2E_DIR/holder.log")"
HOLDER_PID=
e2e_wait_reports 2 "" 180
E2E_CHECK_TIMEOUT=120 e2e_check_examples "$first" "$second"
e2e_assert_one_report_per_case "$(accession "$first")" "$(accession "$second")"
for i in $(seq 1 60); do
    code=$(get /healthz)
    [ "$code" = 200 ] && break
    sleep 0.5
done
[ "$code" = 200 ] || e2e_fail "healthz $code after the lock was released: $(cat "$E2E_DIR/body.txt")"
e2e_finish
e2e_pass "store locked by another process for $held s: $refused notification attempt(s) refused with 503, none acknowledged; recovered: both cases reported once"
