#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The verifier's dashboard API (proto/openapi.yaml) over HTTPS with curl:
# - roles: viewer reads, operator also attests, admin also enrolls, deletes,
#   writes policies and assigns them; 401 without a token or with a bad one,
#   403 for too small a role;
# - bad input: malformed JSON 400, a body over 1 MiB 413, unknown host or
#   policy 404, bad ?limit/?after/?before 400, wrong method 405, an invalid
#   policy (unknown key, bad digest) 400 and not stored; every error body is
#   JSON with an "error" string;
# - /metrics has attest_hosts and attest_attestations_total; events page with
#   ?after & ?limit, verdicts with ?before;
# - one store, one verifier: a second verifier on the same SQLite file
#   refuses to start and says why while the first keeps working; token create
#   while the daemon runs is refused with a clear message.

. "$(dirname "$0")/lib.sh"

FILES=$T_DIR/files
mkdir -p "$FILES"
DB=$T_DIR/verifier.db

command -v jq >/dev/null 2>&1 || die "jq is needed to read the dashboard API's JSON"

# roles DESC METHOD PATH VIEWER OPERATOR ADMIN [BODY]: the status each role
# gets; without a token and with a wrong one, 401.
roles() {
    local desc=$1 method=$2 path=$3 sv=$4 so=$5 sa=$6
    shift 6
    expect_api 401 "$desc without a token" v "" "$method" "$path" "$@"
    expect_api 401 "$desc with a bad token" v "att_0000000000000000000000000000000000000000000000" \
        "$method" "$path" "$@"
    expect_api "$sv" "$desc as viewer" v "$VIEWER" "$method" "$path" "$@"
    if [[ $sv == 403 ]]; then
        assert_contains "$API_OUT" "role" "$desc as viewer: the error names the role"
    fi
    expect_api "$so" "$desc as operator" v "$OPERATOR" "$method" "$path" "$@"
    expect_api "$sa" "$desc as admin" v "$ADMIN" "$method" "$path" "$@"
}

# ids FILE KEY: the ids of the objects in array KEY of a JSON answer, one line.
ids() {
    jq -r --arg k "$2" '[.[$k][].id] | join(" ")' "$1" 2>/dev/null
}

section "setup: 2 TPMs, mTLS agents, tokens, a verifier"
start_rig 2
fleet_setup
start_agent_tls a1 "$(rig_tcti 1)" --agent-id api-1
start_agent_tls a2 "$(rig_tcti 2)" --agent-id api-2
printf 'api test\n' >"$FILES/a"
measure a1 "$FILES/a"
measure a2 "$FILES/a"
policy_for "$T_DIR/policy.json" "$FILES/a"
token_create VIEWER "$DB" viewer viewer
token_create OPERATOR "$DB" operator operator
token_create ADMIN "$DB" admin admin
start_verifier v "$DB" "${VERIFIER_TLS_ARGS[@]}" "${RIG_TPM_CA_ARGS[@]}" --interval 0.3
fleet_expect 0 v "$ADMIN" enroll --agent "${AGENT_URL[a1]}" --name h1
fleet_expect 0 v "$ADMIN" policy apply base "$T_DIR/policy.json"
fleet_expect 0 v "$ADMIN" policy assign h1 base
POLICY_JSON=$(jq -c . "$T_DIR/policy.json")

# ---------------------------------------------------------------------------
section "health needs no token"
expect_api 200 "GET /api/v1/health without a token" v "" GET /api/v1/health
assert_eq "$(jget "$API_OUT" .status)" "ok" "health says ok"

section "roles: viewer reads"
roles "GET /metrics" GET /metrics 200 200 200
roles "GET /api/v1/hosts" GET /api/v1/hosts 200 200 200
roles "GET /api/v1/hosts/h1" GET /api/v1/hosts/h1 200 200 200
roles "GET /api/v1/hosts/h1/verdicts" GET /api/v1/hosts/h1/verdicts 200 200 200
roles "GET /api/v1/verdicts" GET /api/v1/verdicts 200 200 200
roles "GET /api/v1/events" GET /api/v1/events 200 200 200
roles "GET /api/v1/policies" GET /api/v1/policies 200 200 200
roles "GET /api/v1/policies/base" GET /api/v1/policies/base 200 200 200

section "roles: operator also attests"
roles "POST /api/v1/hosts/h1/attest" POST /api/v1/hosts/h1/attest 403 200 200
assert_eq "$(jget "$API_OUT" .verdict)" "trusted" "attest now (admin): trusted"
expect_api 200 "attest now again (operator)" v "$OPERATOR" POST /api/v1/hosts/h1/attest
assert_eq "$(jget "$API_OUT" .verdict)" "trusted" "attest now (operator): trusted"

section "roles: admin also enrolls, assigns, writes policies and deletes"
ENROLL2=$(jq -cn --arg u "${AGENT_URL[a2]}" '{name: "h2", agent_url: $u}')
roles "POST /api/v1/hosts (enroll h2)" POST /api/v1/hosts 403 403 201 "$ENROLL2"
assert_eq "$(jget "$API_OUT" .name)" "h2" "enrollment answers with the new host"
roles "PUT /api/v1/hosts/h2/policy" PUT /api/v1/hosts/h2/policy 403 403 200 '{"policy": "base"}'
assert_eq "$(jget "$API_OUT" .policy)" "base" "h2 has policy base"
roles "POST /api/v1/policies (create p2)" POST /api/v1/policies 403 403 201 \
    "{\"name\": \"p2\", \"policy\": $POLICY_JSON}"
roles "PUT /api/v1/policies/p2" PUT /api/v1/policies/p2 403 403 200 "$POLICY_JSON"
expect_api 409 "POST an existing policy name" v "$ADMIN" POST /api/v1/policies \
    "{\"name\": \"p2\", \"policy\": $POLICY_JSON}"
roles "DELETE /api/v1/hosts/h2" DELETE /api/v1/hosts/h2 403 403 200
expect_api 404 "h2 is gone" v "$VIEWER" GET /api/v1/hosts/h2
api v "$ADMIN" GET "/api/v1/events?host=h2&kind=deleted"
assert_eq "$(jq '.events | length' "$API_OUT")" "1" "a \"deleted\" event for h2"
api v "$ADMIN" GET /api/v1/hosts/h1
assert_eq "$(jget "$API_OUT" .name)" "h1" "h1 is untouched by all of that"
# Authorization schemes other than Bearer are no token at all.
AUTH_OUT=$T_DIR/out/basic.json
ST=$(curl -sS --cacert "$FLEET/ca.pem" -o "$AUTH_OUT" -w '%{http_code}' -u "admin:$ADMIN" \
    "${VERIFIER_URL[v]}/api/v1/hosts")
assert_eq "$ST" 401 "Basic authentication with the token as password: 401"

# ---------------------------------------------------------------------------
section "malformed bodies: 400 with a message"
expect_api 400 "malformed JSON (policy)" v "$ADMIN" POST /api/v1/policies '{"name": "x", '
assert_contains "$API_OUT" "malformed JSON" "the error says malformed JSON"
expect_api 400 "malformed JSON (enroll)" v "$ADMIN" POST /api/v1/hosts '{name: h3}'
expect_api 400 "empty body (enroll)" v "$ADMIN" POST /api/v1/hosts ''
expect_api 400 "a JSON array, not an object" v "$ADMIN" POST /api/v1/policies '[1, 2]'
expect_api 400 "enroll without agent_url" v "$ADMIN" POST /api/v1/hosts '{"name": "h3"}'
assert_contains "$API_OUT" "agent_url" "the error names agent_url"
expect_api 400 "policy assign with a number" v "$ADMIN" PUT /api/v1/hosts/h1/policy '{"policy": 7}'
expect_api 400 "a duplicate key" v "$ADMIN" PUT /api/v1/hosts/h1/policy \
    '{"policy": "base", "policy": "p2"}'
api v "$ADMIN" GET /api/v1/hosts/h1
assert_eq "$(jget "$API_OUT" .policy)" "base" "h1 still has policy base"

section "a body over 1 MiB: 413"
BIG=$T_DIR/big.json
{
    printf '{"name": "big", "policy": {"version": 1, "reference_values": {"/x": ["'
    head -c $((1024 * 1024 + 100)) /dev/zero | tr '\0' 'a'
    printf '"]}}}'
} >"$BIG"
expect_api 413 "POST /api/v1/policies with $(stat -c %s "$BIG") bytes" v "$ADMIN" POST \
    /api/v1/policies "@$BIG"
expect_api 404 "the big policy was not stored" v "$ADMIN" GET /api/v1/policies/big
expect_api 200 "the verifier still answers after the 413" v "$VIEWER" GET /api/v1/hosts

section "unknown host or policy: 404"
expect_api 404 "GET an unknown host" v "$VIEWER" GET /api/v1/hosts/nosuch
assert_contains "$API_OUT" "nosuch" "the error names the host"
expect_api 404 "attest an unknown host" v "$OPERATOR" POST /api/v1/hosts/nosuch/attest
expect_api 404 "DELETE an unknown host" v "$ADMIN" DELETE /api/v1/hosts/nosuch
expect_api 404 "verdicts of an unknown host" v "$VIEWER" GET /api/v1/hosts/nosuch/verdicts
expect_api 404 "assign a policy to an unknown host" v "$ADMIN" PUT /api/v1/hosts/nosuch/policy \
    '{"policy": "base"}'
expect_api 404 "assign an unknown policy" v "$ADMIN" PUT /api/v1/hosts/h1/policy \
    '{"policy": "nosuch"}'
expect_api 404 "GET an unknown policy" v "$VIEWER" GET /api/v1/policies/nosuch
expect_api 404 "PUT (replace) an unknown policy" v "$ADMIN" PUT /api/v1/policies/nosuch \
    "$POLICY_JSON"
expect_api 404 "GET an unknown resource" v "$VIEWER" GET /api/v1/nothing
expect_api 404 "GET a host sub-resource that does not exist" v "$VIEWER" GET /api/v1/hosts/h1/nothing

section "bad query parameters: 400"
for q in limit=0 limit=abc limit=1001 limit=-1 "limit=" "limit=1e3"; do
    expect_api 400 "events?$q" v "$VIEWER" GET "/api/v1/events?$q"
done
assert_contains "$API_OUT" "limit" "the error names limit"
expect_api 400 "verdicts?limit=0" v "$VIEWER" GET "/api/v1/verdicts?limit=0"
expect_api 400 "hosts/h1/verdicts?limit=x" v "$VIEWER" GET "/api/v1/hosts/h1/verdicts?limit=x"
expect_api 400 "events?after=x" v "$VIEWER" GET "/api/v1/events?after=x"
expect_api 400 "events?after=-5" v "$VIEWER" GET "/api/v1/events?after=-5"
expect_api 400 "verdicts?before=x" v "$VIEWER" GET "/api/v1/verdicts?before=x"
expect_api 200 "events?limit=1000 is fine" v "$VIEWER" GET "/api/v1/events?limit=1000"

section "wrong method: 405"
expect_api 405 "PUT /api/v1/hosts" v "$ADMIN" PUT /api/v1/hosts '{}'
expect_api 405 "PATCH /api/v1/hosts/h1" v "$ADMIN" PATCH /api/v1/hosts/h1 '{}'
expect_api 405 "GET /api/v1/hosts/h1/attest" v "$ADMIN" GET /api/v1/hosts/h1/attest
expect_api 405 "GET /api/v1/hosts/h1/policy" v "$ADMIN" GET /api/v1/hosts/h1/policy
expect_api 405 "POST /api/v1/hosts/h1/verdicts" v "$ADMIN" POST /api/v1/hosts/h1/verdicts '{}'
expect_api 405 "DELETE /api/v1/policies" v "$ADMIN" DELETE /api/v1/policies
expect_api 405 "POST /api/v1/policies/base" v "$ADMIN" POST /api/v1/policies/base '{}'
expect_api 405 "POST /api/v1/events" v "$ADMIN" POST /api/v1/events '{}'
expect_api 405 "DELETE /api/v1/verdicts" v "$ADMIN" DELETE /api/v1/verdicts
expect_api 405 "POST /metrics" v "$ADMIN" POST /metrics '{}'
expect_api 405 "POST /api/v1/health" v "$ADMIN" POST /api/v1/health '{}'

section "invalid policies: 400, nothing stored"
api v "$ADMIN" GET /api/v1/policies/base
BASE_BEFORE=$(jq -cS . "$API_OUT")
expect_api 400 "a policy with an unknown key" v "$ADMIN" POST /api/v1/policies \
    '{"name": "bad1", "policy": {"version": 1, "reference_values": {}, "allow_everything": true}}'
assert_contains "$API_OUT" "allow_everything" "the error names the unknown key"
expect_api 400 "a policy with a bad digest" v "$ADMIN" POST /api/v1/policies \
    '{"name": "bad2", "policy": {"version": 1, "reference_values": {"/bin/sh": ["sha256:xyz"]}}}'
expect_api 400 "a policy with a short digest" v "$ADMIN" POST /api/v1/policies \
    '{"name": "bad3", "policy": {"version": 1, "reference_values": {"/bin/sh": ["sha256:00"]}}}'
expect_api 400 "a policy with a bad name" v "$ADMIN" POST /api/v1/policies \
    "{\"name\": \"../etc\", \"policy\": $POLICY_JSON}"
expect_api 400 "replacing base with a bad digest" v "$ADMIN" PUT /api/v1/policies/base \
    '{"version": 1, "reference_values": {"/bin/sh": ["sha256:xyz"]}}'
for n in bad1 bad2 bad3; do
    expect_api 404 "policy $n was not stored" v "$VIEWER" GET "/api/v1/policies/$n"
done
api v "$VIEWER" GET /api/v1/policies
assert_eq "$(jq -r '.policies | sort | join(",")' "$API_OUT")" "base,p2" "the policies are base and p2"
api v "$ADMIN" GET /api/v1/policies/base
assert_eq "$(jq -cS . "$API_OUT")" "$BASE_BEFORE" "policy base is unchanged"

# ---------------------------------------------------------------------------
section "/metrics"
expect_api 200 "GET /metrics" v "$VIEWER" GET /metrics
assert_match "$API_OUT" '^attest_hosts\{verdict="trusted"\} 1$' "attest_hosts{verdict=\"trusted\"} 1"
assert_match "$API_OUT" '^attest_hosts\{verdict="untrusted"\} 0$' "attest_hosts{verdict=\"untrusted\"} 0"
assert_match "$API_OUT" '^attest_attestations_total\{verdict="trusted"\} [1-9][0-9]*$' \
    "attest_attestations_total{verdict=\"trusted\"} counts"
assert_match "$API_OUT" '^# TYPE attest_attestations_total counter$' "attest_attestations_total is a counter"
# glibc counts the heap (bench_fleet reads it); ASan's allocator does not,
# and then the gauge is left out rather than reported as 0.
if grep -q __asan_init "$ATT_BIN/attest-verifier"; then
    assert_not_contains "$API_OUT" "attest_heap_bytes" "attest_heap_bytes left out under ASan"
else
    assert_match "$API_OUT" '^attest_heap_bytes [1-9][0-9]*$' \
        "attest_heap_bytes: the heap in use, above 0"
fi

section "paging: events ?after & ?limit"
api v "$VIEWER" GET "/api/v1/events?limit=1000"
ALL_EV=$(ids "$API_OUT" events)
N_EV=$(wc -w <<<"$ALL_EV")
if ((N_EV >= 5)); then
    pass "there are $N_EV events to page through"
else
    fail "expected at least 5 events, got $N_EV" "$ALL_EV"
fi
WALK=""
AFTER=0
for ((i = 0; i < 100; i++)); do
    api v "$VIEWER" GET "/api/v1/events?after=$AFTER&limit=2"
    PAGE=$(ids "$API_OUT" events)
    [[ -z $PAGE ]] && break
    if (($(wc -w <<<"$PAGE") > 2)); then
        fail "events?limit=2 returned more than 2: $PAGE"
        break
    fi
    WALK="$WALK $PAGE"
    AFTER=${PAGE##* }
done
WALK=${WALK# }
assert_eq "$(cut -d' ' -f1-"$N_EV" <<<"$WALK")" "$ALL_EV" \
    "pages of 2 with ?after walk every event, oldest first"
api v "$VIEWER" GET "/api/v1/events?kind=policy-created"
assert_eq "$(jq -r '[.events[].kind] | unique | join(",")' "$API_OUT")" "policy-created" \
    "?kind filters events"
api v "$VIEWER" GET "/api/v1/events?host=h1&limit=1000"
assert_eq "$(jq -r '[.events[].host] | unique | join(",")' "$API_OUT")" "h1" "?host filters events"

section "paging: verdicts ?before"
fleet_expect 0 v "$OPERATOR" host h1 # at least a few verdicts
fleet_expect 0 v "$OPERATOR" host h1
api v "$VIEWER" GET "/api/v1/hosts/h1/verdicts?limit=1000"
ALL_V=$(ids "$API_OUT" verdicts)
N_V=$(wc -w <<<"$ALL_V")
if ((N_V >= 4)); then
    pass "there are $N_V verdicts of h1 to page through"
else
    fail "expected at least 4 verdicts of h1, got $N_V"
fi
BEFORE=$((${ALL_V%% *} + 1))
WALK=""
for ((i = 0; i < 500; i++)); do
    api v "$VIEWER" GET "/api/v1/hosts/h1/verdicts?before=$BEFORE&limit=3"
    PAGE=$(ids "$API_OUT" verdicts)
    [[ -z $PAGE ]] && break
    WALK="$WALK $PAGE"
    BEFORE=${PAGE##* }
done
assert_eq "${WALK# }" "$ALL_V" "pages of 3 with ?before walk every verdict, newest first"
api v "$VIEWER" GET "/api/v1/verdicts?limit=2"
assert_eq "$(jq '.verdicts | length' "$API_OUT")" "2" "GET /api/v1/verdicts?limit=2: 2 verdicts"
if jq -e '.verdicts[0] | has("log_from") and has("log_to") and has("host")' "$API_OUT" \
    >/dev/null; then
    pass "a verdict object has host, log_from and log_to"
else
    fail "a verdict object lacks host/log_from/log_to"
    show_file "$API_OUT"
fi

# ---------------------------------------------------------------------------
section "one store, one verifier"
expect_cmd 1 "a second verifier on the same store" timeout -k 2 15 "$ATT_BIN/attest-verifier" \
    --db "$DB" --listen 127.0.0.1:0 "${VERIFIER_TLS_ARGS[@]}" "${RIG_TPM_CA_ARGS[@]}"
assert_contains "$T_OUT" "another attest-verifier is using" "the second verifier says why"
expect_api 200 "the first verifier still answers" v "$VIEWER" GET /api/v1/hosts
assert_eq "$(jq -r '[.hosts[].name] | join(",")' "$API_OUT")" "h1" "and still has h1"
fleet_expect 0 v "$OPERATOR" host h1
expect_cmd 1 "token create while the daemon runs" "$ATT_BIN/attest-verifier" token create \
    --db "$DB" --name late --role admin
assert_contains "$T_OUT" "in use" "token create says the store is in use"
assert_contains "$T_OUT" "stop the running verifier" "token create says what to do"
assert_not_contains "$T_OUT" "att_" "token create printed no token"
expect_api 200 "the first verifier still answers after that" v "$ADMIN" GET /api/v1/policies

section "shutdown"
stop_verifier v
expect_cmd 0 "token create once the daemon is gone" "$ATT_BIN/attest-verifier" token create \
    --db "$DB" --name late --role viewer
stop_agent a1
stop_agent a2
finish
