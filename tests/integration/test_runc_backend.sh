#!/usr/bin/env bash
# Bare runc as the agent's container backend (--engine runc://ROOT), real
# runc + swtpm, no engine process anywhere:
# - a container started with `runc run -d` is listed by
#   `attest-agent containers` with its init pid and its bundle;
# - the agent measures the container's /bin/busybox and a foreign binary
#   copied into the rootfs and run with `runc exec`;
# - a `runc pause`d container reads as paused, a killed one as stopped (pid 0);
# - a URL that is neither unix:// nor runc:// is refused;
# - quarantine with bare runc: a signed order (the enrolled verifier's key)
#   freezes the container through its freezer cgroup and cuts its network
#   namespace with nftables; the signed lift thaws it and opens the network;
#   lifts that do not fit are refused (or acknowledged as nothing to undo);
#   another verifier cannot replace the pinned order key; an agent whose
#   engine does not answer does not acknowledge (the verifier sends again).
# Needs root and runc; static busybox is copied into the bundle's rootfs.
source "$(dirname "$0")/lib.sh"

RUNC_ROOT=$T_DIR/runc
BUNDLE=$T_DIR/bundle
CID=attrunc$$
ENGINE=runc://$RUNC_ROOT
R=(runc --root "$RUNC_ROOT")

# Containers outlive this shell unless deleted: remove ours before lib.sh's
# own EXIT handler (which removes T_DIR) runs, keeping the exit status.
runc_cleanup() {
    "${R[@]}" delete -f "$CID" >/dev/null 2>&1 || true
}
trap 'T_EXIT=$?; runc_cleanup; (exit $T_EXIT); _t_on_exit' EXIT

# agent_containers: the agent's own view of the runc root.
agent_containers() {
    "$ATT_BIN/attest-agent" containers --engine "$ENGINE" >"$T_DIR/out/containers.txt" 2>&1
}
# container_line_has STATE PID: the listing names CID with STATE and PID.
container_line_has() {
    agent_containers && grep -Eq "^${CID:0:12} +$CID +$1 +$2 +- $BUNDLE\$" \
        "$T_DIR/out/containers.txt"
}

section "bundle with a static busybox"
command -v runc >/dev/null || die "runc is not installed"
command -v jq >/dev/null || die "jq is not installed"
((EUID == 0)) || die "runc containers need root here"
BUSYBOX=$(command -v busybox) || die "busybox is not installed"
[[ $(ldd "$BUSYBOX" 2>&1) == *"not a dynamic executable"* ]] || die "$BUSYBOX is not statically linked"
mkdir -p "$BUNDLE/rootfs/bin" "$RUNC_ROOT"
cp -- "$BUSYBOX" "$BUNDLE/rootfs/bin/busybox"
(cd "$BUNDLE" && runc spec) || die "runc spec failed"
jq '.process.args = ["/bin/busybox", "sleep", "120"] | .process.terminal = false' \
    "$BUNDLE/config.json" >"$BUNDLE/config.json.new" && mv "$BUNDLE/config.json.new" \
    "$BUNDLE/config.json" || die "cannot edit config.json"

expect_cmd 0 "no container yet: an empty listing" "$ATT_BIN/attest-agent" containers \
    --engine "$ENGINE"
expect_cmd 0 "a runc root that does not exist yet is an empty listing, not an error" \
    "$ATT_BIN/attest-agent" containers --engine "runc://$T_DIR/no-such-root"
expect_cmd 2 "a relative runc root is refused" "$ATT_BIN/attest-agent" containers \
    --engine "runc://relative/root"
expect_cmd 2 "an unknown scheme is refused" "$ATT_BIN/attest-agent" containers \
    --engine "http://localhost:2375"

section "run the container, start the agent on the runc root"
(cd "$BUNDLE" && "${R[@]}" run -d "$CID" </dev/null >"$T_DIR/out/runc-run.txt" 2>&1) ||
    die "runc run -d failed" "$T_DIR/out/runc-run.txt"
PID=$("${R[@]}" state "$CID" | jq -r .pid)
[[ $PID =~ ^[0-9]+$ && $PID -gt 0 ]] || die "runc state gave no pid for $CID"
log "container $CID runs as pid $PID"
if container_line_has running "$PID"; then
    pass "attest-agent containers lists $CID as running with pid $PID and its bundle"
else
    fail "attest-agent containers does not list $CID running with pid $PID"
    show_file "$T_DIR/out/containers.txt"
fi

start_rig 2
start_agent a "$(rig_tcti 1)" --engine "$ENGINE" --integrity-interval 2 --log-level info
if wait_until 15 grep -q "container ${CID:0:12}: measured /bin/busybox" "$(agent_log a)"; then
    pass "the agent measured /bin/busybox in $CID"
else
    fail "the agent did not measure /bin/busybox in $CID"
    show_file "$(agent_log a)"
fi

section "a foreign binary run inside is measured too"
# Same code, different bytes: a digest the rootfs never had at start. Named
# sleep, since busybox picks its applet from argv[0].
cp -- "$BUSYBOX" "$BUNDLE/rootfs/bin/sleep"
printf 'not-in-any-image-%s' "$$" >>"$BUNDLE/rootfs/bin/sleep"
"${R[@]}" exec "$CID" /bin/sleep 6 </dev/null >"$T_DIR/out/exec.txt" 2>&1 &
EXEC_PID=$!
if wait_until 15 grep -q "container ${CID:0:12}: measured /bin/sleep" "$(agent_log a)"; then
    pass "the agent measured /bin/sleep run by runc exec in $CID"
else
    fail "the agent did not measure /bin/sleep in $CID"
    show_file "$(agent_log a)"
    show_file "$T_DIR/out/exec.txt"
fi
wait "$EXEC_PID" 2>/dev/null || true

section "state as runc changes it"
expect_cmd 0 "runc pause" "${R[@]}" pause "$CID"
if container_line_has paused "$PID"; then
    pass "a paused container reads as paused (freezer cgroup FROZEN)"
else
    fail "the paused container is not listed as paused"
    show_file "$T_DIR/out/containers.txt"
fi
expect_cmd 0 "runc resume" "${R[@]}" resume "$CID"
if container_line_has running "$PID"; then
    pass "a resumed container reads as running again"
else
    fail "the resumed container is not listed as running"
    show_file "$T_DIR/out/containers.txt"
fi
expect_cmd 0 "runc kill KILL" "${R[@]}" kill "$CID" KILL
if wait_until 10 container_line_has stopped 0; then
    pass "a killed container reads as stopped with pid 0"
else
    fail "the killed container is not listed as stopped"
    show_file "$T_DIR/out/containers.txt"
fi
if kill -0 "${AGENT_PID[a]}" 2>/dev/null; then
    pass "the agent kept running through pause, resume and kill"
else
    fail "the agent died"
    show_file "$(agent_log a)"
fi
expect_cmd 0 "runc delete" "${R[@]}" delete "$CID"

section "quarantine through the freezer cgroup and the network namespace (no engine)"
command -v nft >/dev/null || die "nft (nftables) is not installed"
QID=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64) # engine-style 64-hex id
(cd "$BUNDLE" && "${R[@]}" run -d "$QID" </dev/null >"$T_DIR/out/runc-run2.txt" 2>&1) ||
    die "runc run -d $QID failed" "$T_DIR/out/runc-run2.txt"
QPID=$("${R[@]}" state "$QID" | jq -r .pid)
DB=$T_DIR/v.db
token_create TOK "$DB" ops admin
start_verifier v "$DB" --insecure-dev --interval 60 "${RIG_TPM_CA_ARGS[@]}"
ADIR_A=${AGENT_DIR[a]}
expect_cmd 0 "enroll (the agent receives the verifier's order key)" "$ATT_BIN/attest-verify" \
    --verifier "${VERIFIER_URL[v]}" --token "$TOK" enroll --agent "${AGENT_URL[a]}" --name r1
AK=$("$ATT_BIN/attest-verify" --verifier "${VERIFIER_URL[v]}" --token "$TOK" --json hosts |
    jq -r '.hosts[0].ak_name')
OID=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOOL=("$ATT_BIN/att_order_tool" --agent "${AGENT_URL[a]}" --sign-key "$T_DIR/order-key.pem"
    --ak-name "$AK" --container "$QID")
expect_cmd 0 "a quarantine order signed with the verifier's key" "${TOOL[@]}" --id "$OID"
assert_contains "$T_OUT" "ok=1" "carried out"
assert_eq "$("${R[@]}" state "$QID" | jq -r .status)" "paused" "runc reports the container paused"
netns_expect "$QPID" yes "its network namespace holds the drop-all table"
netns_expect $$ no "the host's network is untouched"
expect_cmd 0 "the same order again" "${TOOL[@]}" --id "$OID"
assert_contains "$T_OUT" "already in effect" "idempotent by id"
expect_cmd 0 "the signed lift" "${TOOL[@]}" --op lift --lifts "$OID"
assert_contains "$T_OUT" "ok=1" "lifted"
assert_eq "$("${R[@]}" state "$QID" | jq -r .status)" "running" "runc reports it running again"
netns_expect "$QPID" no "its network namespace is open again"

section "lifts that do not fit, a second verifier, an engine that does not answer"
OTHER=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)
expect_cmd 0 "a lift naming another container than its order" "${TOOL[@]}" --op lift \
    --lifts "$OID" --container "$OTHER"
assert_contains "$T_OUT" "ok=0" "refused"
assert_contains "$T_OUT" "names another container" "... for the container"
expect_cmd 0 "a second lift (new id) of the lifted order" "${TOOL[@]}" --op lift --lifts "$OID"
assert_contains "$T_OUT" "ok=0" "refused"
assert_contains "$T_OUT" "already lifted" "... as a replay"
expect_cmd 0 "a lift of an order never carried out here" "${TOOL[@]}" --op lift \
    --lifts "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
assert_contains "$T_OUT" "ok=1" "acknowledged: nothing to undo"
assert_contains "$T_OUT" "nothing to undo" "... and says so"
cp -- "$ADIR_A/verifier-key.der" "$T_DIR/key-before.der"
mkdir -p "$T_DIR/v2" # its own order-key.pem beside its store
token_create TOK2 "$T_DIR/v2/v2.db" ops admin
start_verifier v2 "$T_DIR/v2/v2.db" --insecure-dev --interval 60 "${RIG_TPM_CA_ARGS[@]}"
expect_cmd 2 "another verifier cannot enroll the agent: its order key is pinned" \
    "$ATT_BIN/attest-verify" --verifier "${VERIFIER_URL[v2]}" --token "$TOK2" enroll \
    --agent "${AGENT_URL[a]}" --name r1
assert_contains "$T_OUT" "pinned to another verifier's order key" "the refusal says why"
cmp -s "$T_DIR/key-before.der" "$ADIR_A/verifier-key.der" &&
    pass "the agent's order key is unchanged" || fail "the agent's order key was replaced"
stop_verifier v2
expect_cmd 0 "the first verifier can still enroll it again" "$ATT_BIN/attest-verify" \
    --verifier "${VERIFIER_URL[v]}" --token "$TOK" enroll --agent "${AGENT_URL[a]}" --name r1
# An agent whose engine does not answer: the order is not acknowledged, so the
# verifier keeps sending it; nothing is recorded as carried out.
start_agent b "$(rig_tcti 2)" --engine "unix://$T_DIR/no-engine.sock" --log-level info
expect_cmd 0 "enroll a second host whose engine is down" "$ATT_BIN/attest-verify" \
    --verifier "${VERIFIER_URL[v]}" --token "$TOK" enroll --agent "${AGENT_URL[b]}" --name r2
AK_B=$("$ATT_BIN/attest-verify" --verifier "${VERIFIER_URL[v]}" --token "$TOK" --json hosts |
    jq -r '.hosts[] | select(.name == "r2") | .ak_name')
expect_cmd 2 "an order to it gets no acknowledgement" "$ATT_BIN/att_order_tool" \
    --agent "${AGENT_URL[b]}" --sign-key "$T_DIR/order-key.pem" --ak-name "$AK_B" \
    --container "$QID"
assert_contains "$T_OUT" "carried no acknowledgement" "no ack in the answer"
assert_contains "$(agent_log b)" "not acknowledged, so it comes again" "the agent says why"
n=$(strings "${AGENT_DIR[b]}/measurements.bin" | grep -c "^quarantine:" || true)
assert_eq "$n" "0" "nothing recorded as carried out"
stop_agent b
stop_verifier v
"${R[@]}" delete -f "$QID" >/dev/null 2>&1 || true
stop_agent a
expect_cmd 0 "after runc delete the listing is empty again" "$ATT_BIN/attest-agent" containers \
    --engine "$ENGINE"
assert_not_contains "$T_OUT" "$CID" "the deleted container is gone from the listing"
finish
