#!/usr/bin/env bash
# run.sh [TARGET...] - build the libFuzzer targets (clang, ASan + UBSan) into
# build-fuzz/ and run each for a short fixed number of runs on its seed corpus
# (corpus/NAME, copied to a scratch directory so the tree is never written)
# and its regression inputs (regress/NAME), with the dictionary fhir.dict.
# Exit status is non-zero if any target crashes, leaks, hits UBSan or breaks
# an invariant; the input that did it is saved in build-fuzz/crashes/.
# FUZZ_RUNS (default 2000) sets the number of mutated runs per target.
# For long campaigns see README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build-fuzz
runs=${FUZZ_RUNS:-2000}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json xml roundtrip notify extract map config case)

command -v clang >/dev/null || { echo "fuzz: clang is needed (scripts/bootstrap.sh)" >&2; exit 1; }
CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNENFHIR_FUZZ=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" -- --no-print-directory >/dev/null

scratch=$(mktemp -d /tmp/nenfhir-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$build/crashes"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
    cp -r "$here/corpus/$t" "$scratch/$t"
    start=$SECONDS
    if "$build/fuzz/fuzz_$t" -runs="$runs" -seed=1 -timeout=10 -dict="$here/fhir.dict" \
        -artifact_prefix="$build/crashes/$t-" -print_final_stats=1 \
        "$scratch/$t" "$here/regress/$t" </dev/null >"$scratch/$t.log" 2>&1; then
        echo "fuzz $t: ok, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$scratch/$t.log" |
            grep -o '[0-9]*$') runs in $((SECONDS - start)) s"
    else
        echo "fuzz $t: FAILED (input saved in $build/crashes/$t-*)" >&2
        grep -v '^#\|^INFO\|^MERGE\|^	NEW_FUNC' "$scratch/$t.log" | tail -40 >&2
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: failed: ${failed[*]}" >&2
    exit 1
fi
