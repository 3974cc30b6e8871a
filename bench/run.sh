#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Run every bench_* in BIN_DIR (issue 6 figures), collect bench/results.json
# (a JSON array: one object per figure, plus machine and date) and print one
# table. Builds nothing.
#
# Usage: bench/run.sh BIN_DIR [--quick]
# Exit: 0 when every bench ran (misses are reported, not failed), 1 otherwise.
set -euo pipefail

usage() {
    echo "usage: $0 BIN_DIR [--quick]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
BIN_DIR=$1
shift
QUICK=()
for a in "$@"; do
    case "$a" in
    --quick) QUICK=(--quick) ;;
    *) usage ;;
    esac
done
[ -d "$BIN_DIR" ] || { echo "$0: no such directory: $BIN_DIR" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
OUT="${ATT_BENCH_OUT:-$HERE/results.json}" # ATT_BENCH_OUT: where results.json goes
LINES=$(mktemp "${TMPDIR:-/tmp}/att-bench.XXXXXX")
trap 'rm -f "$LINES"' EXIT

json_str() {
    # Minimal JSON string escaping for machine facts (quotes and backslashes).
    printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

NPROC=$(nproc)
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
KERNEL=$(uname -r)

status=0
shopt -s nullglob
benches=("$BIN_DIR"/bench_*)
if [ ${#benches[@]} -eq 0 ]; then
    echo "$0: no bench_* in $BIN_DIR" >&2
    exit 1
fi
for b in "${benches[@]}"; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b") ${QUICK[*]}"
    if ! "$b" "${QUICK[@]}" --json "$LINES"; then
        echo "$0: $(basename "$b") failed" >&2
        status=1
    fi
done
# Rig benchmarks (swtpm, podman): whole-system figures, minutes long; not in
# the ctest smoke run (ATT_BENCH_NO_RIG=1).
if [ -z "${ATT_BENCH_NO_RIG:-}" ]; then
    for b in "$HERE"/bench_*.sh; do
        echo "== $(basename "$b") ${QUICK[*]}"
        if ! bash "$b" "$BIN_DIR" "${QUICK[@]}" --json "$LINES"; then
            echo "$0: $(basename "$b") failed" >&2
            status=1
        fi
    done
fi

# results.json: a JSON array of every figure, each carrying the machine and date.
MACHINE=$(printf '"machine":{"nproc":%s,"cpu":%s,"kernel":%s},"date":%s,' \
    "$NPROC" "$(json_str "$CPU")" "$(json_str "$KERNEL")" "$(json_str "$DATE")")
{
    printf '[\n'
    sed -e "s|^{|{${MACHINE//|/\\|}|" -e '$!s/$/,/' "$LINES"
    printf ']\n'
} >"$OUT"

echo
echo "machine: nproc=$NPROC cpu=\"$CPU\" kernel=$KERNEL date=$DATE"
printf '%-16s | %-38s | %14s | %14s | %7s | %-8s | %s\n' bench figure ours limit ratio target result
# One line per figure, from the JSON lines the benches appended (numbers or
# strings: the rig benches report "p50/p99" pairs).
jq -r '[.bench, .figure, (.ours | tostring), (.limit | tostring), (.ratio | tostring),
        (.target // ""), (if .pass == true then "pass" elif .pass == false then "miss"
                          else (.result // "info") end), (.unit // "")] | @tsv' "$LINES" |
    while IFS=$'\t' read -r bench fig ours lim ratio tgt res unit; do
        printf '%-16s | %-38s | %14s | %14s | %7s | %-8s | %s%s\n' "$bench" "$fig" "$ours" \
            "$lim" "$ratio" "$tgt" "$res" "${unit:+ ($unit)}"
    done
echo "results: $OUT"
exit $status
