#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test_rig.sh: integration test of the swtpm test rig (swtpm-setup/rig).
#
# Brings up real swtpms and checks what the other tests rely on: distinct
# ports and EKs per host, EK certificates in NV that chain to DIR/ca, refusal
# of a second "up", reboot and resume semantics of stop/start, a clean "down",
# two rigs at once, and errors on bad arguments. Run by ctest as
# "bash test_rig.sh" with ATT_SRC (repo root) and ATT_BIN (unused here).
# Ends with "N passed, M failed"; exits non-zero if anything failed.
#
# Not "set -e": every check handles its own failure, so the summary always
# prints.
set -uo pipefail

src=${ATT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
rig=$src/swtpm-setup/rig
work=$(mktemp -d "${TMPDIR:-/tmp}/att-test-rig.XXXXXX") || exit 1
passed=0
failed=0

readonly NV_EK_RSA=0x01c00002
readonly NV_EK_ECC=0x01c0000a

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
    local d
    for d in "$work"/*/; do
        [[ -f $d/hosts ]] && "$rig" down "$d" >/dev/null 2>&1
    done
    rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass() {
    passed=$((passed + 1))
    printf 'ok - %s\n' "$1"
}

# fail DESC [DETAILS]
fail() {
    failed=$((failed + 1))
    printf 'FAIL - %s\n' "$1"
    if [[ -n ${2-} ]]; then
        printf '%s\n' "$2" | sed 's/^/    /'
    fi
}

summary() {
    printf '%d passed, %d failed\n' "$passed" "$failed"
}

# check DESC CMD...: CMD must succeed. Its output is shown only on failure.
check() {
    local desc=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$desc"
    else
        fail "$desc" "$out"
    fi
}

# check_error DESC CMD...: CMD must fail and say why on stderr.
check_error() {
    local desc=$1 err rc=0
    shift
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    if ((rc != 0)) && [[ -n $err ]]; then
        pass "$desc (exit $rc: ${err%%$'\n'*})"
    else
        fail "$desc" "exit status $rc, stderr '$err'"
    fi
}

# Stop here (with the summary) when a check that the rest depends on failed.
require_ok() {
    if ((failed > 0)); then
        printf 'Bail out: cannot continue after that failure\n'
        summary
        exit 1
    fi
}

# tpm RIGDIR K CMD...: run a tpm2-tools command against host K of a rig.
tpm() {
    local d=$1 k=$2
    shift 2
    TPM2TOOLS_TCTI=$(cat -- "$d/host-$k/tcti") "$@"
}

reset_count() {
    tpm "$1" "$2" tpm2_readclock | awk '$1 == "reset_count:" { print $2 }'
}

pcr15() {
    tpm "$1" "$2" tpm2_pcrread sha256:15 | awk '$1 == "15:" { print $2 }'
}

# The pids of swtpm processes whose command line mentions directory $1.
# Zombies have an empty command line and do not count.
swtpm_pids_of() {
    local p cmd
    for p in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
        if [[ $cmd == swtpm* && $cmd == *"$1/"* ]]; then
            printf '%s\n' "${p#/proc/}"
        fi
    done
}

# Host K's tcti file holds exactly "swtpm:host=127.0.0.1,port=P" (no
# newline), P is its port file, and the swtpm answers there.
tcti_ok() {
    local d=$1 k=$2 port
    port=$(cat -- "$d/host-$k/port") || return 1
    [[ $port =~ ^[0-9]+$ ]] || { echo "bad port '$port'"; return 1; }
    [[ "$(cat -- "$d/host-$k/tcti"; printf x)" == "swtpm:host=127.0.0.1,port=${port}x" ]] ||
        { echo "tcti file: '$(cat -- "$d/host-$k/tcti")'"; return 1; }
    tpm "$d" "$k" tpm2_getcap properties-fixed >/dev/null
}

# ek_matches_cert RIGDIR K ALG NV: the EK that tpm2_createek derives for ALG
# (TCG default template) is the key certified in NV index NV. Leaves the
# public key in $work/ek-K-ALG.pem. Flushes the transient EK (no resource
# manager in front of swtpm).
ek_matches_cert() {
    local d=$1 k=$2 alg=$3 nv=$4 t=$work/ek-$2-$3 rc=0
    tpm "$d" "$k" tpm2_createek -G "$alg" -c "$t.ctx" -u "$t.tpm.pem" -f pem >/dev/null || return 1
    tpm "$d" "$k" tpm2_flushcontext -t || return 1
    tpm "$d" "$k" tpm2_nvread "$nv" -C o -o "$t.der" 2>/dev/null || return 1
    openssl pkey -pubin -in "$t.tpm.pem" -out "$work/ek-$k-$alg.pem" || return 1
    openssl x509 -inform DER -in "$t.der" -noout -pubkey >"$t.cert.pem" || return 1
    cmp -s "$work/ek-$k-$alg.pem" "$t.cert.pem" || { echo "EK and certificate differ"; rc=1; }
    return "$rc"
}

# cert_verifies RIGDIR K NV: the DER certificate in NV index NV verifies
# against root.pem with intermediate.pem, and against chain.pem, but not
# against root.pem alone (so the chain really has two levels).
cert_verifies() {
    local d=$1 k=$2 nv=$3 pem=$work/cert-$2-$3.pem
    tpm "$d" "$k" tpm2_nvread "$nv" -C o 2>/dev/null | openssl x509 -inform DER -out "$pem" || return 1
    openssl verify -CAfile "$d/ca/root.pem" -untrusted "$d/ca/intermediate.pem" "$pem" || return 1
    openssl verify -CAfile "$d/ca/chain.pem" "$pem" || return 1
    if openssl verify -CAfile "$d/ca/root.pem" "$pem" >/dev/null 2>&1; then
        echo "verified without the intermediate"
        return 1
    fi
}

root_is_self_signed() {
    local ca=$1/ca
    [[ $(openssl x509 -in "$ca/root.pem" -noout -subject) == \
        "subject=$(openssl x509 -in "$ca/root.pem" -noout -issuer | sed 's/^issuer=//')" ]] || return 1
    openssl verify -CAfile "$ca/root.pem" "$ca/root.pem" &&
        openssl verify -CAfile "$ca/root.pem" "$ca/intermediate.pem"
}

status_is() {
    local d=$1 k=$2 want=$3 line
    line=$("$rig" status "$d" | awk -v h="host-$k" '$1 == h') || return 1
    [[ $line == *" $want" ]] || { echo "status line: '$line'"; return 1; }
}

# ---------------------------------------------------------------- up, 2 hosts
R=$work/rig
check "rig up --hosts 2" "$rig" up "$R" --hosts 2
require_ok
check "host-1 tcti file is exact and the TPM answers" tcti_ok "$R" 1
check "host-2 tcti file is exact and the TPM answers" tcti_ok "$R" 2
port1=$(cat -- "$R/host-1/port")
port2=$(cat -- "$R/host-2/port")
if [[ $port1 != "$port2" ]]; then
    pass "hosts have distinct ports ($port1, $port2)"
else
    fail "hosts have distinct ports" "both use $port1"
fi
check "status shows host-1 up" status_is "$R" 1 up
check "status shows host-2 up" status_is "$R" 2 up

# ------------------------------------------------------------ EKs and certs
for k in 1 2; do
    check "host-$k: RSA EK matches its certificate in NV $NV_EK_RSA" \
        ek_matches_cert "$R" "$k" rsa "$NV_EK_RSA"
    check "host-$k: ECC EK matches its certificate in NV $NV_EK_ECC" \
        ek_matches_cert "$R" "$k" ecc "$NV_EK_ECC"
done
for alg in rsa ecc; do
    if [[ -s $work/ek-1-$alg.pem ]] && ! cmp -s "$work/ek-1-$alg.pem" "$work/ek-2-$alg.pem"; then
        pass "hosts have distinct $alg EKs"
    else
        fail "hosts have distinct $alg EKs"
    fi
done
check "ca/root.pem is self-signed and issued ca/intermediate.pem" root_is_self_signed "$R"
for k in 1 2; do
    for nv in "$NV_EK_RSA" "$NV_EK_ECC"; do
        check "host-$k: EK certificate in NV $nv verifies against ca/root.pem + intermediate" \
            cert_verifies "$R" "$k" "$nv"
    done
done

# ------------------------------------------------------- second up refused
check_error "up on a live rig fails" "$rig" up "$R" --hosts 2
if [[ $("$rig" up "$R" 2>&1) == *"already up"* ]]; then
    pass "the message says the rig is already up"
else
    fail "the message says the rig is already up"
fi
if [[ $(cat -- "$R/host-1/port") == "$port1" ]] && tcti_ok "$R" 1 >/dev/null 2>&1 &&
    tcti_ok "$R" 2 >/dev/null 2>&1; then
    pass "the refused up left the running hosts alone"
else
    fail "the refused up left the running hosts alone"
fi

# ---------------------------------------------------- stop/start = reboot
ones=$(printf '1%.0s' {1..64})
check "extend PCR 15 on host-1" tpm "$R" 1 tpm2_pcrextend "15:sha256=$ones"
pcr_before=$(pcr15 "$R" 1)
reset_before=$(reset_count "$R" 1)
check "rig stop host-1" "$rig" stop "$R" 1
check "status shows host-1 down" status_is "$R" 1 down
check "host-2 still up while host-1 is stopped" tcti_ok "$R" 2
check "rig stop on a stopped host is OK" "$rig" stop "$R" 1
check "rig start host-1" "$rig" start "$R" 1
check "host-1 is back on the same port" tcti_ok "$R" 1
if [[ $(cat -- "$R/host-1/port") == "$port1" ]]; then
    pass "host-1 port unchanged ($port1)"
else
    fail "host-1 port unchanged" "was $port1, now $(cat -- "$R/host-1/port")"
fi
reset_after=$(reset_count "$R" 1)
if [[ $reset_before =~ ^[0-9]+$ ]] && ((reset_after == reset_before + 1)); then
    pass "start increments resetCount ($reset_before -> $reset_after)"
else
    fail "start increments resetCount" "before '$reset_before', after '$reset_after'"
fi
pcr_after=$(pcr15 "$R" 1)
if [[ $pcr_before != 0x0000000000000000000000000000000000000000000000000000000000000000 &&
    $pcr_after == 0x0000000000000000000000000000000000000000000000000000000000000000 ]]; then
    pass "PCR 15 is zero again after start"
else
    fail "PCR 15 is zero again after start" "before $pcr_before, after $pcr_after"
fi
check_error "start on a running host fails" "$rig" start "$R" 1

# ------------------------------------------------ stop/start --no-reset = resume
check "extend PCR 15 on host-1 again" tpm "$R" 1 tpm2_pcrextend "15:sha256=$ones"
pcr_before=$(pcr15 "$R" 1)
reset_before=$(reset_count "$R" 1)
check "rig stop host-1 (for resume)" "$rig" stop "$R" 1
check "rig start --no-reset host-1" "$rig" start "$R" 1 --no-reset
reset_after=$(reset_count "$R" 1)
pcr_after=$(pcr15 "$R" 1)
if [[ -n $reset_after && $reset_after == "$reset_before" && -n $pcr_after && $pcr_after == "$pcr_before" ]]; then
    pass "start --no-reset keeps resetCount and PCR 15"
else
    fail "start --no-reset keeps resetCount and PCR 15" \
        "resetCount $reset_before -> $reset_after, PCR 15 $pcr_before -> $pcr_after"
fi

# ------------------------------------------------------------------- down
check "rig down" "$rig" down "$R"
left=$(swtpm_pids_of "$R")
if [[ -z $left ]]; then
    pass "no swtpm of the rig is left after down"
else
    fail "no swtpm of the rig is left after down" "pids: $left"
fi
check "status shows host-1 down after down" status_is "$R" 1 down
check "status shows host-2 down after down" status_is "$R" 2 down
if [[ ! -e $R/host-1/swtpm.pid && ! -e $R/host-2/swtpm.pid && -s $R/host-1/state/tpm2-00.permall ]]; then
    pass "down removed the pid files and kept the TPM state"
else
    fail "down removed the pid files and kept the TPM state"
fi
check "rig down on a rig that is down is OK" "$rig" down "$R"

# ------------------------------------------------------- two rigs at once
A=$work/rig-a
B=$work/rig-b
"$rig" up "$A" >"$work/a.out" 2>&1 &
pid_a=$!
"$rig" up "$B" >"$work/b.out" 2>&1 &
pid_b=$!
rc_a=0
rc_b=0
wait "$pid_a" || rc_a=$?
wait "$pid_b" || rc_b=$?
if ((rc_a == 0 && rc_b == 0)); then
    pass "two rigs come up in parallel"
else
    fail "two rigs come up in parallel" "$(cat "$work/a.out" "$work/b.out")"
fi
if [[ -s $A/host-1/port && -s $B/host-1/port && $(cat "$A/host-1/port") != "$(cat "$B/host-1/port")" ]]; then
    pass "parallel rigs use distinct ports"
else
    fail "parallel rigs use distinct ports"
fi
check "parallel rig A answers" tcti_ok "$A" 1
check "parallel rig B answers" tcti_ok "$B" 1
check "parallel rig A down" "$rig" down "$A"
check "parallel rig B down" "$rig" down "$B"

# --------------------------------------------------------------- bad args
mkdir -p -- "$work/not-a-rig"
check_error "no arguments" "$rig"
check_error "unknown command" "$rig" frobnicate "$work/x"
check_error "up --hosts 0" "$rig" up "$work/bad0" --hosts 0
check_error "up --hosts abc" "$rig" up "$work/bad1" --hosts abc
check_error "up --hosts 257" "$rig" up "$work/bad2" --hosts 257
check_error "up --hosts without a number" "$rig" up "$work/bad3" --hosts
check_error "up without DIR" "$rig" up
check_error "up with an unknown option" "$rig" up "$work/bad4" --frob
check_error "down without DIR" "$rig" down
check_error "status without DIR" "$rig" status
check_error "status of a directory that is not a rig" "$rig" status "$work/not-a-rig"
check_error "stop without K" "$rig" stop "$R"
check_error "stop K=0" "$rig" stop "$R" 0
check_error "stop K beyond the rig" "$rig" stop "$R" 3
check_error "start K=abc" "$rig" start "$R" abc
check_error "start with an unknown option" "$rig" start "$R" 1 --frob
if [[ ! -e $work/bad0 && ! -e $work/bad1 && ! -e $work/bad2 ]]; then
    pass "rejected up commands created nothing"
else
    fail "rejected up commands created nothing"
fi

summary
((failed == 0))
