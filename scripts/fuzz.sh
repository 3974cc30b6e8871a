#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run every libFuzzer target of a -DATT_FUZZ=ON build (tests/fuzz/fuzz_*.c)
# for SECONDS each, JOBS at a time (shared/STYLE.md §9).
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS [JOBS] [--check]
#   --check  (make check-fuzz) each target fuzzes a fresh copy of its seeds,
#            removed afterwards; without it (make fuzz) new inputs accumulate
#            in BUILD_DIR/tests/fuzz-corpus/<target>/ from run to run.
# The seeds in tests/fuzz/corpus/ are only read. A crash, leak, timeout or
# sanitizer report fails the run; the input is kept as
# BUILD_DIR/fuzz-artifacts/<target>-crash-* (make it a seed: crash-<what>).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS [JOBS] [--check]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
jobs=${3:-2}
mode=${4:-}
src=$(cd "$(dirname "$0")/.." && pwd)
artifacts=$build/fuzz-artifacts
logs=$build/fuzz-logs
mkdir -p "$artifacts" "$logs"

targets=()
for f in "$src"/tests/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c)
    if [ ! -x "$build/bin/$t" ]; then
        echo "fuzz: $build/bin/$t is not built (configure with -DATT_FUZZ=ON and build it)" >&2
        exit 2
    fi
    targets+=("$t")
done

# One target: prints one line, and the end of its log when it fails.
run_one() {
    local t=$1 name=${1#fuzz_} work rc=0 dirs
    if [ "$mode" = --check ]; then
        work=$(mktemp -d "$build/fuzz-check.$name.XXXXXX")
        cp -R "$src/tests/fuzz/corpus/$name/." "$work/"
        dirs=("$work")
    else
        # the seeds come second: libFuzzer only ever writes to the first directory
        work=$build/tests/fuzz-corpus/$name
        mkdir -p "$work"
        dirs=("$work" "$src/tests/fuzz/corpus/$name")
    fi
    # -timeout: an input running that long is a hang; -rss_limit_mb: runaway memory.
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$build/bin/$t" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "${dirs[@]}" >"$logs/$t.log" 2>&1 || rc=$?
    if [ "$mode" = --check ]; then
        rm -rf "$work"
    fi
    if [ $rc -ne 0 ]; then
        echo "FAIL $t (exit $rc): log $logs/$t.log, inputs in $artifacts/" >&2
        tail -n 40 "$logs/$t.log" >&2
        return 1
    fi
    printf 'ok   %-26s %s runs\n' "$t" \
        "$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -n 1)"
}
export -f run_one
export build src seconds mode artifacts logs

echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
if printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}; then
    echo "fuzz: no crash, leak or hang in ${#targets[@]} targets"
else
    echo "fuzz: FAILED (see above)" >&2
    exit 1
fi
