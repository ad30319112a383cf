#!/usr/bin/env bash
# I7 under a full disk (issue 12 item 6): the daemon's database lives on a
# small tmpfs of its own (8 MiB: SQLite's WAL never reaches its 4 MiB
# auto-checkpoint in this test, so every commit appends to it and needs new
# space). One case is reported; then a file eats the tmpfs's free space and
# the LIS posts a second case:
#  - every notification that arrives is answered 503 (a PUT straight to the
#    listener: 503 with Retry-After), never 200 (the sender,
#    the test server with fixed retries, keeps it), and the daemon runs on;
#  - /healthz answers 503 naming the store;
#  - the filler removed: the sender's retries get through and the second
#    case is reported; the first case's report is still the one and only;
#    the daemon drains and exits 0 on SIGTERM.
# No catch-up runs meanwhile (poll.catchup_interval = 1 h): only the
# sender's retry can bring the refused notifications in.
# The tmpfs: mount(8) as root; without root, in a user and mount namespace
# (unshare -rm) the whole test runs in; else skipped (77).
source "$(dirname "$0")/lib.sh"

tmpfs_allowed() {
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/nenfhir-tmpfs-probe.XXXXXX")
    if mount -t tmpfs -o size=1m tmpfs "$d" 2>/dev/null; then
        umount "$d"
        rmdir "$d"
        return 0
    fi
    rmdir "$d"
    return 1
}
if ! tmpfs_allowed; then
    if [ -z "${NENFHIR_E2E_USERNS:-}" ] && unshare -rm true 2>/dev/null; then
        NENFHIR_E2E_USERNS=1 exec unshare -rm -- bash "$0" "$@"
    fi
    echo "SKIP: cannot mount a tmpfs here (not root, and no user namespaces for unshare -rm)"
    exit 77
fi

e2e_init I7_fault_disk_full "$@"
TINY=$E2E_DIR/tiny
mkdir "$TINY"
mount -t tmpfs -o size=8m,mode=0700 tmpfs "$TINY" || e2e_fail "mount of the tmpfs failed"
# on exit the tmpfs is detached (lazily: the daemon may still hold it open),
# then e2e_cleanup runs with the test's status (set +e: (exit 1) must not
# end the trap)
trap 'rc=$?; set +e; umount -l "$TINY" 2>/dev/null; (exit $rc); e2e_cleanup' EXIT

e2e_start_server --delivery-retries 400 --delivery-retry-delay-ms 500
e2e_config store.path="$TINY/nenfhir.db" poll.catchup_interval=3600
e2e_start_daemon

# status code of a GET on the listener (body in body.txt); a generous
# timeout: a failing store slows each answer
get() { e2e_curl_listener "$1" --max-time 30 -o "$E2E_DIR/body.txt" -w '%{http_code}' || true; }
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

# the disk fills up
dd if=/dev/zero of="$TINY/filler" bs=64k >/dev/null 2>&1 || true
wal=$(stat -c %s "$TINY/nenfhir.db-wal" 2>/dev/null || echo 0)
echo "tmpfs full: $(df -k "$TINY" | awk 'NR == 2 { print $3 " KiB used, " $4 " KiB free" }');" \
     "WAL $((wal / 1024)) KiB"
[ "$wal" -lt $((3500 * 1024)) ] ||
    e2e_fail "the WAL is $wal bytes: near the auto-checkpoint, its space may be reused"
e2e_lis post "$second" >"$E2E_DIR/post2.txt"

# refused: 503 to the sender (several attempts), 503 on /healthz naming the store
refused=0
deadline=$((SECONDS + 240))
while [ "$SECONDS" -lt "$deadline" ]; do
    refused=$(answered 503)
    ok_during=$(answered 200)
    # an acknowledgement now would be a notification taken but not stored
    [ "$ok_during" = "$ok_before" ] ||
        e2e_fail "$((ok_during - ok_before)) notification(s) acknowledged (200) while the disk was full"
    [ "$refused" -ge 3 ] && break
    kill -0 "$E2E_DAEMON_PID" 2>/dev/null || e2e_fail "the daemon exited with the disk full"
    sleep 0.5
done
[ "$refused" -ge 3 ] || e2e_fail "no notification was refused with 503 while the disk was full ($refused)"
code=
for i in $(seq 1 60); do
    code=$(get /healthz)
    [ "$code" = 503 ] && grep -q '"store"' "$E2E_DIR/body.txt" && break
    sleep 0.5
done
[ "$code" = 503 ] || e2e_fail "healthz $code with the disk full"
grep -q '"store"' "$E2E_DIR/body.txt" || e2e_fail "healthz does not name the store: $(cat "$E2E_DIR/body.txt")"
echo "disk full: $refused delivery attempt(s) refused with 503; healthz: $(cat "$E2E_DIR/body.txt")"
grep -q "the notification was not acknowledged" "$E2E_DIR/daemon.log" ||
    e2e_fail "no log line for the refused notification"
grep -Eq "database or disk is full|disk I/O error" "$E2E_DIR/daemon.log" ||
    e2e_fail "the log does not say why the store failed"
# a notification straight to the listener: 503 with Retry-After
code=$(put_direct)
[ "$code" = 503 ] || e2e_fail "a PUT of an input answered $code, want 503: $(head -c 300 "$E2E_DIR/direct.out")"
grep -qi '^retry-after: [0-9]' "$E2E_DIR/direct.h" || e2e_fail "the 503 has no Retry-After"
kill -0 "$E2E_DAEMON_PID" 2>/dev/null || e2e_fail "the daemon exited with the disk full"

# space again: the sender's retries get the second case in
rm -f "$TINY/filler"
e2e_wait_reports 2 "" 180
E2E_CHECK_TIMEOUT=120 e2e_check_examples "$first" "$second"
e2e_assert_one_report_per_case "$(accession "$first")" "$(accession "$second")"
for i in $(seq 1 60); do
    code=$(get /healthz)
    [ "$code" = 200 ] && break
    sleep 0.5
done
[ "$code" = 200 ] || e2e_fail "healthz $code after the disk has space again: $(cat "$E2E_DIR/body.txt")"
e2e_finish
e2e_pass "disk full: $refused notification attempt(s) refused with 503, none acknowledged; healthz named the store; recovered: both cases reported once"
