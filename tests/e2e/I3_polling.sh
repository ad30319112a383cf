#!/usr/bin/env bash
# I3 (polling mode, no subscription): nenfhir polls
# _lastUpdated >= cursor - overlap, sorted, following next links (page size 5
# here, so paging is exercised), dedupes on (type, id, versionId), stores the
# cursor, and reports every case.
source "$(dirname "$0")/lib.sh"
e2e_init I3_polling "$@"
e2e_start_server
e2e_config subscription.mode=poll poll.interval=1 poll.count=5 subscription.endpoint= \
    listen.cert= listen.key=
e2e_start_daemon
e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/gastric-nec.json \
    "$E2E_ROOT"/examples/fhir/thymus-net.json >"$E2E_DIR/post.txt"
e2e_wait_reports 3
e2e_check_examples "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/gastric-nec.json \
    "$E2E_ROOT"/examples/fhir/thymus-net.json
subs=$(e2e_lis count --type Subscription)
[ "$subs" = "0" ] || e2e_fail "poll mode made $subs Subscription(s)"
sleep 3
n=$(grep -c "writing .* report" "$E2E_DIR/daemon.log")
[ "$n" -le 6 ] || e2e_fail "polling rewrote reports: $n writes for 3 cases"
e2e_finish
e2e_pass "3 cases reported by polling with paging; $n report writes"
