#!/usr/bin/env bash
# Quarantine end to end (issue 5), real podman + runc + swtpm + nftables:
# - a container that fails (a foreign binary run in it) is quarantined within
#   two polling intervals: paused, network namespace cut (nftables drop-all),
#   and only that container; attest-verify host and the API show it;
# - the action is attested (a "quarantine:<id>" entry in the agent's log);
# - a new container from the quarantined image is refused at start;
# - a viewer token cannot lift; an operator lift restores the container
#   (unpaused, network back) and the order, ack and lift are in the audit trail;
# - forged (other key, altered bytes), replayed (a lifted order), expired and
#   misaddressed orders are refused by the agent and recorded in its log;
# - the verifier killed right after writing an order (outbox) and the agent
#   down when it is issued: after both return it is delivered, and carried
#   out exactly once.
source "$(dirname "$0")/lib.sh"

command -v nft >/dev/null || die "nft (nftables) is not installed"

section "rig with podman, agent with engine and hook, verifier polling every second"
start_podman_host

DB=$T_DIR/v.db
token_create OPS "$DB" ops operator
token_create ADM "$DB" adm admin
token_create VIEW "$DB" viewer viewer
VARGS=(--insecure-dev --interval 1 --log-level info --tpm-ca "$RIG/ca/root.pem"
    --tpm-ca "$RIG/ca/intermediate.pem")
vstart() { # vstart: (re)start verifier v; its port changes, so V is set again
    start_verifier v "$DB" "${VARGS[@]}"
    V=(--verifier "${VERIFIER_URL[v]}" --token "$ADM")
}
vstart
expect_cmd 0 "enroll the host (the agent receives the order key)" "$ATT_BIN/attest-verify" \
    "${V[@]}" enroll --agent "${AGENT_URL[a]}" --name h1
[[ -s $ADIR/verifier-key.der ]] && pass "the agent stored the verifier's order key" ||
    fail "no verifier-key.der in the agent's state dir"
[[ -s $T_DIR/order-key.pem ]] && pass "the verifier created its order key next to its store" ||
    fail "no order-key.pem next to the store"

image_policy localhost/attest-dyn:1 dyn "$T_DIR/p-dyn.json"
image_policy localhost/attest-static:1 static "$T_DIR/p-static.json"
jq -s '{version: 1, name: "apps", reference_values: {}, quarantine_untrusted_host: true,
        containers: [.[0].containers[0], .[1].containers[0]]}' \
    "$T_DIR/p-dyn.json" "$T_DIR/p-static.json" >"$T_DIR/policy.json"
expect_cmd 0 "policy apply" "$ATT_BIN/attest-verify" "${V[@]}" policy apply apps "$T_DIR/policy.json"
expect_cmd 0 "policy assign" "$ATT_BIN/attest-verify" "${V[@]}" policy assign h1 apps
wait_until 20 grep -q "admission policy updated" "$(agent_log a)" ||
    die "no admission policy reached the agent" "$(agent_log a)"

state_of() { "$PODMAN" inspect --format '{{.State.Status}}' "$1" 2>/dev/null; }
state_is() { [[ $(state_of "$1") == "$2" ]]; }

section "two containers from allowed images, both trusted"
A=$("$PODMAN" run -d localhost/attest-dyn:1 /bin/sleep 600) || die "container A did not start"
B=$("$PODMAN" run -d localhost/attest-static:1 /bin/busybox sleep 600) ||
    die "container B did not start"
wait_verdict "$A" "trusted" "container A trusted"
wait_verdict "$B" "trusted" "container B trusted"

section "a foreign binary in A: failed, then quarantined within two polling intervals"
run_foreign "$A" 600
wait_verdict "$A" "failed unknown-binary" "container A failed" 30
t0=$SECONDS
wait_verdict "$A" "quarantined" "container A quarantined" 10
dt=$((SECONDS - t0))
((dt <= 3)) && pass "order delivered and enforced ${dt}s after the failure (interval 1 s)" ||
    fail "quarantine took ${dt}s after the failure (> 2 intervals + 1 s)"
assert_eq "$(state_of "$A")" "paused" "A is paused"
netns_expect "$(pid_of "$A")" yes "A's network namespace has the nftables drop-all table"
assert_eq "$(state_of "$B")" "running" "B keeps running"
netns_expect "$(pid_of "$B")" no "B's network is untouched"
ORDER=$("$ATT_BIN/attest-verify" "${V[@]}" --json quarantine list --host h1 |
    jq -r --arg id "$A" '.orders[] | select(.container == $id) | .id')
[[ $ORDER =~ ^[0-9a-f]{32}$ ]] && pass "order $ORDER listed" || fail "no order listed for A"
"$ATT_BIN/attest-verify" "${V[@]}" host h1 >"$T_DIR/out/host.txt" 2>&1
assert_contains "$T_DIR/out/host.txt" "quarantined" "attest-verify host names the quarantine"
assert_contains "$T_DIR/out/host.txt" "$ORDER" "... with its order id"
assert_contains "$T_DIR/out/host.txt" "/opt/sleep" "... and the failing entry as the reason"
n=$(strings "$ADIR/measurements.bin" | grep -c "^quarantine:$A" || true)
assert_eq "$n" "1" "the enforcement is one attested log entry"

section "a new container from the quarantined image is refused at start"
expect_cmd 126 "attest-dyn:1 refused while quarantined" "$PODMAN" run --rm \
    localhost/attest-dyn:1 /bin/sh -c 'echo should-not-run'
assert_contains "$T_OUT" "quarantined" "the refusal says why"
assert_not_contains "$T_OUT" "should-not-run" "the refused container never ran"

section "forged, replayed, expired and misaddressed orders are refused"
AK=$("$ATT_BIN/attest-verify" "${V[@]}" --json hosts | jq -r '.hosts[] | select(.name == "h1") | .ak_name')
[[ -n $AK && $AK != null ]] || die "no AK name for h1"
TOOL=("$ATT_BIN/att_order_tool" --agent "${AGENT_URL[a]}" --container "$B")
expect_cmd 0 "an order signed by another key" "${TOOL[@]}" --sign-key "$T_DIR/rogue.pem" \
    --ak-name "$AK"
assert_contains "$T_OUT" "ok=0" "refused"
assert_contains "$T_OUT" "signature" "... for its signature"
expect_cmd 0 "a genuine-key order with one byte altered" "${TOOL[@]}" \
    --sign-key "$T_DIR/order-key.pem" --ak-name "$AK" --flip-byte 40
assert_contains "$T_OUT" "ok=0" "refused"
expect_cmd 0 "an expired order" "${TOOL[@]}" --sign-key "$T_DIR/order-key.pem" --ak-name "$AK" \
    --expires-in -60
assert_contains "$T_OUT" "expired" "refused as expired"
expect_cmd 0 "an order for another host's AK" "${TOOL[@]}" --sign-key "$T_DIR/order-key.pem" \
    --ak-name "000b$(printf '%064d' 0)"
assert_contains "$T_OUT" "another host" "refused as misaddressed"
assert_eq "$(state_of "$B")" "running" "B is still running after all of them"
n=$(strings "$ADIR/measurements.bin" | grep -c "^order:refused" || true)
((n >= 4)) && pass "the agent recorded $n refused orders in its log" ||
    fail "only $n refused orders in the agent's log"
expect_cmd 0 "the host stays trusted" "$ATT_BIN/attest-verify" "${V[@]}" host h1

section "lifting: a viewer cannot, an operator can, and it is audited"
VV=(--verifier "${VERIFIER_URL[v]}" --token "$VIEW")
expect_cmd 2 "a viewer token cannot lift" "$ATT_BIN/attest-verify" "${VV[@]}" quarantine lift \
    "$ORDER" --reason "viewer tries"
assert_contains "$T_OUT" "403" "HTTP 403"
assert_eq "$(state_of "$A")" "paused" "A is still paused"
expect_cmd 2 "a lift needs a reason" "$ATT_BIN/attest-verify" --verifier "${VERIFIER_URL[v]}" \
    --token "$OPS" quarantine lift "$ORDER" --reason ""
assert_contains "$T_OUT" "HTTP 400" "refused as a bad request (400)"
expect_cmd 2 "an unknown order cannot be lifted" "$ATT_BIN/attest-verify" \
    --verifier "${VERIFIER_URL[v]}" --token "$OPS" quarantine lift "$(printf '%032d' 7)" \
    --reason "no such order"
assert_contains "$T_OUT" "HTTP 404" "refused as unknown (404)"
expect_cmd 0 "an operator lifts it" "$ATT_BIN/attest-verify" --verifier "${VERIFIER_URL[v]}" \
    --token "$OPS" quarantine lift "$ORDER" --reason "foreign binary investigated: test tool"
wait_until 10 state_is "$A" running && pass "A runs again (unpaused)" ||
    fail "A is $(state_of "$A") after the lift"
wait_until 10 netns_open "$(pid_of "$A")"
netns_expect "$(pid_of "$A")" no "A's network namespace is open again"
expect_cmd 2 "a second lift of the same order is refused (409)" "$ATT_BIN/attest-verify" \
    --verifier "${VERIFIER_URL[v]}" --token "$OPS" quarantine lift "$ORDER" --reason "again"
assert_contains "$T_OUT" "HTTP 409" "refused as already lifted (409)"
wait_until 10 bash -c "'$ATT_BIN/attest-verify' --verifier '${VERIFIER_URL[v]}' --token '$ADM' \
    --json quarantine list --host h1 | jq -e --arg o '$ORDER' '.orders[] | select(.id == \$o and .state == \"lifted\")' >/dev/null" &&
    pass "the order is lifted (the agent acknowledged the lift)" || fail "the order is not lifted"
"$ATT_BIN/attest-verify" "${V[@]}" --json events --host h1 --limit 200 >"$T_DIR/out/events.json"
for k in quarantine-ordered quarantine-enforced quarantine-lift quarantine-lifted; do
    jq -e --arg k "$k" --arg o "$ORDER" '.events[] | select(.kind == $k and (.message | contains($o)))' \
        "$T_DIR/out/events.json" >/dev/null && pass "audit trail: $k" ||
        fail "audit trail lacks $k for $ORDER"
done
jq -e '.events[] | select(.kind == "quarantine-lift" and (.message | contains("by ops")) and (.message | contains("investigated")))' \
    "$T_DIR/out/events.json" >/dev/null && pass "the lift names who (ops) and why" ||
    fail "the lift event does not say who and why"
expect_cmd 0 "a replay of the lifted order is refused" "${TOOL[@]}" \
    --sign-key "$T_DIR/order-key.pem" --ak-name "$AK" --id "$ORDER" --container "$A"
assert_contains "$T_OUT" "replayed" "refused as a replay"
assert_eq "$(state_of "$A")" "running" "A was not paused again by the replay"
C=$("$PODMAN" run -d localhost/attest-dyn:1 /bin/sleep 600) &&
    pass "attest-dyn:1 starts again after the lift" || fail "attest-dyn:1 still refused"

section "verifier killed right after writing an order; agent down when it is issued"
wait_verdict "$C" "trusted" "container C trusted"
stop_verifier v
ATTEST_VERIFIER_FAULT=exit-after-order vstart
run_foreign "$C" 600
if wait_until 30 bash -c "! kill -0 ${VERIFIER_PID[v]} 2>/dev/null"; then
    wait "${VERIFIER_PID[v]}" 2>/dev/null
    rc=$?
    unset "VERIFIER_PID[v]"
    assert_eq "$rc" "75" "the verifier died right after committing the order (fault hook)"
else
    fail "the verifier did not reach the fault point"
    kill_verifier v
fi
assert_eq "$(state_of "$C")" "running" "C is not quarantined yet: the order was never sent"
kill_agent a
vstart
sleep 3
pending=$("$ATT_BIN/attest-verify" "${V[@]}" --json quarantine list --host h1 |
    jq -r --arg id "$C" '.orders[] | select(.container == $id) | "\(.state) \(.attempts)"')
[[ $pending == pending* ]] && pass "with the agent down the order stays pending: $pending" ||
    fail "order for C: \"$pending\" (expected pending)"
start_agent a "$(rig_tcti 1)" --engine "$ENGINE" --integrity-interval 2 --log-level info \
    --listen "127.0.0.1:${AGENT_PORT[a]}"
wait_verdict "$C" "quarantined" "after both returned, C is quarantined" 60
assert_eq "$(state_of "$C")" "paused" "C is paused"
n=$(grep -c "^[0-9a-f]\{32\} A $C" "$ADIR/quarantine.state" || true)
assert_eq "$n" "1" "the agent carried the order out once (one record)"
n=$(strings "$ADIR/measurements.bin" | grep -c "^quarantine:$C" || true)
assert_eq "$n" "1" "... and logged it once"
assert_eq "$(state_of "$B")" "running" "B is untouched throughout"

section "an untrusted host: its policy (quarantine_untrusted_host) quarantines its containers"
printf 'not in any policy\n' >"$T_DIR/stray.conf"
measure a "$T_DIR/stray.conf"
wait_verdict "$B" "quarantined" "B quarantined once the host itself failed" 30
ob=$("$ATT_BIN/attest-verify" "${V[@]}" --json quarantine list --host h1 --open |
    jq -r --arg id "$B" '.orders[] | select(.container == $id) | .reason')
[[ $ob == host-untrusted:* ]] && pass "the order says the host failed: $ob" ||
    fail "B's order reason: \"$ob\" (expected host-untrusted: ...)"
assert_eq "$(state_of "$B")" "paused" "B is paused"
expect_cmd 1 "attest-verify host h1: untrusted" "$ATT_BIN/attest-verify" "${V[@]}" host h1

section "cleanup"
"$PODMAN" rm -f -t 1 "$A" "$B" "$C" >/dev/null 2>&1 || true
stop_agent a
stop_verifier v
"$T_RIG_CMD" down "$RIG" >"$T_DIR/out/rig-down.txt" 2>&1 || fail "rig down failed"
finish
