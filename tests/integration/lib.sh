# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Shared helpers for tests/integration/test_*.sh, sourced by each test:
#   . "$(dirname "$0")/lib.sh"
#
# Gives every test its own temp dir (T_DIR) with an EXIT trap that stops what
# the test started (agents, proxies, verifiers, the swtpm rig) and removes the
# dir; a pass/fail counter whose summary line is exactly "N passed, M failed";
# and helpers that run the real binaries and say loudly what was expected and
# what came out: a fleet CA for mTLS (fleet_setup), verifiers and their tokens
# (start_verifier, token_create), dashboard API calls with curl (api,
# expect_api). Nothing here touches ports, dirs or TPMs outside T_DIR, so
# ctest may run tests in parallel.
#
# Environment: ATT_BIN (build/bin), ATT_SRC (repo root); both set by ctest.
# ATT_KEEP_TMP=1 keeps T_DIR for a post-mortem.

set -u -o pipefail

: "${ATT_BIN:?ATT_BIN must name the bin directory of a build}"
: "${ATT_SRC:?ATT_SRC must name the repository root}"
ATT_BIN=$(cd "$ATT_BIN" && pwd) || exit 2
ATT_SRC=$(cd "$ATT_SRC" && pwd) || exit 2

T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/att-$T_NAME.XXXXXX") || exit 2
T_PASS=0
T_FAIL=0
T_STEP=0
T_DONE=0
T_START=$SECONDS
T_OUT=""  # file holding the output of the last expect_cmd / verify_expect
T_RC=0    # exit status of the last expect_cmd / verify_expect
RIG=""    # rig dir once start_rig ran
T_RIG_CMD=$T_DIR/rig-cmd
KNOWN_AKS=$T_DIR/known_aks
# Every call passes --known-aks; this keeps a forgotten one away from the
# real ~/.config/attest/known_aks too.
export XDG_CONFIG_HOME=$T_DIR/xdg
mkdir -p "$XDG_CONFIG_HOME" "$T_DIR/out" "$T_DIR/agents" "$T_DIR/proxies" "$T_DIR/verifiers"

declare -gA AGENT_PID=() AGENT_DIR=() AGENT_URL=() AGENT_PORT=()
declare -gA PROXY_PID=() PROXY_URL=() PROXY_PORT=()
declare -gA VERIFIER_PID=() VERIFIER_URL=() VERIFIER_PORT=() VERIFIER_DB=()
FLEET=""              # fleet CA dir once fleet_setup ran
VERIFIER_TLS_ARGS=()  # attest-verifier's mTLS flags for FLEET (fleet_setup)
RIG_TPM_CA_ARGS=()    # --tpm-ca flags trusting the rig's EK CA (start_rig)
API_STATUS=""         # HTTP status of the last api call ("000": no answer)
API_OUT=""            # file holding the body of the last api call
T_API_N=0

# Sanitizer reports in any log we captured are failures, even when the exit
# status looked right (a leak report at exit, a UBSan message).
readonly T_SAN_PATTERN='ERROR: AddressSanitizer|ERROR: LeakSanitizer|\.[ch]:[0-9]+:[0-9]+: runtime error:|SUMMARY: UndefinedBehaviorSanitizer'

log() {
    printf '# %s\n' "$*"
}

section() {
    printf '\n# --- %s\n' "$*"
}

pass() {
    T_STEP=$((T_STEP + 1))
    T_PASS=$((T_PASS + 1))
    printf 'ok %d - %s\n' "$T_STEP" "$1"
}

# fail DESC [DETAIL...]: count a failure and print why, loudly.
fail() {
    local desc=$1
    shift
    T_STEP=$((T_STEP + 1))
    T_FAIL=$((T_FAIL + 1))
    printf 'not ok %d - %s\n' "$T_STEP" "$desc"
    if (($#)); then
        printf '%s\n' "$@" | sed 's/^/#   /'
    fi
}

# show_file FILE: print a captured file (bounded) under the current failure.
show_file() {
    local f=$1
    if [[ -f $f ]]; then
        printf '#   --- %s (%s bytes) ---\n' "$f" "$(stat -c %s "$f")"
        head -c 20000 "$f" | sed 's/^/#   | /'
        printf '#   --- end ---\n'
    else
        printf '#   (%s does not exist)\n' "$f"
    fi
}

# die DESC: a setup step failed; the test cannot go on. Counts as a failure.
die() {
    fail "FATAL: $1"
    shift
    local f
    for f in "$@"; do
        show_file "$f"
    done
    exit 1
}

# finish: print the summary line and exit non-zero if anything failed.
finish() {
    T_DONE=1
    san_scan
    printf '\n%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
    printf '# %s took %ds\n' "$T_NAME" $((SECONDS - T_START))
    if ((T_FAIL > 0)); then
        exit 1
    fi
    exit 0
}

# Check every captured log under T_DIR for sanitizer reports.
san_scan() {
    local hits
    hits=$(grep -rlE "$T_SAN_PATTERN" "$T_DIR/out" "$T_DIR/agents" "$T_DIR/proxies" \
        "$T_DIR/verifiers" 2>/dev/null || true)
    if [[ -n $hits ]]; then
        local f
        for f in $hits; do
            fail "sanitizer report in $f"
            grep -E -A20 "$T_SAN_PATTERN" "$f" | head -60 | sed 's/^/#   | /'
        done
    else
        pass "no sanitizer reports in any captured output"
    fi
}

# _t_stop_pid PID: stop one background child of this shell: SIGTERM, then
# SIGKILL after 10 s. Sets T_STOP_RC to its exit status (137 if killed).
# Never call it in $(...): a subshell cannot wait for this shell's children.
T_STOP_RC=0
_t_is_live() {
    kill -0 "$1" 2>/dev/null && [[ $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]]
}
_t_stop_pid() {
    local pid=$1 i
    if _t_is_live "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            _t_is_live "$pid" || break
            sleep 0.1
        done
        if _t_is_live "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null
    T_STOP_RC=$?
}

_t_on_exit() {
    local rc=$? name
    trap - EXIT
    trap '' PIPE # from here on a gone reader is a write error, not a signal
    if ((T_DONE == 0)); then
        fail "the test script ended early (exit status $rc) at step $T_STEP"
        printf '\n%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
    fi
    for name in "${!PROXY_PID[@]}"; do
        _t_stop_pid "${PROXY_PID[$name]}"
    done
    for name in "${!VERIFIER_PID[@]}"; do
        _t_stop_pid "${VERIFIER_PID[$name]}"
    done
    for name in "${!AGENT_PID[@]}"; do
        _t_stop_pid "${AGENT_PID[$name]}"
    done
    if [[ -n $RIG && -f $RIG/hosts ]]; then
        "$T_RIG_CMD" down "$RIG" >/dev/null 2>&1 || true
    fi
    if [[ ${ATT_KEEP_TMP:-0} == 1 ]]; then
        printf '# kept %s\n' "$T_DIR"
    else
        rm -rf -- "$T_DIR"
    fi
    if ((T_FAIL > 0 || rc != 0)); then
        if [[ ${ATT_KEEP_TMP:-0} != 1 ]]; then
            printf '# rerun with ATT_KEEP_TMP=1 to keep the logs of agents, proxies and the rig\n'
        fi
        exit 1
    fi
    exit 0
}
trap _t_on_exit EXIT
trap 'exit 130' INT TERM
# A reader that goes away ("| head") must not kill us before the EXIT trap
# stops the agents, verifiers and swtpms we started.
trap 'exit 141' PIPE

# wait_for_file FILE PID SECONDS: wait until FILE is non-empty while PID lives.
wait_for_file() {
    local f=$1 pid=$2 secs=$3 i
    for ((i = 0; i < secs * 10; i++)); do
        [[ -s $f ]] && return 0
        _t_is_live "$pid" || return 1
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------------------
# assertions

# expect_cmd CODE DESC CMD...: run CMD (60 s limit) with stdout+stderr captured
# in T_OUT; pass if its exit status is CODE, else fail showing the output.
expect_cmd() {
    local want=$1 desc=$2
    shift 2
    T_OUT=$T_DIR/out/$((T_STEP + 1)).txt
    printf '$ %s\n' "$*" >"$T_OUT.cmd"
    timeout -k 5 60 "$@" >"$T_OUT" 2>&1
    T_RC=$?
    if ((T_RC == want)); then
        pass "$desc (exit $want)"
        return 0
    fi
    fail "$desc: expected exit $want, got $T_RC" "command: $*"
    show_file "$T_OUT"
    return 1
}

# verify_expect CODE ARGS...: attest-verify ARGS must exit CODE.
verify_expect() {
    local want=$1
    shift
    expect_cmd "$want" "attest-verify ${*}" "$ATT_BIN/attest-verify" "$@"
}

# verify_host CODE URL POLICY [ARGS...]: attest one agent with the test's known-AKs file.
verify_host() {
    local want=$1 url=$2 policy=$3
    shift 3
    expect_cmd "$want" "attest-verify host --agent $url --policy ${policy##*/}${*:+ $*}" \
        "$ATT_BIN/attest-verify" host \
        --agent "$url" --policy "$policy" --known-aks "$KNOWN_AKS" "$@"
}

# assert_contains FILE TEXT [DESC]: FILE holds the fixed string TEXT.
assert_contains() {
    local f=$1 text=$2 desc=${3:-"output contains \"$2\""}
    if [[ -f $f ]] && LC_ALL=C grep -qaF -- "$text" "$f"; then
        pass "$desc"
        return 0
    fi
    fail "$desc" "expected to find: $text"
    show_file "$f"
    return 1
}

# assert_not_contains FILE TEXT [DESC]
assert_not_contains() {
    local f=$1 text=$2 desc=${3:-"output does not contain \"$2\""}
    if [[ -f $f ]] && ! LC_ALL=C grep -qaF -- "$text" "$f"; then
        pass "$desc"
        return 0
    fi
    fail "$desc" "did not expect: $text"
    show_file "$f"
    return 1
}

# assert_match FILE ERE [DESC]: FILE has a line matching the extended regex.
assert_match() {
    local f=$1 re=$2 desc=${3:-"output matches /$2/"}
    if [[ -f $f ]] && LC_ALL=C grep -qaE -- "$re" "$f"; then
        pass "$desc"
        return 0
    fi
    fail "$desc" "expected a line matching: $re"
    show_file "$f"
    return 1
}

# assert_eq GOT WANT DESC
assert_eq() {
    if [[ $1 == "$2" ]]; then
        pass "$3"
        return 0
    fi
    fail "$3" "expected: $2" "got:      $1"
    return 1
}

# assert_ok DESC CMD...: CMD succeeds (output shown on failure).
assert_ok() {
    expect_cmd 0 "$@"
}

# assert_fails DESC CMD...: CMD exits non-zero (and is not killed by a timeout).
assert_fails() {
    local desc=$1
    shift
    T_OUT=$T_DIR/out/$((T_STEP + 1)).txt
    timeout -k 5 60 "$@" >"$T_OUT" 2>&1
    T_RC=$?
    if ((T_RC != 0 && T_RC != 124 && T_RC != 137)); then
        pass "$desc (exit $T_RC)"
        return 0
    fi
    fail "$desc: expected a failure exit, got $T_RC" "command: $*"
    show_file "$T_OUT"
    return 1
}

# ---------------------------------------------------------------------------
# the rig, agents, proxies

# start_rig N: N simulated TPM hosts under T_DIR/rig. The rig script is
# run from a private copy: bash reads a script as it runs, so an edit of
# swtpm-setup/rig during a test must not change the running one.
start_rig() {
    local n=$1
    if [[ ! -f $ATT_SRC/swtpm-setup/rig ]]; then
        die "$ATT_SRC/swtpm-setup/rig does not exist"
    fi
    cp -- "$ATT_SRC/swtpm-setup/rig" "$T_RIG_CMD" || die "cannot copy the rig script"
    chmod +x "$T_RIG_CMD"
    RIG=$T_DIR/rig
    if ! "$T_RIG_CMD" up "$RIG" --hosts "$n" >"$T_DIR/out/rig-up.txt" 2>&1; then
        die "rig up $RIG --hosts $n failed" "$T_DIR/out/rig-up.txt"
    fi
    RIG_TPM_CA_ARGS=(--tpm-ca "$RIG/ca/root.pem" --tpm-ca "$RIG/ca/intermediate.pem")
    log "rig up with $n host(s) after $((SECONDS - T_START))s"
}

# start_podman_host: a one-host rig with its own podman (--podman), agent "a"
# on it watching that engine, and the prestart hook installed. Sets RIG,
# PODMAN, GRAPH (containers/storage root), ENGINE (API URL) and ADIR.
start_podman_host() {
    cp -- "$ATT_SRC/swtpm-setup/rig" "$T_RIG_CMD" && chmod +x "$T_RIG_CMD"
    RIG=$T_DIR/rig
    if ! "$T_RIG_CMD" up "$RIG" --hosts 1 --podman >"$T_DIR/out/rig-up.txt" 2>&1; then
        die "rig up --podman failed" "$T_DIR/out/rig-up.txt"
    fi
    RIG_TPM_CA_ARGS=(--tpm-ca "$RIG/ca/root.pem" --tpm-ca "$RIG/ca/intermediate.pem")
    PODMAN=$RIG/host-1/podman
    GRAPH=$RIG/host-1/podman.d/root
    ENGINE=$(cat "$RIG/host-1/engine")
    start_agent a "$(rig_tcti 1)" --engine "$ENGINE" --integrity-interval 2 --log-level info
    ADIR=${AGENT_DIR[a]}
    "$T_RIG_CMD" hook "$RIG" 1 --path "$ATT_BIN/attest-hook" --arg --state-dir \
        --arg "$ADIR" --arg --storage --arg "$GRAPH" >"$T_DIR/out/hook.txt" 2>&1 ||
        die "rig hook failed" "$T_DIR/out/hook.txt"
}

# netns_expect PID yes|no DESC: whether the network namespace of PID holds the
# quarantine's nftables table (agent/netisolate.c). A listing that fails is a
# failure, never read as "no table". $$ (this shell) is in the host's namespace.
netns_expect() {
    local out
    if ! out=$(nsenter --net="/proc/$1/ns/net" nft list tables inet 2>&1); then
        fail "$3: cannot list the nftables tables of pid $1" "$out"
        return 1
    fi
    if [[ ($2 == yes && $out == *attest_quarantine*) || ($2 == no && $out != *attest_quarantine*) ]]; then
        pass "$3"
        return 0
    fi
    fail "$3" "nft list tables inet in pid $1's namespace: $out"
    return 1
}

# netns_open PID: the listing works and shows no quarantine table (for wait_until).
netns_open() {
    local out
    out=$(nsenter --net="/proc/$1/ns/net" nft list tables inet 2>/dev/null) &&
        [[ $out != *attest_quarantine* ]]
}

# pid_of ID: the init pid of container ID of $PODMAN ("" if it has none).
pid_of() { "$PODMAN" inspect --format '{{.State.Pid}}' "$1" 2>/dev/null; }

# run_foreign ID SECONDS: copy a binary no policy knows (busybox plus one byte:
# a digest nobody allows, named "sleep" because busybox picks its applet from
# argv[0]) into container ID of $PODMAN and run it there for SECONDS.
run_foreign() {
    mkdir -p "$T_DIR/foreign/opt"
    cp /bin/busybox "$T_DIR/foreign/opt/sleep" && printf 'x' >>"$T_DIR/foreign/opt/sleep" ||
        die "cannot make the foreign binary"
    "$PODMAN" cp "$T_DIR/foreign/opt" "$1:/" || die "podman cp of the foreign binary into $1 failed"
    "$PODMAN" exec -d "$1" /opt/sleep "$2" >/dev/null || die "cannot run the foreign binary in $1"
}

# image_policy REF NAME OUTFILE: a container policy NAME for image REF of
# $PODMAN, generated from the image's own files (attest-verify policy generate).
image_policy() {
    local id cid dir=$T_DIR/rootfs-$2
    id=$("$PODMAN" image inspect --format '{{.Id}}' "$1") || die "no image $1"
    cid=$("$PODMAN" create --network none "$1" /bin/true) || die "cannot create from $1"
    mkdir -p "$dir"
    "$PODMAN" export "$cid" | tar -x -C "$dir" || die "cannot export $1"
    "$PODMAN" rm "$cid" >/dev/null
    "$ATT_BIN/attest-verify" policy generate --rootfs "$dir" --image-id "sha256:$id" \
        --name "$2" >"$3" || die "policy generate --rootfs for $1 failed"
}

# rig CMD ARGS...: run the rig script (stop/start/status on T_DIR/rig).
rig() {
    "$T_RIG_CMD" "$@"
}

# rig_tcti K: the TCTI string of rig host K.
rig_tcti() {
    cat -- "$RIG/host-$1/tcti"
}

# start_agent NAME TCTI [ARGS...]: run attest-agent on TCTI with state dir
# T_DIR/agents/NAME (kept across restarts) and --listen 127.0.0.1:0 unless
# ARGS has --listen; wait for DIR/http.port. Sets AGENT_PID/DIR/URL/PORT[NAME].
# Environment assignments before the call (ATT_FAULT_INJECT=...) reach the agent.
start_agent() {
    local name=$1 tcti=$2
    shift 2
    local listen=(--listen 127.0.0.1:0) plain=(--insecure-dev) a
    for a in "$@"; do
        [[ $a == --listen ]] && listen=()
        [[ $a == --tls-cert ]] && plain=()
    done
    start_agent_args "$name" "$T_DIR/agents/$name" --tcti "$tcti" \
        --state-dir "$T_DIR/agents/$name" "${listen[@]}" "${plain[@]}" "$@"
}

# start_agent_args NAME STATE_DIR ARGS...: run "attest-agent ARGS" exactly as
# given (e.g. only --config FILE) and wait for STATE_DIR/http.port.
start_agent_args() {
    local name=$1 dir=$2 pid a
    shift 2
    if [[ -n ${AGENT_PID[$name]:-} ]] && kill -0 "${AGENT_PID[$name]}" 2>/dev/null; then
        die "start_agent $name: it is already running (pid ${AGENT_PID[$name]})"
    fi
    mkdir -p "$dir"
    rm -f "$dir/http.port"
    printf '=== start %s at %ds: %s\n' "$name" $((SECONDS - T_START)) "$*" \
        >>"$T_DIR/agents/$name.err"
    "$ATT_BIN/attest-agent" "$@" >>"$T_DIR/agents/$name.out" 2>>"$T_DIR/agents/$name.err" &
    pid=$!
    AGENT_PID[$name]=$pid
    AGENT_DIR[$name]=$dir
    if ! wait_for_file "$dir/http.port" "$pid" 30; then
        die "agent $name did not become ready (pid $pid)" "$T_DIR/agents/$name.out" \
            "$T_DIR/agents/$name.err"
    fi
    AGENT_PORT[$name]=$(tr -d '\n' <"$dir/http.port")
    AGENT_URL[$name]=http://127.0.0.1:${AGENT_PORT[$name]}
    for a in "$@"; do
        [[ $a == --tls-cert ]] && AGENT_URL[$name]=https://127.0.0.1:${AGENT_PORT[$name]}
    done
    log "agent $name ready: pid $pid, ${AGENT_URL[$name]}"
}

# agent_log NAME: the file that collects agent NAME's stderr (all its runs).
agent_log() {
    printf '%s\n' "$T_DIR/agents/$1.err"
}

# _t_stop_clean WHAT PID ERRFILE: SIGTERM PID, which must exit 0 (under ASan:
# no leak at exit); on anything else show ERRFILE.
_t_stop_clean() {
    _t_stop_pid "$2"
    if [[ $T_STOP_RC == 0 ]]; then
        pass "$1 stopped cleanly on SIGTERM"
    else
        fail "$1: expected exit 0 after SIGTERM, got $T_STOP_RC"
        show_file "$3"
    fi
}

# _t_kill PID: SIGKILL and reap; prints nothing.
_t_kill() {
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null
}

# stop_agent NAME: SIGTERM; it must exit 0 (under ASan: no leak at exit).
stop_agent() {
    _t_stop_clean "agent $1" "${AGENT_PID[$1]}" "$T_DIR/agents/$1.err"
    unset "AGENT_PID[$1]"
}

# kill_agent NAME: SIGKILL and reap; prints nothing, the agent is just gone.
kill_agent() {
    _t_kill "${AGENT_PID[$1]}"
    unset "AGENT_PID[$1]"
}

# reap_agent NAME: wait up to 5 s for an agent that should die by itself.
# Sets T_REAP_RC to its exit status, or to "running" if it is still alive.
T_REAP_RC=""
reap_agent() {
    local name=$1 pid=${AGENT_PID[$1]} i
    T_REAP_RC=running
    for ((i = 0; i < 50; i++)); do
        if ! _t_is_live "$pid"; then
            wait "$pid" 2>/dev/null
            T_REAP_RC=$?
            unset "AGENT_PID[$name]"
            return
        fi
        sleep 0.1
    done
}

# measure NAME PATH...: attest-agent measure must exit 0.
measure() {
    local name=$1
    shift
    expect_cmd 0 "measure on $name: ${*##*/}" \
        "$ATT_BIN/attest-agent" measure --state-dir "${AGENT_DIR[$name]}" "$@"
}

# policy_for FILE PATH...: write a policy allowing PATHs' current digests.
policy_for() {
    local out=$1
    shift
    if ! "$ATT_BIN/attest-verify" policy generate "$@" >"$out" 2>"$out.err"; then
        die "attest-verify policy generate $* failed" "$out.err"
    fi
}

# start_proxy NAME UPSTREAM [--port P] [--ca F --cert F --key F] MODE [ARGS...]:
# the tamper proxy (--tls: --ca/--cert/--key of FLEET's verifier, for https agents).
start_proxy() {
    local name=$1 upstream=$2 opts=() pid dir=$T_DIR/proxies
    shift 2
    while [[ ${1-} == --* ]]; do
        case $1 in
        --tls)
            opts+=(--ca "$FLEET/ca.pem" --cert "$FLEET/verifier.pem" --key "$FLEET/verifier.key")
            shift
            ;;
        *)
            opts+=("$1" "$2")
            shift 2
            ;;
        esac
    done
    rm -f "$dir/$name.port"
    printf '=== start %s: %s\n' "$name" "$*" >>"$dir/$name.err"
    "$ATT_BIN/att_tamper_proxy" --upstream "$upstream" --port-file "$dir/$name.port" \
        "${opts[@]}" --mode "$@" >>"$dir/$name.out" 2>>"$dir/$name.err" &
    pid=$!
    PROXY_PID[$name]=$pid
    if ! wait_for_file "$dir/$name.port" "$pid" 20; then
        die "tamper proxy $name ($*) did not start" "$dir/$name.err"
    fi
    PROXY_PORT[$name]=$(tr -d '\n' <"$dir/$name.port")
    PROXY_URL[$name]=http://127.0.0.1:${PROXY_PORT[$name]}
}

# stop_proxy NAME: SIGTERM; the proxy must exit 0 (ASan: no leaks).
stop_proxy() {
    _t_stop_clean "proxy $1" "${PROXY_PID[$1]}" "$T_DIR/proxies/$1.err"
    unset "PROXY_PID[$1]"
}

# proxy_log NAME: the proxy's stderr file.
proxy_log() {
    printf '%s\n' "$T_DIR/proxies/$1.err"
}

# ---------------------------------------------------------------------------
# the fleet CA (mTLS), verifiers and the dashboard API

# fleet_init DIR: a fleet CA in DIR (certs/fleet-ca init).
fleet_init() {
    local dir=$1
    if ! "$ATT_SRC/certs/fleet-ca" init "$dir" >"$T_DIR/out/fleet-init-${dir##*/}.txt" 2>&1; then
        die "fleet-ca init $dir failed" "$T_DIR/out/fleet-init-${dir##*/}.txt"
    fi
}

# fleet_issue DIR NAME KIND: DIR/NAME.pem + .key of kind agent|verifier|client (once).
fleet_issue() {
    local dir=$1 name=$2 kind=$3 f=$T_DIR/out/fleet-issue-${1##*/}-$2.txt
    [[ -s $dir/$name.pem ]] && return 0
    if ! "$ATT_SRC/certs/fleet-ca" issue "$dir" --name "$name" --kind "$kind" >"$f" 2>&1; then
        die "fleet-ca issue $dir --name $name --kind $kind failed" "$f"
    fi
}

# fleet_setup: the test's fleet CA in T_DIR/fleet (FLEET) with a "verifier" and
# a "client" certificate; sets VERIFIER_TLS_ARGS for attest-verifier.
fleet_setup() {
    FLEET=$T_DIR/fleet
    fleet_init "$FLEET"
    fleet_issue "$FLEET" verifier verifier
    fleet_issue "$FLEET" client client
    VERIFIER_TLS_ARGS=(--api-cert "$FLEET/verifier.pem" --api-key "$FLEET/verifier.key"
        --fleet-ca "$FLEET/ca.pem" --client-cert "$FLEET/verifier.pem"
        --client-key "$FLEET/verifier.key")
}

# start_agent_tls NAME TCTI [ARGS...]: start_agent with mTLS: a server
# certificate agent-NAME from FLEET, FLEET's CA for clients. AGENT_URL is https.
start_agent_tls() {
    local name=$1 tcti=$2
    shift 2
    fleet_issue "$FLEET" "agent-$name" agent
    start_agent "$name" "$tcti" --tls-cert "$FLEET/agent-$name.pem" \
        --tls-key "$FLEET/agent-$name.key" --tls-client-ca "$FLEET/ca.pem" "$@"
}

# token_create VAR DB NAME ROLE: "attest-verifier token create" (the daemon
# must not hold DB); the token goes into the variable VAR.
token_create() {
    local var=$1 db=$2 name=$3 role=$4 f=$T_DIR/out/token-$3.txt tok
    if ! "$ATT_BIN/attest-verifier" token create --db "$db" --name "$name" --role "$role" \
        >"$f" 2>"$f.err"; then
        die "token create --db $db --name $name --role $role failed" "$f.err"
    fi
    tok=$(head -n1 "$f")
    if [[ -z $tok ]]; then
        die "token create printed no token" "$f" "$f.err"
    fi
    printf -v "$var" '%s' "$tok"
}

# start_verifier NAME DB [ARGS...]: attest-verifier --db DB --listen 127.0.0.1:0
# ARGS in the background; wait for its "ready" line. Sets VERIFIER_PID/URL/
# PORT/DB[NAME]. The URL is http:// only with --insecure-dev and no --api-cert.
# stderr collects in T_DIR/verifiers/NAME.err over all runs.
start_verifier() {
    local name=$1 db=$2 pid i scheme=https is_plain=0 has_cert=0 a out
    shift 2
    out=$T_DIR/verifiers/$name.out
    for a in "$@"; do
        [[ $a == --insecure-dev ]] && is_plain=1
        [[ $a == --api-cert ]] && has_cert=1
    done
    ((is_plain && !has_cert)) && scheme=http
    if [[ -n ${VERIFIER_PID[$name]:-} ]] && _t_is_live "${VERIFIER_PID[$name]}"; then
        die "start_verifier $name: it is already running (pid ${VERIFIER_PID[$name]})"
    fi
    printf '=== start %s at %ds: --db %s %s\n' "$name" $((SECONDS - T_START)) "$db" "$*" \
        >>"$T_DIR/verifiers/$name.err"
    : >"$out"
    "$ATT_BIN/attest-verifier" --db "$db" --listen 127.0.0.1:0 "$@" >"$out" \
        2>>"$T_DIR/verifiers/$name.err" &
    pid=$!
    VERIFIER_PID[$name]=$pid
    VERIFIER_DB[$name]=$db
    for ((i = 0; i < 300; i++)); do
        grep -q 'attest-verifier ready: API port' "$out" 2>/dev/null && break
        _t_is_live "$pid" || break
        sleep 0.1
    done
    VERIFIER_PORT[$name]=$(sed -n 's/^attest-verifier ready: API port \([0-9]*\),.*/\1/p' "$out")
    if [[ -z ${VERIFIER_PORT[$name]} ]]; then
        die "verifier $name did not become ready (pid $pid)" "$out" "$T_DIR/verifiers/$name.err"
    fi
    VERIFIER_URL[$name]=$scheme://127.0.0.1:${VERIFIER_PORT[$name]}
    log "verifier $name ready: pid $pid, ${VERIFIER_URL[$name]}, store $db"
}

# verifier_log NAME: the file that collects verifier NAME's stderr (all its runs).
verifier_log() {
    printf '%s\n' "$T_DIR/verifiers/$1.err"
}

# stop_verifier NAME: SIGTERM; it must exit 0 (under ASan: no leak at exit).
stop_verifier() {
    _t_stop_clean "verifier $1" "${VERIFIER_PID[$1]}" "$T_DIR/verifiers/$1.err"
    unset "VERIFIER_PID[$1]"
}

# kill_verifier NAME: SIGKILL and reap.
kill_verifier() {
    _t_kill "${VERIFIER_PID[$1]}"
    unset "VERIFIER_PID[$1]"
}

# api NAME TOKEN METHOD PATH [BODY]: one dashboard API request (curl) to
# verifier NAME; TOKEN "" sends no Authorization header; BODY is JSON text or
# @FILE. Sets API_STATUS ("000" when nothing came back) and API_OUT (body file).
api() {
    local name=$1 tok=$2 method=$3 path=$4 args
    shift 4
    T_API_N=$((T_API_N + 1))
    API_OUT=$T_DIR/out/api-$T_API_N.json
    args=(-sS -X "$method" -o "$API_OUT" -w '%{http_code}' --max-time 60)
    [[ ${VERIFIER_URL[$name]} == https://* ]] && args+=(--cacert "$FLEET/ca.pem")
    [[ -n $tok ]] && args+=(-H "Authorization: Bearer $tok")
    if (($#)); then
        args+=(-H 'Content-Type: application/json' --data-binary "$1")
    fi
    printf '%s %s\n' "$method" "$path" >"$API_OUT.cmd"
    API_STATUS=$(curl "${args[@]}" "${VERIFIER_URL[$name]}$path" 2>"$API_OUT.err")
    [[ -n $API_STATUS ]] || API_STATUS=000
}

# is_json_error FILE: FILE is a JSON object with a non-empty "error" string.
is_json_error() {
    jq -e 'type == "object" and (.error | type == "string" and length > 0)' "$1" \
        >/dev/null 2>&1
}

# expect_api CODE DESC NAME TOKEN METHOD PATH [BODY]: the API answers CODE;
# a 4xx/5xx body must be JSON with an "error" string.
expect_api() {
    local want=$1 desc=$2
    shift 2
    api "$@"
    if [[ $API_STATUS != "$want" ]]; then
        fail "$desc: expected HTTP $want, got $API_STATUS" "request: $3 $4"
        show_file "$API_OUT"
        [[ -s $API_OUT.err ]] && show_file "$API_OUT.err"
        return 1
    fi
    if ((want >= 400)) && ! is_json_error "$API_OUT"; then
        fail "$desc: HTTP $want but the body is not JSON with an \"error\" string"
        show_file "$API_OUT"
        return 1
    fi
    pass "$desc (HTTP $want)"
    return 0
}

# jget FILE FILTER: jq -r FILTER on FILE ("" on any error).
jget() {
    jq -r "$2" "$1" 2>/dev/null || true
}

# fleet_expect CODE NAME TOKEN ARGS...: "attest-verify ARGS" against verifier
# NAME's API (verifier mode) must exit CODE; output in T_OUT.
fleet_expect() {
    local want=$1 name=$2 tok=$3
    shift 3
    expect_cmd "$want" "attest-verify $*" "$ATT_BIN/attest-verify" \
        --verifier "${VERIFIER_URL[$name]}" --token "$tok" --ca "$FLEET/ca.pem" "$@"
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 on timeout.
wait_until() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# Host state through the dashboard API of verifier "v" with the caller's
# token in ADMIN (test_verifier_poll, test_faults, test_diskfull).
# host_field HOST FILTER: jq FILTER on GET /api/v1/hosts/HOST.
host_field() {
    api v "$ADMIN" GET "/api/v1/hosts/$1"
    jget "$API_OUT" "$2"
}

# host_is HOST VERDICT: HOST's stored verdict is VERDICT.
# shellcheck disable=SC2317 # called through wait_until
host_is() {
    [[ $(host_field "$1" .verdict) == "$2" ]]
}

# host_at HOST VERDICT OFFSET: HOST's stored verdict and log_offset are these.
# shellcheck disable=SC2317 # called through wait_until
host_at() {
    api v "$ADMIN" GET "/api/v1/hosts/$1"
    [[ $(jget "$API_OUT" .verdict) == "$2" && $(jget "$API_OUT" .log_offset) == "$3" ]]
}

# last_verdict_id [HOST]: the newest verdict id (of HOST, or of all hosts).
last_verdict_id() {
    if [[ -n ${1-} ]]; then
        api v "$ADMIN" GET "/api/v1/hosts/$1/verdicts?limit=1"
    else
        api v "$ADMIN" GET "/api/v1/verdicts?limit=1"
    fi
    jq -r '(.verdicts[0].id // 0)' "$API_OUT" 2>/dev/null || echo 0
}

# last_event_id: the newest event id (0 without any).
last_event_id() {
    api v "$ADMIN" GET "/api/v1/events?limit=1000"
    jq -r '([.events[].id] | max) // 0' "$API_OUT" 2>/dev/null || echo 0
}

# container_verdict ID [HOST]: "<verdict> <code>" of container ID on HOST (h1),
# asked with the verifier-mode arguments in the caller's array V.
container_verdict() {
    "$ATT_BIN/attest-verify" "${V[@]}" --json containers --host "${2:-h1}" |
        jq -r --arg id "$1" '.containers[] | select(.id == $id) | "\(.verdict) \(.code)"'
}

# wait_verdict ID WANT DESC [SECONDS]: pass once container ID's verdict starts
# with WANT (within SECONDS, default 30), else fail listing the containers.
wait_verdict() {
    local i got="" n=$((${4:-30} * 5))
    for ((i = 0; i < n; i++)); do
        got=$(container_verdict "$1")
        [[ $got == "$2"* ]] && break
        sleep 0.2
    done
    if [[ $got == "$2"* ]]; then
        pass "$3: $got"
        return 0
    fi
    fail "$3: expected \"$2\", got \"$got\""
    "$ATT_BIN/attest-verify" "${V[@]}" containers >&2 || true
    return 1
}
