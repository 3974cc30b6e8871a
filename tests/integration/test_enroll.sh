#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Enrollment (DESIGN §3) through attest-verifier and attest-verify, on the
# swtpm rig, over mTLS with certificates from a test fleet CA:
# - an agent with its AK under the RSA EK and one under the ECC EK enroll;
#   after policy apply + assign, "attest-verify host" says trusted;
# - refused, with a message naming the cause and nothing stored (hosts and
#   "enrolled" events unchanged): an EK certificate from an untrusted CA, an AK
#   swapped for another TPM's, a wrong activation secret, an AK without the
#   restricted attribute (the last three by the tamper proxy, which speaks
#   mTLS to the agent and plain HTTP to a --insecure-dev verifier);
# - a name taken by another TPM -> 409 "delete it first"; one TPM under a
#   second name -> 409; the same agent again -> OK; after DELETE the name can
#   go to another TPM.

. "$(dirname "$0")/lib.sh"

FILES=$T_DIR/files
mkdir -p "$FILES"

# host_names NAME TOKEN: the sorted host names verifier NAME stores, one line.
host_names() {
    api "$1" "$2" GET /api/v1/hosts
    if [[ $API_STATUS != 200 ]]; then
        printf 'GET /api/v1/hosts: HTTP %s\n' "$API_STATUS"
        return
    fi
    jq -r '[.hosts[].name] | sort | join(",")' "$API_OUT"
}

# enrolled_events NAME TOKEN: how many "enrolled" events verifier NAME has.
enrolled_events() {
    api "$1" "$2" GET "/api/v1/events?kind=enrolled&limit=1000"
    jq -r '.events | length' "$API_OUT" 2>/dev/null || echo "?"
}

# refused DESC CAUSE_ERE VERIFIER TOKEN ARGS...: "attest-verify enroll ARGS"
# fails (exit 2), says why (CAUSE_ERE), and the verifier stored nothing.
refused() {
    local desc=$1 cause=$2 v=$3 tok=$4 before ev_before
    shift 4
    before=$(host_names "$v" "$tok")
    ev_before=$(enrolled_events "$v" "$tok")
    fleet_expect 2 "$v" "$tok" enroll "$@"
    assert_match "$T_OUT" "$cause" "$desc: the message names the cause"
    assert_eq "$(host_names "$v" "$tok")" "$before" "$desc: the hosts list is unchanged"
    assert_eq "$(enrolled_events "$v" "$tok")" "$ev_before" "$desc: no \"enrolled\" event"
}

command -v jq >/dev/null 2>&1 || die "jq is needed to read the dashboard API's JSON"

section "setup: 3 TPMs, a fleet CA, agents with mTLS (RSA EK, ECC EK, RSA EK)"
start_rig 3
fleet_setup
start_agent_tls rsa "$(rig_tcti 1)" --agent-id enroll-rsa --ek-alg rsa
start_agent_tls ecc "$(rig_tcti 2)" --agent-id enroll-ecc --ek-alg ecc
start_agent_tls third "$(rig_tcti 3)" --agent-id enroll-third
DB=$T_DIR/verifier.db
token_create ADMIN "$DB" admin admin
start_verifier v "$DB" "${VERIFIER_TLS_ARGS[@]}" "${RIG_TPM_CA_ARGS[@]}" --interval 0.5 \
    --log-level info

# ---------------------------------------------------------------------------
section "enrollment over mTLS: AK under the RSA EK and under the ECC EK"
fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[rsa]}" --name h-rsa
assert_contains "$T_OUT" "enrolled h-rsa: rsa EK certificate verified" \
    "h-rsa: the RSA EK certificate was verified"
fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[ecc]}" --name h-ecc
assert_contains "$T_OUT" "enrolled h-ecc: ecc EK certificate verified" \
    "h-ecc: the ECC EK certificate was verified"
assert_eq "$(host_names v "$ADMIN")" "h-ecc,h-rsa" "both hosts are stored"
api v "$ADMIN" GET /api/v1/hosts/h-rsa
assert_eq "$(jget "$API_OUT" .agent_url)" "${AGENT_URL[rsa]}" "h-rsa: stored with its https URL"
RSA_AK=$(jget "$API_OUT" .ak_name)
api v "$ADMIN" GET /api/v1/hosts/h-ecc
assert_eq "$(jget "$API_OUT" .ek_alg)" "ecc" "h-ecc: ek_alg ecc"
api v "$ADMIN" GET "/api/v1/events?kind=enrolled"
assert_match "$API_OUT" "h-ecc enrolled from https://.*ecc EK certificate verified, AK [0-9a-f]+ activated" \
    "an \"enrolled\" event tells what was verified"

section "after policy apply + assign: trusted"
printf 'enroll test\n' >"$FILES/a"
measure rsa "$FILES/a"
measure ecc "$FILES/a"
policy_for "$T_DIR/policy.json" "$FILES/a"
fleet_expect 0 v "$ADMIN" policy apply base "$T_DIR/policy.json"
fleet_expect 0 v "$ADMIN" policy assign h-rsa base
fleet_expect 0 v "$ADMIN" policy assign h-ecc base
fleet_expect 0 v "$ADMIN" host h-rsa
assert_contains "$T_OUT" "verdict: trusted" "h-rsa (AK under the RSA EK) is trusted"
fleet_expect 0 v "$ADMIN" host h-ecc
assert_contains "$T_OUT" "verdict: trusted" "h-ecc (AK under the ECC EK) is trusted"

# ---------------------------------------------------------------------------
section "refused: an EK certificate from a CA the verifier does not trust"
# A verifier that trusts only the fleet CA as "TPM vendor": the rig's EK
# certificates do not chain to it.
DB_U=$T_DIR/untrusted.db
token_create ADMIN_U "$DB_U" admin admin
start_verifier u "$DB_U" "${VERIFIER_TLS_ARGS[@]}" --tpm-ca "$FLEET/ca.pem" --interval 0.5
refused "untrusted EK CA" "EK certificate refused" u "$ADMIN_U" \
    --agent "${AGENT_URL[third]}" --name h-third
assert_contains "$T_OUT" "HTTP 422" "untrusted EK CA: HTTP 422 (checked and rejected)"
refused "untrusted EK CA (ECC EK)" "EK certificate refused" u "$ADMIN_U" \
    --agent "${AGENT_URL[ecc]}" --name h-ecc
assert_eq "$(host_names u "$ADMIN_U")" "" "the untrusting verifier stores no host at all"
stop_verifier u

# ---------------------------------------------------------------------------
section "refused: in-transit attacks on identity and activation (tamper proxy, mTLS upstream)"
# The proxy talks mTLS to agent "third" with the verifier's client certificate
# and plain HTTP to a verifier in --insecure-dev mode.
DB_P=$T_DIR/proxy.db
token_create ADMIN_P "$DB_P" admin admin
start_verifier p "$DB_P" --insecure-dev "${RIG_TPM_CA_ARGS[@]}" --interval 0.5 --log-level info
assert_contains "$(verifier_log p)" "*** --insecure-dev" "the --insecure-dev verifier warns loudly"

start_proxy swap "${AGENT_URL[third]}" --tls swap-ak "${AGENT_URL[ecc]}"
refused "AK swapped with another TPM's" "credential activation failed" p "$ADMIN_P" \
    --agent "${PROXY_URL[swap]}" --name h-third
assert_contains "$(proxy_log swap)" "replaced ak_pub with the AK of ${AGENT_URL[ecc]}" \
    "swap-ak: the proxy did swap the AK"
assert_contains "$(proxy_log swap)" "POST /v1/activate" "swap-ak: activation went through the proxy"
stop_proxy swap

start_proxy secret "${AGENT_URL[third]}" --tls bad-secret
refused "wrong activation secret" "wrong secret" p "$ADMIN_P" \
    --agent "${PROXY_URL[secret]}" --name h-third
assert_contains "$(proxy_log secret)" "flipped the last byte of the 32-byte activation secret" \
    "bad-secret: the proxy did flip the secret"
stop_proxy secret

start_proxy unres "${AGENT_URL[third]}" --tls unrestricted-ak
refused "AK without the restricted attribute" "AK refused: .*restricted" p "$ADMIN_P" \
    --agent "${PROXY_URL[unres]}" --name h-third
assert_contains "$(proxy_log unres)" "cleared the restricted bit of the AK" \
    "unrestricted-ak: the proxy did clear the bit"
stop_proxy unres

# A resettable PCR (16 debug, 23 application) could be reset and replayed
# with a clean log: an identity declaring one is never enrolled.
for pcr in 16 23; do
    start_proxy "pcr$pcr" "${AGENT_URL[third]}" --tls identity-pcr "$pcr"
    refused "identity declaring PCR $pcr" "PCR $pcr" p "$ADMIN_P" \
        --agent "${PROXY_URL[pcr$pcr]}" --name h-third
    assert_contains "$(proxy_log "pcr$pcr")" "declared PCR $pcr instead of" \
        "identity-pcr $pcr: the proxy did change the identity"
    stop_proxy "pcr$pcr"
done

# The same path with nothing changed enrolls: the refusals above are the attacks'.
start_proxy pass "${AGENT_URL[third]}" --tls pass
fleet_expect 0 p "$ADMIN_P" enroll --agent "${PROXY_URL[pass]}" --name h-third
assert_eq "$(host_names p "$ADMIN_P")" "h-third" "through an honest proxy: enrolled"
stop_proxy pass
stop_verifier p

# ---------------------------------------------------------------------------
section "one host per TPM, one TPM per host"
fleet_expect 2 v "$ADMIN" enroll --agent "${AGENT_URL[third]}" --name h-rsa
assert_contains "$T_OUT" "HTTP 409" "h-rsa with another TPM: HTTP 409"
assert_contains "$T_OUT" "delete it first" "h-rsa with another TPM: \"delete it first\""
api v "$ADMIN" GET /api/v1/hosts/h-rsa
assert_eq "$(jget "$API_OUT" .ak_name)" "$RSA_AK" "h-rsa still has its own AK"
assert_eq "$(jget "$API_OUT" .agent_url)" "${AGENT_URL[rsa]}" "h-rsa still has its own URL"

fleet_expect 2 v "$ADMIN" enroll --agent "${AGENT_URL[rsa]}" --name h-rsa-again
assert_contains "$T_OUT" "HTTP 409" "the same TPM under a second name: HTTP 409"
assert_contains "$T_OUT" "already enrolled as host h-rsa" \
    "the same TPM under a second name: the message names h-rsa"
assert_eq "$(host_names v "$ADMIN")" "h-ecc,h-rsa" "no host h-rsa-again"

section "re-enrolling the same agent is fine"
fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[rsa]}" --name h-rsa
api v "$ADMIN" GET /api/v1/hosts/h-rsa
assert_eq "$(jget "$API_OUT" .ak_name)" "$RSA_AK" "re-enrolled h-rsa: the same AK"
assert_eq "$(jget "$API_OUT" .policy)" "base" "re-enrolled h-rsa keeps its policy"
fleet_expect 0 v "$ADMIN" host h-rsa
api v "$ADMIN" GET "/api/v1/events?host=h-rsa&kind=enrolled"
assert_contains "$API_OUT" "(re-enrolled)" "the event says re-enrolled"

section "after DELETE the name can be enrolled with another TPM"
expect_api 200 "DELETE /api/v1/hosts/h-rsa" v "$ADMIN" DELETE /api/v1/hosts/h-rsa
expect_api 404 "GET the deleted host" v "$ADMIN" GET /api/v1/hosts/h-rsa
fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[third]}" --name h-rsa
api v "$ADMIN" GET /api/v1/hosts/h-rsa
NEW_AK=$(jget "$API_OUT" .ak_name)
if [[ -n $NEW_AK && $NEW_AK != "$RSA_AK" && $NEW_AK != null ]]; then
    pass "h-rsa now has the third TPM's AK"
else
    fail "h-rsa after re-enrollment: expected a new AK, got \"$NEW_AK\" (old $RSA_AK)"
fi
assert_eq "$(jget "$API_OUT" .agent_url)" "${AGENT_URL[third]}" "h-rsa now points at agent third"
# And the first TPM, free again, can enroll under a new name.
fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[rsa]}" --name h-rsa-new
assert_eq "$(host_names v "$ADMIN")" "h-ecc,h-rsa,h-rsa-new" "hosts after the moves"

section "bad enrollment requests"
fleet_expect 2 v "$ADMIN" enroll --agent "${AGENT_URL[ecc]}" --name "bad/name"
assert_contains "$T_OUT" "HTTP 400" "a bad host name: HTTP 400"
fleet_expect 2 v "$ADMIN" enroll --agent "http://127.0.0.1:${AGENT_PORT[ecc]}" --name h-plain
assert_match "$T_OUT" "HTTP 400.*https://" "plain http:// to an mTLS verifier: 400 asking for https"
fleet_expect 2 v "$ADMIN" enroll --agent "https://127.0.0.1:1" --name h-nobody
assert_match "$T_OUT" "HTTP 502.*unreachable" "an agent nobody runs: 502 unreachable"
assert_eq "$(host_names v "$ADMIN")" "h-ecc,h-rsa,h-rsa-new" "bad requests stored nothing"

section "shutdown"
stop_verifier v
stop_agent rsa
stop_agent ecc
stop_agent third
finish
