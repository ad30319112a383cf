#!/usr/bin/env bash
# I4 (issue 11 item 7d): a round that saw nothing still saves a cursor (the
# server's clock, its Date header, when the round asked), so a daemon first
# started against a server with no inputs yet does not start over on its
# next start. The daemon starts on an empty server, completes a round (its
# log says every type is read up to a cursor), stops; a case is posted while
# it is down, older than the overlap by the time it starts again. The second
# start must not be a "first start" (that would begin from now and miss the
# case) and must report the case from the saved cursor.
source "$(dirname "$0")/lib.sh"
e2e_init I4_cursor_empty "$@"
ex=$E2E_ROOT/examples/fhir/thymus-net.json
acc=$(grep -m1 -A2 '"accessionIdentifier"' "$ex" | grep -o '"value": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/')
[ -n "$acc" ] || e2e_fail "no accession in $ex"
e2e_start_server
e2e_config subscription.mode=poll poll.interval=1 poll.overlap=1 subscription.endpoint= \
    listen.cert= listen.key= log.level=debug
e2e_start_daemon
for i in $(seq 1 150); do
    grep -q "catch-up: every type read up to" "$E2E_DIR/daemon.log" && break
    sleep 0.2
done
grep -q "catch-up: every type read up to" "$E2E_DIR/daemon.log" ||
    e2e_fail "no cursor saved after a round on an empty server"
e2e_finish
e2e_lis post "$ex" >"$E2E_DIR/post.txt"
sleep 3 # older than the overlap (1 s) when the daemon starts again
e2e_start_daemon
e2e_wait_reports 1 "" 60
grep -q -- "$acc" "$E2E_DIR/reports.txt" || e2e_fail "the case posted while nenfhir was down ($acc) was not reported"
n=$(grep -c "first start (no cursor, I4)" "$E2E_DIR/daemon.log" || true)
[ "$n" = 1 ] || e2e_fail "$n first starts: the restart did not resume from the saved cursor"
e2e_finish
e2e_pass "an empty round saved a cursor; the restart resumed from it and reported $acc"
