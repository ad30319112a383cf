#!/usr/bin/env bash
# Issue 14 items 2, 3 and 5 (the status page): /healthz tells the truth,
# /readyz, /metrics with # HELP/# TYPE and the new series, and /status in
# headless Chromium.
#  - healthz 200 "ok" and readyz 200 once started;
#  - two examples reported: /metrics counts the report transactions by kind
#    and class and observes both in the case latency histogram;
#  - /status: a screenshot in headless Chromium is a non-empty PNG, and the
#    page's DOM (--dump-dom) names both accessions with their status; the
#    case page shows the digest and the mirrored inputs;
#  - the store takes no write: 503 naming "store". How: the daemon runs with
#    SIGXFSZ ignored (inherited from this shell) and `prlimit --fsize=1` is
#    set on it while it runs, so every SQLite write (WAL frames start past
#    byte 32) fails with EFBIG exactly as on a full disk (SQLite's
#    max_page_count is per connection and a chmod does not touch an open
#    fd); the limit lifted, 200 again;
#  - the server down: 503 naming "server" once listen.health_max_silence
#    (3 s here) passed without a successful answer; 200 again once it is back.
source "$(dirname "$0")/lib.sh"
e2e_init I14_health_status "$@"
command -v chromium >/dev/null || { echo "SKIP: no chromium (scripts/bootstrap.sh installs it)"; exit 77; }
command -v prlimit >/dev/null || e2e_fail "no prlimit (util-linux)"
e2e_start_server
e2e_config listen.health_max_silence=3 poll.catchup_interval=1
trap '' XFSZ   # the daemon inherits it: a file size limit fails writes instead of killing it
e2e_start_daemon

# status code and body of a GET on the listener
get() { e2e_curl_listener "$1" -o "$E2E_DIR/body.txt" -w '%{http_code}'; }

[ "$(get /healthz)" = 200 ] || e2e_fail "healthz: $(cat "$E2E_DIR/body.txt")"
[ "$(get /readyz)" = 200 ] || e2e_fail "readyz: $(cat "$E2E_DIR/body.txt")"

e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json \
    >"$E2E_DIR/post.txt"
e2e_wait_reports 2
e2e_check_examples "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json
accs=$("$NODE" -e 'for (const f of process.argv.slice(1)) { const b = require(f); for (const e of b.entry) { const a = e.resource.accessionIdentifier; if (a && !e.resource.parent) console.log(a.value); } }' \
    "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json | sort -u)
[ "$(echo "$accs" | wc -l)" -ge 2 ] || e2e_fail "no accessions in the examples: $accs"

# metrics
e2e_curl_listener /metrics >"$E2E_DIR/metrics.txt"
for m in nenfhir_build_info nenfhir_fhir_requests_total nenfhir_case_latency_seconds \
         nenfhir_queue_oldest_job_age_seconds nenfhir_tls_client_cert_refused_total \
         process_resident_memory_bytes process_open_fds nenfhir_reports_written_total; do
    grep -q "^# HELP $m " "$E2E_DIR/metrics.txt" || e2e_fail "no # HELP for $m"
    grep -q "^# TYPE $m " "$E2E_DIR/metrics.txt" || e2e_fail "no # TYPE for $m"
done
# a report is one transaction, or (issue 13 item 3: conditional writes on a server that
# refuses them as one transaction, as the test server does) its resources one at a time
tx=$(awk '$1 == "nenfhir_fhir_requests_total{kind=\"transaction\",class=\"2xx\"}" ||
          $1 == "nenfhir_fhir_requests_total{kind=\"write\",class=\"2xx\"}" { n += $2 } END { print n + 0 }' "$E2E_DIR/metrics.txt")
[ "${tx:-0}" -ge 2 ] || e2e_fail "report writes counted: ${tx:-none}"
lat=$(awk '$1 == "nenfhir_case_latency_seconds_count" { print $2 }' "$E2E_DIR/metrics.txt")
[ "${lat:-0}" -ge 2 ] || e2e_fail "case latencies observed: ${lat:-none}"
grep -q '^nenfhir_build_info{version="' "$E2E_DIR/metrics.txt" || e2e_fail "no build info"

# the status page in headless Chromium (HTTPS with the dev certificate: --ignore-certificate-errors)
url=https://127.0.0.1:$E2E_LISTEN_PORT/status
chrome=(chromium --headless --no-sandbox --disable-gpu --ignore-certificate-errors
        --user-data-dir="$E2E_DIR/chromium" --no-first-run --disable-dev-shm-usage)
timeout 60 "${chrome[@]}" --screenshot="$E2E_DIR/status.png" --window-size=1280,1600 "$url" \
    >"$E2E_DIR/chromium.log" 2>&1 || e2e_fail "chromium --screenshot failed: $(tail -n 5 "$E2E_DIR/chromium.log")"
[ -s "$E2E_DIR/status.png" ] || e2e_fail "no screenshot"
[ "$(head -c 8 "$E2E_DIR/status.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    e2e_fail "the screenshot is no PNG"
[ "$(stat -c %s "$E2E_DIR/status.png")" -gt 10000 ] || e2e_fail "the screenshot is nearly empty"
timeout 60 "${chrome[@]}" --dump-dom "$url" >"$E2E_DIR/status.html" 2>>"$E2E_DIR/chromium.log" ||
    e2e_fail "chromium --dump-dom failed"
grep -q "healthy" "$E2E_DIR/status.html" || e2e_fail "the status page does not say healthy"
for a in $accs; do
    # the row: <a ...>ACC</a></td><td class="status">final|preliminary</td>
    grep -Eq ">$a</a></td><td class=\"status\">(final|preliminary|amended)<" "$E2E_DIR/status.html" ||
        e2e_fail "the status page does not name $a with its status"
done
a1=$(echo "$accs" | head -n 1)
[ "$(get "/status/case/$a1")" = 200 ] || e2e_fail "case page of $a1"
grep -q "digest" "$E2E_DIR/body.txt" && grep -q "Observation/" "$E2E_DIR/body.txt" ||
    e2e_fail "the case page lacks the digest or the inputs"
[ "$(get "/status/case/%3Cnone%3E")" = 404 ] || e2e_fail "an unknown accession is not 404"
grep -q "&lt;none&gt;" "$E2E_DIR/body.txt" || e2e_fail "the unknown accession is not escaped"
grep -q "<none>" "$E2E_DIR/body.txt" && e2e_fail "the unknown accession is not escaped"

# the store takes no write -> 503 naming the store
prlimit --pid "$E2E_DAEMON_PID" --fsize=1:   # the soft limit only: it can be lifted again
code=
for i in $(seq 1 40); do
    code=$(get /healthz)
    [ "$code" = 503 ] && break
    sleep 0.25
done
[ "$code" = 503 ] || e2e_fail "healthz $code with the store unwritable"
grep -q '"store"' "$E2E_DIR/body.txt" || e2e_fail "503 without the store: $(cat "$E2E_DIR/body.txt")"
echo "store full: $(cat "$E2E_DIR/body.txt")"
prlimit --pid "$E2E_DAEMON_PID" --fsize=unlimited:
for i in $(seq 1 40); do
    code=$(get /healthz)
    [ "$code" = 200 ] && break
    sleep 0.25
done
[ "$code" = 200 ] || e2e_fail "healthz $code after the store is writable again: $(cat "$E2E_DIR/body.txt")"

# the server down -> 503 naming the server after 3 s of silence
e2e_control down '{"seconds":12}' >/dev/null
for i in $(seq 1 40); do
    code=$(get /healthz)
    [ "$code" = 503 ] && break
    sleep 0.25
done
[ "$code" = 503 ] || e2e_fail "healthz $code with the server down"
grep -q '"server"' "$E2E_DIR/body.txt" || e2e_fail "503 without the server: $(cat "$E2E_DIR/body.txt")"
grep -q 'health_max_silence' "$E2E_DIR/body.txt" || e2e_fail "503 without the reason: $(cat "$E2E_DIR/body.txt")"
echo "server down: $(cat "$E2E_DIR/body.txt")"
[ "$(get /readyz)" = 200 ] || e2e_fail "readyz while the server is down (it is started)"
for i in $(seq 1 120); do
    code=$(get /healthz)
    [ "$code" = 200 ] && break
    sleep 0.25
done
[ "$code" = 200 ] || e2e_fail "healthz $code after the server came back: $(cat "$E2E_DIR/body.txt")"
e2e_curl_listener /metrics >"$E2E_DIR/metrics.txt"
tr=$(awk '$1 ~ /^nenfhir_fhir_requests_total\{kind="search",class="transport"\}/ { print $2 }' "$E2E_DIR/metrics.txt")
[ "${tr:-0}" -ge 1 ] || e2e_fail "no failed search counted while the server was down"
e2e_finish
e2e_pass "healthz (store, server), readyz, metrics, status page in Chromium"
