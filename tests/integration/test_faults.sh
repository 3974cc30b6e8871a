#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Faults (issue 7) on the swtpm rig, real agents and verifier:
# - SIGKILL of the agent at random points while it measures and quotes, 50+
#   times, restarted on the same state dir: every measurement it acknowledged
#   is in its log, the log replays to the PCR, the host ends trusted, and the
#   verifier (polling all along) never called it untrusted;
# - swtpm stopped and resumed on its state (TPM Resume: Shutdown(STATE),
#   Startup(STATE)): the host stays trusted on the same boot, no new-boot;
#   swtpm SIGKILLed (no saved state: it cannot resume): a reset, followed onto
#   the new boot (the orderly stop + reboot case is test_verifier_poll.sh's);
# - a network partition of one host (agent and TPM in their own network
#   namespace, its link taken down): unreachable, never untrusted; link up:
#   trusted again, with what it measured meanwhile;
# - the verifier's store locked by another sqlite process (BEGIN EXCLUSIVE):
#   writes fail with 503 naming the store and the lock, /api/v1/health says
#   503 degraded, nothing stored is lost, recovery on release; a read-only
#   store: the verifier refuses to start naming it;
# - clock jumps (libfaketime, +1 day and -1 hour) of the agent and of the
#   verifier: the host stays trusted, a replayed quote is still refused;
# - SIGKILL of the verifier while a quarantine order is in flight (written,
#   sent, carried out but its acknowledgement not stored, random kills):
#   after the restarts the order exists once and was carried out once.
#
# FAULTS_ONLY="kill tpm net store clock order" (a subset) runs only those
# sections (for development; ctest runs them all).

. "$(dirname "$0")/lib.sh"

FILES=$T_DIR/files
mkdir -p "$FILES" "$T_DIR/store"
DB=$T_DIR/store/v.db
INTERVAL=0.3
KILLS=${FAULTS_KILLS:-50}
FT_LIB=""
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 \
    /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
    [[ -f $f ]] && FT_LIB=$f && break
done

for t in jq sqlite3 ip nsenter unshare swtpm nft; do
    command -v "$t" >/dev/null 2>&1 || die "$t is needed (scripts/install-deps.sh test)"
done

want() { [[ -z ${FAULTS_ONLY:-} || " $FAULTS_ONLY " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------
# cleanup of what this script starts beyond lib.sh's agents/verifiers/rig

BG_PIDS=()   # background loops, the sqlite lock holder, the namespace's swtpm
NS=""        # network namespace
VETH=""      # host end of its veth pair
faults_cleanup() {
    local p
    for p in "${BG_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [[ -n $NS ]]; then
        # the agent in it first (lib.sh stops it too, but the netns must go)
        if [[ -n ${AGENT_PID[p]:-} ]]; then
            _t_stop_pid "${AGENT_PID[p]}"
            unset "AGENT_PID[p]"
        fi
        ip netns delete "$NS" 2>/dev/null || true
    fi
    if [[ -n $VETH ]]; then
        ip link delete "$VETH" 2>/dev/null || true
    fi
}
_f_on_exit() {
    local rc=$?
    faults_cleanup
    (exit "$rc") # _t_on_exit reads the script's exit status from $?
    _t_on_exit
}
trap _f_on_exit EXIT

# bg_forget PID: drop PID from BG_PIDS once it was reaped.
bg_forget() {
    local i
    for i in "${!BG_PIDS[@]}"; do
        [[ ${BG_PIDS[$i]} == "$1" ]] && unset "BG_PIDS[$i]"
    done
    BG_PIDS=("${BG_PIDS[@]}")
}

# ---------------------------------------------------------------------------
# helpers on the verifier's API (verifier v, token ADMIN)

VARGS=()
start_v() {
    start_verifier v "$DB" --insecure-dev "${RIG_TPM_CA_ARGS[@]}" --interval "$INTERVAL" \
        --timeout 2 --log-level info "${VARGS[@]}"
    V=(--verifier "${VERIFIER_URL[v]}" --token "$ADMIN")
}

# verdicts_of HOST MARK: "verdict<TAB>reason" of every round of HOST with
# id > MARK, newest first, paging through the API (1000 a page).
verdicts_of() {
    local host=$1 mark=$2 before="" page n
    while :; do
        api v "$ADMIN" GET "/api/v1/hosts/$host/verdicts?limit=1000${before:+&before=$before}"
        page=$API_OUT
        jq -r --argjson m "$mark" '.verdicts[] | select(.id > $m) | "\(.verdict)\t\(.reason)"' \
            "$page" || return 1
        n=$(jq '.verdicts | length' "$page")
        ((n == 1000)) || break
        before=$(jq '.verdicts[-1].id' "$page")
        (($(jq '.verdicts[-1].id' "$page") > mark)) || break
    done
}

# verdict_set HOST MARK: the distinct verdicts since MARK, sorted, comma-joined.
verdict_set() {
    verdicts_of "$1" "$2" | cut -f1 | sort -u | paste -sd, -
}

# assert_never_untrusted DESC HOST MARK: no round of HOST since MARK was
# untrusted (unreachable is fine); at least one round was stored.
assert_never_untrusted() {
    local desc=$1 all bad n
    all=$(verdicts_of "$2" "$3")
    n=$(grep -c . <<<"$all")
    bad=$(grep -v -P '^(trusted|unreachable)\t' <<<"$all" | head -5)
    if ((n > 0)) && [[ -z $bad ]]; then
        pass "$desc ($n rounds: $(cut -f1 <<<"$all" | sort | uniq -c | awk '{printf "%s%s %s", s, $1, $2; s=", "}'))"
        return 0
    fi
    fail "$desc" "rounds since verdict $3: $n" "rounds that were neither trusted nor unreachable:" \
        "${bad:-none}"
    return 1
}

# event_after HOST KIND ID: HOST has an event KIND with id > ID (message in EV_MSG).
# shellcheck disable=SC2317 # called through wait_until
event_after() {
    api v "$ADMIN" GET "/api/v1/events?host=$1&kind=$2&after=$3&limit=10"
    EV_MSG=$(jq -r '.events[0].message // empty' "$API_OUT" 2>/dev/null)
    [[ -n $EV_MSG ]]
}

# rounds_grow HOST N: wait until HOST has N more stored rounds than now.
rounds_grow() {
    local host=$1 n=$2 start
    start=$(last_verdict_id "$host")
    # shellcheck disable=SC2317
    _grown() {
        api v "$ADMIN" GET "/api/v1/hosts/$host/verdicts?limit=1000"
        (($(jq --argjson m "$start" '[.verdicts[] | select(.id > $m)] | length' "$API_OUT") >= n))
    }
    wait_until 60 _grown
}

# ---------------------------------------------------------------------------
section "setup: 3 TPM hosts (host 1 with podman), a verifier polling every ${INTERVAL}s"
cp -- "$ATT_SRC/swtpm-setup/rig" "$T_RIG_CMD" && chmod +x "$T_RIG_CMD"
RIG=$T_DIR/rig
if ! "$T_RIG_CMD" up "$RIG" --hosts 3 --podman >"$T_DIR/out/rig-up.txt" 2>&1; then
    die "rig up --hosts 3 --podman failed" "$T_DIR/out/rig-up.txt"
fi
RIG_TPM_CA_ARGS=(--tpm-ca "$RIG/ca/root.pem" --tpm-ca "$RIG/ca/intermediate.pem")
log "rig up after $((SECONDS - T_START))s"

NFILES=$((KILLS * 6 + 20))
for ((i = 1; i <= NFILES; i++)); do
    printf 'fault file %d\n' "$i" >"$FILES/m$i"
done
for ((i = 1; i <= 20; i++)); do # for the sections after the kill loop
    printf 'extra file %d\n' "$i" >"$FILES/x$i"
done
printf 'not in any policy\n' >"$FILES/rogue"
policy_for "$T_DIR/all.json" "$FILES"/m* "$FILES"/x*
token_create ADMIN "$DB" admin admin
start_v
fleet_expect 0 v "$ADMIN" policy apply all "$T_DIR/all.json"

# The kill-loop host: agent k on TPM 2 (ECC EK: quick restarts).
KARGS=(--agent-id faults-k --ek-alg ecc --log-level info)
start_agent k "$(rig_tcti 2)" "${KARGS[@]}"
KPORT=${AGENT_PORT[k]}
KDIR=${AGENT_DIR[k]}
measure k "$FILES/m1"
fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[k]}" --name h2
fleet_expect 0 v "$ADMIN" policy assign h2 all
wait_until 30 host_at h2 trusted 1 || die "h2 did not become trusted: $(host_field h2 .verdict_reason)"
pass "h2 trusted by polling"
restart_k() {
    start_agent k "$(rig_tcti 2)" "${KARGS[@]}" --listen "127.0.0.1:$KPORT"
}

# ---------------------------------------------------------------------------
# 1. SIGKILL of the agent at random points while measuring and quoting

# measurer OUT: measure the next files (two per call) until told to stop;
# each call's answer lines and exit status go to OUT ("rc N paths P" lines).
measurer() {
    local out=$1 j rc
    while [[ ! -e $T_DIR/stop-loops ]]; do
        j=$(cat "$T_DIR/next-file")
        if ((j + 1 > NFILES)); then
            j=1 # all measured: go on re-measuring (the "unchanged" path)
        fi
        printf '%d\n' $((j + 2)) >"$T_DIR/next-file"
        timeout -k 2 20 "$ATT_BIN/attest-agent" measure --state-dir "$KDIR" \
            "$FILES/m$j" "$FILES/m$((j + 1))" >>"$out" 2>&1
        rc=$?
        printf 'rc %d paths 2\n' "$rc" >>"$out"
    done
}

# quoter OUT: attest-verify host against agent k until told to stop; its exit
# statuses go to OUT (0 trusted, 2 unreachable; 1 would be untrusted).
quoter() {
    local out=$1 rc
    while [[ ! -e $T_DIR/stop-loops ]]; do
        timeout -k 2 30 "$ATT_BIN/attest-verify" host --agent "http://127.0.0.1:$KPORT" \
            --policy "$T_DIR/all.json" --known-aks "$KNOWN_AKS" >"$out.last" 2>&1
        rc=$?
        printf '%d\n' "$rc" >>"$out"
        if ((rc == 1)); then
            cat "$out.last" >>"$out.untrusted"
        fi
    done
}

# acked_missing ACKS LOG: paths acknowledged ("measured|unchanged sha256:X PATH")
# in ACKS that have no "host:PATH" entry in LOG (log.ascii); prints them.
# Whole names are compared: "host:/x/m1" must not be found as a prefix of "host:/x/m10".
acked_missing() {
    comm -23 \
        <(grep -aE '^(measured|unchanged) sha256:[0-9a-f]{64} /' "$1" | awk '{print $3}' | sort -u) \
        <(awk '{ for (i = 1; i <= NF; i++) if (substr($i, 1, 5) == "host:") print substr($i, 6) }' \
            "$2" | sort -u)
}

# short_ok_calls ACKS: calls that exited 0 with fewer answer lines than paths.
short_ok_calls() {
    awk '/^rc / { if ($2 == 0 && n < $4) bad++; n = 0; next } { n++ } END { print bad + 0 }' "$1"
}

if want kill; then
    section "SIGKILL of the agent at random points during measurement and quoting ($KILLS kills)"
    ACKS=$T_DIR/out/acks.txt
    QRC=$T_DIR/out/quoter.txt
    : >"$ACKS"
    : >"$QRC"
    printf '2\n' >"$T_DIR/next-file"
    VMARK=$(last_verdict_id h2)
    t0=$SECONDS
    killed=0
    for ((round = 1; round <= KILLS; round++)); do
        rm -f "$T_DIR/stop-loops"
        ((round > 1)) && restart_k
        measurer "$ACKS" &
        MP=$!
        quoter "$QRC" &
        QP=$!
        BG_PIDS+=("$MP" "$QP")
        sleep "0.$(printf '%03d' $((RANDOM % 300)))"
        pid=${AGENT_PID[k]}
        if _t_is_live "$pid"; then
            killed=$((killed + 1)) # a kill of a live agent, mid-work
        else
            fail "kill $round: agent k died by itself before the kill"
            show_file "$(agent_log k)"
        fi
        kill_agent k
        touch "$T_DIR/stop-loops"
        wait "$MP" 2>/dev/null
        wait "$QP" 2>/dev/null
        bg_forget "$MP"
        bg_forget "$QP"
    done
    log "$killed kills in $((SECONDS - t0))s"
    assert_eq "$killed" "$KILLS" "the agent was SIGKILLed $KILLS times mid-work"
    restart_k
    nacks=$(grep -caE '^measured sha256:' "$ACKS" || true)
    ncalls=$(grep -c '^rc ' "$ACKS" || true)
    nquotes=$(grep -c . "$QRC" || true)
    nq_ok=$(grep -c '^0$' "$QRC" || true)
    if ((nacks >= KILLS / 2 && nq_ok >= KILLS / 2)); then
        pass "work was going on: $ncalls measure calls, $nacks new measurements acknowledged, $nq_ok of $nquotes quotes trusted"
    else
        fail "too little work between the kills: $nacks acknowledged measurements, $nq_ok trusted quotes of $nquotes"
    fi
    assert_eq "$(grep -c '^1$' "$QRC" || true)" "0" "attest-verify host never said untrusted during the kills"
    [[ -s $QRC.untrusted ]] && show_file "$QRC.untrusted"
    assert_eq "$(short_ok_calls "$ACKS")" "0" \
        "no measure call reported success (exit 0) with paths left unanswered"
    # The agent answered: everything it acknowledged is in its log and the
    # log replays to the quoted PCR.
    verify_host 0 "${AGENT_URL[k]}" "$T_DIR/all.json" --save-evidence "$T_DIR/ev-kill"
    assert_contains "$T_OUT" "verdict: trusted" "after $KILLS kills: trusted (the log replays to the quoted PCR)"
    assert_not_contains "$T_OUT" "agent-log-inconsistent" "the agent reports its log consistent"
    missing=$(acked_missing "$ACKS" "$T_DIR/ev-kill/log.ascii")
    nacked=$(grep -aE '^(measured|unchanged) sha256:' "$ACKS" | awk '{print $3}' | sort -u | grep -c . || true)
    if [[ -z $missing ]] && ((nacked > 0)); then
        pass "all $nacked acknowledged paths are in the log"
    else
        fail "acknowledged measurements are missing from the log" "$missing"
    fi
    dups=$(grep -ao ' host:/[^ ]*' "$T_DIR/ev-kill/log.ascii" | sort | uniq -d | head -3)
    assert_eq "$dups" "" "no path is in the log twice"
    # the checker itself: a path that was never measured is reported missing
    printf 'measured sha256:%064d %s\n' 0 "$FILES/rogue" >"$T_DIR/acks-bad.txt"
    assert_eq "$(acked_missing "$T_DIR/acks-bad.txt" "$T_DIR/ev-kill/log.ascii")" "$FILES/rogue" \
        "(control) an acknowledged path absent from the log is caught"
    printf '10 %040d ima-ng sha256:%064d host:%s\n' 0 0 "$FILES/m10" >"$T_DIR/log-m10.txt"
    printf 'measured sha256:%064d %s\n' 0 "$FILES/m1" >"$T_DIR/acks-m1.txt"
    assert_eq "$(acked_missing "$T_DIR/acks-m1.txt" "$T_DIR/log-m10.txt")" "$FILES/m1" \
        "(control) a path is not found as the prefix of a longer one"
    printf 'measured sha256:%064d %s\nrc 0 paths 2\n' 0 "$FILES/m1" >"$T_DIR/acks-short.txt"
    assert_eq "$(short_ok_calls "$T_DIR/acks-short.txt")" "1" "(control) a short answer with exit 0 is caught"
    n=$(grep -c ' host:' "$T_DIR/ev-kill/log.ascii" || true)
    if wait_until 60 host_at h2 trusted "$n"; then
        pass "the verifier follows h2 to trusted at log_offset $n"
    else
        fail "h2 after the kills: $(host_field h2 '"\(.verdict) \(.log_offset) \(.verdict_reason)"') (log has $n entries)"
    fi
    assert_never_untrusted "the verifier never recorded h2 untrusted across the $KILLS kills" h2 "$VMARK"
    assert_not_contains "$(agent_log k)" "measurement log inconsistent" \
        "no restart found the log inconsistent with the PCR"
    grep -c 'was logged but not extended' "$(agent_log k)" >"$T_DIR/out/n-finished.txt"
    log "restarts that finished an interrupted extend: $(cat "$T_DIR/out/n-finished.txt")"
fi

# ---------------------------------------------------------------------------
# 3. swtpm restart without and with a TPM reset

if want tpm; then
    section "swtpm stopped and resumed on its state (TPM Resume): same boot, still trusted"
    [[ -n ${AGENT_PID[k]:-} ]] || restart_k
    wait_until 30 host_is h2 trusted || fail "h2 is not trusted before the swtpm restart"
    EMARK=$(last_event_id)
    VMARK=$(last_verdict_id h2)
    BOOT0=$(host_field h2 .boot_id)
    RESET0=$(host_field h2 .reset_count)
    RESTART0=$(host_field h2 .restart_count)
    OFF0=$(host_field h2 .log_offset)
    expect_cmd 0 "rig stop 2 (TPM2_Shutdown(STATE), swtpm exits)" "$T_RIG_CMD" stop "$RIG" 2
    if wait_until 30 host_is h2 unreachable; then
        pass "h2 is unreachable while its TPM is down"
    else
        fail "h2 with its TPM down: $(host_field h2 '"\(.verdict) \(.verdict_reason)"')"
    fi
    expect_cmd 0 "rig start 2 --no-reset (swtpm on the same state, TPM2_Startup(STATE))" \
        "$T_RIG_CMD" start "$RIG" 2 --no-reset
    measure k "$FILES/x1"
    if wait_until 60 host_at h2 trusted $((OFF0 + 1)); then
        pass "h2 is trusted after the resume and appraises a new entry ($OFF0 -> $((OFF0 + 1)))"
    else
        fail "h2 after the resume: $(host_field h2 '"\(.verdict) \(.log_offset) \(.verdict_reason)"')"
        show_file "$(agent_log k)"
    fi
    assert_eq "$(host_field h2 .boot_id)" "$BOOT0" "h2 keeps its boot_id (no new boot)"
    assert_eq "$(host_field h2 .reset_count)" "$RESET0" "resetCount unchanged"
    RESTART1=$(host_field h2 .restart_count)
    if [[ $RESTART1 =~ ^[0-9]+$ && $RESTART0 =~ ^[0-9]+$ ]] && ((RESTART1 > RESTART0)); then
        pass "restartCount went up ($RESTART0 -> $RESTART1): it was a TPM Resume"
    else
        fail "restartCount did not go up: $RESTART0 -> $RESTART1"
    fi
    if event_after h2 new-boot "$EMARK"; then
        fail "a new-boot event after a mere TPM Resume: $EV_MSG"
    else
        pass "no new-boot event"
    fi
    assert_never_untrusted "across the resume h2 was only trusted or unreachable" h2 "$VMARK"
    verify_host 0 "${AGENT_URL[k]}" "$T_DIR/all.json"

    section "swtpm SIGKILLed: no saved state, so no resume; a reset is followed onto the new boot"
    EMARK=$(last_event_id)
    VMARK=$(last_verdict_id h2)
    kill -KILL "$(cat "$RIG/host-2/swtpm.pid")" || fail "cannot SIGKILL host 2's swtpm"
    wait_until 10 bash -c "! rig_up=\$('$T_RIG_CMD' status '$RIG' | grep '^host-2 ') || [[ \$rig_up == *down ]]" ||
        true
    expect_cmd 1 "rig start 2 --no-reset after a SIGKILL: refused" "$T_RIG_CMD" start "$RIG" 2 --no-reset
    assert_contains "$T_OUT" "cannot resume" "the rig says the TPM cannot resume"
    expect_cmd 0 "rig start 2 (a TPM reset)" "$T_RIG_CMD" start "$RIG" 2
    if wait_until 60 event_after h2 new-boot "$EMARK"; then
        pass "a new-boot event for h2: $EV_MSG"
    else
        fail "no new-boot event for h2 after the reset"
    fi
    if wait_until 60 host_at h2 trusted 0; then
        pass "h2 is trusted on its new boot (log_offset 0)"
    else
        fail "h2 after the reset: $(host_field h2 '"\(.verdict) \(.log_offset) \(.verdict_reason)"')"
    fi
    (($(host_field h2 .reset_count) > RESET0)) && pass "resetCount went up" ||
        fail "resetCount did not go up after the reset"
    assert_never_untrusted "across the SIGKILL and reset h2 was only trusted or unreachable" h2 "$VMARK"
fi

# ---------------------------------------------------------------------------
# 5. network partition of one host

# ns_agent_ready: the agent in the namespace wrote its port.
if want net; then
    section "network partition: host 3 (agent and TPM) in its own namespace, link down and up"
    NS=attf-$$
    VETH=attf$$h
    SUB=10.79.$(($$ % 250))
    ip netns add "$NS" || die "ip netns add $NS failed"
    ip link add "$VETH" type veth peer name attf$$n netns "$NS" &&
        ip addr add "$SUB.1/24" dev "$VETH" && ip link set "$VETH" up &&
        ip -n "$NS" link set lo up && ip -n "$NS" addr add "$SUB.2/24" dev attf$$n &&
        ip -n "$NS" link set attf$$n up || die "cannot build the veth pair for $NS"
    # The host's TPM moves into the namespace with it: stop swtpm 3 orderly
    # and resume its state in a swtpm inside the namespace.
    expect_cmd 0 "rig stop 3" "$T_RIG_CMD" stop "$RIG" 3
    ip netns exec "$NS" swtpm socket --tpm2 --tpmstate "dir=$RIG/host-3/state" \
        --server type=tcp,port=2321,bindaddr=127.0.0.1 \
        --ctrl type=tcp,port=2322,bindaddr=127.0.0.1 --flags not-need-init,startup-state \
        --log "file=$T_DIR/out/swtpm-ns.log" </dev/null >>"$T_DIR/out/swtpm-ns.log" 2>&1 &
    BG_PIDS+=($!)
    PDIR=$T_DIR/agents/p
    mkdir -p "$PDIR"
    printf '=== start p in %s\n' "$NS" >>"$T_DIR/agents/p.err"
    ip netns exec "$NS" "$ATT_BIN/attest-agent" --tcti swtpm:host=127.0.0.1,port=2321 \
        --state-dir "$PDIR" --listen "$SUB.2:0" --insecure-dev --agent-id faults-p \
        --log-level info >>"$T_DIR/agents/p.out" 2>>"$T_DIR/agents/p.err" &
    AGENT_PID[p]=$!
    AGENT_DIR[p]=$PDIR
    wait_for_file "$PDIR/http.port" "${AGENT_PID[p]}" 30 ||
        die "the agent in $NS did not start" "$T_DIR/agents/p.err" "$T_DIR/out/swtpm-ns.log"
    AGENT_URL[p]=http://$SUB.2:$(tr -d '\n' <"$PDIR/http.port")
    measure p "$FILES/m1"
    fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[p]}" --name h3
    fleet_expect 0 v "$ADMIN" policy assign h3 all
    wait_until 30 host_at h3 trusted 1 || fail "h3 did not become trusted: $(host_field h3 .verdict_reason)"
    VMARK=$(last_verdict_id h3)
    VMARK2=$(last_verdict_id h2)
    EMARK=$(last_event_id)
    expect_cmd 0 "link down inside $NS (the partition)" ip -n "$NS" link set attf$$n down
    if wait_until 30 host_is h3 unreachable; then
        pass "h3 is unreachable: $(host_field h3 .verdict_reason)"
    else
        fail "h3 during the partition: $(host_field h3 '"\(.verdict) \(.verdict_reason)"')"
    fi
    event_after h3 unreachable "$EMARK" && pass "an unreachable event: $EV_MSG" ||
        fail "no unreachable event for h3"
    measure p "$FILES/m2" # behind the partition: the agent still works locally
    rounds_grow h3 3 || fail "the verifier stopped polling h3 during the partition"
    fleet_expect 2 v "$ADMIN" host h3
    assert_contains "$T_OUT" "verdict: unreachable" "attest now during the partition: unreachable (exit 2)"
    assert_eq "$(host_field h2 .verdict)" "trusted" "h2 (not partitioned) stays trusted"
    expect_cmd 0 "link up again" ip -n "$NS" link set attf$$n up
    if wait_until 60 host_at h3 trusted 2; then
        pass "h3 is trusted again, with the entry measured during the partition (log_offset 2)"
    else
        fail "h3 after the link came back: $(host_field h3 '"\(.verdict) \(.log_offset) \(.verdict_reason)"')"
    fi
    assert_eq "$(verdict_set h3 "$VMARK")" "trusted,unreachable" \
        "during and after the partition h3 was unreachable, then trusted; never untrusted"
    assert_never_untrusted "h2 was unaffected by h3's partition" h2 "$VMARK2"
    # control: the same checker sees an untrusted round
    measure p "$FILES/rogue"
    if wait_until 30 host_is h3 untrusted; then
        pass "(control) a file outside the policy on h3: untrusted"
        if assert_never_untrusted "(control) this must fail" h3 "$VMARK" >/dev/null; then
            fail "(control) assert_never_untrusted did not see h3's untrusted round"
        else
            T_FAIL=$((T_FAIL - 1))
            pass "(control) assert_never_untrusted catches an untrusted round"
        fi
    else
        fail "(control) h3 did not become untrusted after measuring the rogue file"
    fi
    _t_stop_pid "${AGENT_PID[p]}"
    unset "AGENT_PID[p]"
fi

# ---------------------------------------------------------------------------
# 4. the store locked by another process, then read-only

# vpid_alive: verifier v still runs.
if want store; then
    section "store locked by another sqlite process (BEGIN EXCLUSIVE)"
    [[ -n ${AGENT_PID[k]:-} ]] || restart_k
    wait_until 30 host_is h2 trusted || fail "h2 not trusted before the lock"
    api v "$ADMIN" GET "/api/v1/events?limit=1000"
    EV_BEFORE=$(jq -c '[.events[].id]' "$API_OUT")
    VMARK=$(last_verdict_id h2)
    api v "$ADMIN" GET /api/v1/hosts
    HOSTS_BEFORE=$(jget "$API_OUT" '[.hosts[].name] | sort | join(",")')
    api v "$ADMIN" GET "/api/v1/hosts/h2/verdicts?limit=1000"
    VS_BEFORE=$(jq -c '[.verdicts[].id]' "$API_OUT")
    mkfifo "$T_DIR/lock.fifo"
    sqlite3 "$DB" <"$T_DIR/lock.fifo" >"$T_DIR/out/locker.txt" 2>&1 &
    LOCKER=$!
    BG_PIDS+=("$LOCKER")
    exec {LOCKFD}>"$T_DIR/lock.fifo"
    printf '.timeout 20000\nBEGIN EXCLUSIVE;\nSELECT %s;\n' "'locked'" >&"$LOCKFD"
    wait_until 30 grep -q locked "$T_DIR/out/locker.txt" ||
        die "the sqlite3 process could not take the lock" "$T_DIR/out/locker.txt"
    pass "another sqlite3 process holds an exclusive (write) lock on the store"
    expect_api 503 "a write through the API (policy apply) while locked: 503" v "$ADMIN" \
        PUT /api/v1/policies/all "@$T_DIR/all.json"
    err=$(jget "$API_OUT" .error)
    log "the error: $err"
    [[ $err == *"$DB"* && $err == *"database is locked"* ]] &&
        pass "the error names the store and says it is locked" ||
        fail "the error does not name the locked store: $err"
    expect_api 503 "health while the store is locked: 503" v "" GET /api/v1/health
    assert_eq "$(jget "$API_OUT" .status)" "degraded" "health says degraded"
    [[ $(jget "$API_OUT" .error) == "the store cannot be used; see the verifier's log" ]] &&
        pass "health says the store is at fault, without SQLite's words to a tokenless caller" ||
        fail "health: $(jget "$API_OUT" .error)"
    expect_api 200 "reads still work while locked (hosts list)" v "$ADMIN" GET /api/v1/hosts
    assert_eq "$(jget "$API_OUT" '[.hosts[].name] | sort | join(",")')" "$HOSTS_BEFORE" \
        "the stored hosts ($HOSTS_BEFORE) are all still listed"
    assert_match "$(verifier_log v)" "locked" "the verifier's log says the store is locked"
    _t_is_live "${VERIFIER_PID[v]}" && pass "the verifier keeps running while its store is locked" ||
        fail "the verifier died while its store was locked"
    printf 'COMMIT;\n.quit\n' >&"$LOCKFD"
    exec {LOCKFD}>&-
    wait "$LOCKER" 2>/dev/null
    bg_forget "$LOCKER"
    pass "lock released"
    rounds_grow h2 3 && pass "rounds are stored again after the release" ||
        fail "no new rounds after the lock was released"
    wait_until 20 host_is h2 trusted || fail "h2 not trusted after the lock"
    api v "$ADMIN" GET "/api/v1/events?limit=1000"
    assert_eq "$(jq -c --argjson b "$EV_BEFORE" '$b - [.events[].id]' "$API_OUT")" "[]" \
        "every event stored before the lock is still there"
    api v "$ADMIN" GET "/api/v1/hosts/h2/verdicts?limit=1000"
    assert_eq "$(jq -c --argjson b "$VS_BEFORE" '$b - [.verdicts[].id]' "$API_OUT")" "[]" \
        "every round stored before the lock is still there"
    expect_api 200 "the same write after the release succeeds" v "$ADMIN" \
        PUT /api/v1/policies/all "@$T_DIR/all.json"
    expect_api 200 "health after the release: 200" v "" GET /api/v1/health
    assert_eq "$(jget "$API_OUT" .status)" "ok" "health says ok again"
    assert_never_untrusted "the lock never made h2 untrusted" h2 "$VMARK"

    section "read-only store: the verifier refuses to start, naming it; nothing lost"
    stop_verifier v
    cp "$DB" "$T_DIR/out/db-copy.db" 2>/dev/null || true
    ROCMD=("$ATT_BIN/attest-verifier" --db "$DB" --listen 127.0.0.1:0 --insecure-dev
        "${RIG_TPM_CA_ARGS[@]}" --interval "$INTERVAL")
    T_OUT=$T_DIR/out/ro-start.txt
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout -k 5 20 unshare -m --propagation private bash -c \
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
        ro "$T_DIR/store" "${ROCMD[@]}" >"$T_OUT" 2>&1
    rc=$?
    if ((rc != 0 && rc != 124 && rc != 137)); then
        pass "the verifier on a read-only store exits $rc"
    else
        fail "the verifier on a read-only store: exit $rc (expected a refusal)"
    fi
    assert_contains "$T_OUT" "$DB" "its message names the store"
    show_file "$T_OUT" | head -5
    start_v
    api v "$ADMIN" GET "/api/v1/hosts/h2/verdicts?limit=1000"
    assert_eq "$(jq -c --argjson b "$VS_BEFORE" '$b - [.verdicts[].id]' "$API_OUT")" "[]" \
        "read-write again: every round stored before is there"
    wait_until 30 host_is h2 trusted && pass "h2 trusted after the restart" ||
        fail "h2 after the read-only episode: $(host_field h2 .verdict_reason)"
fi

# ---------------------------------------------------------------------------
# 2. SIGKILL of the verifier while a quarantine order is in flight

state_of() { "$PODMAN" inspect --format '{{.State.Status}}' "$1" 2>/dev/null; }

# orders_for ID: "id state" of every order for container ID of h1.
orders_for() {
    "$ATT_BIN/attest-verify" "${V[@]}" --json quarantine list --host h1 |
        jq -r --arg c "$1" '.orders[] | select(.container == $c) | "\(.id) \(.state)"'
}

# wait_exit NAME: verifier NAME exits by itself (a fault hook); T_REAP_RC its status.
wait_v_exit() {
    local pid=${VERIFIER_PID[v]}
    if wait_until 60 bash -c "! kill -0 $pid 2>/dev/null || [[ \$(ps -o stat= -p $pid) == Z* ]]"; then
        wait "$pid" 2>/dev/null
        T_REAP_RC=$?
    else
        T_REAP_RC=running
        kill_verifier v
    fi
    unset "VERIFIER_PID[v]"
}

if want order; then
    section "SIGKILL of the verifier while a quarantine order is in flight (podman)"
    PODMAN=$RIG/host-1/podman
    GRAPH=$RIG/host-1/podman.d/root
    ENGINE=$(cat "$RIG/host-1/engine")
    start_agent a "$(rig_tcti 1)" --engine "$ENGINE" --integrity-interval 2 --log-level info \
        --agent-id faults-a
    ADIR=${AGENT_DIR[a]}
    "$T_RIG_CMD" hook "$RIG" 1 --path "$ATT_BIN/attest-hook" --arg --state-dir \
        --arg "$ADIR" --arg --storage --arg "$GRAPH" >"$T_DIR/out/hook.txt" 2>&1 ||
        die "rig hook failed" "$T_DIR/out/hook.txt"
    fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[a]}" --name h1
    image_policy localhost/attest-dyn:1 dyn "$T_DIR/p-dyn.json"
    jq '{version: 1, name: "apps", reference_values: {}, containers: [.containers[0]]}' \
        "$T_DIR/p-dyn.json" >"$T_DIR/apps.json"
    fleet_expect 0 v "$ADMIN" policy apply apps "$T_DIR/apps.json"
    fleet_expect 0 v "$ADMIN" policy assign h1 apps
    wait_until 30 grep -q "admission policy updated" "$(agent_log a)" ||
        die "no admission policy reached the agent" "$(agent_log a)"
    C=$("$PODMAN" run -d localhost/attest-dyn:1 /bin/sleep 600) || die "container C did not start"
    wait_verdict "$C" "trusted" "container C trusted"

    stop_verifier v
    ATTEST_VERIFIER_FAULT=exit-after-order start_v
    run_foreign "$C" 600
    wait_v_exit
    assert_eq "$T_REAP_RC" "75" "the verifier died right after storing the order (before sending it)"
    assert_eq "$(state_of "$C")" "running" "C still runs: the order was never sent"

    ATTEST_VERIFIER_FAULT=exit-before-ack start_v
    wait_v_exit
    assert_eq "$T_REAP_RC" "75" "the next verifier sent it and died holding the acknowledgement, unstored"
    wait_until 20 bash -c "[[ \$('$PODMAN' inspect --format '{{.State.Status}}' $C) == paused ]]"
    assert_eq "$(state_of "$C")" "paused" "the agent carried the order out: C is paused"

    for kill in 1 2 3; do
        start_v
        pause=0.$((RANDOM % 8))$((RANDOM % 10))
        sleep "$pause"
        kill_verifier v
        log "order kill $kill: SIGKILL after ${pause}s"
    done
    start_v
    wait_verdict "$C" "quarantined" "after the kills and restarts C is quarantined" 90
    ORD=$(orders_for "$C")
    log "orders for C: ${ORD//$'\n'/; }"
    assert_eq "$(grep -c . <<<"$ORD")" "1" "exactly one order exists for C (not lost, not doubled)"
    [[ $ORD != *pending* ]] && pass "the order is acknowledged: ${ORD#* }" ||
        fail "the order is still pending after the restarts: $ORD"
    n=$(grep -c "^[0-9a-f]\{32\} A $C" "$ADIR/quarantine.state" || true)
    assert_eq "$n" "1" "the agent carried the order out once (one record)"
    n=$(strings "$ADIR/measurements.bin" | grep -c "^quarantine:$C" || true)
    assert_eq "$n" "1" "... and logged it once"
    "$ATT_BIN/attest-verify" "${V[@]}" --json events --host h1 --limit 1000 >"$T_DIR/out/events-h1.json"
    n=$(jq --arg o "${ORD%% *}" '[.events[] | select(.kind == "quarantine-enforced" and (.message | contains($o)))] | length' \
        "$T_DIR/out/events-h1.json")
    assert_eq "$n" "1" "one quarantine-enforced event for it"
    n=$(jq --arg o "${ORD%% *}" '[.events[] | select(.kind == "quarantine-ordered" and (.message | contains($o)))] | length' \
        "$T_DIR/out/events-h1.json")
    assert_eq "$n" "1" "one quarantine-ordered event for it"
    assert_eq "$(state_of "$C")" "paused" "C stays paused"
    "$PODMAN" rm -f -t 1 "$C" >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------------------
# 6. clock jumps (libfaketime; the machine's clock is never touched)

# ft_env FILE: the environment that runs a program on FILE's fake time ("+0",
# "+1d", "-1h"), read again at every call; CLOCK_MONOTONIC stays real, as in
# a real wall-clock step.
# Under ASan its runtime must come first among the loaded libraries unless
# told not to check: libfaketime is preloaded ahead of it.
ft_env() {
    printf '%s\n' "LD_PRELOAD=$FT_LIB" "FAKETIME_TIMESTAMP_FILE=$1" FAKETIME_NO_CACHE=1 \
        FAKETIME_DONT_FAKE_MONOTONIC=1 \
        "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}

CLK_N=0
# clock_step DESC FILE OFFSET: set FILE to OFFSET; h2 must stay trusted over
# the next rounds (and attest-verify too); the faked process must live.
clock_step() {
    local desc=$1 file=$2 off=$3 mark
    mark=$(last_verdict_id h2)
    printf '%s\n' "$off" >"$file"
    CLK_N=$((CLK_N + 1))
    measure k "$FILES/x$((1 + CLK_N))" # a new entry under the jumped clock
    rounds_grow h2 4 || fail "$desc: the verifier stopped storing rounds for h2"
    assert_never_untrusted "$desc: h2 stays trusted" h2 "$mark"
    assert_eq "$(verdict_set h2 "$mark")" "trusted" "$desc: every round since is trusted"
    verify_host 0 "${AGENT_URL[k]}" "$T_DIR/all.json"
    _t_is_live "${AGENT_PID[k]}" && _t_is_live "${VERIFIER_PID[v]}" &&
        pass "$desc: agent and verifier still run" || fail "$desc: a process died"
}

if want clock; then
    section "clock jumps of the agent and of the verifier (libfaketime)"
    if [[ -z $FT_LIB ]]; then
        fail "libfaketime is not installed (Debian package faketime): clock jumps not tested"
    else
        FT_A=$T_DIR/faketime-agent
        FT_V=$T_DIR/faketime-verifier
        printf '+0\n' >"$FT_A"
        printf '+0\n' >"$FT_V"
        [[ -n ${AGENT_PID[k]:-} ]] && stop_agent k
        mapfile -t env_a < <(ft_env "$FT_A")
        env "${env_a[@]}" date +%s >"$T_DIR/out/ft-probe.txt"
        printf '+1d\n' >"$FT_A"
        dt=$(($(env "${env_a[@]}" date +%s) - $(date +%s)))
        printf '+0\n' >"$FT_A"
        ((dt > 86000 && dt < 86800)) && pass "libfaketime moves a process's clock (+1d: ${dt}s)" ||
            fail "libfaketime does not work here (+1d gave ${dt}s)"
        export "${env_a[@]}"
        restart_k
        unset LD_PRELOAD FAKETIME_TIMESTAMP_FILE FAKETIME_NO_CACHE FAKETIME_DONT_FAKE_MONOTONIC
        wait_until 30 host_is h2 trusted || fail "h2 not trusted with the faked agent clock"
        clock_step "agent clock +1 day" "$FT_A" +1d
        clock_step "agent clock -1 hour" "$FT_A" -1h
        clock_step "agent clock back to real time" "$FT_A" +0
        stop_verifier v
        mapfile -t env_v < <(ft_env "$FT_V")
        export "${env_v[@]}"
        start_v
        unset LD_PRELOAD FAKETIME_TIMESTAMP_FILE FAKETIME_NO_CACHE FAKETIME_DONT_FAKE_MONOTONIC
        wait_until 30 host_is h2 trusted || fail "h2 not trusted under the faked verifier clock"
        clock_step "verifier clock +1 day" "$FT_V" +1d
        at=$(host_field h2 .last_seen)
        api v "$ADMIN" GET "/api/v1/hosts/h2/verdicts?limit=1"
        at=$(jget "$API_OUT" '.verdicts[0].at')
        now=$(date +%s)
        [[ $at =~ ^[0-9]+$ ]] && ((at > now + 80000)) &&
            pass "the verifier runs 1 day ahead (its newest round is stamped $((at - now))s in the future)" ||
            fail "the verifier's clock is not faked: newest round at ${at:-?}, now $now"
        clock_step "verifier clock -1 hour" "$FT_V" -1h
        api v "$ADMIN" GET "/api/v1/hosts/h2/verdicts?limit=1000"
        if jq -e '[.verdicts[].id] as $a | all(range(1; $a | length); $a[.] < $a[. - 1])' \
            "$API_OUT" >/dev/null; then
            pass "verdict ids still strictly increase across the clock jumps"
        else
            fail "verdict ids are not monotonic after the clock jumps"
        fi
        # Freshness does not depend on the clock: a replayed answer is refused.
        printf '+1d\n' >"$FT_V"
        start_proxy rp "${AGENT_URL[k]}" replay
        T_OUT=$T_DIR/out/replay-1.txt
        env "${env_v[@]}" "$ATT_BIN/attest-verify" host --agent "${PROXY_URL[rp]}" \
            --policy "$T_DIR/all.json" --known-aks "$KNOWN_AKS" >"$T_OUT" 2>&1
        assert_eq "$?" "0" "(clock +1 day) the first answer through the replaying proxy is fresh: trusted"
        T_OUT=$T_DIR/out/replay-2.txt
        env "${env_v[@]}" "$ATT_BIN/attest-verify" host --agent "${PROXY_URL[rp]}" \
            --policy "$T_DIR/all.json" --known-aks "$KNOWN_AKS" >"$T_OUT" 2>&1
        assert_eq "$?" "1" "(clock +1 day) the replayed answer: untrusted (exit 1)"
        assert_match "$T_OUT" "nonce" "it is refused for its nonce"
        stop_proxy rp
        printf '+0\n' >"$FT_V"
        stop_verifier v
        start_v
        stop_agent k
        restart_k
    fi
fi

finish
