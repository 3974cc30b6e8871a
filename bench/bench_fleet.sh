#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench_fleet.sh BIN_DIR [--quick] [--json FILE]
#
# Issue 6, figure 4, nothing mocked: one attest-verifier polls N real agents,
# each on its own swtpm (rig), over mTLS with connection reuse, every 2 s.
# After a warm-up it measures over a window:
#   fig4-rate     appraisals per second sustained, against N / interval (every
#                 host answered every round);
#   fig4-cpu      the verifier's own CPU time (utime + stime from
#                 /proc/PID/stat, i.e. getrusage of that process) per
#                 appraisal, TLS included, against the 200 us target;
#   fig4-hosts    hosts one verifier core can keep at a 2 s interval
#                 (2 s / CPU per appraisal), against 10,000;
#   fig4-latency  p50 / p99 of the agent request round trip (quote included)
#                 from the verifier's /metrics;
#   fig4-memory   the verifier's memory per enrolled host: RSS with N hosts
#                 polling minus RSS with N/2 polling, over N/2, against
#                 16 KiB (what one more host costs; connection kept alive
#                 included). The growth from no host to N, over N, which
#                 also carries one-off costs (TLS and SQLite caches, thread
#                 arenas), is printed beside it as information, and so is
#                 the heap in use per host (attest_heap_bytes, glibc's count
#                 of live allocations), which leaves out freed memory malloc
#                 keeps.
# N is 100 (8 with --quick); ATT_FLEET_N overrides. ATT_FLEET_PERF=FILE
# records a perf profile of the verifier over the window into FILE; ATT_FLEET_WRAP
# (e.g. "heaptrack -o FILE") runs the verifier under a profiler. Prints the table and
# appends JSON lines (bench/report format) to --json FILE. Tears everything
# down on exit.
set -u -o pipefail

usage() {
    printf 'usage: %s BIN_DIR [--quick] [--json FILE]\n' "${0##*/}" >&2
    exit 2
}

(($# >= 1)) || usage
BIN=$1
shift
QUICK=0
JSON=""
while (($#)); do
    case $1 in
    --quick) QUICK=1; shift ;;
    --json) (($# >= 2)) || usage; JSON=$2; shift 2 ;;
    *) usage ;;
    esac
done
BIN=$(cd "$BIN" && pwd) || usage
SRC=$(cd "$(dirname "$0")/.." && pwd)
N=${ATT_FLEET_N:-$((QUICK ? 8 : 100))}
WINDOW=$((QUICK ? 10 : 60))
INTERVAL=2
W=$(mktemp -d /tmp/att-fleet.XXXXXX)
APIDS=()
VPID=""

cleanup() {
    local p
    [[ -n $VPID ]] && kill "$VPID" 2>/dev/null
    for p in "${APIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    "$SRC/swtpm-setup/rig" down "$W/rig" >/dev/null 2>&1
    rm -rf "$W"
}
trap cleanup EXIT
die() { printf 'bench_fleet: %s\n' "$*" >&2; exit 1; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

printf 'bench_fleet: %d hosts (rig up takes a while)\n' "$N"
"$SRC/swtpm-setup/rig" up "$W/rig" --hosts "$N" >"$W/rig-up.txt" 2>&1 ||
    die "rig up --hosts $N failed: $(tail -3 "$W/rig-up.txt")"
"$SRC/certs/fleet-ca" init "$W/fleet" >/dev/null || die "fleet-ca init failed"
for k in agent verifier; do
    "$SRC/certs/fleet-ca" issue "$W/fleet" --name "bench-$k" --kind "$k" >/dev/null ||
        die "fleet-ca issue $k failed"
done

# Agents: 2 at a time (each makes its EK and AK on first start).
for ((i = 1; i <= N; i++)); do
    mkdir -p "$W/a$i"
    "$BIN/attest-agent" --tcti "$(cat "$W/rig/host-$i/tcti")" --state-dir "$W/a$i" \
        --listen 127.0.0.1:0 --agent-id "h$i" --tls-cert "$W/fleet/bench-agent.pem" \
        --tls-key "$W/fleet/bench-agent.key" --tls-client-ca "$W/fleet/ca.pem" \
        >"$W/a$i.out" 2>"$W/a$i.err" &
    APIDS+=($!)
    if ((i % 2 == 0 || i == N)); then
        for ((k = i - 1; k <= i; k++)); do
            ((k >= 1)) || continue
            for _ in $(seq 600); do [[ -s $W/a$k/http.port ]] && break; sleep 0.1; done
            [[ -s $W/a$k/http.port ]] || die "agent $k did not start: $(tail -2 "$W/a$k.err")"
        done
    fi
done

TOKEN=$("$BIN/attest-verifier" token create --db "$W/v.db" --name bench --role admin) ||
    die "token create failed"
${ATT_FLEET_WRAP:-} "$BIN/attest-verifier" --db "$W/v.db" --listen 127.0.0.1:0 --interval "$INTERVAL" \
    --max-inflight 32 --api-cert "$W/fleet/bench-verifier.pem" \
    --api-key "$W/fleet/bench-verifier.key" --fleet-ca "$W/fleet/ca.pem" \
    --client-cert "$W/fleet/bench-verifier.pem" --client-key "$W/fleet/bench-verifier.key" \
    --tpm-ca "$W/rig/ca/root.pem" --tpm-ca "$W/rig/ca/intermediate.pem" \
    >"$W/v.out" 2>"$W/v.err" &
VPID=$!
for _ in $(seq 300); do grep -q 'API port' "$W/v.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o 'API port [0-9]*' "$W/v.out" | cut -d' ' -f3)
[[ -n $PORT ]] || die "verifier did not start: $(tail -3 "$W/v.err")"
# The verifier's own pid: under ATT_FLEET_WRAP, $! is the wrapper's, and RSS,
# CPU and perf must be the verifier's.
VPID=$(pgrep -n -f -- "attest-verifier --db $W/v.db") || die "no verifier process for $W/v.db"
export ATTEST_VERIFIER=https://127.0.0.1:$PORT ATTEST_TOKEN=$TOKEN ATTEST_CA=$W/fleet/ca.pem
sleep 1
RSS0=$(rss_kib "$VPID")
printf '{"version": 1, "name": "bench", "reference_values": {}}\n' >"$W/policy.json"
"$BIN/attest-verify" policy apply bench "$W/policy.json" >/dev/null || die "policy apply failed"
enroll_range() { # enroll_range FIRST LAST
    local i
    for ((i = $1; i <= $2; i++)); do
        "$BIN/attest-verify" enroll --agent "https://127.0.0.1:$(cat "$W/a$i/http.port")" \
            --name "h$i" >/dev/null 2>"$W/enroll.err" ||
            die "enroll h$i failed: $(cat "$W/enroll.err")"
        "$BIN/attest-verify" policy assign "h$i" bench >/dev/null || die "assign h$i failed"
    done
}
HALF=$((N / 2))
enroll_range 1 "$HALF"
metric() { # metric NAME: a value from /metrics
    curl -s --cacert "$W/fleet/ca.pem" -H "Authorization: Bearer $TOKEN" \
        "$ATTEST_VERIFIER/metrics" | awk -v k="$1" '$1 == k { print $2; exit }'
}
sleep $((QUICK ? 6 : 12)) # half the fleet polling, connections open
RSSH=$(rss_kib "$VPID")
HEAPH=$(metric attest_heap_bytes)
enroll_range $((HALF + 1)) "$N"

sleep $((QUICK ? 6 : 12)) # warm-up: every host enrolled, connections open
T0=$(date +%s.%N)
C0=$(cpu_ticks "$VPID")
A0=$(metric 'attest_attestations_total{verdict="trusted"}')
U0=$(metric 'attest_attestations_total{verdict="untrusted"}')
if [[ -n ${ATT_FLEET_PERF:-} ]]; then
    perf record -q -F 999 -g -p "$VPID" -o "$ATT_FLEET_PERF" -- sleep "$WINDOW" 2>/dev/null ||
        sleep "$WINDOW"
else
    sleep "$WINDOW"
fi
T1=$(date +%s.%N)
C1=$(cpu_ticks "$VPID")
A1=$(metric 'attest_attestations_total{verdict="trusted"}')
U1=$(metric 'attest_attestations_total{verdict="untrusted"}')
RSS1=$(rss_kib "$VPID")
HEAP1=$(metric attest_heap_bytes)
P50=$(metric 'attest_request_seconds{quantile="0.5"}')
P99=$(metric 'attest_request_seconds{quantile="0.99"}')
HZ=$(getconf CLK_TCK)

read -r RATE CPU_US HOSTS KIB LIMIT_RATE < <(awk -v t0="$T0" -v t1="$T1" -v c0="$C0" -v c1="$C1" \
    -v a0="$A0" -v a1="$A1" -v u0="$U0" -v u1="$U1" -v hz="$HZ" -v rh="$RSSH" -v r1="$RSS1" \
    -v n="$N" -v h="$HALF" -v iv="$INTERVAL" 'BEGIN {
        dt = t1 - t0; apps = (a1 - a0) + (u1 - u0); cpu = (c1 - c0) / hz
        us = apps > 0 ? cpu / apps * 1e6 : 0
        printf "%.1f %.1f %.0f %.1f %.1f\n", apps / dt, us, (us > 0 ? iv / (us / 1e6) : 0),
            (r1 - rh) / (n - h), n / iv }')
KIB0=$(awk -v r0="$RSS0" -v r1="$RSS1" -v n="$N" 'BEGIN { printf "%.1f", (r1 - r0) / n }')
UNTRUSTED=$(awk -v u0="$U0" -v u1="$U1" 'BEGIN { print u1 - u0 }')

rows=()
row() { # row FIGURE UNIT OURS LIMIT RATIO TARGET PASS(true|false|null)
    rows+=("$(printf '%-34s | %12s | %12s | %7s | %-8s | %s (%s)' "$1" "$3" "$4" "$5" "$6" \
        "$([[ $7 == true ]] && echo pass || ([[ $7 == false ]] && echo miss || echo info))" "$2")")
    [[ -n $JSON ]] && jq -cn --arg fig "$1" --arg unit "$2" --argjson ours "$3" \
        --argjson limit "$4" --argjson ratio "$5" --arg target "$6" --argjson pass "$7" \
        --argjson n "$N" --argjson window "$WINDOW" --argjson untrusted "$UNTRUSTED" \
        '{bench: "fleet", figure: $fig, unit: $unit, ours: $ours, limit: $limit, ratio: $ratio,
          target: $target, pass: $pass, hosts: $n, window_s: $window,
          untrusted_in_window: $untrusted}' >>"$JSON"
}
r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b == 0 ? 0 : a / b) }'; }
row "fig4 appraisals/s, $N hosts @2s" "1/s" "$RATE" "$LIMIT_RATE" "$(r "$RATE" "$LIMIT_RATE")" \
    ">=0.95" "$(awk -v a="$RATE" -v b="$LIMIT_RATE" 'BEGIN { print (a >= 0.95 * b) ? "true" : "false" }')"
row "fig4 verifier CPU per appraisal" "us" "$CPU_US" 200 "$(r 200 "$CPU_US")" ">=1.00" \
    "$(awk -v a="$CPU_US" 'BEGIN { print (a > 0 && a <= 200) ? "true" : "false" }')"
row "fig4 hosts per verifier core @2s" "hosts" "$HOSTS" 10000 "$(r "$HOSTS" 10000)" ">=1.00" \
    "$(awk -v a="$HOSTS" 'BEGIN { print (a >= 10000) ? "true" : "false" }')"
row "fig4 request p50 (quote incl.)" "ms" "$(awk -v x="$P50" 'BEGIN { printf "%.1f", x * 1000 }')" \
    0 0 "info" null
row "fig4 request p99 (quote incl.)" "ms" "$(awk -v x="$P99" 'BEGIN { printf "%.1f", x * 1000 }')" \
    0 0 "info" null
row "fig4 verifier RSS per host (N/2->N)" "KiB" "$KIB" 16 "$(r 16 "$KIB")" ">=1.00" \
    "$(awk -v a="$KIB" 'BEGIN { print (a <= 16) ? "true" : "false" }')"
row "fig4 verifier RSS growth 0->N / N" "KiB" "$KIB0" 0 0 "info" null
if [[ -n $HEAPH && -n $HEAP1 ]]; then
    HEAPKIB=$(awk -v a="$HEAPH" -v b="$HEAP1" -v n="$N" -v h="$HALF" \
        'BEGIN { printf "%.1f", (b - a) / 1024 / (n - h) }')
    row "fig4 verifier heap in use per host (N/2->N)" "KiB" "$HEAPKIB" 16 "$(r 16 "$HEAPKIB")" \
        "info" null
else
    printf 'bench_fleet: no attest_heap_bytes (an allocator that does not count): no heap row\n' >&2
fi
printf '%-34s | %12s | %12s | %7s | %-8s | %s\n' figure ours limit ratio target result
printf '%s\n' "${rows[@]}"
printf 'window %ss, %s untrusted in it (should be 0), verifier RSS %s -> %s (%s hosts) -> %s KiB\n' \
    "$WINDOW" "$UNTRUSTED" "$RSS0" "$RSSH" "$HALF" "$RSS1"
