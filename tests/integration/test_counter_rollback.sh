#!/usr/bin/env bash
# A TPM whose clock counters go backwards is untrusted (DESIGN §5): a real
# rollback of a swtpm's state, not a mock. The host is attested at resetCount
# R; its TPM state is saved; it reboots (R+1) and is followed onto the new
# boot; then the saved state is restored and resumed, so the TPM reports
# resetCount R again. The verifier must call the host untrusted with
# "counter-backwards", never follow it as a new boot.
source "$(dirname "$0")/lib.sh"

section "rig, agent, verifier"
start_rig 1
start_agent a "$(rig_tcti 1)"
measure a /etc/hostname
DB=$T_DIR/v.db
token_create ADMIN "$DB" ops admin
# Rounds only when asked (attest-verify host): no poll may make the agent
# quote between rig stop's TPM2_Shutdown(STATE) and its stop of the TPM,
# which would spoil the saved state this test rolls back to.
start_verifier v "$DB" --insecure-dev --interval 600 "${RIG_TPM_CA_ARGS[@]}"
V=(--verifier "${VERIFIER_URL[v]}" --token "$ADMIN")
expect_cmd 0 "enroll" "$ATT_BIN/attest-verify" "${V[@]}" enroll --agent "${AGENT_URL[a]}" \
    --name h1
"$ATT_BIN/attest-verify" policy generate /etc/hostname >"$T_DIR/p.json"
expect_cmd 0 "policy apply" "$ATT_BIN/attest-verify" "${V[@]}" policy apply p "$T_DIR/p.json"
expect_cmd 0 "policy assign" "$ATT_BIN/attest-verify" "${V[@]}" policy assign h1 p
expect_cmd 0 "h1 trusted" "$ATT_BIN/attest-verify" "${V[@]}" host h1

R=$(host_field h1 .reset_count)
log "resetCount before: $R"

section "save the TPM state, reboot, follow the new boot"
rig stop "$RIG" 1 >"$T_DIR/out/stop1.txt" 2>&1 || die "rig stop failed" "$T_DIR/out/stop1.txt"
# Only a state saved after an orderly TPM2_Shutdown(STATE) can be resumed.
[[ -f $RIG/host-1/counts-at-stop ]] ||
    die "rig stop did not shut the TPM down in order (no counts-at-stop)" "$T_DIR/out/stop1.txt"
cp -a "$RIG/host-1/state" "$T_DIR/saved-state"
cp -a "$RIG/host-1/counts-at-stop" "$T_DIR/saved-counts"
rig start "$RIG" 1 >"$T_DIR/out/start1.txt" 2>&1 || die "rig start failed" "$T_DIR/out/start1.txt"
measure a /etc/hostname
expect_cmd 0 "trusted on the new boot" "$ATT_BIN/attest-verify" "${V[@]}" host h1
R2=$(host_field h1 .reset_count)
if ((R2 > R)); then
    pass "the verifier followed the reboot (resetCount $R -> $R2)"
else
    fail "resetCount did not grow across the reboot ($R -> $R2)"
fi

section "roll the TPM back to the saved state"
rig stop "$RIG" 1 >"$T_DIR/out/stop2.txt" 2>&1 || die "rig stop failed" "$T_DIR/out/stop2.txt"
rm -rf "$RIG/host-1/state" && cp -a "$T_DIR/saved-state" "$RIG/host-1/state"
cp -a "$T_DIR/saved-counts" "$RIG/host-1/counts-at-stop"
# --no-reset resumes the saved state: the TPM now says resetCount R again.
if ! rig start "$RIG" 1 --no-reset >"$T_DIR/out/start2.txt" 2>&1; then
    die "rig start --no-reset on the restored state failed" "$T_DIR/out/start2.txt"
fi
expect_cmd 1 "the rolled-back TPM is untrusted" "$ATT_BIN/attest-verify" "${V[@]}" host h1
assert_contains "$T_OUT" "counter" "the reason is the counters going backwards"
assert_not_contains "$T_OUT" "verdict: trusted" "it is not followed as a new boot"
expect_cmd 0 "events list" "$ATT_BIN/attest-verify" "${V[@]}" events --host h1
assert_contains "$T_OUT" "went backwards" "the verdict change is in the event history"

stop_agent a
stop_verifier v
finish
