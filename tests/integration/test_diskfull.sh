#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The agent's disk full (issue 7, faults): its state dir is a real 2 MiB
# tmpfs that the test fills, with a verifier polling over mTLS.
# - measurement fails closed: "attest-agent measure" exits non-zero naming
#   "No space left on device", the prestart hook refuses a start naming it,
#   and the file on disk is exactly what it was (no partial record);
# - the quote says the log is degraded: the agent keeps a "log-gap" record
#   in memory, extended into the PCR, so the verifier turns the host
#   untrusted with code log-gap naming the time and the error, while the
#   log still replays to the quoted PCR (no replay or inconsistency finding);
# - nothing is silently dropped: with room again the next measurement writes
#   the gap's opening record, a closing one with the refused count, then
#   itself; the host stays untrusted for this boot (what ran in the gap is
#   not attested), also across an agent restart, which finds the log
#   consistent with the TPM;
# - SIGKILL while degraded loses the in-memory gap record but not its
#   extend: the restarted agent reports its log inconsistent with the TPM
#   and the verifier finds the log does not replay to the quoted PCR;
# - a gap that cannot be closed (room again, but the TPM is down) keeps
#   starts refused, naming the TPM; with the TPM back the hook closes it.

. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null 2>&1 || die "jq is needed to read the dashboard API's JSON"

FILES=$T_DIR/files
mkdir -p "$FILES"
MNT=$T_DIR/agents/d
DB=$T_DIR/verifier.db
AGENT=$ATT_BIN/attest-agent

# The tmpfs goes before lib.sh's EXIT trap removes T_DIR (lazily: the agent
# may still hold files there until the trap stops it).
_df_rc=0
trap '_df_rc=$?; umount -l "$MNT" 2>/dev/null; (exit $_df_rc); _t_on_exit' EXIT

# shellcheck disable=SC2317 # called through wait_until
reason_has() {
    [[ $(host_field h1 .verdict_reason) == *"$1"* ]]
}

# fill: write zeroes until the tmpfs is full.
fill() {
    dd if=/dev/zero of="$MNT/fill" bs=4k >/dev/null 2>&1 || true
    if dd if=/dev/zero of="$MNT/probe" bs=4k count=1 >/dev/null 2>&1; then
        die "the tmpfs at $MNT still takes writes after filling it"
    fi
    rm -f "$MNT/probe"
}

# refuse_one: measure filler files until the agent refuses one (a full disk
# still takes writes into the log file's last allocated page). Sets
# REFUSED_OUT (its output) and LOG_SIZE (the file's size before it).
NEXT_G=1
refuse_one() {
    REFUSED_OUT=$T_DIR/out/refused-$NEXT_G.txt
    while ((NEXT_G <= 160)); do
        LOG_SIZE=$(stat -c %s "$MNT/measurements.bin")
        if ! "$AGENT" measure --state-dir "$MNT" "$FILES/g$NEXT_G" >"$REFUSED_OUT" 2>&1; then
            pass "measure with the disk full: g$NEXT_G refused"
            NEXT_G=$((NEXT_G + 1))
            return 0
        fi
        NEXT_G=$((NEXT_G + 1))
    done
    fail "the agent never refused a measurement with its disk full"
    return 1
}

# restart_d: agent d again, on the port the verifier enrolled.
restart_d() {
    start_agent_tls d "$(rig_tcti 1)" --agent-id diskfull --log-level info \
        --listen "127.0.0.1:${AGENT_PORT[d]}"
}

gap_records() {
    grep -ao 'log-gap' "$MNT/measurements.bin" | wc -l
}

# text_match TEXT ERE DESC / text_lacks TEXT SUBSTRING DESC
text_match() {
    if [[ $1 =~ $2 ]]; then pass "$3"; else fail "$3" "expected to match: $2" "got: $1"; fi
}
text_lacks() {
    if [[ $1 == *"$2"* ]]; then fail "$3" "found \"$2\" in: $1"; else pass "$3"; fi
}

# newest verdict's findings of h1 (JSON array text)
# into F; never empty, or the text_lacks checks on it would pass on nothing
# (not a $(...): a fail there would be counted in a subshell only).
F=""
findings() {
    api v "$ADMIN" GET "/api/v1/hosts/h1/verdicts?limit=1"
    F=$(jq -c '.verdicts[0].findings | select(type == "array" and length > 0)' "$API_OUT" \
        2>/dev/null)
    [[ -n $F ]] || fail "the newest verdict of h1 has no findings to check" "$(cat "$API_OUT")"
}

STATE='{"ociVersion":"1.0.2","id":"diskfull0","status":"creating","pid":1,"bundle":"/nonexistent"}'

# ---------------------------------------------------------------------------
section "setup: an agent whose state dir is a 2 MiB tmpfs, a verifier polling it"
mkdir -p "$MNT"
mount -t tmpfs -o size=2m,mode=0700 tmpfs "$MNT" || die "cannot mount a tmpfs at $MNT"
start_rig 1
fleet_setup
start_agent_tls d "$(rig_tcti 1)" --agent-id diskfull
for i in 1 2 3; do
    printf 'disk full file %d\n' "$i" >"$FILES/f$i"
done
for ((i = 1; i <= 160; i++)); do
    printf 'filler %d\n' "$i" >"$FILES/g$i"
done
policy_for "$T_DIR/all.json" "$FILES"/f[1-3] "$FILES"/g*
measure d "$FILES/f1"
token_create ADMIN "$DB" admin admin
start_verifier v "$DB" "${VERIFIER_TLS_ARGS[@]}" "${RIG_TPM_CA_ARGS[@]}" --interval 0.2
fleet_expect 0 v "$ADMIN" policy apply all "$T_DIR/all.json"
fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[d]}" --name h1
fleet_expect 0 v "$ADMIN" policy assign h1 all
if wait_until 30 host_is h1 trusted; then
    pass "the host is trusted before the disk fills"
else
    fail "the host did not become trusted" "verdict: $(host_field h1 .verdict): $(host_field h1 .verdict_reason)"
fi

# ---------------------------------------------------------------------------
section "disk full: measurement and starts fail closed"
fill
refuse_one
assert_contains "$REFUSED_OUT" "No space left on device" "the refusal names the full disk"
assert_eq "$(stat -c %s "$MNT/measurements.bin")" "$LOG_SIZE" \
    "the log file is exactly what it was (no partial record)"
expect_cmd 1 "the prestart hook with the disk full: refused" bash -c \
    "printf '%s' '$STATE' | '$AGENT' hook --state-dir '$MNT'"
assert_contains "$T_OUT" "measurement log cannot be written" "the hook says the log cannot be written"
assert_contains "$T_OUT" "No space left on device" "and why"
assert_eq "$(stat -c %s "$MNT/measurements.bin")" "$LOG_SIZE" "nor after the refused start"
assert_contains "$(agent_log d)" "measurement log degraded" "the agent logs that its log is degraded"

# ---------------------------------------------------------------------------
section "the quote says the log is degraded"
if wait_until 30 reason_has "cannot write its measurement log since"; then
    pass "the host is untrusted: $(host_field h1 .verdict_reason)"
else
    fail "the verifier did not see the log gap" "verdict: $(host_field h1 .verdict): $(host_field h1 .verdict_reason)"
fi
assert_eq "$(host_field h1 .verdict)" "untrusted" "verdict untrusted"
reason=$(host_field h1 .verdict_reason)
text_match "$reason" "the agent cannot write its measurement log since [0-9T:-]+Z" \
    "the reason says since when the agent cannot write its log"
text_match "$reason" "No space left on device" "the reason names the full disk"
findings
text_lacks "$F" "log-replay-mismatch" "the log (with the gap record) replays to the quoted PCR"
text_lacks "$F" "agent-log-inconsistent" "the agent's log is consistent with its TPM"
fleet_expect 1 v "$ADMIN" host h1
assert_contains "$T_OUT" "log-gap" "attest-verify host shows the gap"

# ---------------------------------------------------------------------------
section "room again: the gap is written, closed, and stays visible"
rm -f "$MNT/fill"
# A host that only starts containers must get out of the gap too: the hook's
# log check writes the closing record (this state's bundle does not exist,
# so the start is still refused, for that reason).
expect_cmd 1 "the prestart hook with room again: refused only for its missing bundle" bash -c \
    "printf '%s' '$STATE' | '$AGENT' hook --state-dir '$MNT'"
assert_not_contains "$T_OUT" "measurement log cannot be written" "no longer for the log"
assert_contains "$T_OUT" "cannot open the bundle directory" "the hook refuses for the missing bundle"
assert_eq "$(gap_records)" "2" "the hook wrote the gap's opening and closing records"
measure d "$FILES/f2"
assert_eq "$(gap_records)" "2" "measuring f2 opened no new gap (still the 2 records)"
if wait_until 30 reason_has "measurement(s) were refused"; then
    pass "the verdict names the closed gap: $(host_field h1 .verdict_reason)"
else
    fail "the closed gap is not in the verdict" "$(host_field h1 .verdict_reason)"
fi
text_match "$(host_field h1 .verdict_reason)" "; 1 measurement\(s\) were refused" \
    "it counts the one refused measurement"
assert_eq "$(host_field h1 .verdict)" "untrusted" "the host stays untrusted for this boot"
stop_agent d
restart_d
assert_contains "$(agent_log d)" "entries match PCR" "the restarted agent finds its log consistent with the TPM"
measure d "$FILES/f3"
sleep 1
findings
text_lacks "$F" "agent-log-inconsistent" "no inconsistency after the restart"
text_lacks "$F" "log-replay-mismatch" "the log still replays"
text_match "$(host_field h1 .verdict_reason)" "could not write its measurement log from" \
    "still untrusted for the gap, nothing else"
for i in 1 2 3; do
    if grep -aq "$FILES/f$i" "$MNT/measurements.bin"; then
        pass "f$i (acknowledged) is in the log file"
    else
        fail "f$i was acknowledged but is not in the log file"
    fi
done

# ---------------------------------------------------------------------------
section "SIGKILL while degraded: the TPM keeps the gap's extend"
fill
refuse_one
kill_agent d
rm -f "$MNT/fill"
restart_d
assert_contains "$(agent_log d)" "measurement log inconsistent" \
    "the restarted agent reports its log inconsistent with the TPM"
if wait_until 30 reason_has "does not give the quoted PCR"; then
    pass "the verifier finds the log short of the quoted PCR: $(host_field h1 .verdict_reason)"
else
    fail "the verifier did not find the log short of the PCR" "$(host_field h1 .verdict_reason)"
fi
assert_eq "$(host_field h1 .verdict)" "untrusted" "the host is untrusted"
stop_verifier v

# ---------------------------------------------------------------------------
# (The verifier is stopped: its quotes must not reach the TPM between rig
# stop's Shutdown(STATE) and the swtpm's exit.)
section "TPM down while the gap is open: the gap cannot close, starts stay refused"
fill
refuse_one
rm -f "$MNT/fill"
LOG_SIZE=$(stat -c %s "$MNT/measurements.bin")
expect_cmd 0 "rig stop 1 (swtpm exits)" "$T_RIG_CMD" stop "$RIG" 1
expect_cmd 1 "the prestart hook with room but no TPM: refused" bash -c \
    "printf '%s' '$STATE' | '$AGENT' hook --state-dir '$MNT'"
assert_contains "$T_OUT" "the measurement log gap cannot be closed: the TPM is unavailable" \
    "the hook says the gap cannot be closed without the TPM"
assert_eq "$(stat -c %s "$MNT/measurements.bin")" "$LOG_SIZE" "nothing was written for it"
expect_cmd 0 "rig start 1 --no-reset (TPM Resume)" "$T_RIG_CMD" start "$RIG" 1 --no-reset
expect_cmd 1 "the prestart hook with the TPM back: refused only for its missing bundle" bash -c \
    "printf '%s' '$STATE' | '$AGENT' hook --state-dir '$MNT'"
assert_contains "$T_OUT" "cannot open the bundle directory" "the hook refuses for the missing bundle"
assert_eq "$(gap_records)" "4" "the hook wrote the second gap's opening and closing records"

stop_agent d
finish
