#!/usr/bin/env bash
# I4 (a first start does not read the whole server): inputs already on the
# server when nenfhir starts for the first time (no cursor in its store) are
# history, not work. The first catch-up starts from the server's clock (its
# Date header) minus the overlap, so a case posted well before the start is
# not reported and one posted after is. A second, fresh store with
# poll.catchup_since set (a deliberate backfill) reads the old case too.
source "$(dirname "$0")/lib.sh"
e2e_init I4_first_start "$@"
old=$E2E_ROOT/examples/fhir/gastric-type1.json
new=$E2E_ROOT/examples/fhir/thymus-net.json
accession() { grep -m1 -A2 '"accessionIdentifier"' "$1" | grep -o '"value": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/'; }
acc_old=$(accession "$old")
acc_new=$(accession "$new")
[ -n "$acc_old" ] && [ -n "$acc_new" ] || e2e_fail "no accession in the examples"
e2e_start_server
e2e_lis post "$old" >"$E2E_DIR/post-old.txt"
sleep 3 # older than the overlap (1 s) by the time nenfhir starts
e2e_config subscription.mode=poll poll.interval=1 poll.overlap=1 subscription.endpoint= \
    listen.cert= listen.key=
e2e_start_daemon
e2e_lis post "$new" >"$E2E_DIR/post-new.txt"
e2e_wait_reports 1 "" 60
sleep 4 # four more polls: the old case must stay unread
e2e_lis reports >"$E2E_DIR/reports.txt"
n=$(grep -c '^REPORT' "$E2E_DIR/reports.txt" || true)
grep -q -- "$acc_old" "$E2E_DIR/reports.txt" &&
    e2e_fail "the first start read the inputs already on the server: $acc_old was reported ($n reports)"
grep -q -- "$acc_new" "$E2E_DIR/reports.txt" || e2e_fail "the case posted after the start ($acc_new) was not reported"
[ "$n" = 1 ] || e2e_fail "$n reports, want 1"
grep -q "first start (no cursor, I4): catching up from .* (the server's clock" "$E2E_DIR/daemon.log" ||
    e2e_fail "the first start did not say where it catches up from"
e2e_finish

# a deliberate backfill: a fresh store, catchup_since long ago
e2e_config subscription.mode=poll poll.interval=1 poll.overlap=1 subscription.endpoint= \
    listen.cert= listen.key= store.path="$E2E_DIR/backfill.db" poll.catchup_since=2000-01-01
e2e_start_daemon
e2e_wait_reports 2 "" 60
e2e_lis reports >"$E2E_DIR/reports.txt"
grep -q -- "$acc_old" "$E2E_DIR/reports.txt" || e2e_fail "catchup_since did not read the old case $acc_old"
grep -q "first start (no cursor, I4): catching up from 2000-01-01T00:00:00.000Z (poll.catchup_since" \
    "$E2E_DIR/daemon.log" || e2e_fail "the backfill did not say where it catches up from"
e2e_check_examples "$old" "$new"
e2e_finish
e2e_pass "first start read only what came after it (server clock); catchup_since backfilled the old case"
