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
source "$(dirname "$0")/fault_lib.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3 program (scripts/bootstrap.sh installs it)"; exit 77; }
e2e_init I7_fault_busy "$@"
# the lock holder ends with the test, whatever happens; then e2e_cleanup
# runs with the test's status (set +e: (exit 1) must not end the trap)
trap 'rc=$?; set +e; touch "$E2E_DIR/release"; [ -n "${HOLDER_PID:-}" ] && wait "$HOLDER_PID" 2>/dev/null;
      (exit $rc); e2e_cleanup' EXIT

e2e_start_server --delivery-retries 400 --delivery-retry-delay-ms 500
e2e_config poll.catchup_interval=3600
e2e_start_daemon

first=$E2E_ROOT/examples/fhir/gastric-type1.json
second=$E2E_ROOT/examples/fhir/thymus-net.json
fault_first_case "$first"

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
fault_refused "while the store was locked"
grep -q '"store".*locked' "$E2E_DIR/body.txt" ||
    e2e_fail "healthz does not name the locked store: $(cat "$E2E_DIR/body.txt")"
grep -q "database is locked; the notification was not acknowledged" "$E2E_DIR/daemon.log" ||
    e2e_fail "no log line for the refused notification"
fault_direct_put "while the store was locked"
held=$((SECONDS - locked_at))
echo "store locked for $held s: $FAULT_REFUSED delivery attempt(s) refused with 503; healthz: $(cat "$E2E_DIR/body.txt")"

# the lock released: the sender's retries get the second case in
touch "$E2E_DIR/release"
wait "$HOLDER_PID" || e2e_fail "sqlite3 (the lock holder) failed: $(cat "$E2E_DIR/holder.log")"
HOLDER_PID=
fault_recovered "$first" "$second" "after the lock was released"
e2e_finish
e2e_pass "store locked by another process for $held s: $FAULT_REFUSED notification attempt(s) refused with 503, none acknowledged; recovered: both cases reported once"
