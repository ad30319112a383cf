#!/usr/bin/env bash
# I3 + I15 against the test server's imitation of HAPI JPA's paging (--paging
# hapi): next links on the base (https://host:port/fhir?_getpages=<search id>
# &_getpagesoffset=N&_count=N&_bundletype=searchset) into a stored search, and
# a search cache of 60 s (HAPI's) that nenfhir's Cache-Control: no-cache
# bypasses. nenfhir follows the base-URL links (same origin as the configured
# base, I15), and a page whose search expired (the server's expire-page
# control makes the 3rd page request from now answer 410 HAPI-0417, as
# hapi_I3_polling_410 does on real HAPI) restarts the round: every case is
# reported, nothing is rewritten.
source "$(dirname "$0")/lib.sh"
e2e_init I3_I15_hapi_paging "$@"
e2e_start_server --paging hapi
e2e_config subscription.mode=poll poll.interval=1 poll.count=5 subscription.endpoint= \
    listen.cert= listen.key=
e2e_control expire-page '{"at":3}' >/dev/null
e2e_start_daemon
e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/gastric-nec.json \
    "$E2E_ROOT"/examples/fhir/thymus-net.json >"$E2E_DIR/post.txt"
e2e_wait_reports 3 "" 120
e2e_check_examples "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/gastric-nec.json \
    "$E2E_ROOT"/examples/fhir/thymus-net.json
pages=$(e2e_control stats | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests["GET page"]??0))')
[ "$pages" -ge 3 ] || e2e_fail "nenfhir followed $pages base-URL paging links, expected at least 3"
grep -q "test control expire-page: search .* expired" "$E2E_DIR/server.log" || e2e_fail "no search was expired"
gone=$(grep -c "HTTP 410 on the server's paging link" "$E2E_DIR/daemon.log" || true)
[ "$gone" -ge 1 ] || e2e_fail "nenfhir never asked again after the 410 on a paging link"
if grep -q "HTTP 410; will try again" "$E2E_DIR/daemon.log"; then
    e2e_fail "the round ended on the 410 instead of asking again (I3)"
fi
grep -q "the server's link" "$E2E_DIR/daemon.log" && e2e_fail "nenfhir refused a paging link on the base"
sleep 3
n=$(grep -c "writing .* report" "$E2E_DIR/daemon.log")
[ "$n" -le 6 ] || e2e_fail "polling rewrote reports: $n writes for 3 cases"
e2e_finish
e2e_pass "HAPI-style paging: $pages _getpages links followed, an expired search's 410 seen $gone time(s) and the round restarted, 3 cases reported; $n report writes"
