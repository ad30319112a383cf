#!/usr/bin/env bash
# e2e_throughput.sh [CASES] - end-to-end throughput and memory of the daemon
# on loopback: the test FHIR server (HAPI style, full-resource payloads),
# `nenfhir run`, and the LIS posting CASES cases (default 1000: copies of the
# eight complete example cases, about 12 resources each) with 8 cases in
# flight. Measures, from the first resource posted to the last report
# written: cases per second end to end; and the daemon's peak resident
# memory (VmHWM) over the run. The LIS and the Node server run on the same
# machine and share its cores with the daemon.
# Usage: scripts/build.sh build && bench/e2e_throughput.sh 1000
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cases=${1:-1000}
copies=$(( (cases + 7) / 8 ))
cases=$(( copies * 8 ))
"$root/certs/make-dev-certs.sh" "$root/build/e2e-certs" >/dev/null
source "$root/tests/e2e/lib.sh"
e2e_init bench "$root/build/nenfhir" "$root/build/e2e-certs"
e2e_start_server --style hapi
e2e_config work.parallel=8 work.settle=2s poll.catchup_interval=3600
e2e_start_daemon
ex=$root/examples/fhir
start=$(date +%s.%N)
e2e_lis post --repeat "$copies" --concurrency 8 "$ex"/gastric-type1.json "$ex"/gastric-type3.json \
    "$ex"/pancreas-liver-mets.json "$ex"/ileum-mesenteric-mass.json "$ex"/lung-atypical-carcinoid.json \
    "$ex"/thymus-net.json "$ex"/gastric-nec.json "$ex"/minen.json >"$E2E_DIR/post.txt"
posted=$(date +%s.%N)
e2e_wait_reports "$cases" final,amended 1800
done_at=$(date +%s.%N)
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$E2E_DAEMON_PID/status")
written=$(e2e_metric nenfhir_reports_written_total)
resources=$(tail -n 1 "$E2E_DIR/post.txt")
e2e_finish
awk -v n="$cases" -v s="$start" -v p="$posted" -v d="$done_at" -v hwm="$hwm" -v w="$written" -v r="$resources" 'BEGIN {
    printf "bench e2e: %d cases (%s)\n", n, r
    printf "bench e2e: LIS posting took %.1f s; last report %.1f s after the first post\n", p - s, d - s
    printf "bench e2e: %.1f cases/s end to end; %d report transactions\n", n / (d - s), w
    printf "bench e2e: daemon peak RSS (VmHWM) %.1f MiB\n", hwm / 1024
}'
