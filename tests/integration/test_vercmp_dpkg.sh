#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test_vercmp_dpkg.sh: att_debver_cmp / att_debver_valid (common/src/vercmp.c)
# against dpkg itself, the authority on Debian version order.
#
# 1. att_vercmp_tool gen makes ATT_VERCMP_PAIRS (default 4000) pairs of valid
#    versions aimed at the hard cases (epochs, '~', letters against
#    non-letters, leading zeros, revisions, equal-by-value pairs); for each,
#    `dpkg --compare-versions A lt B` and, when not lt, `A gt B` give dpkg's
#    answer, which must match att_vercmp_tool cmp. dpkg must not warn about
#    any generated version (the generator makes valid versions only).
# 2. A fixed list of tricky strings must be refused by att_vercmp_tool
#    exactly when dpkg calls them bad syntax (warning or error).
#
# Prints every disagreement and "N pairs agreed with dpkg"; exits non-zero on
# any disagreement. Needs dpkg (fails, not skips, without it: there is no
# other authority). ATT_VERCMP_SEED picks another sample.
# Environment: ATT_BIN (build/bin), as set by ctest.
set -u -o pipefail

: "${ATT_BIN:?ATT_BIN must name the bin directory of a build}"
tool=$ATT_BIN/att_vercmp_tool
pairs=${ATT_VERCMP_PAIRS:-4000}
seed=${ATT_VERCMP_SEED:-20240131}

if ! command -v dpkg >/dev/null 2>&1; then
    echo "FAIL: dpkg not found; this test holds att_debver_cmp against dpkg"
    exit 1
fi
if [[ ! -x $tool ]]; then
    echo "FAIL: $tool not built"
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/att-test-vercmp.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
fail=0
start=$SECONDS

# --- 1. generated pairs ------------------------------------------------------

if ! "$tool" gen "$pairs" "$seed" >"$work/pairs"; then
    echo "FAIL: att_vercmp_tool gen $pairs $seed"
    exit 1
fi
if ! "$tool" cmp <"$work/pairs" >"$work/ours" 2>"$work/ours.err"; then
    echo "FAIL: att_vercmp_tool cmp refused a generated version:"
    cat "$work/ours.err"
    exit 1
fi

# dpkg's verdicts, one process per question. "--" keeps "-0:1" from being
# read as an option.
while read -r a b; do
    if dpkg --compare-versions -- "$a" lt "$b"; then
        echo lt
    elif (($? != 1)); then
        echo "error"
    elif dpkg --compare-versions -- "$a" gt "$b"; then
        echo gt
    elif (($? != 1)); then
        echo "error"
    else
        echo eq
    fi
done <"$work/pairs" >"$work/dpkg" 2>"$work/dpkg.err"

if [[ -s $work/dpkg.err ]]; then
    echo "FAIL: dpkg complained about generated versions:"
    sort -u "$work/dpkg.err" | head -20
    fail=1
fi

total=$(wc -l <"$work/pairs")
if [[ $(wc -l <"$work/ours") -ne $total || $(wc -l <"$work/dpkg") -ne $total ]]; then
    echo "FAIL: answer counts differ (pairs $total, ours $(wc -l <"$work/ours")," \
        "dpkg $(wc -l <"$work/dpkg"))"
    exit 1
fi
paste -d ' ' "$work/pairs" "$work/ours" "$work/dpkg" >"$work/all"
disagree=$(awk '$3 != $4' "$work/all")
agreed=$(awk '$3 == $4' "$work/all" | wc -l)
if [[ -n $disagree ]]; then
    echo "FAIL: disagreements with dpkg (A B ours dpkg):"
    echo "$disagree"
    fail=1
fi
echo "$agreed of $total pairs agreed with dpkg" \
    "($(grep -c ' eq eq$' "$work/all") eq, $(grep -c ' lt lt$' "$work/all") lt," \
    "$(grep -c ' gt gt$' "$work/all") gt)"

# --- 2. validity of tricky strings -------------------------------------------

# No blanks here: versions with blanks are refused on purpose although dpkg
# trims leading and trailing ones (unit test test_vercmp covers them).
tricky=(
    1.0 0 1:1.0 0:0 00:1 +1:1.0 -0:1 -1:1 +:1 :1 1: a:1 0x1:1 1.0:2 1:2:3 1:1:
    2147483647:1 2147483648:1 99999999999999999999:1 -99999999999999999999:1
    1.0- 1:1- -1 1:-1 1.0-1-2 1.0-r~ 1.0-~ 1.0-a_b 1.0-1:2 1:1.0-1.5:1
    a1 ~1 1:a 1_0 1.0_1 1.0@ 1.0/1 '1.0=1' 1.0~rc1+dfsg-0ubuntu1~22.04.1
    7.88.1-10+deb12u5 2:8.2.3995-1ubuntu2.15 1ABC~+.-x 1.0-. 1.0-+ 1:0-0
)
vchecked=0
for v in "${tricky[@]}"; do
    if printf '%s 0\n' "$v" | "$tool" cmp >/dev/null 2>&1; then
        ours=valid
    else
        ours=invalid
    fi
    said=$(dpkg --compare-versions -- "$v" eq 0 2>&1)
    if [[ $said == *"bad syntax"* ]]; then
        theirs=invalid
    else
        theirs=valid
    fi
    if [[ $ours != "$theirs" ]]; then
        echo "FAIL: '$v': att says $ours, dpkg says $theirs"
        fail=1
    fi
    vchecked=$((vchecked + 1))
done
echo "$vchecked tricky strings: validity checked against dpkg"

echo "test_vercmp_dpkg: $((SECONDS - start)) s"
if ((fail)); then
    echo "FAILED"
    exit 1
fi
echo "PASSED"
