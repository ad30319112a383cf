#!/usr/bin/env bash
# side_by_side.sh [CASES] - nenfhir against the test FHIR server's own ceiling,
# side by side, in one command (issue 11 item 5). CASES defaults to 1000
# (rounded up to a multiple of the 8 example cases).
#
#   scripts/build.sh build && bench/side_by_side.sh 1000
#   NENFHIR=/tmp/build-bench/nenfhir bench/side_by_side.sh 200
#
# Builds nothing: it runs $NENFHIR (default build/nenfhir). On loopback over
# TLS (fresh dev certificates), with tests/fhir-server/server.mjs delivering
# DELIVERY_CONCURRENCY notifications at once (default 8):
#  (a) ceiling: bench/ceiling.mjs posts, CONCURRENCY at a time (default 8),
#      CASES copies of the report transactions `nenfhir classify` prints for
#      the eight complete examples (ids, accessions and input references made
#      distinct per copy) to a fresh server: transactions (= cases) per second.
#  (b) end to end, per style in STYLES (default "hapi medplum"; full-resource
#      notifications): a fresh server, `nenfhir run` subscribed with
#      work.parallel=CONCURRENCY (work.settle left at its default, 2 s, unless
#      SETTLE is set), and lis.mjs posting the same CASES cases one resource at
#      a time, CONCURRENCY cases at once. Cases/s from the LIS's first POST to
#      the last case's first final report stored; per case, from the answer to
#      its last input's POST to the first final report version stored after it
#      (p50/p99); the server's count of nenfhir's requests by kind per case (the
#      LIS and the ceiling client identify themselves with X-Test-Client and are
#      not counted), report transactions per case, and the daemon's VmHWM.
#  (a2) context: the LIS alone posting the same cases with no subscriber (no
#      daemon): end to end cannot beat it. The test server delivers with
#      --delivery-keepalive (pooled, kept-alive connections, as HAPI's client).
#      Counts and VmHWM are read once the server has delivered every queued
#      notification and nenfhir's requests have stopped for 3 s.
# WRITE_MODE (default client-id): nenfhir's server.write_mode end to end. The
# ceiling posts client-id transactions, so client-id compares the same
# transactions; WRITE_MODE=auto measures what a default install does (on the
# Node server: conditional update, written one resource at a time because
# fhir-router refuses conditional transactions of more than 8 entries).
# Prints one table with the goals and PASS/SHORT. Exits 0 even when short;
# non-zero only when the run fails. Node: $NENFHIR_NODE or node.
#
# --server hapi (or BENCH_SERVER=hapi; issue 13 item 2): the same against the
# real HAPI FHIR JPA server (tests/hapi-server/run.sh, Java 17 and Maven, a
# fresh HAPI per phase, 34-75 s to start, not timed; heap NENFHIR_HAPI_HEAP,
# default 3g here). (a) the ceiling first stores each copy's inputs with the
# ids its report transaction refers to (HAPI keeps referential integrity;
# untimed), then times the report transactions; (b) STYLES default
# "hapi poll": HAPI's own rest-hook deliveries (full resource, JSON; after
# HAPI has registered nenfhir's Subscriptions) and polling (no Subscription,
# poll.interval 2 s). HAPI has no /_test controls: the reports' versions come
# from GET DiagnosticReport/_history (meta.lastUpdated), nenfhir's requests
# from HAPI's access log (User-Agent nenfhir), the deliveries from nenfhir's
# /metrics (bench/hapi_results.mjs); quiet means no new write on HAPI and no
# new delivery for QUIET s (default 10: HAPI delivers up to 5 s after a write). The Organization
# nenfhir's reports name is put first.
#   bench/side_by_side.sh --server hapi 1000
# For a loaded machine (either server): LIS_ALONE=0 skips (a2);
# CEILING_JSON=FILE takes (a) from an earlier run's ceiling.json;
# SERVER_TIMEOUT=S sets the daemon's server.timeout (default the e2e's 10 s).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
server=${BENCH_SERVER:-node}
if [ "${1:-}" = --server ]; then
    server=${2:-}
    shift 2 || true
fi
case $server in
    node | hapi) ;;
    *) echo "usage: side_by_side.sh [--server node|hapi] [CASES]" >&2; exit 2 ;;
esac
cases=${1:-1000}
NENFHIR_BIN=${NENFHIR:-$root/build/nenfhir}
conc=${CONCURRENCY:-8}
dconc=${DELIVERY_CONCURRENCY:-8}
label=
if [ "$server" = hapi ]; then
    label=" (HAPI FHIR)"
    styles=${STYLES:-hapi poll}
    quiet=${QUIET:-10}
    export NENFHIR_HAPI=1 NENFHIR_HAPI_REQUIRED=1 NENFHIR_HAPI_HEAP=${NENFHIR_HAPI_HEAP:-3g} \
        NENFHIR_HAPI_START_TIMEOUT=${NENFHIR_HAPI_START_TIMEOUT:-600}
else
    styles=${STYLES:-hapi medplum}
    quiet=3
fi
examples=(gastric-type1 gastric-type3 pancreas-liver-mets ileum-mesenteric-mass lung-atypical-carcinoid
          thymus-net gastric-nec minen)
copies=$(( (cases + ${#examples[@]} - 1) / ${#examples[@]} ))
cases=$(( copies * ${#examples[@]} ))
[ -x "$NENFHIR_BIN" ] || { echo "side_by_side: no $NENFHIR_BIN (build it: scripts/build.sh build, or set NENFHIR=)" >&2; exit 2; }

certs=$(mktemp -d "${TMPDIR:-/tmp}/nenfhir-bench-certs.XXXXXX")
"$root/certs/make-dev-certs.sh" "$certs" >/dev/null
source "$root/tests/e2e/lib.sh"
e2e_init side_by_side "$NENFHIR_BIN" "$certs"
trap 'rc=$?; rm -rf "$certs"; stop_server || true; (exit $rc); e2e_cleanup' EXIT
out=$E2E_DIR/results
mkdir -p "$out"
ex=$root/examples/fhir

stop_server() {
    [ -n "${E2E_SERVER_PID:-}" ] || return 0
    if [ "$server" = hapi ]; then
        # run.sh's JVM, by its parent's id: TERM, then KILL after 60 s (a JVM
        # still starting may not stop on TERM, and must not outlive the run)
        local java i
        java=$(pgrep -P "$E2E_SERVER_PID" || true)
        if [ -n "$java" ]; then
            kill -TERM $java 2>/dev/null || true
            for i in $(seq 1 60); do
                kill -0 $java 2>/dev/null || break
                sleep 1
            done
            kill -KILL $java 2>/dev/null || true
        fi
    fi
    kill -TERM "$E2E_SERVER_PID" 2>/dev/null || true
    wait "$E2E_SERVER_PID" 2>/dev/null || true
    E2E_SERVER_PID=
    E2E_SERVER_PORT=
}

# start_server [Node server options...]: a fresh server of the kind asked for
# (HAPI: the options are ignored; it logs to $E2E_DIR/server.log, appended).
start_server() {
    if [ "$server" = hapi ]; then
        start_hapi
    else
        e2e_start_server "$@"
    fi
}

# start_hapi: tests/hapi-server/run.sh in the background (log server.log,
# appended), then its port file and GET /metadata (up to
# NENFHIR_HAPI_START_TIMEOUT s), then the Organization nenfhir's reports name
# (retried: the first write of a cold HAPI on a loaded machine can take more
# than a minute). Sets E2E_SERVER_PID, E2E_SERVER_PORT, E2E_BASE.
start_hapi() {
    local run=$root/tests/hapi-server/run.sh t0=$SECONDS limit=$NENFHIR_HAPI_START_TIMEOUT i
    command -v java >/dev/null && command -v mvn >/dev/null ||
        e2e_fail "java or mvn missing (NENFHIR_HAPI=1 scripts/bootstrap.sh installs them)"
    "$run" --build-only >>"$E2E_DIR/server.log" 2>&1 || e2e_fail "the HAPI test server did not build"
    rm -f "$E2E_DIR/server.port"
    "$run" --certs "$E2E_CERTS" --port-file "$E2E_DIR/server.port" >>"$E2E_DIR/server.log" 2>&1 &
    E2E_SERVER_PID=$!
    while [ ! -s "$E2E_DIR/server.port" ]; do
        kill -0 "$E2E_SERVER_PID" 2>/dev/null || e2e_fail "the HAPI test server exited at start"
        [ $((SECONDS - t0)) -lt "$limit" ] || e2e_fail "the HAPI test server did not listen within $limit s"
        sleep 0.5
    done
    E2E_SERVER_PORT=$(cat "$E2E_DIR/server.port")
    E2E_BASE="https://127.0.0.1:$E2E_SERVER_PORT/fhir"
    until curl -sf --max-time 60 --cacert "$E2E_CERTS/ca.crt" -o /dev/null "$E2E_BASE/metadata"; do
        [ $((SECONDS - t0)) -lt "$limit" ] || e2e_fail "HAPI's /metadata did not answer within $limit s"
        sleep 1
    done
    echo "HAPI FHIR ready on port $E2E_SERVER_PORT after $((SECONDS - t0)) s"
    for i in 1 2 3 4 5; do
        curl -sf --max-time 180 --cacert "$E2E_CERTS/ca.crt" -X PUT -H 'Content-Type: application/fhir+json' \
            -d '{"resourceType":"Organization","id":"pathology-lab","name":"Pathology laboratory"}' \
            -o /dev/null "$E2E_BASE/Organization/pathology-lab" && return 0
        sleep 2
    done
    e2e_fail "HAPI refused the performer Organization"
}

hapi_results() {
    "$NODE" "$root/bench/hapi_results.mjs" "$@"
}

# Lines in HAPI's log so far (its access log is what counts nenfhir's requests).
hapi_log_lines() {
    wc -l <"$E2E_DIR/server.log"
}

# Writes HAPI answered so far (access lines of POST/PUT/DELETE/PATCH, refused
# ones included): what must stay put for the run to be over (polling and
# heartbeat reads go on forever).
hapi_writes() {
    grep -cE "nenfhir\.hapi\.access.* : (ERROR )?(POST|PUT|DELETE|PATCH) " "$E2E_DIR/server.log" || true
}

# hapi_wait_subscriptions: until HAPI has registered every Subscription
# nenfhir made (all of them, whatever their status) in its matcher (it does so about 2 s after the create; a
# change before that is not delivered). Up to 120 s.
hapi_wait_subscriptions() {
    local n reg i
    for i in $(seq 1 120); do
        n=$(curl -sf --max-time 20 --cacert "$E2E_CERTS/ca.crt" -H 'Cache-Control: no-cache' \
            "$E2E_BASE/Subscription?_summary=count" | "$NODE" -e \
            'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).total??0))' || echo 0)
        reg=$(grep -c "Registered active subscription" "$E2E_DIR/server.log" || true)
        [ "$n" -gt 0 ] && [ "$reg" -ge "$n" ] && { echo "HAPI: $n Subscription(s) registered"; return 0; }
        sleep 1
    done
    e2e_fail "HAPI did not register nenfhir's Subscriptions within 120 s ($n made, $reg registered)"
}

# (a) ceiling
pairs=()
inputs=()
for f in "${examples[@]}"; do
    "$NENFHIR_BIN" classify "$ex/$f.json" >"$E2E_DIR/$f.tx.json" 2>/dev/null ||
        e2e_fail "nenfhir classify $f.json failed"
    pairs+=("$ex/$f.json:$E2E_DIR/$f.tx.json")
    inputs+=("$ex/$f.json")
done
if [ -n "${CEILING_JSON:-}" ]; then
    # a ceiling measured before (ceiling.json of an earlier run, kept with its
    # own case count): phase (a) is skipped
    cp "$CEILING_JSON" "$out/ceiling.json"
    echo "== (a) ceiling: from $CEILING_JSON"
    cat "$out/ceiling.json"
else
    echo "== (a) ceiling: $cases report transactions, $conc at a time${label}"
    start_server --delivery-concurrency "$dconc"
    ceiling_opts=()
    [ "$server" = hapi ] && ceiling_opts=(--inputs)
    "$NODE" "$root/bench/ceiling.mjs" --base "$E2E_BASE" --ca "$E2E_CERTS/ca.crt" --cases "$cases" \
        --concurrency "$conc" "${ceiling_opts[@]}" "${pairs[@]}" >"$out/ceiling.json" || e2e_fail "the ceiling client failed"
    if [ "$server" = hapi ]; then
        hapi_results stats --log "$E2E_DIR/server.log" --agent "" >"$out/ceiling-stats.json"
    else
        e2e_control stats >"$out/ceiling-stats.json"
    fi
    stop_server
    cat "$out/ceiling.json"
fi

# (a2) context: the LIS alone, the same cases posted one resource at a time
# with no subscriber at all. End to end cannot be faster than this; when it
# is below the ceiling, the ratio's goal is out of reach whatever nenfhir does.
lis_alone=
if [ "${LIS_ALONE:-1}" != 0 ]; then
    echo "== (a2) the LIS alone: $cases cases posted as a LIS does, no subscriber"
    start_server --delivery-concurrency "$dconc"
    lis_start=$(date +%s.%N)
    e2e_lis post --json --repeat "$copies" --concurrency "$conc" "${inputs[@]}" >"$out/lis-alone.jsonl" ||
        e2e_fail "the LIS failed"
    lis_end=$(date +%s.%N)
    stop_server
    lis_alone=$(awk -v n="$cases" -v s="$lis_start" -v e="$lis_end" 'BEGIN { printf "%.1f", n / (e - s) }')
    echo "LIS alone: $lis_alone cases/s"
fi

# (b) end to end, per style
write_mode=${WRITE_MODE:-client-id}
for style in $styles; do
    echo "== (b) end to end, $style style: $cases cases ($copies x ${#examples[@]} examples), $conc at a time"
    E2E_LISTEN_PORT=
    if [ "$server" = hapi ]; then
        start_server
        mode=()
        [ "$style" = poll ] && mode=(subscription.mode=poll subscription.endpoint= listen.cert= listen.key=)
        e2e_config work.parallel="$conc" poll.catchup_interval=3600 ${SETTLE:+work.settle=$SETTLE} \
            ${SERVER_TIMEOUT:+server.timeout=$SERVER_TIMEOUT} store.path="$E2E_DIR/nenfhir-$style.db" \
            server.write_mode="$write_mode" "${mode[@]}"
        e2e_start_daemon
        [ "$style" = poll ] || hapi_wait_subscriptions
        from=$(hapi_log_lines)
    else
        e2e_start_server --style "$style" --delivery-concurrency "$dconc" --delivery-keepalive
        e2e_config work.parallel="$conc" poll.catchup_interval=3600 ${SETTLE:+work.settle=$SETTLE} \
            ${SERVER_TIMEOUT:+server.timeout=$SERVER_TIMEOUT} store.path="$E2E_DIR/nenfhir-$style.db" \
            server.write_mode="$write_mode"
        e2e_start_daemon
        e2e_control reset-stats >/dev/null
    fi
    e2e_lis post --json --repeat "$copies" --concurrency "$conc" "${inputs[@]}" >"$out/$style-post.jsonl" ||
        e2e_fail "the LIS failed"
    if [ "$server" = hapi ]; then
        hapi_results wait --base "$E2E_BASE" --ca "$E2E_CERTS/ca.crt" --cases "$cases" \
            --timeout "${TIMEOUT:-3600}" || e2e_fail "fewer than $cases final reports after ${TIMEOUT:-3600} s"
    else
        e2e_wait_reports "$cases" final,amended "${TIMEOUT:-3600}"
    fi
    # let every queued notification be delivered and late rewrites land: until
    # the server has nothing queued and nenfhir's requests stay put for 3 s
    # (HAPI: the writes it answered and the deliveries nenfhir counted stay put
# for QUIET s)
    prev=-1
    for _ in $(seq 1 "$(( ${TIMEOUT:-3600} / quiet ))"); do
        if [ "$server" = hapi ]; then
            now=0/$(hapi_writes)/$( [ "$style" = poll ] || e2e_metric nenfhir_notifications_total)
        else
            now=$(e2e_control stats | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.deliveries.queued+"/"+Object.values(j.requests).reduce((a,b)=>a+b,0))})')
        fi
        [ "$now" = "$prev" ] && [ "${now%%/*}" = 0 ] && break
        prev=$now
        sleep "$quiet"
    done
    awk '/^VmHWM/ {print $2}' "/proc/$E2E_DAEMON_PID/status" >"$out/$style-hwm.txt"
    rss_anon=$(awk '/^RssAnon/ {print $2}' "/proc/$E2E_DAEMON_PID/status")
    if [ "$server" = hapi ]; then
        notes=
        [ "$style" = poll ] || notes=$(e2e_metric nenfhir_notifications_total)
        hapi_results stats --log "$E2E_DIR/server.log" --from "$from" --notifications "$notes" \
            >"$out/$style-stats.json"
        hapi_results report-writes --base "$E2E_BASE" --ca "$E2E_CERTS/ca.crt" >"$out/$style-report-writes.json" ||
            e2e_fail "could not read the reports' history from HAPI"
    else
        e2e_control stats >"$out/$style-stats.json"
        e2e_control report-writes >"$out/$style-report-writes.json"
    fi
    e2e_finish
    E2E_DAEMON_PID=
    stop_server
done

BENCH_SERVER=$server "$NODE" "$root/bench/side_by_side_table.mjs" "$out" "$cases" "$conc" "$dconc" $styles ||
    e2e_fail "could not compute the table"
if [ "${LIS_ALONE:-1}" != 0 ]; then
    echo "context: the LIS alone (no subscriber) posts $lis_alone cases/s; the daemon's RssAnon at the"
else
    echo "context: the LIS alone not measured (LIS_ALONE=0); the daemon's RssAnon at the"
fi
echo "end (its own allocations, without the shared libraries' pages in VmHWM): $((rss_anon / 1024)) MiB (last style)"
