#!/usr/bin/env bash
# attest demo: one simulated TPM host with its own podman, its agent and a
# verifier, all over mTLS. The host is enrolled (EK certificate chain + TPM
# credential activation); containers are admitted at start by a prestart hook
# (an image not in policy is refused), their code and libraries measured while
# they run; a foreign binary run inside one container fails that container
# and only that one, which the verifier quarantines (paused, network cut) until
# an operator lifts it; a host file is tampered with and the verifier names it;
# the evidence is re-checked with tpm2_checkquote and evmctl; a reboot is
# followed without operator action. Nothing is mocked: swtpm, tpm2-tss,
# OpenSSL, GnuTLS, SQLite, podman, runc.
# Usage: demo/demo.sh BIN_DIR
set -euo pipefail

BIN=$(cd "${1:-build/bin}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
DEMO=$(mktemp -d /tmp/attest-demo.XXXXXX)
PIDS=()

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s|$DEMO|\$DEMO|g; s|$BIN/||g"; "$@"; }
fail() { printf '\ndemo FAILED: %s\n' "$*" >&2; exit 1; }
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    "$SRC/swtpm-setup/rig" down "$DEMO/rig" >/dev/null 2>&1 || true
    rm -rf "$DEMO"
}
trap cleanup EXIT
wait_file() {
    for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
    return 1
}
expect_exit() { # expect_exit CODE CMD...: run, show, check the exit code
    local want=$1 rc=0
    shift
    run "$@" || rc=$?
    [ "$rc" -eq "$want" ] || fail "expected exit $want, got $rc from: $*"
    echo "(exit $rc)"
}

bold "1. A simulated TPM host: swtpm with RSA and ECC EK certificates, and its own podman"
run "$SRC/swtpm-setup/rig" up "$DEMO/rig" --hosts 1 --podman
TCTI=$(cat "$DEMO/rig/host-1/tcti")

bold "2. A fleet CA for mTLS, certificates for the agent, the verifier and the operator"
run "$SRC/certs/fleet-ca" init "$DEMO/fleet" > /dev/null
for k in agent verifier client; do
    "$SRC/certs/fleet-ca" issue "$DEMO/fleet" --name "demo-$k" --kind "$k" > /dev/null
done
ls "$DEMO/fleet"

bold "3. The agent on that TPM, serving mTLS (EK from the TCG template, ECC P-256 AK under it)"
"$BIN/attest-agent" --tcti "$TCTI" --state-dir "$DEMO/agent" --listen 127.0.0.1:0 \
    --agent-id demo-host-1 --engine "$(cat "$DEMO/rig/host-1/engine")" --integrity-interval 5 \
    --tls-cert "$DEMO/fleet/demo-agent.pem" \
    --tls-key "$DEMO/fleet/demo-agent.key" --tls-client-ca "$DEMO/fleet/ca.pem" \
    > "$DEMO/agent.out" 2> "$DEMO/agent.err" &
PIDS+=($!)
wait_file "$DEMO/agent/http.port" || { cat "$DEMO/agent.err"; fail "agent did not start"; }
AGENT="https://127.0.0.1:$(cat "$DEMO/agent/http.port")"
cat "$DEMO/agent.out"

bold "4. The verifier: an admin token, then the daemon (SQLite store, trusts the rig's TPM CA)"
TOKEN=$("$BIN/attest-verifier" token create --db "$DEMO/verifier.db" --name demo --role admin)
echo "admin token: ${TOKEN:0:12}... (stored only as its sha256)"
"$BIN/attest-verifier" --db "$DEMO/verifier.db" --listen 127.0.0.1:0 --interval 1 \
    --api-cert "$DEMO/fleet/demo-verifier.pem" --api-key "$DEMO/fleet/demo-verifier.key" \
    --fleet-ca "$DEMO/fleet/ca.pem" --client-cert "$DEMO/fleet/demo-verifier.pem" \
    --client-key "$DEMO/fleet/demo-verifier.key" \
    --tpm-ca "$DEMO/rig/ca/root.pem" --tpm-ca "$DEMO/rig/ca/intermediate.pem" \
    > "$DEMO/verifier.out" 2> "$DEMO/verifier.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q 'API port' "$DEMO/verifier.out" 2>/dev/null && break; sleep 0.1; done
grep -q 'API port' "$DEMO/verifier.out" || { cat "$DEMO/verifier.err"; fail "verifier did not start"; }
cat "$DEMO/verifier.out"
export ATTEST_VERIFIER="https://127.0.0.1:$(grep -o 'API port [0-9]*' "$DEMO/verifier.out" | cut -d' ' -f3)"
export ATTEST_TOKEN=$TOKEN ATTEST_CA=$DEMO/fleet/ca.pem

bold "5. Enroll: EK certificate chain, AK attributes, MakeCredential -> TPM ActivateCredential"
expect_exit 0 "$BIN/attest-verify" enroll --agent "$AGENT" --name demo-host-1

bold "6. Measure an application's files into PCR 15 (IMA ima-ng log + TPM extend)"
mkdir -p "$DEMO/app/bin" "$DEMO/app/etc"
cp /bin/ls "$DEMO/app/bin/server"
printf 'listen = 0.0.0.0:8080\nmode = production\n' > "$DEMO/app/etc/server.conf"
printf '#!/bin/sh\nexec /app/bin/server "$@"\n' > "$DEMO/app/bin/start.sh"
run "$BIN/attest-agent" measure --state-dir "$DEMO/agent" \
    "$DEMO/app/bin/server" "$DEMO/app/bin/start.sh" "$DEMO/app/etc/server.conf"

bold "7. A policy with those files' reference values, applied and assigned through the API"
"$BIN/attest-verify" policy generate --name demo-app "$DEMO/app" > "$DEMO/policy.json"
run "$BIN/attest-verify" policy apply demo-app "$DEMO/policy.json"
run "$BIN/attest-verify" policy assign demo-host-1 demo-app

bold "8. Attest now: fresh nonce, TPM quote, signature, log replay, policy"
expect_exit 0 "$BIN/attest-verify" host demo-host-1

bold "9. Anyone can check the same kind of evidence with standard tools (direct mode, mTLS)"
"$BIN/attest-verify" --ca "$DEMO/fleet/ca.pem" --cert "$DEMO/fleet/demo-client.pem" \
    --key "$DEMO/fleet/demo-client.key" host --agent "$AGENT" --policy "$DEMO/policy.json" \
    --known-aks "$DEMO/known_aks" --save-evidence "$DEMO/evidence" > /dev/null ||
    fail "direct-mode attestation failed"
( cd "$DEMO/evidence" &&
  tpm2_checkquote -u ak.pub.pem -m quote.msg -s quote.sig -f quote.pcrs \
      -q "$(cat nonce.hex)" -g sha256 > /dev/null &&
  echo "tpm2_checkquote: quote signature, nonce and PCR digest OK" &&
  evmctl ima_measurement --pcrs sha256,pcrs.evmctl log.bin ) || fail "independent check failed"

bold "10. Containers: a prestart hook measures each image's rootfs and asks the agent to admit it"
PODMAN=$DEMO/rig/host-1/podman
"$SRC/swtpm-setup/rig" hook "$DEMO/rig" 1 --path "$BIN/attest-hook" \
    --arg --state-dir --arg "$DEMO/agent" --arg --storage --arg "$DEMO/rig/host-1/podman.d/root" \
    > /dev/null
container_policy() { # container_policy IMAGE NAME: a container policy from the image's files
    local id cid
    id=$("$PODMAN" image inspect --format '{{.Id}}' "$1")
    cid=$("$PODMAN" create --network none "$1" /bin/true)
    mkdir -p "$DEMO/rootfs-$2"
    "$PODMAN" export "$cid" | tar -x -C "$DEMO/rootfs-$2"
    "$PODMAN" rm "$cid" > /dev/null
    "$BIN/attest-verify" policy generate --rootfs "$DEMO/rootfs-$2" --image-id "sha256:$id" \
        --name "$2"
}
container_policy localhost/attest-dyn:1 dyn > "$DEMO/p-dyn.json"
container_policy localhost/attest-static:1 static > "$DEMO/p-static.json"
jq -s '{version: 1, name: "demo", reference_values: .[0].reference_values,
        containers: [.[1].containers[0], .[2].containers[0]]}' \
    "$DEMO/policy.json" "$DEMO/p-dyn.json" "$DEMO/p-static.json" > "$DEMO/policy-all.json"
run "$BIN/attest-verify" policy apply demo-app "$DEMO/policy-all.json"
echo "(host files, plus container policies for attest-dyn:1 and attest-static:1)"
sleep 2 # the verifier hands the policy to the agent with its next evidence request
echo '$ podman run -d localhost/attest-dyn:1 /bin/sleep 600'
A=$("$PODMAN" run -d localhost/attest-dyn:1 /bin/sleep 600) || fail "allowed image refused"
echo "container A ${A:0:12} (attest-dyn:1) admitted and started"
echo '$ podman run -d localhost/attest-static:1 /bin/busybox sleep 600'
B=$("$PODMAN" run -d localhost/attest-static:1 /bin/busybox sleep 600) ||
    fail "allowed image refused"
echo "container B ${B:0:12} (attest-static:1) admitted and started"
expect_exit 126 "$PODMAN" run --rm localhost/attest-dyn:2 /bin/sh -c 'echo should-not-run'
echo "(attest-dyn:2 is not in the policy: the hook refused it, it never ran)"
sleep 2
run "$BIN/attest-verify" containers

bold "11. A foreign binary is run inside container A"
mkdir -p "$DEMO/foreign/opt"
cp /bin/busybox "$DEMO/foreign/opt/sleep" && printf 'x' >> "$DEMO/foreign/opt/sleep"
"$PODMAN" cp "$DEMO/foreign/opt" "$A:/"
run "$PODMAN" exec -d "$A" /opt/sleep 600
for _ in $(seq 50); do
    "$BIN/attest-verify" container "${A:0:12}" > /dev/null 2>&1 || break
    sleep 0.2
done
expect_exit 1 "$BIN/attest-verify" container "${A:0:12}"
expect_exit 0 "$BIN/attest-verify" container "${B:0:12}"
echo "(only container A failed; B and the host stay trusted)"

bold "12. The verifier orders A quarantined (signed order); the agent pauses it and cuts its network"
for _ in $(seq 50); do
    "$BIN/attest-verify" --json containers --host demo-host-1 |
        jq -e --arg id "$A" '.containers[] | select(.id == $id and .verdict == "quarantined")' \
        > /dev/null && break
    sleep 0.2
done
run "$BIN/attest-verify" host demo-host-1 || true
run "$BIN/attest-verify" quarantine list
echo "\$ podman ps -a --format '{{.ID}} {{.Status}} {{.Image}}'"
"$PODMAN" ps -a --format '{{.ID}} {{.Status}} {{.Image}}'
[ "$("$PODMAN" inspect --format '{{.State.Status}}' "$A")" = paused ] || fail "A is not paused"
[ "$("$PODMAN" inspect --format '{{.State.Status}}' "$B")" = running ] || fail "B was touched"
APID=$("$PODMAN" inspect --format '{{.State.Pid}}' "$A")
echo "\$ nsenter --net=/proc/$APID/ns/net nft list tables"
nsenter --net="/proc/$APID/ns/net" nft list tables | grep attest_quarantine ||
    fail "A's network namespace is not cut"
expect_exit 126 "$PODMAN" run --rm localhost/attest-dyn:1 /bin/sh -c 'echo should-not-run'
echo "(its image is refused at start while the quarantine stands)"

bold "13. An operator investigates and lifts the quarantine (audited)"
ORDER=$("$BIN/attest-verify" --json quarantine list --open | jq -r '.orders[0].id')
run "$BIN/attest-verify" quarantine lift "$ORDER" --reason "foreign binary removed after review"
for _ in $(seq 50); do
    [ "$("$PODMAN" inspect --format '{{.State.Status}}' "$A")" = running ] && break
    sleep 0.2
done
[ "$("$PODMAN" inspect --format '{{.State.Status}}' "$A")" = running ] || fail "A was not unpaused"
echo "container A ${A:0:12} runs again; its network namespace is open:"
nsenter --net="/proc/$APID/ns/net" nft list tables | grep -c attest_quarantine || true
run "$BIN/attest-verify" events --host demo-host-1 --kind quarantine-lift
"$PODMAN" rm -f -t 0 "$A" "$B" > /dev/null 2>&1

bold "14. Tamper: change the server's config; the agent measures it again"
printf 'listen = 0.0.0.0:8080\nmode = debug\nallow_remote_shell = yes\n' > "$DEMO/app/etc/server.conf"
run "$BIN/attest-agent" measure --state-dir "$DEMO/agent" "$DEMO/app/etc/server.conf"

bold "15. Attest again: untrusted, and the verifier names the changed file"
expect_exit 1 "$BIN/attest-verify" host demo-host-1

bold "16. The host reboots (TPM reset): the verifier follows it onto its new boot"
"$SRC/swtpm-setup/rig" stop "$DEMO/rig" 1 > /dev/null
"$SRC/swtpm-setup/rig" start "$DEMO/rig" 1 > /dev/null
sleep 1
expect_exit 0 "$BIN/attest-verify" host demo-host-1

bold "17. What the verifier recorded"
run "$BIN/attest-verify" events --host demo-host-1
run "$BIN/attest-verify" hosts

bold "Demo complete: enrolled -> containers admitted, foreign binary caught in one -> quarantined (paused, network cut), the other untouched -> lifted by an operator -> host file tampered: untrusted -> rebooted: trusted, all real"
