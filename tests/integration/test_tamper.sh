#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# In-transit attacks (DESIGN §3: the network is not trusted). The tamper
# proxy (tests/tools/att_tamper_proxy.c) sits between attest-verify and an
# honest agent and changes the evidence; every change must be caught:
#   alter-entry -> log-template-digest (or log-replay-mismatch)
#   drop-entry, swap-entries -> log-replay-mismatch
#   truncate-log -> log-malformed
#   forge-entry (a record rebuilt whole with another digest) -> log-replay-mismatch
#   splice (this host's quote, another host's log) -> log-replay-mismatch
#   replay (an old answer to a new nonce) -> quote ... nonce
#   foreign (another TPM's quote over the right nonce) -> quote ... signature
#   garbage, bad-cbor-field -> exit 2 "malformed evidence"
#   another TPM behind a pinned URL -> ak-changed
# Each attack exits 1 (untrusted) unless said otherwise, and a pass-through
# proxy first proves that the proxy alone changes nothing.

. "$(dirname "$0")/lib.sh"

FILES=$T_DIR/files
POLICY=$T_DIR/policy.json
mkdir -p "$FILES"

# attack NAME EXIT "TEXT..." -- MODE [ARGS]: run one attestation through a
# fresh proxy in MODE; expect EXIT and every TEXT in the output, and the
# proxy's own log to show that it did tamper (PROXY_SAYS).
PROXY_SAYS=""
attack() {
    local name=$1 want=$2 t
    shift 2
    local -a texts=()
    while (($#)) && [[ $1 != -- ]]; do
        texts+=("$1")
        shift
    done
    shift
    section "attack: $*"
    start_proxy "$name" "${AGENT_URL[a]}" "$@"
    verify_host "$want" "${PROXY_URL[$name]}" "$POLICY"
    for t in "${texts[@]}"; do
        assert_contains "$T_OUT" "$t" "$name: output says \"$t\""
    done
    case $want in
        0) assert_contains "$T_OUT" "verdict: trusted" "$name: verdict: trusted" ;;
        1) assert_contains "$T_OUT" "verdict: untrusted" "$name: verdict: untrusted" ;;
        *) assert_not_contains "$T_OUT" "verdict:" "$name: an error, not a verdict" ;;
    esac
    if [[ -n $PROXY_SAYS ]]; then
        assert_contains "$(proxy_log "$name")" "$PROXY_SAYS" "$name: the proxy did tamper"
    fi
    stop_proxy "$name"
    PROXY_SAYS=""
}

start_rig 2
start_agent a "$(rig_tcti 1)" --agent-id tamper-a
start_agent b "$(rig_tcti 2)" --agent-id tamper-b
for i in 0 1 2 3; do
    printf 'file %d\n' "$i" >"$FILES/f$i"
done
measure a "$FILES/f0" "$FILES/f1" "$FILES/f2" "$FILES/f3"
measure b "$FILES/f0" "$FILES/f1"
policy_for "$POLICY" "$FILES/f0" "$FILES/f1" "$FILES/f2" "$FILES/f3"

section "baselines: both agents directly, and agent A through a pass-through proxy"
verify_host 0 "${AGENT_URL[a]}" "$POLICY"
assert_contains "$T_OUT" "4 log entries checked" "agent A: 4 entries"
verify_host 0 "${AGENT_URL[b]}" "$POLICY"
assert_contains "$T_OUT" "verdict: trusted" "agent B is trusted on its own"
attack pass 0 "verdict: trusted" -- pass

# ---------------------------------------------------------------------------
PROXY_SAYS="flipped the last d-ng digest byte of record 1"
attack alter 1 "FAIL log-" -- alter-entry 1
assert_match "$T_OUT" "FAIL log-(template-digest|replay-mismatch)" \
    "alter-entry: FAIL log-template-digest or log-replay-mismatch"
assert_not_contains "$T_OUT" "FAIL quote" "alter-entry: the quote itself is still fine"

PROXY_SAYS="flipped the last d-ng digest byte of record 3"
attack alter-last 1 "FAIL log-" -- alter-entry 3
assert_match "$T_OUT" "FAIL log-(template-digest|replay-mismatch)" \
    "alter-entry on the last record: caught"

PROXY_SAYS="dropped record 1 of 4"
attack drop 1 "FAIL log-replay-mismatch" -- drop-entry 1

PROXY_SAYS="dropped record 3 of 4"
attack drop-last 1 "FAIL log-replay-mismatch" -- drop-entry 3

PROXY_SAYS="swapped records 0 and 2 of 4"
attack swap 1 "FAIL log-replay-mismatch" -- swap-entries 0 2

PROXY_SAYS="truncated the log"
attack truncate 1 "FAIL log-malformed" -- truncate-log

# A substitution that rebuilds the record whole (template digest included):
# only the replay against the quoted PCR can catch it.
PROXY_SAYS="forged record 1 of 4"
attack forge 1 "FAIL log-replay-mismatch" -- forge-entry 1
assert_not_contains "$T_OUT" "log-template-digest" "forge: the forged record is self-consistent"
assert_not_contains "$T_OUT" "FAIL quote" "forge: the quote itself is genuine"

# ---------------------------------------------------------------------------
section "attack: replay"
start_proxy replay "${AGENT_URL[a]}" replay
verify_host 0 "${PROXY_URL[replay]}" "$POLICY"
assert_contains "$T_OUT" "verdict: trusted" "replay: the first (recorded) attestation is genuine"
verify_host 1 "${PROXY_URL[replay]}" "$POLICY"
assert_match "$T_OUT" "FAIL quote: .*nonce" "replay: FAIL quote ... nonce"
assert_contains "$(proxy_log replay)" "replaying the first evidence answer" \
    "replay: the proxy did replay"
stop_proxy replay

PROXY_SAYS="sending the evidence request to the foreign agent ${AGENT_URL[b]}"
attack foreign 1 "FAIL quote" -- foreign "${AGENT_URL[b]}"
assert_match "$T_OUT" "FAIL quote: .*signature" "foreign: FAIL quote ... signature"

# A's genuine quote with B's log (f0, f1: every entry allowed by the policy).
PROXY_SAYS="spliced the second agent's log"
attack splice 1 "FAIL log-replay-mismatch" -- splice "${AGENT_URL[b]}"
assert_not_contains "$T_OUT" "FAIL quote" "splice: A's quote itself is genuine"

PROXY_SAYS="cut \"attest\" to 3 bytes"
attack short-attest 1 "FAIL quote" -- short-attest

# ---------------------------------------------------------------------------
PROXY_SAYS="answering with 256 random bytes"
attack garbage 2 "malformed evidence" -- garbage

PROXY_SAYS="replaced \"attest\" with the text string"
attack bad-field 2 "malformed evidence" "attest" -- bad-cbor-field

# ---------------------------------------------------------------------------
section "the proxy's own errors are clean"
PROXY=$ATT_BIN/att_tamper_proxy
PF=$T_DIR/proxies/unused.port
expect_cmd 2 "proxy without arguments" "$PROXY"
assert_contains "$T_OUT" "usage:" "proxy: usage on bad flags"
expect_cmd 2 "proxy with an unknown mode" "$PROXY" --upstream "${AGENT_URL[a]}" \
    --port-file "$PF" --mode eat-packets
assert_contains "$T_OUT" "eat-packets" "proxy: the unknown mode is named"
expect_cmd 2 "proxy alter-entry without N" "$PROXY" --upstream "${AGENT_URL[a]}" \
    --port-file "$PF" --mode alter-entry
expect_cmd 2 "proxy alter-entry abc" "$PROXY" --upstream "${AGENT_URL[a]}" --port-file "$PF" \
    --mode alter-entry abc
expect_cmd 2 "proxy swap-entries 1 1" "$PROXY" --upstream "${AGENT_URL[a]}" --port-file "$PF" \
    --mode swap-entries 1 1
expect_cmd 2 "proxy with a non-http upstream" "$PROXY" --upstream "ftp://127.0.0.1:1" \
    --port-file "$PF" --mode pass
expect_cmd 0 "proxy --help" "$PROXY" --help
if [[ -e $PF ]]; then
    fail "a proxy that refused its flags still wrote $PF"
else
    pass "no proxy that refused its flags wrote a port file"
fi

section "the proxy reports what it cannot do"
start_proxy range "${AGENT_URL[a]}" alter-entry 99
verify_host 2 "${PROXY_URL[range]}" "$POLICY"
assert_contains "$T_OUT" "HTTP 502" "alter-entry 99 on a 4-entry log: 502"
assert_contains "$T_OUT" "no record 99" "alter-entry 99: the reason reaches attest-verify"
stop_proxy range
start_proxy dead "http://127.0.0.1:1" pass
verify_host 2 "${PROXY_URL[dead]}" "$POLICY"
assert_contains "$T_OUT" "HTTP 502" "an unreachable upstream: 502"
stop_proxy dead

# ---------------------------------------------------------------------------
section "ak-changed: another TPM appears behind a pinned URL"
start_proxy pin "${AGENT_URL[a]}" pass
PIN_PORT=${PROXY_PORT[pin]}
verify_host 0 "${PROXY_URL[pin]}" "$POLICY"
assert_contains "$T_OUT" "ak-tofu" "agent A's AK is pinned on first use"
verify_host 0 "${PROXY_URL[pin]}" "$POLICY"
assert_contains "$T_OUT" "ak-pinned" "the second attestation matches the pin"
stop_proxy pin
start_proxy pin "${AGENT_URL[b]}" --port "$PIN_PORT" pass
assert_eq "${PROXY_PORT[pin]}" "$PIN_PORT" "the new proxy took over the pinned port"
verify_host 1 "${PROXY_URL[pin]}" "$POLICY"
assert_contains "$T_OUT" "FAIL ak-changed" "agent B behind A's URL: FAIL ak-changed"
assert_contains "$T_OUT" "verdict: untrusted (1 failure)" \
    "agent B's own evidence is fine: the pin alone catches it"
stop_proxy pin

section "ak-changed without a proxy: agent B restarted on agent A's port"
verify_host 0 "${AGENT_URL[a]}" "$POLICY"
assert_contains "$T_OUT" "ak-pinned" "agent A's own URL is pinned"
A_URL=${AGENT_URL[a]}
A_PORT=${AGENT_PORT[a]}
stop_agent a
stop_agent b
start_agent b "$(rig_tcti 2)" --agent-id tamper-b --listen "127.0.0.1:$A_PORT"
assert_eq "${AGENT_URL[b]}" "$A_URL" "agent B now listens on agent A's old URL"
verify_host 1 "$A_URL" "$POLICY"
assert_contains "$T_OUT" "FAIL ak-changed" "FAIL ak-changed"

section "shutdown"
stop_agent b
finish
