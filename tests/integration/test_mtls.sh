#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# mTLS between the verifier and agents (DESIGN §3 "Channel"), with two fleet
# CAs made by certs/fleet-ca: ours and an unrelated one.
# - curl to the agent: no client certificate, one from the other CA, and an
#   agent-kind certificate (no clientAuth) are refused; a verifier or client
#   certificate of our fleet gets in; a server the client does not trust and
#   plain HTTP on the TLS port get nothing;
# - a verifier whose --fleet-ca (and client certificate) is the other CA
#   cannot reach the agent: the host is unreachable, never untrusted; the
#   same for a verifier whose client certificate the agent does not accept;
#   with the right configuration again the host is trusted;
# - an agent of another fleet cannot be enrolled;
# - an agent without TLS flags and without --insecure-dev exits 2 and says
#   why; --insecure-dev prints a loud warning (agent and verifier).

. "$(dirname "$0")/lib.sh"

FILES=$T_DIR/files
OTHER=$T_DIR/other-ca
mkdir -p "$FILES"

command -v jq >/dev/null 2>&1 || die "jq is needed to read the dashboard API's JSON"

# agent_curl DESC URLPATH [CURL ARGS...]: one HTTPS request to agent "a",
# trusting our fleet CA for the server. Sets C_STATUS ("000": no HTTP answer),
# C_RC (curl's exit status) and C_OUT (body + curl's messages).
agent_curl() {
    local path=$1
    shift
    C_OUT=$T_DIR/out/curl-$((T_STEP + 1)).txt
    C_STATUS=$(curl -sS --max-time 20 -o "$C_OUT.body" -w '%{http_code}' "$@" \
        "${AGENT_URL[a]}$path" 2>"$C_OUT.err")
    C_RC=$?
    [[ -n $C_STATUS ]] || C_STATUS=000
    cat "$C_OUT.body" "$C_OUT.err" >"$C_OUT" 2>/dev/null
}

# refused_by_agent DESC CAUSE [CURL ARGS...]: the agent refuses: 403 whose body
# names CAUSE, or no HTTP answer at all (the TLS handshake failed).
refused_by_agent() {
    local desc=$1 cause=$2
    shift 2
    agent_curl /v1/identity --cacert "$FLEET/ca.pem" "$@"
    if [[ $C_STATUS == 403 ]] && LC_ALL=C grep -qaF -- "$cause" "$C_OUT.body"; then
        pass "$desc: 403 \"$cause\""
    elif [[ $C_STATUS == 000 && $C_RC != 0 ]]; then
        pass "$desc: TLS refused (curl exit $C_RC)"
    else
        fail "$desc: expected 403 naming \"$cause\" or a TLS refusal, got HTTP $C_STATUS" \
            "curl exit $C_RC"
        show_file "$C_OUT"
    fi
}

# verdicts_since NAME TOKEN HOST ID: the distinct verdicts of HOST with id > ID.
verdicts_since() {
    api "$1" "$2" GET "/api/v1/hosts/$3/verdicts?limit=1000"
    jq -r --argjson id "$4" '[.verdicts[] | select(.id > $id) | .verdict] | unique | join(",")' \
        "$API_OUT" 2>/dev/null
}

# last_verdict_id NAME TOKEN HOST: the newest verdict id of HOST (0 if none).
last_verdict_id() {
    api "$1" "$2" GET "/api/v1/hosts/$3/verdicts?limit=1"
    jq -r '(.verdicts[0].id // 0)' "$API_OUT" 2>/dev/null || echo 0
}

# shellcheck disable=SC2317 # called through wait_until
host_verdict_is() {
    api "$1" "$2" GET "/api/v1/hosts/$3"
    [[ $(jget "$API_OUT" .verdict) == "$4" ]]
}

section "setup: 2 TPMs, our fleet CA and another one"
start_rig 2
fleet_setup
fleet_issue "$FLEET" agent-peer agent
fleet_init "$OTHER"
fleet_issue "$OTHER" client client
fleet_issue "$OTHER" verifier verifier
fleet_issue "$OTHER" rogue agent
start_agent_tls a "$(rig_tcti 1)" --agent-id mtls-a
if [[ ${AGENT_URL[a]} == https://* ]]; then
    pass "the agent serves https (${AGENT_URL[a]})"
else
    fail "the agent with --tls-cert serves ${AGENT_URL[a]}"
fi

# ---------------------------------------------------------------------------
section "who may talk to the agent"
refused_by_agent "no client certificate" "client certificate required"
refused_by_agent "a client certificate from another CA" "not trusted" \
    --cert "$OTHER/client.pem" --key "$OTHER/client.key"
refused_by_agent "a verifier certificate from another CA" "not trusted" \
    --cert "$OTHER/verifier.pem" --key "$OTHER/verifier.key"
refused_by_agent "an agent-kind certificate (serverAuth only) as client" "client authentication" \
    --cert "$FLEET/agent-peer.pem" --key "$FLEET/agent-peer.key"
agent_curl /v1/health --cacert "$FLEET/ca.pem"
assert_eq "$C_STATUS" 403 "no client certificate: /v1/health is refused too"

agent_curl /v1/identity --cacert "$FLEET/ca.pem" --cert "$FLEET/verifier.pem" \
    --key "$FLEET/verifier.key"
assert_eq "$C_STATUS" 200 "our verifier certificate gets /v1/identity"
agent_curl /v1/health --cacert "$FLEET/ca.pem" --cert "$FLEET/client.pem" \
    --key "$FLEET/client.key"
assert_eq "$C_STATUS" 200 "our client certificate gets /v1/health"

agent_curl /v1/health --cacert "$OTHER/ca.pem" --cert "$FLEET/client.pem" \
    --key "$FLEET/client.key"
if [[ $C_STATUS == 000 && $C_RC == 60 ]]; then
    pass "a client that trusts only the other CA refuses the agent's certificate (curl 60)"
else
    fail "trusting only the other CA: expected curl exit 60, got HTTP $C_STATUS exit $C_RC"
    show_file "$C_OUT"
fi
if ! curl -sS --max-time 10 -o /dev/null "http://127.0.0.1:${AGENT_PORT[a]}/v1/identity" \
    2>/dev/null; then
    pass "plain HTTP to the agent's TLS port gets no answer"
else
    fail "plain HTTP to the agent's TLS port was answered"
fi

# ---------------------------------------------------------------------------
section "a verifier of our fleet: enrolled and trusted"
DB=$T_DIR/verifier.db
token_create ADMIN "$DB" admin admin
start_verifier v "$DB" "${VERIFIER_TLS_ARGS[@]}" "${RIG_TPM_CA_ARGS[@]}" --interval 0.2 \
    --log-level info
fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[a]}" --name h1
printf 'mtls\n' >"$FILES/m"
measure a "$FILES/m"
policy_for "$T_DIR/policy.json" "$FILES/m"
fleet_expect 0 v "$ADMIN" policy apply base "$T_DIR/policy.json"
fleet_expect 0 v "$ADMIN" policy assign h1 base
fleet_expect 0 v "$ADMIN" host h1
assert_contains "$T_OUT" "verdict: trusted" "h1 is trusted by our verifier"
stop_verifier v

section "a verifier whose --fleet-ca is another CA cannot reach the agent"
OTHER_TLS=(--api-cert "$FLEET/verifier.pem" --api-key "$FLEET/verifier.key"
    --fleet-ca "$OTHER/ca.pem" --client-cert "$OTHER/verifier.pem"
    --client-key "$OTHER/verifier.key")
start_verifier o "$DB" "${OTHER_TLS[@]}" "${RIG_TPM_CA_ARGS[@]}" --interval 0.2 --log-level info
MARK=$(last_verdict_id o "$ADMIN" h1)
fleet_expect 2 o "$ADMIN" host h1
assert_contains "$T_OUT" "verdict: unreachable" "other fleet CA: attest-verify host says unreachable"
if wait_until 10 host_verdict_is o "$ADMIN" h1 unreachable; then
    pass "other fleet CA: the stored verdict is unreachable"
else
    fail "other fleet CA: the host's verdict is \"$(jget "$API_OUT" .verdict)\", not unreachable"
fi
sleep 1 # a few more 0.2 s rounds
assert_eq "$(verdicts_since o "$ADMIN" h1 "$MARK")" "unreachable" \
    "other fleet CA: every round since is unreachable, none untrusted"
api o "$ADMIN" GET "/api/v1/events?host=h1&kind=unreachable"
assert_match "$API_OUT" "unreachable.*(SSL|TLS|certificate)" \
    "an \"unreachable\" event names the TLS failure"
stop_verifier o

section "a verifier whose client certificate the agent does not accept: unreachable too"
# The verifier trusts the agent (our fleet CA) but shows a certificate of the
# other CA; the agent answers 403. The host did nothing wrong.
BADCLIENT_TLS=(--api-cert "$FLEET/verifier.pem" --api-key "$FLEET/verifier.key"
    --fleet-ca "$FLEET/ca.pem" --client-cert "$OTHER/verifier.pem"
    --client-key "$OTHER/verifier.key")
start_verifier c "$DB" "${BADCLIENT_TLS[@]}" "${RIG_TPM_CA_ARGS[@]}" --interval 0.2
MARK=$(last_verdict_id c "$ADMIN" h1)
fleet_expect 2 c "$ADMIN" host h1
assert_contains "$T_OUT" "verdict: unreachable" "refused client certificate: unreachable"
sleep 1
assert_eq "$(verdicts_since c "$ADMIN" h1 "$MARK")" "unreachable" \
    "refused client certificate: no round says untrusted"
stop_verifier c

section "the right configuration again: trusted"
start_verifier v "$DB" "${VERIFIER_TLS_ARGS[@]}" "${RIG_TPM_CA_ARGS[@]}" --interval 0.2
fleet_expect 0 v "$ADMIN" host h1
assert_contains "$T_OUT" "verdict: trusted" "h1 is trusted again"

# ---------------------------------------------------------------------------
section "plain HTTP only with --insecure-dev"
expect_cmd 2 "agent without TLS flags and without --insecure-dev" \
    timeout -k 2 15 "$ATT_BIN/attest-agent" --tcti "$(rig_tcti 2)" \
    --state-dir "$T_DIR/agents/notls" --listen 127.0.0.1:0
assert_contains "$T_OUT" "mTLS needs --tls-cert, --tls-key and --tls-client-ca" \
    "no TLS flags: the agent says which flags it needs"
assert_contains "$T_OUT" "--insecure-dev" "no TLS flags: the agent names --insecure-dev"
expect_cmd 2 "agent with --tls-cert only" \
    timeout -k 2 15 "$ATT_BIN/attest-agent" --tcti "$(rig_tcti 2)" \
    --state-dir "$T_DIR/agents/notls" --listen 127.0.0.1:0 --tls-cert "$FLEET/agent-peer.pem"
assert_contains "$T_OUT" "mTLS needs" "a partial TLS configuration is refused the same way"

start_agent plain "$(rig_tcti 2)" --agent-id mtls-plain
assert_match "$(agent_log plain)" '\*\*\* --insecure-dev: plain HTTP' \
    "--insecure-dev: the agent prints a loud warning"
assert_eq "$(curl -sS --max-time 10 "${AGENT_URL[plain]}/v1/health" 2>&1)" "ok" \
    "--insecure-dev: plain HTTP works without a certificate"
stop_agent plain

expect_cmd 1 "verifier without TLS flags and without --insecure-dev" \
    timeout -k 2 15 "$ATT_BIN/attest-verifier" --db "$T_DIR/notls.db" --listen 127.0.0.1:0 \
    "${RIG_TPM_CA_ARGS[@]}"
assert_contains "$T_OUT" "--insecure-dev" "no TLS flags: the verifier says what it needs"
start_verifier plainv "$T_DIR/plain.db" --insecure-dev "${RIG_TPM_CA_ARGS[@]}"
assert_contains "$(verifier_log plainv)" "*** --insecure-dev" \
    "--insecure-dev: the verifier prints a loud warning"
stop_verifier plainv

section "an agent of another fleet cannot be enrolled"
start_agent rogue "$(rig_tcti 2)" --agent-id mtls-rogue --tls-cert "$OTHER/rogue.pem" \
    --tls-key "$OTHER/rogue.key" --tls-client-ca "$OTHER/ca.pem"
fleet_expect 2 v "$ADMIN" enroll --agent "${AGENT_URL[rogue]}" --name rogue
assert_match "$T_OUT" "HTTP 502.*unreachable.*(SSL|certificate)" \
    "the verifier does not trust the other fleet's agent certificate"
api v "$ADMIN" GET /api/v1/hosts
assert_eq "$(jq -r '[.hosts[].name] | join(",")' "$API_OUT")" "h1" "no host rogue"
stop_agent rogue

section "shutdown"
stop_verifier v
stop_agent a
finish
