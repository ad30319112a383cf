#!/usr/bin/env bash
# I3 against real HAPI FHIR (label hapi), polling mode, no subscription:
# nenfhir polls _lastUpdated >= cursor - overlap with _count=5, so it follows
# HAPI's own paging links (GET {base}?_getpages=<search id>&_getpagesoffset=N,
# links into a search HAPI keeps in its database for a while); every case is
# reported, nothing is rewritten, HAPI's validator accepted every write.
# Note: HAPI serves a repeated identical search from its cache for 60 s by
# default (JpaStorageSettings reuseCachedSearchResultsForMillis), unless the
# request says Cache-Control: no-cache.
source "$(dirname "$0")/lib.sh"
e2e_init hapi_I3_polling "$@"
e2e_start_hapi
e2e_config subscription.mode=poll poll.interval=1 poll.count=5 subscription.endpoint= \
    listen.cert= listen.key=
e2e_start_daemon
mapfile -t files < <(e2e_hapi_examples gastric-type1 gastric-nec thymus-net)
e2e_lis post "${files[@]}" >"$E2E_DIR/post.txt"
e2e_wait_reports 3 "" 180
E2E_CHECK_TIMEOUT=120 e2e_check_examples "${files[@]}"
subs=$(e2e_lis count --type Subscription)
[ "$subs" = "0" ] || e2e_fail "poll mode made $subs Subscription(s)"
e2e_hapi_log
pages=$(grep -c "GET .*_getpages=" "$E2E_DIR/server.log" || true)
[ "$pages" -ge 1 ] || e2e_fail "nenfhir never followed one of HAPI's paging links"
sleep 3
# no rewriting: at most 3 writes a case, as in hapi_I3_polling_410 (on a
# loaded machine a case's inputs come in over several rounds: preliminary
# after work.preliminary_after, final, then amended by a late input that
# joins its basis; 7 seen for 3 cases in a CI run beside the ASan build)
n=$(grep -c "writing .* report" "$E2E_DIR/daemon.log")
[ "$n" -le 9 ] || e2e_fail "polling rewrote reports: $n writes for 3 cases"
e2e_hapi_assert_accepted
e2e_finish
e2e_pass "HAPI FHIR: 3 cases reported by polling, $pages paging-link requests followed; $n report writes"
