#!/usr/bin/env bash
# I3 against real HAPI FHIR (label hapi): HAPI's paging links point into a
# search stored in its database, which expires (an hour by default); a page
# of an expired search answers 410 Gone (HAPI-0417). The round must not end
# there: it asks the type again from the newest lastUpdated it already read
# (catchup.c catchup_link_gone) and reads on. Here the server's test hook
# deletes the search before a page request, so HAPI's own code answers 410.
# Usage: hapi_I3_polling_410.sh NENFHIR CERT_DIR [every]
#   (default) once, before the 3rd page request (expire-page-at=3).
#   every     before every 3rd page request (expire-page-every=3), so every
#             query is cut after at most two next links, with an overlap
#             (300 s) longer than the span of the data: every round reaches
#             back over everything and is cut again. Before the restart a
#             cut round ended and the next one started at the same place,
#             forever; now each round reads past every cut.
# Both: every case is reported, nothing is rewritten, and no round ends on
# the 410 ("HTTP 410; will try again" never logged).
source "$(dirname "$0")/lib.sh"
mode=${3:-once}
e2e_init "hapi_I3_polling_410_$mode" "$1" "$2"
overlap=300
if [ "$mode" = every ]; then
    e2e_start_hapi -- --nenfhir.expire-page-every=3
else
    e2e_start_hapi -- --nenfhir.expire-page-at=3
fi
e2e_config subscription.mode=poll poll.interval=1 poll.count=5 poll.overlap=$overlap \
    subscription.endpoint= listen.cert= listen.key=
e2e_start_daemon
# the first cursor is the server's clock at the first round (I4: never the
# beginning of the server); with a 1 s overlap what is posted before it
# would not be read, so wait for it
deadline=$((SECONDS + 180))
until grep -q "first start (no cursor" "$E2E_DIR/daemon.log"; do
    [ $SECONDS -lt $deadline ] || e2e_fail "nenfhir's first catch-up round did not start within 180 s"
    sleep 0.5
done
mapfile -t files < <(e2e_hapi_examples gastric-type1 gastric-nec thymus-net)
e2e_lis post "${files[@]}" >"$E2E_DIR/post.txt"
e2e_wait_reports 3 "" 240
E2E_CHECK_TIMEOUT=120 e2e_check_examples "${files[@]}"
e2e_hapi_log
expired=$(grep -c "test hook: .*search .* expired" "$E2E_DIR/server.log" || true)
if [ "$mode" = every ]; then
    [ "$expired" -ge 2 ] || e2e_fail "the test hook expired $expired paging links, not several"
else
    [ "$expired" = 1 ] || e2e_fail "the test hook expired $expired paging links, not 1"
fi
gone=$(grep -c "HTTP 410 on the server's paging link" "$E2E_DIR/daemon.log" || true)
[ "$gone" -ge 1 ] || e2e_fail "nenfhir never asked again after HAPI's 410 on a paging link"
if grep -q "HTTP 410; will try again" "$E2E_DIR/daemon.log"; then
    e2e_fail "a round ended on HAPI's 410 instead of asking again (I3)"
fi
# no rewriting: at most 3 writes a case (a preliminary one when its inputs
# come slower than work.preliminary_after on a loaded machine, final,
# amended by a late input; 7 seen for 3 cases); with every query cut
# short, a case's inputs may come in over several rounds: up to 4
limit=9
[ "$mode" = every ] && limit=12
sleep 3
n=$(grep -c "writing .* report" "$E2E_DIR/daemon.log")
[ "$n" -le "$limit" ] || e2e_fail "polling rewrote reports: $n writes for 3 cases"
e2e_hapi_assert_accepted
e2e_finish
e2e_pass "HAPI FHIR ($mode): $expired paging link(s) expired, each 410 answered by asking again from the newest lastUpdated read ($gone time(s)), no round ended on it, 3 cases reported; $n report writes"
