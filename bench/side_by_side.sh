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
# Prints one table with the goals and PASS/SHORT. Exits 0 even when short;
# non-zero only when the run fails. Node: $NENFHIR_NODE or node.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cases=${1:-1000}
NENFHIR_BIN=${NENFHIR:-$root/build/nenfhir}
conc=${CONCURRENCY:-8}
dconc=${DELIVERY_CONCURRENCY:-8}
styles=${STYLES:-hapi medplum}
examples=(gastric-type1 gastric-type3 pancreas-liver-mets ileum-mesenteric-mass lung-atypical-carcinoid
          thymus-net gastric-nec minen)
copies=$(( (cases + ${#examples[@]} - 1) / ${#examples[@]} ))
cases=$(( copies * ${#examples[@]} ))
[ -x "$NENFHIR_BIN" ] || { echo "side_by_side: no $NENFHIR_BIN (build it: scripts/build.sh build, or set NENFHIR=)" >&2; exit 2; }

certs=$(mktemp -d "${TMPDIR:-/tmp}/nenfhir-bench-certs.XXXXXX")
"$root/certs/make-dev-certs.sh" "$certs" >/dev/null
source "$root/tests/e2e/lib.sh"
e2e_init side_by_side "$NENFHIR_BIN" "$certs"
trap 'rc=$?; rm -rf "$certs"; (exit $rc); e2e_cleanup' EXIT
out=$E2E_DIR/results
mkdir -p "$out"
ex=$root/examples/fhir

stop_server() {
    kill -TERM "$E2E_SERVER_PID" 2>/dev/null || true
    wait "$E2E_SERVER_PID" 2>/dev/null || true
    E2E_SERVER_PID=
    E2E_SERVER_PORT=
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
echo "== (a) ceiling: $cases report transactions, $conc at a time"
e2e_start_server --delivery-concurrency "$dconc"
"$NODE" "$root/bench/ceiling.mjs" --base "$E2E_BASE" --ca "$E2E_CERTS/ca.crt" --cases "$cases" \
    --concurrency "$conc" "${pairs[@]}" >"$out/ceiling.json" || e2e_fail "the ceiling client failed"
e2e_control stats >"$out/ceiling-stats.json"
stop_server
cat "$out/ceiling.json"

# (a2) context: the LIS alone, the same cases posted one resource at a time
# with no subscriber at all. End to end cannot be faster than this; when it
# is below the ceiling, the ratio's goal is out of reach whatever nenfhir does.
echo "== (a2) the LIS alone: $cases cases posted as a LIS does, no subscriber"
e2e_start_server --delivery-concurrency "$dconc"
lis_start=$(date +%s.%N)
e2e_lis post --json --repeat "$copies" --concurrency "$conc" "${inputs[@]}" >"$out/lis-alone.jsonl" ||
    e2e_fail "the LIS failed"
lis_end=$(date +%s.%N)
stop_server
lis_alone=$(awk -v n="$cases" -v s="$lis_start" -v e="$lis_end" 'BEGIN { printf "%.1f", n / (e - s) }')
echo "LIS alone: $lis_alone cases/s"

# (b) end to end, per style
for style in $styles; do
    echo "== (b) end to end, $style style: $cases cases ($copies x ${#examples[@]} examples), $conc at a time"
    e2e_start_server --style "$style" --delivery-concurrency "$dconc" --delivery-keepalive
    E2E_LISTEN_PORT=
    e2e_config work.parallel="$conc" poll.catchup_interval=3600 ${SETTLE:+work.settle=$SETTLE} \
        store.path="$E2E_DIR/nenfhir-$style.db"
    e2e_start_daemon
    e2e_control reset-stats >/dev/null
    e2e_lis post --json --repeat "$copies" --concurrency "$conc" "${inputs[@]}" >"$out/$style-post.jsonl" ||
        e2e_fail "the LIS failed"
    e2e_wait_reports "$cases" final,amended "${TIMEOUT:-3600}"
    # let every queued notification be delivered and late rewrites land: until
    # the server has nothing queued and nenfhir's requests stay put for 3 s
    prev=-1
    for _ in $(seq 1 "$(( ${TIMEOUT:-3600} / 3 ))"); do
        now=$(e2e_control stats | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.deliveries.queued+"/"+Object.values(j.requests).reduce((a,b)=>a+b,0))})')
        [ "$now" = "$prev" ] && [ "${now%%/*}" = 0 ] && break
        prev=$now
        sleep 3
    done
    awk '/^VmHWM/ {print $2}' "/proc/$E2E_DAEMON_PID/status" >"$out/$style-hwm.txt"
    rss_anon=$(awk '/^RssAnon/ {print $2}' "/proc/$E2E_DAEMON_PID/status")
    e2e_control stats >"$out/$style-stats.json"
    e2e_control report-writes >"$out/$style-report-writes.json"
    e2e_finish
    E2E_DAEMON_PID=
    stop_server
done

"$NODE" "$root/bench/side_by_side_table.mjs" "$out" "$cases" "$conc" "$dconc" $styles ||
    e2e_fail "could not compute the table"
echo "context: the LIS alone (no subscriber) posts $lis_alone cases/s; the daemon's RssAnon at the"
echo "end (its own allocations, without the shared libraries' pages in VmHWM): $((rss_anon / 1024)) MiB (last style)"
