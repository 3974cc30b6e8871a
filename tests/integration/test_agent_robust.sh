#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# attest-agent and attest-verify under bad input and crashes:
# - refused PCRs (0, 10, 16, 23, 24) and bad flags: exit 2, a message naming
#   the problem, no agent left behind;
# - one agent per state dir (flock);
# - HTTP API: garbage -> 400 CBOR error, > 2 MiB -> 413, unknown path
#   -> 404, wrong method -> 405, log_offset past the end -> 400 naming it; the
#   agent keeps serving trusted attestations afterwards;
# - crash consistency (DESIGN §4): SIGKILL between log append and PCR extend
#   (ATT_FAULT_INJECT=kill-after-append), and SIGKILL when idle: after a
#   restart the host is trusted and the interrupted entry is in the log;
# - --config INI with every option; an unknown key is refused naming its line;
# - attest-verify: missing --policy, malformed policy, unknown policy key,
#   unreachable agent, non-http URL: exit 2 with a clear message.

. "$(dirname "$0")/lib.sh"

FILES=$T_DIR/files
mkdir -p "$FILES"
AGENT=$ATT_BIN/attest-agent

# no_agent_on DIR: no attest-agent process runs with state dir DIR and DIR
# has no http.port (so nothing ever started serving).
no_agent_on() {
    local dir=$1 desc=$2 pids
    pids=$(pgrep -f -- "attest-agent .*--state-dir $dir( |\$)" || true)
    if [[ -z $pids && ! -e $dir/http.port ]]; then
        pass "$desc: no agent left running"
    else
        fail "$desc: an agent is still there" "pids: ${pids:-none}" \
            "http.port: $(cat "$dir/http.port" 2>/dev/null || echo none)"
    fi
}

# http_expect STATUS DESC CURL_ARGS...: curl must answer STATUS; the body
# is left in T_OUT.
http_expect() {
    local want=$1 desc=$2 got
    shift 2
    T_OUT=$T_DIR/out/http-$((T_STEP + 1)).bin
    got=$(curl -sS --max-time 20 -o "$T_OUT" -w '%{http_code}' "$@" 2>"$T_OUT.err")
    if [[ $got == "$want" ]]; then
        pass "$desc: HTTP $want"
        return 0
    fi
    fail "$desc: expected HTTP $want, got ${got:-nothing}" "curl $*"
    show_file "$T_OUT"
    show_file "$T_OUT.err"
    return 1
}

# evidence_request HEX_LOG_OFFSET > FILE: a CBOR evidence request, written by
# hand (RFC 8949 deterministic form): {"nonce": h'00'*32, "pcr_mask":
# 0xffffff, "log_offset": N}, N given as its CBOR encoding in \x escapes.
evidence_request() {
    printf '\xa3\x65nonce\x58\x20'
    head -c 32 /dev/zero
    printf '\x68pcr_mask\x1a\x00\xff\xff\xff\x6alog_offset'
    printf '%b' "$1"
}

agent_alive() {
    local name=$1 desc=$2
    if kill -0 "${AGENT_PID[$name]}" 2>/dev/null &&
        [[ $(ps -o stat= -p "${AGENT_PID[$name]}" 2>/dev/null) != Z* ]]; then
        pass "$desc"
    else
        fail "$desc: agent $name (pid ${AGENT_PID[$name]}) is gone"
        show_file "$(agent_log "$name")"
    fi
}

start_rig 2
T1=$(rig_tcti 1)
T2=$(rig_tcti 2)
for i in 0 1 2 3; do
    printf 'robust file %d\n' "$i" >"$FILES/f$i"
done

# ---------------------------------------------------------------------------
section "refused PCRs"
for pcr in 16 23 10 0 24; do
    d=$T_DIR/agents/refused-$pcr
    expect_cmd 2 "attest-agent --pcr $pcr is refused" \
        "$AGENT" --tcti "$T1" --state-dir "$d" --listen 127.0.0.1:0 --pcr "$pcr"
    assert_match "$T_OUT" "PCR $pcr|pcr \"$pcr\"" "--pcr $pcr: the message names PCR $pcr"
    no_agent_on "$d" "--pcr $pcr"
done
# Why: anyone can reset 16 (and 23 from locality 0 on swtpm): an extend
# there, reset, and a clean replay would leave no trace.
Z=0000000000000000000000000000000000000000000000000000000000000000
expect_cmd 0 "tpm2_pcrextend 16" tpm2_pcrextend -T "$T1" "16:sha256=$(printf x | sha256sum | cut -d' ' -f1)"
expect_cmd 0 "tpm2_pcrread 16 after the extend" tpm2_pcrread -T "$T1" sha256:16
assert_not_contains "$T_OUT" "$Z" "PCR 16 holds the extend"
expect_cmd 0 "tpm2_pcrreset 16: a reset anyone may issue" tpm2_pcrreset -T "$T1" 16
expect_cmd 0 "tpm2_pcrread 16 after the reset" tpm2_pcrread -T "$T1" sha256:16
assert_contains "$T_OUT" "0x$Z" "PCR 16 is back to zero: nothing measured there could be trusted"

section "bad agent flags"
d=$T_DIR/agents/badflags
expect_cmd 2 "attest-agent --pcr abc" "$AGENT" --tcti "$T1" --state-dir "$d" --pcr abc
assert_contains "$T_OUT" 'pcr "abc"' "--pcr abc: the message names the value"
expect_cmd 2 "attest-agent --ak-alg dsa" "$AGENT" --tcti "$T1" --state-dir "$d" --ak-alg dsa
assert_contains "$T_OUT" 'ak_alg "dsa"' "--ak-alg dsa: the message names the value"
expect_cmd 2 "attest-agent --ek-alg dsa" "$AGENT" --tcti "$T1" --state-dir "$d" --ek-alg dsa
assert_contains "$T_OUT" 'ek_alg "dsa"' "--ek-alg dsa: the message names the value"
expect_cmd 2 "attest-agent --no-such-option" "$AGENT" --tcti "$T1" --state-dir "$d" \
    --no-such-option
assert_contains "$T_OUT" "no-such-option" "unknown option: the message names it"
assert_contains "$T_OUT" "usage:" "unknown option: usage is printed"
expect_cmd 2 "attest-agent bogus-command" "$AGENT" bogus-command
assert_contains "$T_OUT" "unknown command" "unknown command is named"
expect_cmd 2 "attest-agent measure without paths" "$AGENT" measure --state-dir "$d"
assert_contains "$T_OUT" "at least one PATH" "measure without paths says so"
mkdir -p "$d"
expect_cmd 2 "attest-agent measure with no agent running" "$AGENT" measure --state-dir "$d" \
    "$FILES/f0"
assert_contains "$T_OUT" "cannot reach the agent" "measure: cannot reach the agent"
no_agent_on "$d" "bad flags"

# ---------------------------------------------------------------------------
section "one agent per state dir"
start_agent m "$T1" --agent-id robust-m
M_PORT=${AGENT_PORT[m]}
measure m "$FILES/f0"
expect_cmd 1 "a second agent on the same state dir is refused" \
    "$AGENT" --tcti "$T1" --state-dir "${AGENT_DIR[m]}" --listen 127.0.0.1:0 --insecure-dev
assert_contains "$T_OUT" "another attest-agent is running" "it says another agent is running"
agent_alive m "the first agent still runs"
assert_eq "$(tr -d '\n' <"${AGENT_DIR[m]}/http.port")" "$M_PORT" "http.port is unchanged"

# ---------------------------------------------------------------------------
section "HTTP API: bad requests"
U=${AGENT_URL[m]}
http_expect 400 "garbage POST /v1/evidence" -H 'Content-Type: application/cbor' \
    --data-binary 'this is not CBOR at all' "$U/v1/evidence"
assert_contains "$T_OUT" "error" "garbage: the body is a CBOR error"
assert_eq "$(head -c1 "$T_OUT" | od -An -tx1 | tr -d ' ')" "a1" "garbage: the error is a 1-entry CBOR map"

head -c 2200000 /dev/zero >"$T_DIR/big.bin"
http_expect 413 "2.2 MB POST /v1/activate (cap 2 MiB)" -H 'Content-Type: application/cbor' \
    --data-binary "@$T_DIR/big.bin" "$U/v1/activate"
# evidence requests may carry the vulnerability feed: 1 MiB + 24 MiB + 64 KiB
head -c 26300000 /dev/zero >"$T_DIR/huge.bin"
http_expect 413 "26.3 MB POST /v1/evidence (cap with the feed)" -H 'Content-Type: application/cbor' \
    --data-binary "@$T_DIR/huge.bin" "$U/v1/evidence"
rm -f "$T_DIR/huge.bin"
assert_contains "$T_OUT" "error" "413: the body is a CBOR error"
http_expect 404 "GET /v1/nothing-here" "$U/v1/nothing-here"
assert_contains "$T_OUT" "error" "404: the body is a CBOR error"
http_expect 405 "GET /v1/evidence" "$U/v1/evidence"
assert_contains "$T_OUT" "error" "405: the body is a CBOR error"
http_expect 405 "DELETE /v1/identity" -X DELETE "$U/v1/identity"
http_expect 405 "POST /v1/identity" --data-binary 'x' "$U/v1/identity"

# A well-formed request first, so the next 400 is about log_offset alone.
evidence_request '\x00' >"$T_DIR/req0.cbor"
evidence_request '\x19\x03\xe8' >"$T_DIR/req1000.cbor"
http_expect 200 "a hand-made evidence request with log_offset 0" \
    -H 'Content-Type: application/cbor' --data-binary "@$T_DIR/req0.cbor" "$U/v1/evidence"
http_expect 400 "log_offset 1000 beyond the end of the log" \
    -H 'Content-Type: application/cbor' --data-binary "@$T_DIR/req1000.cbor" "$U/v1/evidence"
assert_contains "$T_OUT" "log_offset" "the 400 names log_offset"
http_expect 200 "GET /v1/health" "$U/v1/health"

agent_alive m "the agent survived the bad requests"
policy_for "$T_DIR/policy0.json" "$FILES/f0"
verify_host 0 "$U" "$T_DIR/policy0.json"
assert_contains "$T_OUT" "verdict: trusted" "still a trusted attestation after bad requests"

# ---------------------------------------------------------------------------
section "OCI prestart hook without a container engine"
STATE='{"ociVersion":"1.0.2","id":"abc","status":"creating","pid":1,"bundle":"/nonexistent"}'
expect_cmd 1 "hook with no agent: refused (fail closed)" bash -c \
    "printf '%s' '$STATE' | '$AGENT' hook --state-dir '$T_DIR/no-agent'"
assert_contains "$T_OUT" "refusing the start (fail closed)" "it says it fails closed"
expect_cmd 0 "hook with no agent and --fail-open: admitted, with a warning" bash -c \
    "printf '%s' '$STATE' | '$AGENT' hook --state-dir '$T_DIR/no-agent' --fail-open"
assert_contains "$T_OUT" "starting anyway (--fail-open)" "it says it fails open"
expect_cmd 1 "hook with malformed OCI state: refused" bash -c \
    "printf 'not json' | '$AGENT' hook --state-dir '${AGENT_DIR[m]}'"
assert_contains "$T_OUT" "malformed OCI state" "the refusal names the malformed state"
expect_cmd 1 "hook with a missing bundle: refused" bash -c \
    "printf '%s' '$STATE' | '$AGENT' hook --state-dir '${AGENT_DIR[m]}'"
assert_contains "$T_OUT" "refuse container abc" "the refusal names the container"
expect_cmd 0 "the agent still serves after refusing" "$AGENT" measure --state-dir \
    "${AGENT_DIR[m]}" "$FILES/f0"
HOOK=$ATT_BIN/attest-hook # the same client, libc only (what the rig installs)
expect_cmd 1 "attest-hook with no agent: refused (fail closed)" bash -c \
    "printf '%s' '$STATE' | '$HOOK' --state-dir '$T_DIR/no-agent'"
assert_contains "$T_OUT" "refusing the start (fail closed)" "it says it fails closed"
expect_cmd 0 "attest-hook with no agent and --fail-open: admitted" bash -c \
    "printf '%s' '$STATE' | '$HOOK' --state-dir '$T_DIR/no-agent' --fail-open"
expect_cmd 1 "attest-hook with malformed OCI state: refused by the agent" bash -c \
    "printf 'not json' | '$HOOK' --state-dir '${AGENT_DIR[m]}'"
assert_contains "$T_OUT" "malformed OCI state" "the refusal names the malformed state"
expect_cmd 2 "attest-hook without --state-dir" "$HOOK"
expect_cmd 2 "attest-hook with an unknown option" "$HOOK" --state-dir "$T_DIR" --bogus

section "crash between log append and PCR extend"
stop_agent m
ATT_FAULT_INJECT=kill-after-append start_agent m "$T1" --agent-id robust-m
assert_fails "measure while the agent kills itself after the append" \
    "$AGENT" measure --state-dir "${AGENT_DIR[m]}" "$FILES/f1"
assert_not_contains "$T_OUT" "measured sha256" "the measure client does not report success"
reap_agent m
assert_eq "$T_REAP_RC" 137 "the agent died of SIGKILL"
start_agent m "$T1" --agent-id robust-m
assert_contains "$(agent_log m)" "was logged but not extended" \
    "the restarted agent reports finishing the interrupted extend"
policy_for "$T_DIR/policy01.json" "$FILES/f0" "$FILES/f1"
verify_host 0 "${AGENT_URL[m]}" "$T_DIR/policy01.json" --save-evidence "$T_DIR/ev-crash"
assert_contains "$T_OUT" "verdict: trusted" "trusted after the crash"
assert_contains "$T_OUT" "2 log entries checked" "the log has both entries"
assert_contains "$T_DIR/ev-crash/log.ascii" "host:$FILES/f1" \
    "the log includes the interrupted entry"
assert_not_contains "$T_OUT" "agent-log-inconsistent" "the agent reports its log consistent"
measure m "$FILES/f1"
assert_contains "$T_OUT" "unchanged" "measuring the interrupted file again is a no-op"

section "SIGKILL of an idle agent"
kill_agent m
start_agent m "$T1" --agent-id robust-m
verify_host 0 "${AGENT_URL[m]}" "$T_DIR/policy01.json"
assert_contains "$T_OUT" "verdict: trusted" "trusted after SIGKILL and restart"
measure m "$FILES/f2"
policy_for "$T_DIR/policy012.json" "$FILES/f0" "$FILES/f1" "$FILES/f2"
verify_host 0 "${AGENT_URL[m]}" "$T_DIR/policy012.json"
assert_contains "$T_OUT" "3 log entries checked" "measuring goes on after the restart"
assert_not_contains "$(agent_log m)" "inconsistent" "the agent never reported its log inconsistent"
stop_agent m

# ---------------------------------------------------------------------------
section "--config INI file"
d=$T_DIR/agents/cfg-listen
assert_fails "--listen that is not ADDR:PORT" "$AGENT" --tcti "$T2" --state-dir "$d" \
    --listen nonsense
assert_contains "$T_OUT" "--listen" "--listen nonsense: the message names --listen"
no_agent_on "$d" "--listen nonsense"

CFG=$T_DIR/agent.ini
cat >"$CFG" <<EOF
; every option the agent has
[agent]
tcti = $T2
state_dir = $T_DIR/agents/cfg
listen = 127.0.0.1:0
pcr = 14
ak_alg = rsa
ek_alg = ecc
agent_id = robust-config
insecure_dev = true
log_level = info
EOF
start_agent_args cfg "$T_DIR/agents/cfg" --config "$CFG"
assert_contains "$T_DIR/agents/cfg.out" "PCR 14" "config: measurement PCR 14 is used"
measure cfg "$FILES/f3"
policy_for "$T_DIR/policy3.json" "$FILES/f3"
verify_host 0 "${AGENT_URL[cfg]}" "$T_DIR/policy3.json" --save-evidence "$T_DIR/ev-cfg"
assert_contains "$T_OUT" "host robust-config (" "config: agent_id is reported"
assert_contains "$T_OUT" "measurement PCR 14" "config: pcr = 14"
assert_contains "$T_OUT" "verdict: trusted" "config: trusted"
expect_cmd 0 "config: ak.pub.pem is readable" openssl pkey -pubin -in "$T_DIR/ev-cfg/ak.pub.pem" \
    -noout -text
assert_contains "$T_OUT" "Public-Key: (2048 bit)" "config: ak_alg = rsa"
assert_contains "$T_DIR/ev-cfg/identity.cbor" "ek_algcecc" "config: ek_alg = ecc"
assert_contains "$(agent_log cfg)" "info:" "config: log_level = info"
stop_agent cfg

cat >"$T_DIR/bad-key.ini" <<EOF
[agent]
tcti = $T2
no_such_key = 1
EOF
expect_cmd 2 "config with an unknown key" "$AGENT" --config "$T_DIR/bad-key.ini"
assert_contains "$T_OUT" "$T_DIR/bad-key.ini:3:" "the message names the file and line 3"
assert_contains "$T_OUT" "no_such_key" "the message names the key"
cat >"$T_DIR/bad-section.ini" <<EOF
[agnet]
tcti = $T2
EOF
expect_cmd 2 "config with an unknown section" "$AGENT" --config "$T_DIR/bad-section.ini"
assert_contains "$T_OUT" "agnet" "the message names the section"
cat >"$T_DIR/bad-pcr.ini" <<EOF
[agent]
tcti = $T2
state_dir = $T_DIR/agents/cfg-bad
pcr = 16
EOF
expect_cmd 2 "config with pcr = 16" "$AGENT" --config "$T_DIR/bad-pcr.ini"
assert_contains "$T_OUT" "PCR 16" "config pcr = 16: refused naming PCR 16"
expect_cmd 2 "a config file that does not exist" "$AGENT" --config "$T_DIR/none.ini"
assert_contains "$T_OUT" "none.ini" "the missing config file is named"

# ---------------------------------------------------------------------------
section "attest-verify bad inputs"
start_agent m "$T1" --agent-id robust-m
U=${AGENT_URL[m]}
verify_expect 2 host --agent "$U" --known-aks "$KNOWN_AKS"
assert_contains "$T_OUT" "--policy" "missing --policy is named"
printf '{"version": 1, "reference_values": {' >"$T_DIR/broken.json"
verify_host 2 "$U" "$T_DIR/broken.json"
assert_match "$T_OUT" "broken.json: .*(JSON|json).*line" "malformed JSON: named with its line"
printf '{"version": 1, "reference_values": {}, "surprise": true}\n' >"$T_DIR/extra.json"
verify_host 2 "$U" "$T_DIR/extra.json"
assert_contains "$T_OUT" "surprise" "an unknown policy key is named"
printf '{"version": 1, "reference_values": {"/bin/x": ["sha256:xyz"]}}\n' >"$T_DIR/baddigest.json"
verify_host 2 "$U" "$T_DIR/baddigest.json"
assert_contains "$T_OUT" "/bin/x" "a malformed reference value is named by its path"
verify_host 2 "$U" "$T_DIR/no-such-policy.json"
assert_contains "$T_OUT" "no-such-policy.json" "a missing policy file is named"
stop_agent m
# Now nothing listens on that port any more.
verify_host 2 "$U" "$T_DIR/policy012.json"
assert_contains "$T_OUT" "unreachable" "a stopped agent is reported unreachable"
verify_host 2 "ftp://127.0.0.1:$M_PORT" "$T_DIR/policy012.json"
assert_contains "$T_OUT" "http://" "a non-http URL is refused, saying what is expected"
verify_host 2 "127.0.0.1:$M_PORT" "$T_DIR/policy012.json"
assert_contains "$T_OUT" "http://" "a URL without a scheme is refused"


# ---------------------------------------------------------------------------
section "a local unprivileged user cannot use agent.sock"
start_agent m "$T1" --agent-id robust-m
SOCK=${AGENT_DIR[m]}/agent.sock
assert_eq "$(stat -c %a "$SOCK")" "600" "agent.sock has mode 0600"
# Open the way to the socket (dirs 0711, socket 0666), so that only the
# agent's SO_PEERCRED check stands between user nobody and the agent.
chmod 0711 "$T_DIR" "$T_DIR/agents" "${AGENT_DIR[m]}"
chmod 0666 "$SOCK"
cp "$FILES/f0" /tmp/att-robust-nobody.$$ && chmod 0644 /tmp/att-robust-nobody.$$
n0=$(strings "${AGENT_DIR[m]}/measurements.bin" | grep -c '^host:' || true)
expect_cmd 1 "user nobody: measure through agent.sock is refused" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$AGENT" measure \
    --state-dir "${AGENT_DIR[m]}" /tmp/att-robust-nobody.$$
assert_not_contains "$T_OUT" "measured sha256" "nobody's measure did not happen"
assert_contains "$T_OUT" "permission denied" "the client says the agent refused it"
STATE2='{"ociVersion":"1.0.2","id":"nobody0","status":"creating","pid":1,"bundle":"/tmp"}'
expect_cmd 1 "user nobody: answering as the prestart hook is refused" bash -c \
    "printf '%s' '$STATE2' | setpriv --reuid=65534 --regid=65534 --clear-groups \
     '$ATT_BIN/attest-hook' --state-dir '${AGENT_DIR[m]}'"
assert_contains "$T_OUT" "permission denied" "the hook says the agent refused it (not killed by SIGPIPE)"
assert_contains "$(agent_log m)" "uid 65534" "the agent names the refused peer's uid"
assert_eq "$(strings "${AGENT_DIR[m]}/measurements.bin" | grep -c '^host:' || true)" "$n0" \
    "the log did not grow"
rm -f /tmp/att-robust-nobody.$$
chmod 0700 "$T_DIR" "$T_DIR/agents" "${AGENT_DIR[m]}"
chmod 0600 "$SOCK"
measure m "$FILES/f0"

# ---------------------------------------------------------------------------
section "a PCR extended outside the log"
# Last: the host's PCR 15 no longer matches any log it will ever have.
verify_host 0 "${AGENT_URL[m]}" "$T_DIR/policy012.json"
assert_contains "$T_OUT" "verdict: trusted" "trusted before"
expect_cmd 0 "tpm2_pcrextend 15 behind the agent's back" tpm2_pcrextend -T "$T1" \
    "15:sha256=$(printf 'outside the log' | sha256sum | cut -d' ' -f1)"
verify_host 1 "${AGENT_URL[m]}" "$T_DIR/policy012.json"
assert_contains "$T_OUT" "FAIL log-replay-mismatch" "the verifier: the log does not replay to the PCR"
stop_agent m
start_agent m "$T1" --agent-id robust-m
assert_contains "$(agent_log m)" "measurement log inconsistent" "the restarted agent finds its log inconsistent"
verify_host 1 "${AGENT_URL[m]}" "$T_DIR/policy012.json"
assert_contains "$T_OUT" "FAIL agent-log-inconsistent" "and says so in its evidence"
stop_agent m

finish
