#!/usr/bin/env bash
# I3 against real HAPI FHIR (label hapi): HAPI's paging links point into a
# search stored in its database, which expires (an hour by default); a page
# of an expired search answers 410 Gone (HAPI-0417). The round must restart
# from the stored cursor, not end the polling. Here the server's test hook
# (nenfhir.expire-page-at=3) deletes the search before the 3rd page request
# of the run, so HAPI's own code answers 410 there; the next
# round reads everything, every case is reported, nothing is rewritten.
# (With a search expiring in every round, nenfhir never gets past it: each
# round starts again at cursor - overlap, 5 min, and needs as many pages.)
source "$(dirname "$0")/lib.sh"
e2e_init hapi_I3_polling_410 "$@"
e2e_start_hapi -- --nenfhir.expire-page-at=3
e2e_config subscription.mode=poll poll.interval=1 poll.count=5 subscription.endpoint= \
    listen.cert= listen.key=
e2e_start_daemon
mapfile -t files < <(e2e_hapi_examples gastric-type1 gastric-nec thymus-net)
e2e_lis post "${files[@]}" >"$E2E_DIR/post.txt"
e2e_wait_reports 3 "" 180
E2E_CHECK_TIMEOUT=120 e2e_check_examples "${files[@]}"
e2e_hapi_log
expired=$(grep -c "test hook: .*search .* expired" "$E2E_DIR/server.log" || true)
[ "$expired" = 1 ] || e2e_fail "the test hook expired $expired paging links, not 1"
gone=$(grep -c "HTTP 410" "$E2E_DIR/daemon.log" || true)
[ "$gone" -ge 1 ] || e2e_fail "nenfhir never saw HAPI's 410 on a paging link"
sleep 3
n=$(grep -c "writing .* report" "$E2E_DIR/daemon.log")
[ "$n" -le 6 ] || e2e_fail "polling rewrote reports: $n writes for 3 cases"
e2e_hapi_assert_accepted
e2e_finish
e2e_pass "HAPI FHIR: a paging link expired (HAPI's 410 seen $gone time(s)), the next round read on, 3 cases reported; $n report writes"
