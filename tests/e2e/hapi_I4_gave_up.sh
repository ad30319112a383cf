#!/usr/bin/env bash
# I4 against real HAPI FHIR (label hapi): catch-up after a notification HAPI
# gave up on. nenfhir reports a case (G1), then is killed (its listener
# gone, its rest-hook Subscriptions left active on HAPI); the case's Ki-67
# changes (1.5% -> 25%, G3), and HAPI's delivery of that change to the dead
# endpoint fails: HAPI retries it for its 60 s window (Spring Retry,
# "Failure N processing message in channel[subscription-delivery-rest-hook-<id>]")
# and then drops it. Only after that is nenfhir started again: that
# notification will never come, and its catch-up (the query since the stored
# cursor, I4) finds the change: the report is amended to G3. One change, so
# one message per channel (HAPI retries a channel's messages one after the
# other, 60 s each). HAPI's validator accepted every write.
E2E_WAIT_REPORT_TIMEOUT=180
source "$(dirname "$0")/lib.sh"
e2e_init hapi_I4_gave_up "$@"
e2e_start_hapi
e2e_config
e2e_start_daemon --debug
mapfile -t files < <(e2e_hapi_examples gastric-type1)
e2e_lis post "${files[@]}" >"$E2E_DIR/post.txt"
acc=$(sed -n 's/.* accession=\([^ ]*\).*/\1/p' "$E2E_DIR/post.txt")
[ -n "$acc" ] || e2e_fail "no accession in the LIS's output: $(cat "$E2E_DIR/post.txt")"
e2e_wait_report "$acc" final,amended grade=G1

# nenfhir's Subscriptions on this server (HAPI's delivery channels are named after them)
subs=$(curl -sS --max-time 20 --cacert "$E2E_CERTS/ca.crt" "$E2E_BASE/Subscription?_count=50" |
    "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const b=JSON.parse(s);
        console.log((b.entry||[]).filter(e=>e.resource.status==="active").map(e=>e.resource.id).join("|"))})')
[ -n "$subs" ] || e2e_fail "no active Subscription of nenfhir's on HAPI"

e2e_kill_daemon KILL
e2e_lis amend --accession "$acc" --code 29593-1 --value 25 >/dev/null || e2e_fail "amend failed"
changed=$SECONDS

# HAPI's failed attempts on the delivery channels of nenfhir's Subscriptions
failures() {
    e2e_hapi_server_log | grep -E "Failure [0-9]+ processing message in channel\[subscription-delivery-rest-hook-($subs)\]" || true
}
deadline=$((SECONDS + 120))
until [ -n "$(failures)" ]; do
    [ $SECONDS -lt $deadline ] || e2e_fail "HAPI never tried to deliver the change to the dead endpoint"
    sleep 1
done
first_failure=$SECONDS
# Dropped: HAPI's retry window (60 s from the first attempt) is over and no
# attempt has been made for 10 s (attempts come at most 1.1^k s apart, k < 14,
# so under 4 s apart until the window ends).
deadline=$((SECONDS + 240))
last=$(failures | wc -l) quiet=$SECONDS
while :; do
    n=$(failures | wc -l)
    [ "$n" = "$last" ] || { last=$n; quiet=$SECONDS; }
    [ $((SECONDS - first_failure)) -ge 62 ] && [ $((SECONDS - quiet)) -ge 10 ] && break
    [ $SECONDS -lt $deadline ] || e2e_fail "HAPI kept retrying for 4 minutes ($n failed attempts)"
    sleep 1
done
failures >"$E2E_DIR/hapi-failures.txt"
nfail=$(wc -l <"$E2E_DIR/hapi-failures.txt")
maxtry=$(sed -n 's/.*Failure \([0-9]*\) processing.*/\1/p' "$E2E_DIR/hapi-failures.txt" | sort -n | tail -n 1)
echo "HAPI: $nfail failed attempts (up to attempt $maxtry) over $((SECONDS - changed)) s, then quiet"

before=$(wc -l <"$E2E_DIR/daemon.log")
e2e_start_daemon --debug
e2e_wait_report "$acc" amended grade=G3
found=$(tail -n +"$((before + 1))" "$E2E_DIR/daemon.log" | sed -n 's/.*catch-up: \([0-9]*\) changed input(s) found.*/\1/p' | head -n 1)
[ -n "$found" ] && [ "$found" -gt 0 ] || e2e_fail "the restarted nenfhir's catch-up found nothing"
e2e_assert_one_report_per_case "$acc"
e2e_hapi_assert_accepted
e2e_finish
e2e_pass "HAPI FHIR: $nfail delivery attempts to a dead nenfhir (up to attempt $maxtry), then dropped; on its return the catch-up found $found changed input(s) and the report was amended G1 -> G3"
