#!/usr/bin/env bash
# attest demo (issue 2 scope): one simulated TPM host, its agent, files
# measured into PCR 15, attested trusted; one file tampered with, measured
# again, attested untrusted with the file named. Every step is real: swtpm,
# tpm2-tss, OpenSSL signature checks, and the evidence re-checked with
# tpm2_checkquote and evmctl.
# Usage: demo/demo.sh BIN_DIR
set -euo pipefail

BIN=$(cd "${1:-build/bin}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
DEMO=$(mktemp -d /tmp/attest-demo.XXXXXX)
AGENT_PID=

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { printf '\ndemo FAILED: %s\n' "$*" >&2; exit 1; }
cleanup() {
    [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
    "$SRC/swtpm-setup/rig" down "$DEMO/rig" >/dev/null 2>&1 || true
    rm -rf "$DEMO"
}
trap cleanup EXIT

bold "1. A simulated TPM host (swtpm with RSA+ECC EK certificates from a rig-local CA)"
"$SRC/swtpm-setup/rig" up "$DEMO/rig" --hosts 1
TCTI=$(cat "$DEMO/rig/host-1/tcti")

bold "2. The agent on that TPM (EK from its TCG template, ECC P-256 AK under it)"
"$BIN/attest-agent" --tcti "$TCTI" --state-dir "$DEMO/agent" --listen 127.0.0.1:0 --insecure-dev \
    --agent-id demo-host-1 > "$DEMO/agent.out" 2> "$DEMO/agent.err" &
AGENT_PID=$!
for _ in $(seq 50); do [ -s "$DEMO/agent/http.port" ] && break; sleep 0.2; done
[ -s "$DEMO/agent/http.port" ] || { cat "$DEMO/agent.err"; fail "agent did not start"; }
URL="http://127.0.0.1:$(cat "$DEMO/agent/http.port")"
cat "$DEMO/agent.out"

bold "3. Measure an application's files into PCR 15 (IMA ima-ng log + TPM extend)"
mkdir -p "$DEMO/app/bin" "$DEMO/app/etc"
cp /bin/ls "$DEMO/app/bin/server"
printf 'listen = 0.0.0.0:8080\nmode = production\n' > "$DEMO/app/etc/server.conf"
printf '#!/bin/sh\nexec /app/bin/server "$@"\n' > "$DEMO/app/bin/start.sh"
"$BIN/attest-agent" measure --state-dir "$DEMO/agent" \
    "$DEMO/app/bin/server" "$DEMO/app/bin/start.sh" "$DEMO/app/etc/server.conf"

bold "4. A policy with the reference values of those files as they are now"
"$BIN/attest-verify" policy generate --name demo-app "$DEMO/app" > "$DEMO/policy.json"
cat "$DEMO/policy.json"

bold "5. Attest: fresh nonce, TPM quote, signature, log replay, policy"
set +e
"$BIN/attest-verify" host --agent "$URL" --policy "$DEMO/policy.json" \
    --known-aks "$DEMO/known_aks" --save-evidence "$DEMO/evidence"
rc=$?
set -e
[ $rc -eq 0 ] || fail "honest host was not trusted (exit $rc)"
echo "(exit $rc: trusted)"

bold "6. Anyone can check the same evidence with standard tools"
( cd "$DEMO/evidence" &&
  tpm2_checkquote -u ak.pub.pem -m quote.msg -s quote.sig -f quote.pcrs \
      -q "$(cat nonce.hex)" -g sha256 > /dev/null &&
  echo "tpm2_checkquote: quote signature, nonce and PCR digest OK" &&
  evmctl ima_measurement --pcrs sha256,pcrs.evmctl log.bin ) || fail "independent check failed"

bold "7. Tamper: change the server's config, the agent measures it again"
printf 'listen = 0.0.0.0:8080\nmode = debug\nallow_remote_shell = yes\n' > "$DEMO/app/etc/server.conf"
"$BIN/attest-agent" measure --state-dir "$DEMO/agent" "$DEMO/app/etc/server.conf"

bold "8. Attest again: the verifier names the changed file"
set +e
"$BIN/attest-verify" host --agent "$URL" --policy "$DEMO/policy.json" \
    --known-aks "$DEMO/known_aks"
rc=$?
set -e
[ $rc -eq 1 ] || fail "tampered host was not reported untrusted (exit $rc)"
echo "(exit $rc: untrusted)"

bold "Demo complete: trusted -> tampered -> untrusted, all checks real"
