#!/usr/bin/env bash
# Issue 14 item 6 (clean subscriptions): nenfhir's own Subscriptions (those
# carrying its tag) that point at another endpoint are named in the log at
# start and left in place; with subscription.cleanup = yes they are deleted
# and the new endpoint's stay. `nenfhir unsubscribe -c FILE` removes this
# endpoint's, `--dry-run` removes nothing, `--all-endpoints` every one of
# nenfhir's (backport topic Subscriptions too); the counts printed match what
# the server holds before and after; a server that cannot be reached is an
# error (exit 1, the reason on stderr).
source "$(dirname "$0")/lib.sh"
e2e_init I14_unsubscribe "$@"
e2e_start_server
tag="https://nenfhir.org/fhir/CodeSystem/meta-tag%7Cnenfhir-subscription"
# subs [ENDPOINT]: how many of nenfhir's Subscriptions the server holds (for ENDPOINT)
subs() {
    curl -sS --max-time 10 --cacert "$E2E_CERTS/ca.crt" "$E2E_BASE/Subscription?_tag=$tag&_count=500" |
        "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
            const e=(JSON.parse(s).entry??[]).map(x=>x.resource).filter(r=>r.resourceType==="Subscription");
            console.log(e.filter(r=>!process.argv[1]||r.channel?.endpoint===process.argv[1]).length)})' "${1:-}"
}
# ids ENDPOINT: their ids, sorted
ids() {
    curl -sS --max-time 10 --cacert "$E2E_CERTS/ca.crt" "$E2E_BASE/Subscription?_tag=$tag&_count=500" |
        "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
            for(const r of (JSON.parse(s).entry??[]).map(x=>x.resource))
                if(r.channel?.endpoint===process.argv[1])console.log(r.id)})' "$1" | sort
}
# log_since N: the daemon's log after its first N lines
log_since() { tail -n +"$(($1 + 1))" "$E2E_DIR/daemon.log"; }
loglines() { [ -f "$E2E_DIR/daemon.log" ] && wc -l <"$E2E_DIR/daemon.log" || echo 0; }

# 1. a daemon on endpoint A, stopped
portA=$(e2e_free_port)
epA=https://127.0.0.1:$portA/notify
E2E_LISTEN_PORT=$portA
e2e_config
e2e_start_daemon
e2e_finish
nA=$(subs "$epA")
[ "$nA" -ge 1 ] || e2e_fail "no Subscription for endpoint A"
ids "$epA" >"$E2E_DIR/idsA.txt"

# 2. a daemon on endpoint B: A's reported and left in place
portB=$(e2e_free_port)
epB=https://127.0.0.1:$portB/notify
E2E_LISTEN_PORT=$portB
e2e_config
cp "$E2E_DIR/nenfhir.conf" "$E2E_DIR/B.conf"
at=$(loglines)
e2e_start_daemon
e2e_finish
for id in $(cat "$E2E_DIR/idsA.txt"); do
    log_since "$at" | grep "Subscription/$id " | grep -F "$epA" | grep -q "left in place; set \[subscription\] cleanup = yes or run nenfhir unsubscribe --all-endpoints" ||
        e2e_fail "A's Subscription/$id was not reported as left in place"
done
[ "$(subs "$epA")" = "$nA" ] || e2e_fail "A's Subscriptions were touched without cleanup = yes"
nB=$(subs "$epB")
[ "$nB" -ge 1 ] || e2e_fail "no Subscription for endpoint B"
ids "$epB" >"$E2E_DIR/idsB.txt"

# 3. B again with cleanup = yes: A's deleted, B's stay
e2e_config subscription.cleanup=yes
at=$(loglines)
e2e_start_daemon
e2e_finish
[ "$(log_since "$at" | grep -c "deleting it (subscription.cleanup = yes)")" = "$nA" ] ||
    e2e_fail "not all $nA of A's Subscriptions were named for deletion"
[ "$(log_since "$at" | grep -c "DELETE Subscription/.*HTTP 2")" = "$nA" ] ||
    e2e_fail "not all $nA of A's Subscriptions were deleted"
[ "$(subs "$epA")" = 0 ] || e2e_fail "A's Subscriptions are still on the server: $(subs "$epA")"
[ "$(subs "$epB")" = "$nB" ] || e2e_fail "B's Subscriptions changed: $(subs "$epB") instead of $nB"
ids "$epB" | cmp -s - "$E2E_DIR/idsB.txt" || e2e_fail "B's Subscriptions were replaced"

# 3b. more than a page (the search asks for 50): 55 left-over ones of a gone
# endpoint are all found and deleted, B's are found in place (none made again)
gone=https://127.0.0.1:1/gone
for i in $(seq 1 55); do
    curl -sS --max-time 10 --cacert "$E2E_CERTS/ca.crt" -H 'Content-Type: application/fhir+json' -o /dev/null \
        -w '%{http_code}\n' -d '{"resourceType":"Subscription","status":"off","reason":"left over '"$i"'",
        "meta":{"tag":[{"system":"https://nenfhir.org/fhir/CodeSystem/meta-tag","code":"nenfhir-subscription"}]},
        "criteria":"Observation?","channel":{"type":"rest-hook","endpoint":"'"$gone"'"}}' "$E2E_BASE/Subscription"
done | sort | uniq -c | grep -q "55 201" || e2e_fail "the 55 left-over Subscriptions could not be made"
[ "$(subs "$gone")" = 55 ] || e2e_fail "the server holds $(subs "$gone") left-over Subscriptions, not 55"
at=$(loglines)
e2e_start_daemon
e2e_finish
[ "$(log_since "$at" | grep -c "DELETE Subscription/.*HTTP 2")" = 55 ] ||
    e2e_fail "not all 55 left-over Subscriptions were deleted: $(log_since "$at" | grep -c "DELETE Subscription/.*HTTP 2")"
[ "$(subs "$gone")" = 0 ] || e2e_fail "left-over Subscriptions remain: $(subs "$gone")"
log_since "$at" | grep -q "POST Subscription" && e2e_fail "B's Subscriptions were not found among the pages: made again"
ids "$epB" | cmp -s - "$E2E_DIR/idsB.txt" || e2e_fail "B's Subscriptions were replaced"

# 4. unsubscribe --dry-run: lists B's, removes nothing
"$NENFHIR" unsubscribe -c "$E2E_DIR/B.conf" --dry-run >"$E2E_DIR/dry.txt" 2>"$E2E_DIR/dry.err" ||
    e2e_fail "unsubscribe --dry-run failed: $(cat "$E2E_DIR/dry.err")"
grep -qx "would remove: $nB (dry run: nothing removed)" "$E2E_DIR/dry.txt" ||
    e2e_fail "dry run count is not $nB: $(cat "$E2E_DIR/dry.txt")"
[ "$(grep -c "^would remove	Subscription/.*	$epB	" "$E2E_DIR/dry.txt")" = "$nB" ] ||
    e2e_fail "dry run does not list $nB lines: $(cat "$E2E_DIR/dry.txt")"
[ "$(subs "$epB")" = "$nB" ] || e2e_fail "--dry-run removed something"

# 5. A and a backport daemon on endpoint C again, then unsubscribe (B's only)
E2E_LISTEN_PORT=$portA
e2e_config
e2e_start_daemon
e2e_finish
portC=$(e2e_free_port)
epC=https://127.0.0.1:$portC/notify
E2E_LISTEN_PORT=$portC
e2e_config subscription.mode=backport
e2e_start_daemon
e2e_finish
nC=$(subs "$epC")
[ "$nC" = 1 ] || e2e_fail "the backport daemon holds $nC Subscriptions, not 1"
[ "$(subs "$epA")" = "$nA" ] || e2e_fail "A's Subscriptions were not made again"
before=$(subs)
"$NENFHIR" unsubscribe -c "$E2E_DIR/B.conf" >"$E2E_DIR/unsub.txt" 2>"$E2E_DIR/unsub.err" ||
    e2e_fail "unsubscribe failed: $(cat "$E2E_DIR/unsub.err")"
grep -qx "removed: $nB" "$E2E_DIR/unsub.txt" || e2e_fail "unsubscribe count is not $nB: $(cat "$E2E_DIR/unsub.txt")"
[ "$(grep -c "^removed	Subscription/.*	$epB	" "$E2E_DIR/unsub.txt")" = "$nB" ] ||
    e2e_fail "unsubscribe does not list $nB lines: $(cat "$E2E_DIR/unsub.txt")"
[ "$(subs "$epB")" = 0 ] || e2e_fail "B's Subscriptions are still there"
[ "$(subs)" = $((before - nB)) ] || e2e_fail "unsubscribe removed others: $(subs) left of $before"
"$NENFHIR" unsubscribe -c "$E2E_DIR/B.conf" >"$E2E_DIR/unsub2.txt" || e2e_fail "a second unsubscribe failed"
grep -qx "removed: 0" "$E2E_DIR/unsub2.txt" || e2e_fail "a second unsubscribe removed something"

# 6. --all-endpoints: A's and the backport one (its topic as criteria)
"$NENFHIR" unsubscribe -c "$E2E_DIR/B.conf" --all-endpoints >"$E2E_DIR/all.txt" 2>"$E2E_DIR/all.err" ||
    e2e_fail "unsubscribe --all-endpoints failed: $(cat "$E2E_DIR/all.err")"
grep -qx "removed: $((nA + nC))" "$E2E_DIR/all.txt" || e2e_fail "--all-endpoints count is not $((nA + nC)): $(cat "$E2E_DIR/all.txt")"
grep -q "^removed	Subscription/.*	$epC	https://nenfhir.org/fhir/SubscriptionTopic/pathology-result$" "$E2E_DIR/all.txt" ||
    e2e_fail "the backport Subscription is not listed with its topic: $(cat "$E2E_DIR/all.txt")"
[ "$(subs)" = 0 ] || e2e_fail "nenfhir's Subscriptions left after --all-endpoints: $(subs)"

# 7. the server down: exit 1 with the reason
kill -TERM "$E2E_SERVER_PID" && wait "$E2E_SERVER_PID" 2>/dev/null || true
E2E_SERVER_PID=
rc=0
"$NENFHIR" unsubscribe -c "$E2E_DIR/B.conf" >"$E2E_DIR/down.txt" 2>"$E2E_DIR/down.err" || rc=$?
[ "$rc" = 1 ] || e2e_fail "unsubscribe with the server down exited $rc, not 1"
grep -q "searching nenfhir's Subscriptions" "$E2E_DIR/down.err" || e2e_fail "no reason given: $(cat "$E2E_DIR/down.err")"
e2e_pass "A's $nA Subscriptions reported, then deleted with cleanup = yes (B's $nB kept); dry run listed $nB and removed none; unsubscribe removed $nB, --all-endpoints $((nA + nC)) (backport included); server down: exit 1"
