# fault_lib.sh - the steps the store-fault e2e tests share (issue 12 item 6,
# I7_fault_busy.sh, I7_fault_disk_full.sh): one case reported before the
# fault, the sender refused with 503 during it (never acknowledged), and
# recovery after it. Sourced after lib.sh; uses its E2E_* variables.

# status code of a GET on the listener (body in body.txt); a generous
# timeout: with the store failing each store write waits
fault_get() { e2e_curl_listener "$1" --max-time 60 -o "$E2E_DIR/body.txt" -w '%{http_code}' || true; }

# delivery attempts of resource notifications (not heartbeats) answered
# with status $1 so far
fault_answered() {
    e2e_control deliveries | "$NODE" -e '
        let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
            const want = Number(process.argv[1]);
            console.log(JSON.parse(s).filter((r) => r.status === want && /\//.test(r.type ?? "")).length);
        });' "$1"
}

# the accession of an example's specimen
fault_accession() {
    "$NODE" -e 'const b = require(process.argv[1]); for (const e of b.entry) { const a = e.resource.accessionIdentifier; if (a && !e.resource.parent) { console.log(a.value); break; } }' "$1"
}

# fault_first_case FILE: the case is posted and reported, and every one of
# its notifications delivered (none left in the server's queue); sets
# FAULT_OK_BEFORE, the 200-answered attempts so far
fault_first_case() {
    e2e_lis post "$1" >"$E2E_DIR/post1.txt"
    e2e_wait_reports 1 "" 120
    e2e_check_examples "$1"
    local i
    for i in $(seq 1 120); do
        e2e_control stats | "$NODE" -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end",
            () => process.exit(JSON.parse(s).deliveries.queued === 0 ? 0 : 1));' && break
        sleep 0.5
    done
    FAULT_OK_BEFORE=$(fault_answered 200)
}

# fault_refused WHILE: at least 3 delivery attempts answered 503 within
# 240 s, none 200 (a notification acknowledged but not stored), the daemon
# running; then /healthz answers 503 naming the store. WHILE ends the
# messages ("while the disk was full"). Sets FAULT_REFUSED.
fault_refused() {
    local ok deadline=$((SECONDS + 240)) code= i
    FAULT_REFUSED=0
    while [ "$SECONDS" -lt "$deadline" ]; do
        FAULT_REFUSED=$(fault_answered 503)
        ok=$(fault_answered 200)
        [ "$ok" = "$FAULT_OK_BEFORE" ] ||
            e2e_fail "$((ok - FAULT_OK_BEFORE)) notification(s) acknowledged (200) $1"
        [ "$FAULT_REFUSED" -ge 3 ] && break
        kill -0 "$E2E_DAEMON_PID" 2>/dev/null || e2e_fail "the daemon exited $1"
        sleep 0.5
    done
    [ "$FAULT_REFUSED" -ge 3 ] || e2e_fail "no notification was refused with 503 $1 ($FAULT_REFUSED)"
    for i in $(seq 1 60); do
        code=$(fault_get /healthz)
        [ "$code" = 503 ] && grep -q '"store"' "$E2E_DIR/body.txt" && break
        sleep 0.5
    done
    [ "$code" = 503 ] || e2e_fail "healthz $code $1"
    grep -q '"store"' "$E2E_DIR/body.txt" || e2e_fail "healthz does not name the store: $(cat "$E2E_DIR/body.txt")"
}

# fault_direct_put WHILE: a PUT of one input (HAPI style, a Ki-67 result)
# straight to the listener is answered 503 with Retry-After; the daemon runs
fault_direct_put() {
    local code
    code=$(e2e_curl_listener /notify/Observation/fault-direct --max-time 60 -D "$E2E_DIR/direct.h" \
        -o "$E2E_DIR/direct.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/fhir+json' \
        -H "X-Nenfhir-Secret: $(cat "$E2E_DIR/secret")" --data-binary '{"resourceType":"Observation",
        "id":"fault-direct","status":"final","subject":{"reference":"Patient/fault-direct"},
        "code":{"coding":[{"system":"http://loinc.org","code":"29593-1"}]},
        "valueQuantity":{"value":3,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}' || true)
    [ "$code" = 503 ] || e2e_fail "a PUT of an input answered $code, want 503: $(head -c 300 "$E2E_DIR/direct.out")"
    grep -qi '^retry-after: [0-9]' "$E2E_DIR/direct.h" || e2e_fail "the 503 has no Retry-After"
    kill -0 "$E2E_DAEMON_PID" 2>/dev/null || e2e_fail "the daemon exited $1"
}

# fault_recovered FIRST SECOND AFTER: both cases reported (the second by the
# sender's retries), one report each, and /healthz 200 again
fault_recovered() {
    local code= i
    e2e_wait_reports 2 "" 180
    E2E_CHECK_TIMEOUT=120 e2e_check_examples "$1" "$2"
    e2e_assert_one_report_per_case "$(fault_accession "$1")" "$(fault_accession "$2")"
    for i in $(seq 1 60); do
        code=$(fault_get /healthz)
        [ "$code" = 200 ] && break
        sleep 0.5
    done
    [ "$code" = 200 ] || e2e_fail "healthz $code $3: $(cat "$E2E_DIR/body.txt")"
}
