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
source "$(dirname "$0")/fault_lib.sh"

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

first=$E2E_ROOT/examples/fhir/gastric-type1.json
second=$E2E_ROOT/examples/fhir/thymus-net.json
fault_first_case "$first"

# the disk fills up
dd if=/dev/zero of="$TINY/filler" bs=64k >/dev/null 2>&1 || true
wal=$(stat -c %s "$TINY/nenfhir.db-wal" 2>/dev/null || echo 0)
echo "tmpfs full: $(df -k "$TINY" | awk 'NR == 2 { print $3 " KiB used, " $4 " KiB free" }');" \
     "WAL $((wal / 1024)) KiB"
[ "$wal" -lt $((3500 * 1024)) ] ||
    e2e_fail "the WAL is $wal bytes: near the auto-checkpoint, its space may be reused"
e2e_lis post "$second" >"$E2E_DIR/post2.txt"

# refused: 503 to the sender (several attempts), 503 on /healthz naming the store
fault_refused "while the disk was full"
echo "disk full: $FAULT_REFUSED delivery attempt(s) refused with 503; healthz: $(cat "$E2E_DIR/body.txt")"
grep -q "the notification was not acknowledged" "$E2E_DIR/daemon.log" ||
    e2e_fail "no log line for the refused notification"
grep -Eq "database or disk is full|disk I/O error" "$E2E_DIR/daemon.log" ||
    e2e_fail "the log does not say why the store failed"
fault_direct_put "with the disk full"

# space again: the sender's retries get the second case in
rm -f "$TINY/filler"
fault_recovered "$first" "$second" "after the disk has space again"
e2e_finish
e2e_pass "disk full: $FAULT_REFUSED notification attempt(s) refused with 503, none acknowledged; healthz named the store; recovered: both cases reported once"
