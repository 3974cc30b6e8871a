#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Issue 7, "Load": the daemons under many connections at once, nothing mocked.
# - slowloris on the dashboard API: 250 TLS connections that finish the
#   handshake and then send half a request header, plus 250 TCP connections
#   that never start TLS (500 > the 256-connection limit). A normal request
#   made meanwhile is answered once the held ones time out; the server closes
#   every held connection after its 30 s inactivity timeout, not before; the
#   verifier answers normally afterwards and its memory stays bounded. This
#   runs on a verifier of its own while the rig comes up;
# - the same on an agent that is not enrolled, below its limit (150 half-sent
#   TLS requests + 100 idle TCP): a normal request is answered at once, the
#   held ones are closed after the timeout. In the background of the sections
#   below;
# - 200 real agents, each on its own swtpm, mTLS, enrolled by 200 concurrent
#   POST /api/v1/hosts: all trusted, every one attested again and again by one
#   verifier, whose API answers throughout;
# - 1000 concurrent dashboard API requests (1000 connections at once: GETs of
#   hosts, a host, verdicts, events, containers, policies, metrics; POSTs of
#   attest-now and of one policy name; PUTs) while the 200 agents are polled:
#   every request gets an HTTP answer of the right shape, exactly one of the
#   racing POSTs of the same policy name wins, the verifier's RSS after the
#   burst is bounded, the hosts stay trusted;
# - oversized (declared and chunked, up to 64 MiB) and deeply nested bodies to
#   the API (JSON: 400 naming the depth, 413 naming the limit) and to an agent
#   (CBOR: 400 "nested too deeply", 413), with nothing stored changed and
#   memory bounded.
#
# The listener limits are libmicrohttpd's, set in common/src/net/httpd.c for
# both daemons: 256 connections (MHD_OPTION_CONNECTION_LIMIT, shared by the
# verifier's 4 and the agent's 2 server threads), 30 s of inactivity
# (MHD_OPTION_CONNECTION_TIMEOUT), a 64 KiB memory pool per connection for the
# request line and headers, no per-address limit. At the limit MHD stops
# accepting: further connections wait in the kernel's listen backlog (4096)
# and are served as slots free up. Nothing is refused with a 503 or 429, and a
# request beyond the limit waits until an earlier connection ends or times out.
#
# ATT_LOAD_AGENTS sets the number of agents (default 200).

. "$(dirname "$0")/lib.sh"

N=${ATT_LOAD_AGENTS:-200}
# The memory bound (MiB of growth). Under ASan freed memory sits in its
# quarantine (256 MiB by default) before reuse, so growth says nothing about
# leaks there: the sanitized build passes ATT_LOAD_RSS_MIB=512 and proves
# memory safety; the release build proves the bound.
RSS_MIB=${ATT_LOAD_RSS_MIB:-64}
SPARE=$((N + 1))    # rig host of the agent that gets the slowloris
CONN_TIMEOUT=30     # HTTPD_CONN_TIMEOUT_S in common/src/net/httpd.c
CONN_LIMIT=256      # HTTPD_CONN_LIMIT
MIB=1048576
LOAD=$ATT_BIN/att_load
W=$T_DIR/load
mkdir -p "$W"

command -v jq >/dev/null 2>&1 || die "jq is needed to read the dashboard API's JSON"
[[ -x $LOAD ]] || die "$LOAD is missing (tests/load/att_load.c)"
# 1000 client sockets here, 200 agents with their swtpm connections.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 2048)); then
    die "this test needs 2048 open files (ulimit -n is $(ulimit -n))"
fi

# Background clients (att_load hold, curl) by name; stopped on exit like the
# agents. The 200+ agents get SIGTERM all at once first, so that lib.sh's
# one-by-one stop only reaps them.
declare -A BG_PID=()
# shellcheck disable=SC2317 # called through the EXIT trap
load_cleanup() {
    local name pids=()
    for name in "${!BG_PID[@]}"; do
        kill -TERM "${BG_PID[$name]}" 2>/dev/null || true
        wait "${BG_PID[$name]}" 2>/dev/null
    done
    for name in "${!AGENT_PID[@]}"; do
        pids+=("${AGENT_PID[$name]}")
    done
    if ((${#pids[@]})); then
        kill -TERM "${pids[@]}" 2>/dev/null || true
        sleep 1
    fi
}
# shellcheck disable=SC2317 # the EXIT trap
load_exit() {
    local rc=$?
    load_cleanup
    (exit "$rc")
    _t_on_exit
}
trap load_exit EXIT

# bg NAME CMD...: run CMD in the background, output in W/NAME.out and .err.
bg() {
    local name=$1
    shift
    "$@" >"$W/$name.out" 2>"$W/$name.err" &
    BG_PID[$name]=$!
}

# bg_wait NAME SECONDS: wait for background job NAME; BG_RC its exit status
# (124 if it is still running after SECONDS; it is then stopped).
BG_RC=0
bg_wait() {
    local pid=${BG_PID[$1]} i
    for ((i = 0; i < $2 * 10; i++)); do
        _t_is_live "$pid" || break
        sleep 0.1
    done
    if _t_is_live "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null
        BG_RC=124
    else
        wait "$pid" 2>/dev/null
        BG_RC=$?
    fi
    unset "BG_PID[$1]"
}

# kv FILE KEY: the value of the "KEY value" line of an att_load report.
kv() {
    awk -v k="$2" '$1 == k { print $2; exit }' "$1" 2>/dev/null
}

# vm PID FIELD: a /proc/PID/status memory figure in KiB (VmRSS, VmHWM).
vm() {
    awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null
}

# assert_le GOT MAX DESC / assert_ge GOT MIN DESC (numbers, awk decides).
assert_le() {
    if [[ -n $1 ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; then
        pass "$3 ($1 <= $2)"
    else
        fail "$3" "expected at most $2, got \"$1\""
    fi
}
assert_ge() {
    if [[ -n $1 ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; then
        pass "$3 ($1 >= $2)"
    else
        fail "$3" "expected at least $2, got \"$1\""
    fi
}

# rss_check PID WHAT BEFORE_KIB BOUND_MIB: VmRSS of PID now minus BEFORE stays under BOUND.
rss_check() {
    local now
    now=$(vm "$1" VmRSS)
    if [[ -z $now ]]; then
        fail "$2: the process (pid $1) is gone, so its memory cannot be bounded"
        return
    fi
    log "$2: VmRSS ${3} KiB -> ${now} KiB, VmHWM $(vm "$1" VmHWM) KiB"
    assert_le "$(((now - $3) / 1024))" "$4" "$2: RSS growth in MiB"
}

# wait_ready FILE PID SECONDS: an att_load hold wrote its ready file.
wait_ready() {
    if wait_for_file "$1" "$2" "$3"; then
        log "$(cat "$1")"
    else
        die "att_load hold did not get its connections up" "${1%.ready}.err"
    fi
}

# hold_start NAME ADDR:PORT N MODE: an att_load hold in the background.
hold_start() {
    bg "$1" "$LOAD" hold --connect "$2" --n "$3" --mode "$4" --ready "$W/$1.ready" \
        --ready-wait 20 --max-wait $((4 * CONN_TIMEOUT))
    wait_ready "$W/$1.ready" "${BG_PID[$1]}" 30
}

# hold_check NAME N WHAT: the server closed all N held connections of hold
# NAME, none before its inactivity timeout.
hold_check() {
    local name=$1 n=$2 what=$3 f=$W/$1.out
    bg_wait "$name" $((5 * CONN_TIMEOUT))
    if [[ $BG_RC != 0 ]]; then
        fail "$what: att_load hold exited $BG_RC" "$(cat "$W/$name.err")"
        return
    fi
    log "$what: $(tr '\n' ' ' <"$f")"
    assert_eq "$(kv "$f" held)" "$n" "$what: all $n connections were held"
    assert_eq "$(kv "$f" closed_after_hold)" "$n" "$what: the server closed all $n"
    assert_eq "$(kv "$f" still_open)" 0 "$what: none is left open"
    # MHD checks its timeouts once a second; a few seconds of slack.
    assert_ge "$(kv "$f" idle_before_close_min_s)" $((CONN_TIMEOUT - 3)) \
        "$what: none was closed before the ${CONN_TIMEOUT}s timeout (seconds idle)"
}

# normal_check NAME WHAT MAX: a background curl ("CODE SECONDS") got a 200
# within MAX seconds.
normal_check() {
    local got code secs
    bg_wait "$1" $((4 * CONN_TIMEOUT))
    got=$(cat "$W/$1.out" 2>/dev/null)
    code=${got%% *}
    secs=${got##* }
    assert_eq "$code" 200 "$2: a normal request meanwhile is answered"
    assert_le "$secs" "$3" "$2: answered within $3 s"
}

# metric NAME TOKEN KEY: one value of verifier NAME's /metrics.
metric() {
    api "$1" "$2" GET /metrics
    awk -v k="$3" '$1 == k { print $2; exit }' "$API_OUT"
}

# hosts_where NAME TOKEN JQ_COND: how many hosts satisfy the jq condition.
hosts_where() {
    api "$1" "$2" GET /api/v1/hosts
    jq "[.hosts[] | select($3)] | length" "$API_OUT" 2>/dev/null
}

# shellcheck disable=SC2317 # called through wait_until
all_hosts() {
    [[ $(hosts_where v "$VIEWER" "$1") == "$N" ]]
}

# ---------------------------------------------------------------------------
section "setup: fleet CA, tokens; slowloris on a verifier while the rig comes up"
fleet_setup
fleet_issue "$FLEET" agent-load agent
DB=$T_DIR/verifier.db
SDB=$T_DIR/slow.db
token_create ADMIN "$DB" admin admin
token_create VIEWER "$DB" viewer viewer
token_create SVIEWER "$SDB" viewer viewer
# The rig's EK CA does not exist yet; this verifier enrolls nobody.
start_verifier s "$SDB" "${VERIFIER_TLS_ARGS[@]}" --tpm-ca "$FLEET/ca.pem"
S_ADDR=127.0.0.1:${VERIFIER_PORT[s]}
S_RSS0=$(vm "${VERIFIER_PID[s]}" VmRSS)
hold_start s-tls "$S_ADDR" 250 tls-partial
hold_start s-idle "$S_ADDR" 250 idle
bg s-normal curl -sS -o "$W/s-normal.body" -w '%{http_code} %{time_total}' --max-time 110 \
    --cacert "$FLEET/ca.pem" -H "Authorization: Bearer $SVIEWER" "${VERIFIER_URL[s]}/api/v1/hosts"
T_RIG=$SECONDS
start_rig "$SPARE"
log "rig of $SPARE hosts took $((SECONDS - T_RIG))s"

section "slowloris on the dashboard API: 250 half-sent requests + 250 silent TCP (limit $CONN_LIMIT)"
hold_check s-tls 250 "verifier, TLS done + half a header"
hold_check s-idle 250 "verifier, TCP without TLS"
# Over the limit it waits in the backlog until the first 256 time out.
normal_check s-normal "verifier, over the limit" $((2 * CONN_TIMEOUT))
expect_api 200 "the verifier answers at once afterwards" s "$SVIEWER" GET /api/v1/hosts
rss_check "${VERIFIER_PID[s]}" "verifier after 500 held connections" "$S_RSS0" "$RSS_MIB"
stop_verifier s

# ---------------------------------------------------------------------------
section "$N agents, each on its own swtpm, mTLS"
start_verifier v "$DB" "${VERIFIER_TLS_ARGS[@]}" "${RIG_TPM_CA_ARGS[@]}" --interval 2
T_AG=$SECONDS
agent_args() { # agent_args K: the command line of agent K
    local tcti
    tcti=$(<"$RIG/host-$1/tcti")
    A_ARGS=(--tcti "$tcti" --state-dir "$T_DIR/agents/$2" --listen 127.0.0.1:0
        --agent-id "load-$1" --tls-cert "$FLEET/agent-load.pem" --tls-key "$FLEET/agent-load.key"
        --tls-client-ca "$FLEET/ca.pem")
}
for ((i = 1; i <= SPARE; i++)); do
    name=h$i
    ((i == SPARE)) && name=spare
    agent_args "$i" "$name"
    mkdir -p "$T_DIR/agents/$name"
    "$ATT_BIN/attest-agent" "${A_ARGS[@]}" >>"$T_DIR/agents/$name.out" \
        2>>"$T_DIR/agents/$name.err" &
    AGENT_PID[$name]=$!
    AGENT_DIR[$name]=$T_DIR/agents/$name
done
for name in "${!AGENT_DIR[@]}"; do
    if ! wait_for_file "${AGENT_DIR[$name]}/http.port" "${AGENT_PID[$name]}" 120; then
        die "agent $name did not become ready" "$T_DIR/agents/$name.err"
    fi
    AGENT_PORT[$name]=$(<"${AGENT_DIR[$name]}/http.port")
    AGENT_URL[$name]=https://127.0.0.1:${AGENT_PORT[$name]}
done
pass "$SPARE agents started at once are all serving (after $((SECONDS - T_AG))s)"

section "slowloris on an agent (in the background): 150 half-sent requests + 100 silent TCP"
SPARE_ADDR=127.0.0.1:${AGENT_PORT[spare]}
SPARE_RSS0=$(vm "${AGENT_PID[spare]}" VmRSS)
hold_start a-tls "$SPARE_ADDR" 150 tls-partial
hold_start a-idle "$SPARE_ADDR" 100 idle
bg a-normal curl -sS -o "$W/a-normal.body" -w '%{http_code} %{time_total}' --max-time 110 \
    --cacert "$FLEET/ca.pem" --cert "$FLEET/client.pem" --key "$FLEET/client.key" \
    "${AGENT_URL[spare]}/v1/health"
log "held; the results are read at the end"

section "enrolling $N hosts with $N concurrent POST /api/v1/hosts"
printf '{"version": 1, "name": "load", "reference_values": {}}\n' >"$W/base.json"
expect_api 201 "policy base" v "$ADMIN" POST /api/v1/policies \
    "$(jq -c '{name: "base", policy: .}' "$W/base.json")"
mkdir -p "$W/enroll"
: >"$W/enroll.req"
: >"$W/assign.req"
printf '{"policy": "base"}\n' >"$W/assign.json"
for ((i = 1; i <= N; i++)); do
    jq -cn --arg n "h$i" --arg u "${AGENT_URL[h$i]}" '{name: $n, agent_url: $u}' \
        >"$W/enroll/h$i.json"
    printf 'POST /api/v1/hosts @%s\n' "$W/enroll/h$i.json" >>"$W/enroll.req"
    printf 'PUT /api/v1/hosts/h%d/policy @%s\n' "$i" "$W/assign.json" >>"$W/assign.req"
done
T_EN=$SECONDS
expect_cmd 0 "att_load: $N enrollments at once" "$LOAD" burst --url "${VERIFIER_URL[v]}" \
    --requests "$W/enroll.req" --n "$N" --cacert "$FLEET/ca.pem" --token "$ADMIN" --timeout 300
cp "$T_OUT" "$W/enroll.out"
log "enrollment burst: $(tr '\n' ' ' <"$W/enroll.out")"
assert_eq "$(awk '$1 == "status" { print $2 ":" $3 }' "$W/enroll.out")" "201:$N" \
    "every enrollment answered 201 Created"
expect_cmd 0 "att_load: $N policy assignments at once" "$LOAD" burst \
    --url "${VERIFIER_URL[v]}" --requests "$W/assign.req" --n "$N" --cacert "$FLEET/ca.pem" \
    --token "$ADMIN" --timeout 300
assert_eq "$(awk '$1 == "status" { print $2 ":" $3 }' "$T_OUT")" "200:$N" \
    "every assignment answered 200"
log "enrolled and assigned after $((SECONDS - T_EN))s"

section "$N hosts polled at once by one verifier"
if wait_until 240 all_hosts '.verdict == "trusted"'; then
    pass "all $N hosts are trusted, $((SECONDS - T_EN))s after the enrollments began"
else
    fail "not all $N hosts became trusted: $(hosts_where v "$VIEWER" '.verdict == "trusted"')" \
        "$(jq -c '[.hosts[] | select(.verdict != "trusted") | {name, verdict, verdict_reason}] | .[:5]' "$API_OUT")"
fi
MARK=$(date +%s)
T_ROUND=$SECONDS
if wait_until 120 all_hosts ".last_attested_at > $MARK"; then
    pass "every one of the $N hosts was attested again within $((SECONDS - T_ROUND))s"
else
    fail "hosts not attested again since $MARK: $((N - $(hosts_where v "$VIEWER" \
        ".last_attested_at > $MARK")))"
fi
expect_api 200 "the API answers while $N hosts are polled" v "$VIEWER" GET /api/v1/hosts/h1
assert_eq "$(metric v "$VIEWER" 'attest_hosts{verdict="untrusted"}')" 0 "no host is untrusted"
assert_eq "$(metric v "$VIEWER" 'attest_hosts{verdict="unreachable"}')" 0 "no host is unreachable"

# ---------------------------------------------------------------------------
section "1000 concurrent API requests while $N hosts are polled"
printf '{"version": 1, "name": "spare", "reference_values": {}}\n' >"$W/spare.json"
expect_api 201 "policy spare" v "$ADMIN" POST /api/v1/policies \
    "$(jq -c '{name: "spare", policy: .}' "$W/spare.json")"
jq -c '{name: "racer", policy: .}' "$W/spare.json" >"$W/racer.json"
hk() { printf 'h%d' $((($1 - 1) % N + 1)); } # host K of N (for small ATT_LOAD_AGENTS)
cat >"$W/burst.req" <<EOF
GET /api/v1/hosts
GET /api/v1/hosts/h1
GET /api/v1/hosts/$(hk $((N / 2 + 1)))
GET /api/v1/hosts/h$N
GET /api/v1/hosts/$(hk 7)/verdicts?limit=5
GET /api/v1/verdicts?limit=20
GET /api/v1/events?limit=50
GET /api/v1/events?host=$(hk 3)&limit=10
GET /api/v1/hosts/$(hk 9)/containers
GET /api/v1/containers
GET /api/v1/policies
GET /api/v1/policies/base
GET /metrics
GET /api/v1/health
POST /api/v1/hosts/$(hk 3)/attest
POST /api/v1/policies @$W/racer.json
PUT /api/v1/policies/spare @$W/spare.json
PUT /api/v1/hosts/$(hk 5)/policy @$W/assign.json
GET /api/v1/hosts/$(hk 11)
GET /api/v1/hosts/$(hk 12)/verdicts?limit=1
EOF
V_PID=${VERIFIER_PID[v]}
V_RSS0=$(vm "$V_PID" VmRSS)
V_HWM0=$(vm "$V_PID" VmHWM)
expect_cmd 0 "att_load: 1000 requests at once" "$LOAD" burst --url "${VERIFIER_URL[v]}" \
    --requests "$W/burst.req" --n 1000 --cacert "$FLEET/ca.pem" --token "$ADMIN" --timeout 300
cp "$T_OUT" "$W/burst.out"
log "burst: $(tr '\n' ' ' <"$W/burst.out")"
assert_eq "$(kv "$W/burst.out" peak_open_sockets)" 1000 "1000 connections were open at once"
assert_eq "$(kv "$W/burst.out" answered)" 1000 "every one of the 1000 requests got an HTTP answer"
assert_eq "$(kv "$W/burst.out" no_answer)" 0 "no request went unanswered (reset, timeout)"
assert_eq "$(kv "$W/burst.out" bad_body)" 0 "every answer has the API's shape"
assert_eq "$(awk '$1 == "status" { print $2 }' "$W/burst.out" | tr '\n' ' ')" "200 201 409 " \
    "the only statuses are 200, 201 and 409"
assert_eq "$(awk '$1 == "status" && $2 == 201 { print $3 }' "$W/burst.out")" 1 \
    "exactly one of the racing POSTs of policy \"racer\" created it"
log "connection limit: $(grep -c 'connection limit' "$(verifier_log v)") MHD message(s)"
V_HWM1=$(vm "$V_PID" VmHWM)
log "verifier VmHWM during the burst: $V_HWM0 -> $V_HWM1 KiB"
# 256 connections x (64 KiB MHD pool + a GnuTLS session of some 40 KiB) is
# 26 MiB; the 50 host lists among the answers (~140 KiB each at 200 hosts)
# 7 MiB more if all were queued at once. 64 MiB leaves room for malloc's
# arenas (one per thread) and SQLite's page cache.
if [[ -n $V_HWM0 && -n $V_HWM1 ]]; then
    assert_le "$(((V_HWM1 - V_HWM0) / 1024))" "$RSS_MIB" "verifier peak RSS growth during the burst in MiB"
else
    fail "the verifier's VmHWM could not be read (pid $V_PID gone?)"
fi
rss_check "$V_PID" "verifier after 1000 requests" "$V_RSS0" "$RSS_MIB"
expect_api 200 "the verifier answers normally afterwards" v "$VIEWER" GET /api/v1/hosts
assert_eq "$(jq '.hosts | length' "$API_OUT")" "$N" "it still lists $N hosts"
MARK=$(date +%s)
if wait_until 120 all_hosts ".last_attested_at > $MARK and .verdict == \"trusted\""; then
    pass "all $N hosts were attested again after the burst, all trusted"
else
    fail "after the burst, hosts not attested again and trusted: $((N - $(hosts_where v \
        "$VIEWER" ".last_attested_at > $MARK and .verdict == \"trusted\"")))"
fi

# ---------------------------------------------------------------------------
section "oversized and deeply nested JSON to the API"
# state: what is stored and readable through the API (hosts, their policies, policies)
api_state() {
    {
        api v "$ADMIN" GET /api/v1/hosts
        jq -c '[.hosts[] | [.name, .policy, .agent_url, .ak_name]] | sort' "$API_OUT"
        api v "$ADMIN" GET /api/v1/policies
        jq -c '.policies | sort' "$API_OUT"
        for p in base spare racer; do
            api v "$ADMIN" GET "/api/v1/policies/$p"
            jq -cS . "$API_OUT"
        done
    } 2>&1
}
STATE0=$(api_state)
V_RSS0=$(vm "$V_PID" VmRSS)
head -c $((2 * MIB)) /dev/zero | tr '\0' '[' >"$W/deep-2m.json"
head -c 100000 /dev/zero | tr '\0' '[' >"$W/deep.json"
printf '%0.s{"a":' $(seq 20000) >"$W/deep-obj.json"
printf '{"name": "deep", "policy": %s' "$(head -c $((MIB - 100)) /dev/zero | tr '\0' '[')" \
    >"$W/deep-1m.json"
expect_api 413 "POST /api/v1/policies with 2 MiB of '[' (declared length)" v "$ADMIN" POST \
    /api/v1/policies "@$W/deep-2m.json"
assert_contains "$API_OUT" "exceeds the limit of $MIB bytes" "the 413 names the 1 MiB limit"
for target in "POST /api/v1/policies" "POST /api/v1/hosts" "PUT /api/v1/policies/base" \
    "PUT /api/v1/hosts/h1/policy"; do
    read -r method path <<<"$target"
    expect_api 400 "$target with 100000 nested '['" v "$ADMIN" "$method" "$path" "@$W/deep.json"
    assert_contains "$API_OUT" "depth" "$target: the error names the nesting depth"
done
expect_api 400 "POST /api/v1/policies with 20000 nested objects" v "$ADMIN" POST \
    /api/v1/policies "@$W/deep-obj.json"
assert_contains "$API_OUT" "depth" "nested objects: the error names the nesting depth"
expect_api 400 "a policy nested $((MIB - 100)) deep, just under the limit" v "$ADMIN" POST \
    /api/v1/policies "@$W/deep-1m.json"
assert_contains "$API_OUT" "depth" "nested to the limit: the error names the depth"
# chunked: no length declared; the body is counted as it streams and dropped
for size in 2 64; do
    ST=$(head -c $((size * MIB)) /dev/zero | tr '\0' 'a' | curl -sS -o "$W/chunked-$size.json" \
        -w '%{http_code}' --max-time 60 --cacert "$FLEET/ca.pem" \
        -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
        -H 'Transfer-Encoding: chunked' --data-binary @- "${VERIFIER_URL[v]}/api/v1/policies" \
        2>"$W/chunked-$size.err")
    assert_eq "$ST" 413 "$size MiB chunked (no declared length) to POST /api/v1/policies: 413"
done
assert_contains "$W/chunked-64.json" "exceeds the limit of $MIB bytes" \
    "the chunked 413 names the 1 MiB limit"
assert_eq "$(api_state)" "$STATE0" "nothing stored changed (hosts, assignments, policies)"
expect_api 404 "no policy \"deep\" was stored" v "$VIEWER" GET /api/v1/policies/deep
rss_check "$V_PID" "verifier after the bodies" "$V_RSS0" "$RSS_MIB"

section "oversized and deeply nested CBOR to an agent (h1, mTLS)"
A_PID=${AGENT_PID[h1]}
A_RSS0=$(vm "$A_PID" VmRSS)
# agent_post PATH FILE|- [CURL ARGS...]: POST FILE (or stdin) to h1; sets A_ST, body in A_OUT.
A_N=0
agent_post() {
    local path=$1 data=$2
    shift 2
    A_N=$((A_N + 1))
    A_OUT=$W/agent-$A_N.cbor
    A_ST=$(curl -sS -o "$A_OUT" -w '%{http_code}' --max-time 120 --cacert "$FLEET/ca.pem" \
        --cert "$FLEET/client.pem" --key "$FLEET/client.key" \
        -H 'Content-Type: application/cbor' "$@" --data-binary "@$data" \
        "${AGENT_URL[h1]}$path" 2>"$A_OUT.err")
    [[ -n $A_ST ]] || A_ST=000
}
head -c $((3 * MIB)) /dev/zero >"$W/zero-3m.cbor"
agent_post /v1/activate "$W/zero-3m.cbor"
assert_eq "$A_ST" 413 "3 MiB to /v1/activate (cap 2 MiB): 413"
assert_contains "$A_OUT" "exceeds the limit of $((2 * MIB)) bytes" "the agent's 413 names its limit"
EV_CAP=$((MIB + 24 * MIB + 65536))
head -c $((26 * MIB)) /dev/zero >"$W/zero-26m.cbor"
agent_post /v1/evidence "$W/zero-26m.cbor"
assert_eq "$A_ST" 413 "26 MiB to /v1/evidence (cap $EV_CAP): 413"
head -c $((26 * MIB)) /dev/zero | agent_post /v1/evidence - -H 'Transfer-Encoding: chunked'
assert_eq "$A_ST" 413 "26 MiB chunked to /v1/evidence: 413"
assert_contains "$A_OUT" "exceeds the limit of $EV_CAP bytes" \
    "the chunked 413 names the evidence limit"
rm -f "$W/zero-26m.cbor"
{
    head -c 100000 /dev/zero | tr '\0' '\201' # 0x81: an array of one, 100000 deep
    printf '\000'
} >"$W/deep.cbor"
head -c 100000 /dev/zero | tr '\0' '\237' >"$W/deep-indef.cbor" # 0x9f: [_ ...
printf '\233\377\377\377\377\377\377\377\377' >"$W/huge-array.cbor" # an array of 2^64-1
agent_post /v1/evidence "$W/deep.cbor"
assert_eq "$A_ST" 400 "100000 nested CBOR arrays to /v1/evidence: 400"
assert_contains "$A_OUT" "nested too deeply" "the error says the CBOR is nested too deeply"
agent_post /v1/activate "$W/deep.cbor"
assert_eq "$A_ST" 400 "100000 nested CBOR arrays to /v1/activate: 400"
agent_post /v1/evidence "$W/deep-indef.cbor"
assert_eq "$A_ST" 400 "100000 nested indefinite-length arrays: 400"
agent_post /v1/evidence "$W/huge-array.cbor"
assert_eq "$A_ST" 400 "an array that claims 2^64-1 items: 400"
ST=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 --cacert "$FLEET/ca.pem" \
    --cert "$FLEET/client.pem" --key "$FLEET/client.key" "${AGENT_URL[h1]}/v1/health")
assert_eq "$ST" 200 "the agent answers /v1/health afterwards"
expect_api 200 "attest h1 now" v "$ADMIN" POST /api/v1/hosts/h1/attest
assert_eq "$(jget "$API_OUT" .verdict)" trusted "h1 is still trusted"
# The agent buffers an evidence request up to its cap (25 MiB) before refusing it.
rss_check "$A_PID" "agent h1 after the bodies" "$A_RSS0" "$RSS_MIB"

# ---------------------------------------------------------------------------
section "slowloris on an agent: the results"
hold_check a-tls 150 "agent, TLS done + half a header"
hold_check a-idle 100 "agent, TCP without TLS"
# Under the limit: a free slot, no waiting for the timeout.
normal_check a-normal "agent, under the limit" $((CONN_TIMEOUT - 5))
ST=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 --cacert "$FLEET/ca.pem" \
    --cert "$FLEET/client.pem" --key "$FLEET/client.key" "${AGENT_URL[spare]}/v1/health")
assert_eq "$ST" 200 "the agent answers at once afterwards"
rss_check "${AGENT_PID[spare]}" "agent after 250 held connections" "$SPARE_RSS0" "$RSS_MIB"

# ---------------------------------------------------------------------------
section "shutdown"
stop_verifier v
T_STOP=$SECONDS
pids=()
for name in "${!AGENT_PID[@]}"; do
    pids+=("${AGENT_PID[$name]}")
done
kill -TERM "${pids[@]}" 2>/dev/null
for ((i = 0; i < 300; i++)); do
    live=0
    for p in "${pids[@]}"; do
        _t_is_live "$p" && live=$((live + 1))
    done
    ((live == 0)) && break
    sleep 0.1
done
bad=()
for name in "${!AGENT_PID[@]}"; do
    if _t_is_live "${AGENT_PID[$name]}"; then
        kill -KILL "${AGENT_PID[$name]}" 2>/dev/null
    fi
    wait "${AGENT_PID[$name]}"
    rc=$?
    ((rc == 0)) || bad+=("$name:$rc")
    unset "AGENT_PID[$name]"
done
assert_eq "${bad[*]}" "" "all $SPARE agents exited 0 on SIGTERM ($((SECONDS - T_STOP))s)"
# "rig down" (the EXIT trap) stops one swtpm after the other, with a
# TPM2_Shutdown each: some 20 s for 201. Their state is thrown away with
# T_DIR, so they get SIGTERM all at once here; "rig down" then finds them gone.
swtpms=()
for ((i = 1; i <= SPARE; i++)); do
    p=$(cat "$RIG/host-$i/swtpm.pid" 2>/dev/null)
    if [[ -n $p ]] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$RIG/host-$i/"; then
        swtpms+=("$p")
    fi
done
log "stopping ${#swtpms[@]} swtpms"
kill -TERM "${swtpms[@]}" 2>/dev/null
for ((i = 0; i < 200; i++)); do
    live=0
    for p in "${swtpms[@]}"; do
        kill -0 "$p" 2>/dev/null && live=$((live + 1))
    done
    ((live == 0)) && break
    sleep 0.1
done
finish
