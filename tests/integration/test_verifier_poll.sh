#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The verifier's polling engine (DESIGN §5, §8) on the swtpm rig, mTLS, with
# --interval 0.2 and two hosts:
# - a trusted host stays trusted round after round; after the first round
#   only new log entries are appraised (verdict log_from/log_to chain, never
#   back to 0);
# - SIGKILL of the verifier at random moments, several times, restarted on
#   the same store: every event seen before is still there, ids strictly
#   increase, and the rounds after the restart go on from the stored
#   log_offset (also across an entry measured while the verifier was dead);
# - a TPM reset (rig stop + start) is followed onto the new boot (new-boot
#   event, boot_id and reset_count change) and trusted without operator action;
# - an agent that is stopped makes its host unreachable, never untrusted, and
#   trusted again once it is back;
# - a policy change that disallows a file the host already measured -> untrusted
#   naming the path; allowing it again -> trusted. The same for a newly
#   measured file.

. "$(dirname "$0")/lib.sh"

FILES=$T_DIR/files
mkdir -p "$FILES"
DB=$T_DIR/verifier.db
INTERVAL=0.2

command -v jq >/dev/null 2>&1 || die "jq is needed to read the dashboard API's JSON"

# chain HOST MARK START: walk HOST's verdicts with id > MARK, oldest first.
# Each must start where the previous one ended (the first at START) and none
# may be untrusted. Prints "OK <last log_to> <count>" or "ERR <why>".
chain() {
    api v "$ADMIN" GET "/api/v1/hosts/$1/verdicts?limit=1000"
    jq -r --argjson m "$2" --argjson s "$3" '
        ([.verdicts[] | select(.id > $m)] | sort_by(.id)) as $vs
        | reduce $vs[] as $v ({prev: $s, err: null};
            if .err != null then .
            elif $v.log_from != .prev then
                .err = "verdict \($v.id) (\($v.verdict)) has log_from \($v.log_from), expected \(.prev)"
            elif $v.verdict == "untrusted" then
                .err = "verdict \($v.id) is untrusted: \($v.reason)"
            else .prev = $v.log_to end)
        | if .err != null then "ERR " + .err else "OK \(.prev) \($vs | length)" end' \
        "$API_OUT" 2>&1
}

# assert_chain DESC HOST MARK START END: chain is OK, ends at END, has rounds.
assert_chain() {
    local desc=$1 got
    got=$(chain "$2" "$3" "$4")
    if [[ $got =~ ^OK\ $5\ [1-9][0-9]*$ ]]; then
        pass "$desc (${got#OK })"
    else
        fail "$desc" "expected: OK $5 <rounds>, every round from the previous one's log_to, none untrusted" \
            "got:      $got"
        show_file "$API_OUT"
    fi
}

# verdicts_since HOST MARK: the distinct verdicts of HOST's rounds with id > MARK.
verdicts_since() {
    api v "$ADMIN" GET "/api/v1/hosts/$1/verdicts?limit=1000"
    jq -r --argjson m "$2" '[.verdicts[] | select(.id > $m) | .verdict] | unique | join(",")' \
        "$API_OUT" 2>/dev/null
}

# event_after HOST KIND ID: HOST has an event KIND with id > ID (its message in EV_MSG).
# shellcheck disable=SC2317 # called through wait_until
event_after() {
    api v "$ADMIN" GET "/api/v1/events?host=$1&kind=$2&after=$3&limit=10"
    EV_MSG=$(jq -r '.events[0].message // empty' "$API_OUT" 2>/dev/null)
    [[ -n $EV_MSG ]]
}

start_v() {
    start_verifier v "$DB" "${VERIFIER_TLS_ARGS[@]}" "${RIG_TPM_CA_ARGS[@]}" \
        --interval "$INTERVAL" --log-level info
}

# ---------------------------------------------------------------------------
section "setup: 2 TPMs, mTLS agents, a verifier polling every ${INTERVAL}s"
start_rig 2
fleet_setup
start_agent_tls a1 "$(rig_tcti 1)" --agent-id poll-1
start_agent_tls a2 "$(rig_tcti 2)" --agent-id poll-2
for i in 1 2 3 4 5 6 7 8 9; do
    printf 'poll file %d\n' "$i" >"$FILES/f$i"
done
printf 'not in any policy\n' >"$FILES/rogue"
policy_for "$T_DIR/all.json" "$FILES"/f[1-9]
policy_for "$T_DIR/no-f2.json" "$FILES/f1" "$FILES"/f[3-9]
policy_for "$T_DIR/with-rogue.json" "$FILES"/f[1-9] "$FILES/rogue"
measure a1 "$FILES/f1" "$FILES/f2"
measure a2 "$FILES/f1"
token_create ADMIN "$DB" admin admin
start_v
fleet_expect 0 v "$ADMIN" policy apply web "$T_DIR/all.json"
fleet_expect 0 v "$ADMIN" policy apply all "$T_DIR/all.json"
fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[a1]}" --name h1
fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[a2]}" --name h2
fleet_expect 0 v "$ADMIN" policy assign h1 web
fleet_expect 0 v "$ADMIN" policy assign h2 all

# ---------------------------------------------------------------------------
section "a trusted host stays trusted; later rounds are incremental"
if wait_until 15 host_at h1 trusted 2 && wait_until 5 host_at h2 trusted 1; then
    pass "both hosts became trusted by polling alone"
else
    fail "h1/h2 did not become trusted: h1 $(host_field h1 '"\(.verdict) \(.log_offset) \(.verdict_reason)"'), h2 $(host_field h2 '"\(.verdict) \(.log_offset)"')"
fi
MARK=$(last_verdict_id h1)
api v "$ADMIN" GET "/api/v1/hosts/h1/verdicts?limit=1000"
N1=$(jq '.verdicts | length' "$API_OUT")
sleep 1.5
api v "$ADMIN" GET "/api/v1/hosts/h1/verdicts?limit=1000"
N2=$(jq '.verdicts | length' "$API_OUT")
if ((N2 >= N1 + 3)); then
    pass "the verdict history grows by itself ($N1 -> $N2 rounds in 1.5 s)"
else
    fail "the verdict history did not grow: $N1 -> $N2 rounds in 1.5 s"
fi
assert_chain "h1: every later round appraises from entry 2 to 2 (nothing re-read)" h1 "$MARK" 2 2
assert_eq "$(verdicts_since h1 "$MARK")" "trusted" "h1: all those rounds are trusted"

section "new measurements: only the new entries are appraised"
MARK=$(last_verdict_id h1)
measure a1 "$FILES/f3" "$FILES/f4"
if wait_until 10 host_at h1 trusted 4; then
    pass "h1 reaches log_offset 4, trusted"
else
    fail "h1 did not reach log_offset 4: $(host_field h1 '"\(.verdict) \(.log_offset) \(.verdict_reason)"')"
fi
assert_chain "h1: the rounds after the measurement went 2 -> 4, never from 0" h1 "$MARK" 2 4
api v "$ADMIN" GET "/api/v1/hosts/h1/verdicts?limit=1000"
FIRST_NEW=$(jq -c --argjson m "$MARK" \
    '[.verdicts[] | select(.id > $m and .log_to > .log_from)] | sort_by(.id) | .[0] | [.log_from, .log_to]' \
    "$API_OUT")
if [[ $FIRST_NEW == "[2,4]" || $FIRST_NEW == "[2,3]" ]]; then
    pass "the first round that saw new entries appraised $FIRST_NEW (log_from, log_to)"
else
    fail "the first round with new entries: expected [2,4] (or [2,3]), got $FIRST_NEW"
fi

# ---------------------------------------------------------------------------
section "SIGKILL of the verifier mid-poll, restart on the same store"
OFF=4
for round in 1 2 3 4; do
    api v "$ADMIN" GET "/api/v1/events?limit=1000"
    EV_BEFORE=$(jq -c '[.events[].id]' "$API_OUT")
    VMARK=$(last_verdict_id h1)
    VMARK2=$(last_verdict_id h2)
    STORED=$(host_field h1 .log_offset)
    assert_eq "$STORED" "$OFF" "kill $round: h1's stored log_offset is $OFF before the kill"
    PAUSE=0.$((RANDOM % 5))$((RANDOM % 10))
    sleep "$PAUSE"
    kill_verifier v
    log "kill $round: SIGKILL after ${PAUSE}s"
    if ((round % 2 == 1)); then
        # An entry appears while nobody is watching: the restarted verifier
        # must appraise just it, from the stored offset.
        measure a1 "$FILES/f$((4 + (round + 1) / 2))"
        NEW_OFF=$((OFF + 1))
    else
        NEW_OFF=$OFF
    fi
    start_v
    fleet_expect 0 v "$ADMIN" host h1
    assert_match "$T_OUT" "log entries $OFF\.\.$NEW_OFF appraised|log entries $NEW_OFF\.\.$NEW_OFF appraised" \
        "kill $round: attest-now after the restart appraises from entry $OFF, not 0"
    if ! wait_until 10 host_at h1 trusted "$NEW_OFF"; then
        fail "kill $round: h1 not trusted at offset $NEW_OFF: $(host_field h1 '"\(.verdict) \(.log_offset)"')"
    fi
    assert_chain "kill $round: h1's rounds around the restart continue from $OFF" h1 "$VMARK" \
        "$OFF" "$NEW_OFF"
    assert_chain "kill $round: h2's rounds around the restart continue from 1" h2 "$VMARK2" 1 1
    api v "$ADMIN" GET "/api/v1/events?limit=1000"
    LOST=$(jq -c --argjson b "$EV_BEFORE" '$b - [.events[].id]' "$API_OUT")
    assert_eq "$LOST" "[]" "kill $round: every event id seen before the kill is still there"
    if jq -e '[.events[].id] as $a | all(range(1; $a | length); $a[.] > $a[. - 1])' "$API_OUT" \
        >/dev/null; then
        pass "kill $round: event ids strictly increase"
    else
        fail "kill $round: event ids do not strictly increase" "$(jq -c '[.events[].id]' "$API_OUT")"
    fi
    OFF=$NEW_OFF
done
api v "$ADMIN" GET "/api/v1/verdicts?limit=1000"
if jq -e '[.verdicts[].id] as $a | ($a | length) > 10 and all(range(1; $a | length); $a[.] < $a[. - 1])' \
    "$API_OUT" >/dev/null; then
    pass "verdict ids strictly increase across all restarts (newest first, no duplicates)"
else
    fail "verdict ids are not strictly monotonic" "$(jq -c '[.verdicts[].id][:50]' "$API_OUT")"
fi

# ---------------------------------------------------------------------------
section "TPM reset (rig stop 1; rig start 1): followed onto the new boot"
EMARK=$(last_event_id)
VMARK=$(last_verdict_id h1)
BOOT0=$(host_field h1 .boot_id)
RESET0=$(host_field h1 .reset_count)
H2BOOT=$(host_field h2 .boot_id)
expect_cmd 0 "rig stop 1" "$T_RIG_CMD" stop "$RIG" 1
expect_cmd 0 "rig start 1 (a TPM reset)" "$T_RIG_CMD" start "$RIG" 1
if wait_until 20 event_after h1 new-boot "$EMARK"; then
    pass "a new-boot event for h1: $EV_MSG"
else
    fail "no new-boot event for h1 within 20 s"
    show_file "$API_OUT"
fi
if wait_until 10 host_at h1 trusted 0; then
    pass "h1 is trusted on its new boot, log_offset 0, without operator action"
else
    fail "h1 after the reset: $(host_field h1 '"\(.verdict) \(.log_offset) \(.verdict_reason)"')"
fi
BOOT1=$(host_field h1 .boot_id)
RESET1=$(host_field h1 .reset_count)
if [[ -n $BOOT1 && $BOOT1 != null && $BOOT1 != "$BOOT0" ]]; then
    pass "h1's boot_id changed ($BOOT0 -> $BOOT1)"
else
    fail "h1's boot_id did not change: $BOOT0 -> $BOOT1"
fi
if [[ $RESET1 =~ ^[0-9]+$ && $RESET0 =~ ^[0-9]+$ ]] && ((RESET1 > RESET0)); then
    pass "h1's reset_count went up ($RESET0 -> $RESET1)"
else
    fail "h1's reset_count did not go up: $RESET0 -> $RESET1"
fi
V=$(verdicts_since h1 "$VMARK")
if [[ $V == trusted || $V == "trusted,unreachable" ]]; then
    pass "across the reset h1 was only trusted or unreachable ($V)"
else
    fail "across the reset h1 was: $V (never untrusted expected)"
fi
assert_eq "$(host_field h2 .boot_id)" "$H2BOOT" "h2 (the other TPM) kept its boot"
VMARK=$(last_verdict_id h1)
measure a1 "$FILES/f1"
if wait_until 10 host_at h1 trusted 1; then
    pass "h1 appraises the new boot's first entry"
else
    fail "h1 after measuring on the new boot: $(host_field h1 '"\(.verdict) \(.log_offset) \(.verdict_reason)"')"
fi
assert_chain "h1: the new boot's log is followed incrementally from 0" h1 "$VMARK" 0 1

# ---------------------------------------------------------------------------
section "agent stopped: unreachable, never untrusted; back to trusted"
VMARK=$(last_verdict_id h1)
EMARK=$(last_event_id)
A1_PORT=${AGENT_PORT[a1]}
stop_agent a1
if wait_until 10 host_is h1 unreachable; then
    pass "h1 is unreachable once its agent is gone"
else
    fail "h1 with its agent stopped: $(host_field h1 '"\(.verdict) \(.verdict_reason)"')"
fi
if event_after h1 unreachable "$EMARK"; then
    pass "an unreachable event: $EV_MSG"
else
    fail "no unreachable event for h1"
fi
sleep 1
fleet_expect 2 v "$ADMIN" host h1
assert_contains "$T_OUT" "verdict: unreachable" "attest-verify host h1: unreachable (exit 2)"
start_agent_tls a1 "$(rig_tcti 1)" --agent-id poll-1 --listen "127.0.0.1:$A1_PORT"
if wait_until 10 host_at h1 trusted 1; then
    pass "h1 is trusted again once its agent is back"
else
    fail "h1 after the agent restart: $(host_field h1 '"\(.verdict) \(.log_offset) \(.verdict_reason)"')"
fi
assert_eq "$(verdicts_since h1 "$VMARK")" "trusted,unreachable" \
    "while the agent was away: unreachable and trusted only, never untrusted"
assert_chain "h1: the agent's restart kept the incremental position" h1 "$VMARK" 1 1

# ---------------------------------------------------------------------------
section "policy change: an already measured file is disallowed, then allowed again"
measure a1 "$FILES/f2" "$FILES/f3"
wait_until 10 host_at h1 trusted 3 || fail "h1 did not reach offset 3 before the policy change"
EMARK=$(last_event_id)
fleet_expect 0 v "$ADMIN" policy apply web "$T_DIR/no-f2.json"
assert_contains "$T_OUT" "policy web replaced" "policy web replaced without f2"
if wait_until 5 host_is h1 untrusted; then
    pass "h1 is untrusted once the policy no longer allows f2"
    host_field h1 .verdict_reason >"$T_DIR/out/reason-f2.txt"
    assert_contains "$T_DIR/out/reason-f2.txt" "$FILES/f2" "the reason names $FILES/f2"
else
    fail "h1 stays \"$(host_field h1 .verdict)\" after its policy stopped allowing the measured $FILES/f2" \
        "(the incremental state is not reset when a host's policy changes, so entries appraised under the old policy are never looked at again)"
fi
fleet_expect 0 v "$ADMIN" policy apply web "$T_DIR/all.json"
if wait_until 5 host_is h1 trusted; then
    pass "allowing f2 again: trusted"
else
    fail "h1 after allowing f2 again: $(host_field h1 '"\(.verdict) \(.verdict_reason)"')"
fi
api v "$ADMIN" GET "/api/v1/events?kind=policy-replaced&after=$EMARK"
assert_eq "$(jq '.events | length' "$API_OUT")" "2" "two policy-replaced events"

section "policy change: a newly measured file outside the policy, then allowed"
wait_until 5 host_at h1 trusted 3 || die "h1 did not settle as trusted before the rogue file"
measure a1 "$FILES/rogue"
if wait_until 5 host_is h1 untrusted; then
    pass "h1 is untrusted after measuring a file outside its policy"
else
    fail "h1 after measuring rogue: $(host_field h1 '"\(.verdict) \(.verdict_reason)"')"
fi
host_field h1 .verdict_reason >"$T_DIR/out/reason-rogue.txt"
assert_contains "$T_DIR/out/reason-rogue.txt" "$FILES/rogue" "the reason names $FILES/rogue"
fleet_expect 1 v "$ADMIN" host h1
assert_contains "$T_OUT" "$FILES/rogue" "attest-verify host h1 names the path too (exit 1)"
assert_eq "$(host_field h1 .log_offset)" "3" "an untrusted round does not move the stored offset"
fleet_expect 0 v "$ADMIN" policy apply web "$T_DIR/with-rogue.json"
if wait_until 5 host_at h1 trusted 4; then
    pass "with the file allowed: trusted, log_offset 4"
else
    fail "h1 after allowing rogue: $(host_field h1 '"\(.verdict) \(.log_offset) \(.verdict_reason)"')"
fi
assert_eq "$(host_field h2 .verdict)" "trusted" "h2 (policy all) stayed trusted throughout"

section "attest now after a policy assignment: not answered by a round that read h1 before it"
# Hold a round in flight: h1's agent is stopped, so the round that read h1
# (policy web, trusted) waits on it while the policy changes and a request comes.
kill -STOP "${AGENT_PID[a1]}"
sleep 0.6 # > INTERVAL: a round has read h1 and waits for its agent
fleet_expect 0 v "$ADMIN" policy assign h1 all
"$ATT_BIN/attest-verify" --verifier "${VERIFIER_URL[v]}" --token "$ADMIN" --ca "$FLEET/ca.pem" \
    host h1 >"$T_DIR/out/now-host.txt" 2>&1 &
NOW=$!
sleep 0.3 # the request is queued while that round is still in flight
kill -CONT "${AGENT_PID[a1]}"
rc=0
wait "$NOW" || rc=$?
assert_eq "$rc" "1" "attest now right after assigning policy all: untrusted (exit 1)"
assert_contains "$T_DIR/out/now-host.txt" "$FILES/rogue" "it names $FILES/rogue, outside policy all"
fleet_expect 0 v "$ADMIN" policy assign h1 web
wait_until 5 host_is h1 trusted || fail "h1 not trusted again under policy web"

section "shutdown"
stop_verifier v
stop_agent a1
stop_agent a2
finish
