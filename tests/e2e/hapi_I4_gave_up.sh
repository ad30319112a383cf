#!/usr/bin/env bash
# I4 against real HAPI FHIR (label hapi): catch-up after a notification HAPI
# gave up on. nenfhir reports a first case, then is killed (its listener
# gone, its rest-hook Subscriptions left active on HAPI); a second case is
# posted, and HAPI's deliveries of it to the dead endpoint fail: HAPI retries
# them for its 60 s window (Spring Retry, "Failure N processing message in
# channel[subscription-delivery-rest-hook-<id>]") and then drops them. Only
# after that is nenfhir started again: no delivery of that case will ever
# come, and its catch-up (the query since the stored cursor, I4) finds the
# inputs and the case gets its report. HAPI's validator accepted every write.
E2E_WAIT_REPORT_TIMEOUT=180
source "$(dirname "$0")/lib.sh"
e2e_init hapi_I4_gave_up "$@"
e2e_start_hapi
e2e_config
e2e_start_daemon --debug
mapfile -t first < <(e2e_hapi_examples gastric-type1)
mapfile -t second < <(e2e_hapi_examples thymus-net)
e2e_lis post "${first[@]}" >"$E2E_DIR/post1.txt"
acc1=$(sed -n 's/.* accession=\([^ ]*\).*/\1/p' "$E2E_DIR/post1.txt")
e2e_wait_report "$acc1" final,amended

# nenfhir's Subscriptions on this server (HAPI's delivery channels are named after them)
subs=$(curl -sS --max-time 20 --cacert "$E2E_CERTS/ca.crt" "$E2E_BASE/Subscription?_count=50" |
    "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const b=JSON.parse(s);
        console.log((b.entry||[]).filter(e=>e.resource.status==="active").map(e=>e.resource.id).join("|"))})')
[ -n "$subs" ] || e2e_fail "no active Subscription of nenfhir's on HAPI"

e2e_kill_daemon KILL
e2e_lis post "${second[@]}" >"$E2E_DIR/post2.txt"
acc2=$(sed -n 's/.* accession=\([^ ]*\).*/\1/p' "$E2E_DIR/post2.txt")
posted=$SECONDS

# HAPI's failed attempts on the delivery channels of nenfhir's Subscriptions
failures() {
    e2e_hapi_server_log | grep -E "Failure [0-9]+ processing message in channel\[subscription-delivery-rest-hook-($subs)\]" || true
}
deadline=$((SECONDS + 120))
until [ -n "$(failures)" ]; do
    [ $SECONDS -lt $deadline ] || e2e_fail "HAPI never tried to deliver the second case to the dead endpoint"
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
    [ $SECONDS -lt $deadline ] || e2e_fail "HAPI kept retrying for 4 minutes ($n failures)"
    sleep 1
done
failures >"$E2E_DIR/hapi-failures.txt"
nfail=$(wc -l <"$E2E_DIR/hapi-failures.txt")
maxtry=$(sed -n 's/.*Failure \([0-9]*\) processing.*/\1/p' "$E2E_DIR/hapi-failures.txt" | sort -n | tail -n 1)
echo "HAPI: $nfail failed attempts (up to attempt $maxtry) over $((SECONDS - posted)) s, then quiet"

before=$(wc -l <"$E2E_DIR/daemon.log")
e2e_start_daemon --debug
e2e_wait_report "$acc2" final,amended
found=$(tail -n +"$((before + 1))" "$E2E_DIR/daemon.log" | sed -n 's/.*catch-up: \([0-9]*\) changed input(s) found.*/\1/p' | head -n 1)
[ -n "$found" ] && [ "$found" -gt 0 ] || e2e_fail "the restarted nenfhir's catch-up found nothing"
e2e_wait_report "$acc1" final,amended
e2e_check_examples "${first[@]}" "${second[@]}"
e2e_assert_one_report_per_case "$acc1" "$acc2"
e2e_hapi_assert_accepted
e2e_finish
e2e_pass "HAPI FHIR: $nfail delivery attempts to a dead nenfhir (up to attempt $maxtry) then dropped; on its return the catch-up found $found input(s) and reported it"
