#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end on the swtpm rig: agent measures files, attest-verify attests it.
# - honest host: exit 0, "verdict: trusted", --json parses with the verdict;
# - --save-evidence: tpm2_checkquote and evmctl (independent tools) accept the
#   evidence, and reject a copy with a wrong nonce, a changed quote or a
#   changed log byte;
# - a file not in policy -> FAIL not-in-policy; a changed file measured again
#   -> FAIL digest-mismatch naming the path; both exit 1.
# Three TPMs, one agent each: ECC AK under the RSA EK (defaults), RSA AK
# (--ak-alg rsa), ECC AK under the ECC EK (--ek-alg ecc).

. "$(dirname "$0")/lib.sh"

FILES=$T_DIR/files
mkdir -p "$FILES"

# json_verdict FILE: print the "verdict" of attest-verify --json output, or
# nothing if the file is not JSON. python3 if present, then jq, then grep.
json_verdict() {
    local f=$1 v=""
    if command -v python3 >/dev/null 2>&1; then
        v=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdict"])' "$f" \
            2>/dev/null)
    fi
    if [[ -z $v ]] && command -v jq >/dev/null 2>&1; then
        v=$(jq -er .verdict "$f" 2>/dev/null)
    fi
    if [[ -z $v ]] && ! command -v python3 >/dev/null 2>&1 && ! command -v jq >/dev/null 2>&1; then
        # No JSON parser: at least one object, and a "verdict" string in it.
        if [[ $(head -c1 "$f") == "{" && $(tail -c2 "$f" | head -c1) == "}" ]]; then
            v=$(sed -n 's/^ *"verdict": *"\([a-z]*\)".*/\1/p' "$f" | head -n1)
        fi
    fi
    printf '%s\n' "$v"
}

assert_json_verdict() {
    local f=$1 want=$2 got
    got=$(json_verdict "$f")
    if [[ $got == "$want" ]]; then
        pass "--json output parses and has \"verdict\": \"$want\""
    else
        fail "--json output: expected parseable JSON with verdict \"$want\", got \"$got\""
        show_file "$f"
    fi
}

# check_saved_evidence DIR LABEL: the independent tools accept DIR's evidence
# and reject tampered copies of it.
check_saved_evidence() {
    local d=$1 label=$2 nonce bad
    for f in quote.msg quote.sig quote.pcrs nonce.hex ak.pub.pem log.bin pcrs.evmctl; do
        if [[ ! -s $d/$f ]]; then
            fail "$label: --save-evidence wrote no $f" "$(ls -l "$d" 2>&1)"
            return
        fi
    done
    pass "$label: --save-evidence wrote quote.msg quote.sig quote.pcrs nonce.hex ak.pub.pem log.bin pcrs.evmctl"
    nonce=$(tr -d '\n' <"$d/nonce.hex")
    expect_cmd 0 "$label: tpm2_checkquote accepts the saved quote" \
        tpm2_checkquote -u "$d/ak.pub.pem" -m "$d/quote.msg" -s "$d/quote.sig" \
        -f "$d/quote.pcrs" -q "$nonce" -g sha256
    expect_cmd 0 "$label: evmctl ima_measurement accepts the saved log" \
        evmctl ima_measurement --pcrs "sha256,$d/pcrs.evmctl" "$d/log.bin"

    # A wrong nonce: change the last hex digit.
    bad=${nonce%?}$([[ ${nonce: -1} == 0 ]] && echo 1 || echo 0)
    assert_fails "$label: tpm2_checkquote rejects a wrong nonce" \
        tpm2_checkquote -u "$d/ak.pub.pem" -m "$d/quote.msg" -s "$d/quote.sig" \
        -f "$d/quote.pcrs" -q "$bad" -g sha256
    assert_contains "$T_OUT" "nonce" "$label: tpm2_checkquote says the nonce is wrong"

    # A changed quote body (the last byte of the PCR digest) no longer verifies.
    cp "$d/quote.msg" "$d/quote-bad.msg"
    flip_byte "$d/quote-bad.msg" $(($(stat -c %s "$d/quote.msg") - 1))
    assert_fails "$label: tpm2_checkquote rejects a quote with one byte changed" \
        tpm2_checkquote -u "$d/ak.pub.pem" -m "$d/quote-bad.msg" -s "$d/quote.sig" \
        -f "$d/quote.pcrs" -q "$nonce" -g sha256

    # One byte of the first record's file digest changed (offset 59: after pcr,
    # template digest, name length, "ima-ng", data and d-ng lengths, "sha256:\0").
    cp "$d/log.bin" "$d/log-bad.bin"
    flip_byte "$d/log-bad.bin" 59
    if cmp -s "$d/log.bin" "$d/log-bad.bin"; then
        fail "$label: flip_byte did not change log-bad.bin"
    fi
    assert_fails "$label: evmctl rejects the log with one byte changed" \
        evmctl ima_measurement --pcrs "sha256,$d/pcrs.evmctl" "$d/log-bad.bin"
}

# flip_byte FILE OFFSET: xor one byte with 0x01.
flip_byte() {
    local f=$1 off=$2 b
    b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# The honest path for one agent: trusted, JSON, saved evidence, the
# independent tools, and the key types the flags asked for.
honest_host() {
    local name=$1 label=$2 ak_alg=$3 ek_alg=$4 url=${AGENT_URL[$1]} ev=$T_DIR/ev-$1
    section "$label: honest host"
    measure "$name" "$FILES/$name-a" "$FILES/$name-b"
    policy_for "$T_DIR/policy-$name.json" "$FILES/$name-a" "$FILES/$name-b"
    verify_host 0 "$url" "$T_DIR/policy-$name.json"
    assert_contains "$T_OUT" "verdict: trusted" "$label: verdict: trusted"
    assert_contains "$T_OUT" "2 log entries checked" "$label: both measurements are in the log"
    assert_not_contains "$T_OUT" "FAIL" "$label: no FAIL findings"

    verify_host 0 "$url" "$T_DIR/policy-$name.json" --json
    cp "$T_OUT" "$T_DIR/verdict-$name.json"
    assert_json_verdict "$T_DIR/verdict-$name.json" trusted

    verify_host 0 "$url" "$T_DIR/policy-$name.json" --save-evidence "$ev"
    check_saved_evidence "$ev" "$label"

    # The flags really chose the key types.
    if [[ $ak_alg == rsa ]]; then
        expect_cmd 0 "$label: ak.pub.pem is readable" openssl pkey -pubin -in "$ev/ak.pub.pem" \
            -noout -text
        assert_contains "$T_OUT" "Public-Key: (2048 bit)" "$label: the AK is RSA-2048"
    else
        expect_cmd 0 "$label: ak.pub.pem is readable" openssl pkey -pubin -in "$ev/ak.pub.pem" \
            -noout -text
        assert_contains "$T_OUT" "prime256v1" "$label: the AK is ECC P-256"
    fi
    # identity.cbor holds the text key "ek_alg" then the 3-byte text (0x63 = 'c') value.
    assert_contains "$ev/identity.cbor" "ek_algc$ek_alg" "$label: identity reports ek_alg $ek_alg"
}

# ---------------------------------------------------------------------------

start_rig 3
for n in ecc rsa ekecc; do
    printf 'file a of %s\n' "$n" >"$FILES/$n-a"
    printf 'file b of %s\n' "$n" >"$FILES/$n-b"
done
start_agent ecc "$(rig_tcti 1)" --agent-id e2e-ecc
start_agent rsa "$(rig_tcti 2)" --agent-id e2e-rsa --ak-alg rsa
start_agent ekecc "$(rig_tcti 3)" --agent-id e2e-ekecc --ek-alg ecc

honest_host ecc "ECC AK, RSA EK" ecc rsa
honest_host rsa "RSA AK" rsa rsa
honest_host ekecc "ECC AK, ECC EK" ecc ecc

section "ECC AK: a file that is not in the policy"
printf 'unexpected\n' >"$FILES/stranger"
measure ecc "$FILES/stranger"
verify_host 1 "${AGENT_URL[ecc]}" "$T_DIR/policy-ecc.json"
assert_match "$T_OUT" "^  FAIL not-in-policy: .*$FILES/stranger" \
    "FAIL not-in-policy names $FILES/stranger"
assert_contains "$T_OUT" "verdict: untrusted (1 failure)" "exactly one failure"
verify_host 1 "${AGENT_URL[ecc]}" "$T_DIR/policy-ecc.json" --json
cp "$T_OUT" "$T_DIR/verdict-untrusted.json"
assert_json_verdict "$T_DIR/verdict-untrusted.json" untrusted

section "ECC AK: a measured file changes and is measured again"
policy_for "$T_DIR/policy-ecc2.json" "$FILES/ecc-a" "$FILES/ecc-b" "$FILES/stranger"
verify_host 0 "${AGENT_URL[ecc]}" "$T_DIR/policy-ecc2.json"
printf 'tampered content\n' >>"$FILES/ecc-a"
measure ecc "$FILES/ecc-a"
assert_contains "$T_OUT" "measured sha256:" "the changed file is logged as a new measurement"
verify_host 1 "${AGENT_URL[ecc]}" "$T_DIR/policy-ecc2.json"
assert_match "$T_OUT" "^  FAIL digest-mismatch: .*$FILES/ecc-a" \
    "FAIL digest-mismatch names $FILES/ecc-a"
assert_contains "$T_OUT" "verdict: untrusted (1 failure)" "exactly one failure"

section "RSA AK: a changed file is caught too"
printf 'tampered content\n' >>"$FILES/rsa-b"
measure rsa "$FILES/rsa-b"
verify_host 1 "${AGENT_URL[rsa]}" "$T_DIR/policy-rsa.json"
assert_match "$T_OUT" "^  FAIL digest-mismatch: .*$FILES/rsa-b" \
    "RSA AK: FAIL digest-mismatch names $FILES/rsa-b"

section "shutdown"
stop_agent ecc
stop_agent rsa
stop_agent ekecc
finish
