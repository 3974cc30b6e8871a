#!/usr/bin/env bash
# Container network restriction (issue 9) end to end: real podman + runc +
# swtpm + nftables, containers joined (--network ns:PATH) to network
# namespaces this test builds with ip netns + veth, servers in a peer
# namespace:
#   server namespace SRV: 10.77.0.1 (allowed) and 10.77.0.9 (not allowed) on
#     lo; busybox httpd on TCP 8080 and 8081 (all addresses); a DNS-shaped
#     UDP responder (perl-base) on 10.77.0.1:5300, 10.77.0.1:5301 and
#     10.77.0.9:5300 that logs every datagram it gets;
#   client namespace of container K: 10.77.K.2/24 on a veth whose peer
#     10.77.K.1/24 is in SRV; route 10.77.0.0/24 via 10.77.K.1. The container
#     runs busybox httpd on 9090 (ingress allowed) and 9091 (not).
# - allowed TCP and UDP destinations connect; a disallowed port, a
#   disallowed address and a disallowed UDP port are refused (egress rejects:
#   "Connection refused", or the UDP send fails); loopback is always open;
#   an allowed ingress port is reachable from SRV and another is dropped;
# - the agent's table is inet attest_<id> with chains egress and ingress and
#   counters egress_dropped and ingress_dropped; a netpolicy:<id> record;
#   the counters move in the agent's /metrics and in attest-verify container;
# - an agent restart leaves the table and the behaviour as they were, the
#   container trusted and no netdrift record;
# - a malformed network section is refused (CLI and API) naming the problem,
#   and nothing changes;
# - a policy change reaches the running container: a rule naming a DNS name
#   (an /etc/hosts line this test adds and removes) is applied, and when the
#   name's address changes the agent re-resolves it within resolve_interval
#   and applies the new address (a new netpolicy record), container trusted;
# - a rule deleted by hand inside the namespace is drift: the container
#   fails with network-not-in-force;
# - a container on the host's network under such a policy is refused at
#   start, and the host's tables are untouched;
# - a second container under an isolate-network quarantine reaches nothing;
#   after the lift its policy applies again (allowed works, disallowed is
#   still refused).
source "$(dirname "$0")/lib.sh"

for t in nft ip ss perl busybox curl; do
    command -v "$t" >/dev/null || die "$t is not installed (scripts/install-deps.sh)"
done
perl -MIO::Socket::INET -MIO::Select -e 1 2>/dev/null || die "perl lacks IO::Socket::INET"

NET_CHECK=2 # --net-check-interval of the agent

# ---------------------------------------------------------------------------
# the network namespaces (names unique per run) and what runs in them

N=$$
SRV=att-srv-$N
NS_A=att-a-$N
NS_B=att-b-$N
NET_NS=()   # namespaces this test made
NET_PIDS=() # servers this test started
NET_UP=0
_net_rc=0

net_cleanup() {
    local p ns
    hosts_unset
    ((NET_UP)) || return 0
    NET_UP=0
    # containers first: a namespace lives on while a process is in it
    if [[ -n ${PODMAN:-} && -x $PODMAN ]]; then
        timeout -k 5 60 "$PODMAN" rm -a -f -t 0 >/dev/null 2>&1 || true
    fi
    for p in "${NET_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    for ns in "${NET_NS[@]}"; do
        ip netns delete "$ns" 2>/dev/null || true # SRV's end takes the veth pairs with it
    done
    NET_PIDS=()
    NET_NS=()
}
# hosts_set ADDR / hosts_unset: the test's one /etc/hosts line for $DNS_NAME,
# rewritten in place (never renamed over: /etc/hosts may be a bind mount).
DNS_NAME=attest-np-$N.test
HOSTS_SET=0
hosts_unset() {
    local rest
    ((HOSTS_SET)) || return 0
    rest=$(grep -v " $DNS_NAME\$" /etc/hosts)
    printf '%s\n' "$rest" >/etc/hosts
    HOSTS_SET=0
}
hosts_set() {
    hosts_unset
    HOSTS_SET=1
    printf '%s %s\n' "$1" "$DNS_NAME" >>/etc/hosts
}
# lib.sh's EXIT trap stops agents, verifiers and the rig; the namespaces and
# servers go first, and _t_on_exit still sees the script's exit status.
trap '_net_rc=$?; net_cleanup; (exit $_net_rc); _t_on_exit' EXIT

# client_ns NS K: namespace NS with 10.77.K.2/24, joined to SRV by a veth pair.
client_ns() {
    local ns=$1 k=$2 vs=avs$2-$N vc=avc$2-$N
    ip netns add "$ns" || die "ip netns add $ns failed"
    NET_NS+=("$ns")
    ip link add "$vs" netns "$SRV" type veth peer name "$vc" netns "$ns" &&
        ip -n "$SRV" addr add "10.77.$k.1/24" dev "$vs" &&
        ip -n "$SRV" link set "$vs" up &&
        ip -n "$ns" link set lo up &&
        ip -n "$ns" addr add "10.77.$k.2/24" dev "$vc" &&
        ip -n "$ns" link set "$vc" up &&
        ip -n "$ns" route add 10.77.0.0/24 via "10.77.$k.1" ||
        die "cannot wire $ns to $SRV"
}

# The UDP responder: answers each datagram like a DNS server (an A query
# gets 192.0.2.N, N = 1 + the socket's index) so busybox nslookup can be the
# client, and logs "udp ADDR:PORT from PEER". One socket per address: a
# 0.0.0.0 socket would answer from the veth's address, and the client's
# connected UDP socket would ignore that reply.
cat >"$T_DIR/udpdns.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
my $log = shift @ARGV;
open my $L, '>>', $log or die "open $log: $!";
$L->autoflush(1);
my (@socks, %idx);
for my $ap (@ARGV) {
    my ($a, $p) = split /:/, $ap;
    my $s = IO::Socket::INET->new(Proto => 'udp', LocalAddr => $a, LocalPort => $p)
        or die "bind $ap: $!";
    $idx{fileno $s} = scalar @socks;
    push @socks, $s;
}
print $L "ready\n";
my $sel = IO::Select->new(@socks);
while (1) {
    for my $s ($sel->can_read) {
        my $peer = $s->recv(my $d, 1500);
        next unless defined $peer && length($d) >= 12;
        my ($pport, $paddr) = sockaddr_in($peer);
        printf $L "udp %s:%d from %s\n", $s->sockhost, $s->sockport, inet_ntoa($paddr);
        my $id = unpack('n', $d);
        my $i = 12;
        while ($i < length($d)) {
            my $l = ord(substr($d, $i, 1));
            $i++;
            last if $l == 0;
            $i += $l;
        }
        next if $i + 4 > length($d);
        my $qtype = unpack('n', substr($d, $i, 2));
        my $q = substr($d, 12, $i + 4 - 12);
        my ($an, $ans) = (0, '');
        if ($qtype == 1) {
            $an = 1;
            $ans = pack('nnnNn', 0xc00c, 1, 1, 60, 4) . pack('C4', 192, 0, 2, 1 + $idx{fileno $s});
        }
        $s->send(pack('nnnnnn', $id, 0x8180, 1, $an, 0, 0) . $q . $ans, 0, $peer);
    }
}
EOF
UDP_LOG=$T_DIR/out/udp-server.log

servers_ready() {
    grep -q '^ready$' "$UDP_LOG" 2>/dev/null &&
        ip netns exec "$SRV" ss -Hltn 'sport = :8080' | grep -q . &&
        ip netns exec "$SRV" ss -Hltn 'sport = :8081' | grep -q .
}

# ---------------------------------------------------------------------------
# probes; each prints what it ran and its output on failure

P_OUT=""
P_N=0
# probe CMD...: run CMD (15 s limit), output in P_OUT; returns its status.
probe() {
    P_N=$((P_N + 1))
    P_OUT=$T_DIR/out/probe-$P_N.txt
    printf '$ %s\n' "$*" >"$P_OUT.cmd"
    timeout -k 2 15 "$@" </dev/null >"$P_OUT" 2>&1
}

# _probe_result OK DESC WHAT RC: pass or fail with the probe's command and output.
_probe_result() {
    if (($1)); then
        pass "$2"
        return 0
    fi
    fail "$2: $3, exit $4" "command: $(cut -c3- "$P_OUT.cmd")"
    show_file "$P_OUT"
    return 1
}

# expect_tcp CID ADDR PORT open|refused|blocked DESC: "nc" in container CID.
# refused: the connect is refused (an egress reject: tcp reset); blocked:
# nc fails for any reason (a drop times out).
expect_tcp() {
    local cid=$1 addr=$2 port=$3 want=$4 desc=$5 rc ok=0
    probe "$PODMAN" exec "$cid" nc -w 3 "$addr" "$port"
    rc=$?
    case $want in
    open) ((rc == 0)) && ok=1 ;;
    refused) ((rc == 1)) && grep -q 'Connection refused' "$P_OUT" && ok=1 ;;
    blocked) ((rc == 1)) && grep -q '^nc: ' "$P_OUT" && ok=1 ;;
    esac
    _probe_result "$ok" "$desc: tcp $addr:$port $want" "expected $want" "$rc"
}

# udp_seen ADDR PORT FROM: datagrams the UDP server got on ADDR:PORT from FROM.
udp_seen() {
    grep -c "^udp $1:$2 from $3\$" "$UDP_LOG" 2>/dev/null || true
}

# expect_udp CID FROM ADDR PORT open|refused DESC: a DNS query from container
# CID (address FROM) to ADDR:PORT. open: the answer came back and the server
# logged the datagram; refused: no answer and the server never saw it.
expect_udp() {
    local cid=$1 from=$2 addr=$3 port=$4 want=$5 desc=$6 rc before after ok=0
    before=$(udp_seen "$addr" "$port" "$from")
    probe "$PODMAN" exec "$cid" nslookup -type=a probe "$addr:$port"
    rc=$?
    after=$(udp_seen "$addr" "$port" "$from")
    case $want in
    open)
        ((rc == 0 && after > before)) && grep -q '^Address: 192\.0\.2\.' "$P_OUT" && ok=1
        ;;
    refused)
        ((rc == 1 && after == before)) && ! grep -q '^Address: 192\.0\.2\.' "$P_OUT" && ok=1
        ;;
    esac
    _probe_result "$ok" "$desc: udp $addr:$port $want" \
        "expected $want (server saw $before then $after datagrams)" "$rc"
}

# expect_in ADDR PORT open|dropped DESC: connect from SRV to ADDR:PORT.
expect_in() {
    local addr=$1 port=$2 want=$3 desc=$4 rc ok=0
    probe ip netns exec "$SRV" busybox nc -w 2 "$addr" "$port"
    rc=$?
    case $want in
    open) ((rc == 0)) && ok=1 ;;
    dropped) ((rc == 1)) && grep -q 'timed out' "$P_OUT" && ok=1 ;;
    esac
    _probe_result "$ok" "$desc: ingress $addr:$port $want" "expected $want" "$rc"
}

# nft_in NS ARGS...: nft in namespace NS.
nft_in() {
    ip netns exec "$1" nft "${@:2}"
}

# ns_counter NS TABLE NAME: packets of a named counter ("" if none).
ns_counter() {
    nft_in "$1" list counter inet "$2" "$3" 2>/dev/null |
        sed -n 's/.*packets \([0-9][0-9]*\) bytes.*/\1/p' | head -n1
}

# metric ID egress|ingress: the agent's attest_agent_net_dropped_total ("" if none).
metric() {
    curl -s --max-time 5 "${AGENT_URL[a]}/metrics" 2>/dev/null |
        sed -n "s/^attest_agent_net_dropped_total{container=\"$1\",direction=\"$2\"} \([0-9][0-9]*\)\$/\1/p" |
        head -n1
}
metric_at_least() {
    local v
    v=$(metric "$1" "$2")
    [[ -n $v ]] && ((v >= $3))
}

# log_count PREFIX: measurement-log entries whose name starts with PREFIX.
log_count() {
    strings "$ADIR/measurements.bin" | grep -c "^$1" || true
}

# cli_network ID: attest-verify container ID shows the network counters line.
cli_network() {
    "$ATT_BIN/attest-verify" "${V[@]}" container "$1" 2>&1 |
        grep -qE "network: [1-9][0-9]* egress connections refused, [1-9][0-9]* ingress dropped"
}

# table_listing NS ID: the container's table without counter values or handles.
table_listing() {
    nft_in "$1" -s list table inet "attest_$2" 2>&1
}

# ---------------------------------------------------------------------------

section "rig with podman, agent with --net-check-interval $NET_CHECK, verifier polling every second"
start_podman_host
# start_podman_host's agent has no --net-check-interval: same state dir, same hook
stop_agent a
AGENT_ARGS=(--engine "$ENGINE" --integrity-interval 2 --log-level info
    --net-check-interval "$NET_CHECK")
start_agent a "$(rig_tcti 1)" "${AGENT_ARGS[@]}"
DB=$T_DIR/v.db
token_create OPS "$DB" ops operator
token_create ADM "$DB" adm admin
start_verifier v "$DB" --insecure-dev --interval 1 --log-level info --tpm-ca "$RIG/ca/root.pem" \
    --tpm-ca "$RIG/ca/intermediate.pem"
V=(--verifier "${VERIFIER_URL[v]}" --token "$ADM")
expect_cmd 0 "enroll the host" "$ATT_BIN/attest-verify" "${V[@]}" enroll \
    --agent "${AGENT_URL[a]}" --name h1

section "network namespaces, veth pairs, TCP and UDP servers"
ip netns add "$SRV" || die "ip netns add $SRV failed"
NET_UP=1
NET_NS+=("$SRV")
ip -n "$SRV" link set lo up &&
    ip -n "$SRV" addr add 10.77.0.1/32 dev lo &&
    ip -n "$SRV" addr add 10.77.0.9/32 dev lo || die "cannot set up $SRV"
client_ns "$NS_A" 1
client_ns "$NS_B" 2
mkdir -p "$T_DIR/www"
echo tcp-ok >"$T_DIR/www/id"
for port in 8080 8081; do
    ip netns exec "$SRV" busybox httpd -f -p "$port" -h "$T_DIR/www" \
        >>"$T_DIR/out/httpd-$port.log" 2>&1 &
    NET_PIDS+=($!)
done
ip netns exec "$SRV" perl "$T_DIR/udpdns.pl" "$UDP_LOG" 10.77.0.1:5300 10.77.0.1:5301 \
    10.77.0.9:5300 >>"$T_DIR/out/udp-server.err" 2>&1 &
NET_PIDS+=($!)
wait_until 10 servers_ready || die "the servers in $SRV did not come up" "$UDP_LOG" \
    "$T_DIR/out/udp-server.err" "$T_DIR/out/httpd-8080.log"
pass "servers up in $SRV"
# Without any policy everything is reachable from both client namespaces
# (host tools; the same rules apply to them as to a container there).
for ns in "$NS_A" "$NS_B"; do
    for dst in 10.77.0.1:8080 10.77.0.1:8081 10.77.0.9:8080; do
        probe ip netns exec "$ns" busybox nc -w 3 "${dst%:*}" "${dst#*:}"
        rc=$?
        _probe_result $((rc == 0)) "no policy yet: $ns reaches tcp $dst" "expected open" "$rc"
    done
    for dst in 10.77.0.1:5300 10.77.0.1:5301 10.77.0.9:5300; do
        probe ip netns exec "$ns" busybox nslookup -type=a probe "$dst"
        rc=$?
        _probe_result $((rc == 0)) "no policy yet: $ns gets an answer from udp $dst" \
            "expected an answer" "$rc"
    done
done

section "a policy with a network section for attest-static:1"
image_policy localhost/attest-static:1 static "$T_DIR/p-static.json"
# First match decides: 10.77.0.9 is denied outright, TCP 8000-8080 to
# 10.77.0.0/24 and UDP 5300 to 10.77.0.1 are allowed, and TCP 9090 from
# 10.77.0.0/16 in; everything else is denied (default).
NETPOL='{"default": "deny", "resolve_interval": 300, "rules": [
    {"direction": "egress", "action": "deny", "protocol": "tcp", "cidr": "10.77.0.9/32"},
    {"direction": "egress", "action": "allow", "protocol": "tcp", "cidr": "10.77.0.0/24", "ports": "8000-8080"},
    {"direction": "egress", "protocol": "udp", "cidr": "10.77.0.1/32", "ports": 5300},
    {"direction": "ingress", "protocol": "tcp", "cidr": "10.77.0.0/16", "ports": 9090}]}'
# policy_doc OUT QUARANTINE_JSON NETWORK_JSON: the "apps" policy document.
policy_doc() {
    jq --argjson q "$2" --argjson n "$3" '{version: 1, name: "apps", reference_values: {},
        containers: [.containers[0] + {name: "static net", quarantine: $q, network: $n}]}' \
        "$T_DIR/p-static.json" >"$1" || die "jq could not build $1"
}
# policy_push FILE [assign]: apply it (and assign it to h1) and wait until
# the agent has the new policy.
policy_push() {
    local n
    n=$(grep -c "admission policy updated" "$(agent_log a)" || true)
    expect_cmd 0 "policy apply ${1##*/}" "$ATT_BIN/attest-verify" "${V[@]}" policy apply apps "$1"
    if [[ ${2:-} == assign ]]; then
        expect_cmd 0 "policy assign h1 apps" "$ATT_BIN/attest-verify" "${V[@]}" policy assign h1 apps
    fi
    wait_until 20 bash -c "(( \$(grep -c 'admission policy updated' '$(agent_log a)') > $n ))" ||
        die "the policy never reached the agent" "$(agent_log a)"
}
# report only first: the drift test needs A failed, not quarantined
policy_doc "$T_DIR/policy-1.json" '[]' "$NETPOL"
policy_push "$T_DIR/policy-1.json" assign

# start_in NS: a container of attest-static:1 in NS serving TCP 9090 and
# 9091 (busybox httpd); prints its id.
start_in() {
    "$PODMAN" run -d --network "ns:/run/netns/$1" localhost/attest-static:1 \
        /bin/sh -c 'httpd -p 9090 -h /etc && httpd -p 9091 -h /etc && exec sleep 600'
}
listening() { # listening CID: both httpd listen
    local out
    out=$("$PODMAN" exec "$1" netstat -ltn 2>/dev/null) &&
        [[ $out == *:9090\ * && $out == *:9091\ * ]]
}

section "container A in $NS_A: the agent applies the policy at start"
A=$(start_in "$NS_A") || die "container A did not start"
wait_until 10 listening "$A" || die "A's httpd did not start"
wait_verdict "$A" "trusted" "container A trusted"
TA=attest_$A
out=$(nft_in "$NS_A" list tables inet 2>&1)
[[ $out == *"table inet $TA"* ]] && pass "A's namespace has table inet $TA" ||
    fail "no table inet $TA in $NS_A" "$out"
for ch in egress ingress; do
    nft_in "$NS_A" list chain inet "$TA" "$ch" >"$T_DIR/out/chain-$ch.txt" 2>&1 &&
        pass "... with chain $ch" || { fail "no chain $ch in $TA"; show_file "$T_DIR/out/chain-$ch.txt"; }
done
grep -q 'hook output' "$T_DIR/out/chain-egress.txt" && pass "egress hooks output" ||
    fail "egress does not hook output" "$(cat "$T_DIR/out/chain-egress.txt")"
grep -q 'hook input' "$T_DIR/out/chain-ingress.txt" && pass "ingress hooks input" ||
    fail "ingress does not hook input" "$(cat "$T_DIR/out/chain-ingress.txt")"
for c in egress_dropped ingress_dropped; do
    [[ -n $(ns_counter "$NS_A" "$TA" "$c") ]] && pass "... and counter $c" ||
        fail "no counter $c in $TA"
done
assert_eq "$(log_count "netpolicy:$A")" "1" "one netpolicy:<id> record for A"
strings "$ADIR/measurements.bin" | grep "status=applied" | grep -F "table=$TA" >"$T_DIR/out/np-a.txt"
assert_match "$T_DIR/out/np-a.txt" "ruleset=[0-9a-f]{64}" "... status=applied with the ruleset digest"
assert_contains "$T_DIR/out/np-a.txt" "policy=static%20net " \
    "... naming the container policy \"static net\" percent-encoded (one field)"
RULESET_A=$(sed -n 's/.*ruleset=\([0-9a-f]\{64\}\).*/\1/p' "$T_DIR/out/np-a.txt" | tail -n1)

section "allowed destinations connect, others are refused"
expect_tcp "$A" 10.77.0.1 8080 open "A"
expect_tcp "$A" 10.77.0.1 8081 refused "A, a port outside 8000-8080"
expect_tcp "$A" 10.77.0.9 8080 refused "A, the denied address"
expect_udp "$A" 10.77.1.2 10.77.0.1 5300 open "A"
expect_udp "$A" 10.77.1.2 10.77.0.1 5301 refused "A, another UDP port"
expect_udp "$A" 10.77.1.2 10.77.0.9 5300 refused "A, UDP to another address"
expect_tcp "$A" 127.0.0.1 9091 open "A, loopback is always open"
expect_in 10.77.1.2 9090 open "SRV to A, the allowed ingress port"
expect_in 10.77.1.2 9091 dropped "SRV to A, another port"

section "the counters move: nftables, the agent's /metrics, attest-verify container"
eg=$(ns_counter "$NS_A" "$TA" egress_dropped)
ig=$(ns_counter "$NS_A" "$TA" ingress_dropped)
((${eg:-0} >= 4)) && pass "egress_dropped counted $eg packets (4 refused attempts)" ||
    fail "egress_dropped is \"$eg\" after 4 refused attempts"
((${ig:-0} >= 1)) && pass "ingress_dropped counted $ig packets" ||
    fail "ingress_dropped is \"$ig\" after a dropped connection"
if wait_until 15 metric_at_least "$A" egress 4 && metric_at_least "$A" ingress 1; then
    pass "metrics: egress $(metric "$A" egress), ingress $(metric "$A" ingress) for A"
else
    curl -s --max-time 5 "${AGENT_URL[a]}/metrics" >"$T_DIR/out/metrics.txt" 2>&1
    fail "attest_agent_net_dropped_total for A: egress \"$(metric "$A" egress)\", ingress \"$(metric "$A" ingress)\""
    show_file "$T_DIR/out/metrics.txt"
fi
wait_until 15 cli_network "$A"
expect_cmd 0 "attest-verify container A (trusted)" "$ATT_BIN/attest-verify" "${V[@]}" container "$A"
assert_match "$T_OUT" "network: [1-9][0-9]* egress connections refused, [1-9][0-9]* ingress dropped" \
    "attest-verify container shows the network counters"
"$ATT_BIN/attest-verify" "${V[@]}" --json container "$A" >"$T_DIR/out/a.json" 2>&1
if jq -e '.network.egress_dropped >= 4 and .network.ingress_dropped >= 1' "$T_DIR/out/a.json" >/dev/null; then
    pass "--json: network.egress_dropped $(jget "$T_DIR/out/a.json" .network.egress_dropped), ingress_dropped $(jget "$T_DIR/out/a.json" .network.ingress_dropped)"
else
    fail "--json container A has no network counters of at least 4 and 1"
    show_file "$T_DIR/out/a.json"
fi
assert_eq "$(jget "$T_DIR/out/a.json" .network.ruleset)" "$RULESET_A" \
    "--json: network.ruleset is the digest the agent logged"

section "agent restart: the ruleset stays, no drift"
table_listing "$NS_A" "$A" >"$T_DIR/out/table-before.txt"
in_force_lines() { grep -c "in force for container ${A:0:12}" "$(agent_log a)" || true; }
applied_before=$(in_force_lines)
stop_agent a
# what the agent applied is kept in its state file; a damaged line is skipped, not fatal
echo "not a netpolicy.state line" >>"$ADIR/netpolicy.state"
start_agent a "$(rig_tcti 1)" "${AGENT_ARGS[@]}" --listen "127.0.0.1:${AGENT_PORT[a]}"
# the restarted agent has read A's live ruleset once it reports its counters;
# then two more checks must pass without drift
wait_until 20 metric_at_least "$A" egress 0 || fail "no metrics for A after the restart"
sleep $((2 * NET_CHECK + 1))
table_listing "$NS_A" "$A" >"$T_DIR/out/table-after.txt"
if cmp -s "$T_DIR/out/table-before.txt" "$T_DIR/out/table-after.txt"; then
    pass "table $TA is unchanged (nft -s list table)"
else
    fail "table $TA changed across the restart" \
        "$(diff "$T_DIR/out/table-before.txt" "$T_DIR/out/table-after.txt")"
fi
expect_tcp "$A" 10.77.0.1 8080 open "after the restart, A"
expect_tcp "$A" 10.77.0.1 8081 refused "after the restart, A"
expect_udp "$A" 10.77.1.2 10.77.0.1 5300 open "after the restart, A"
expect_udp "$A" 10.77.1.2 10.77.0.1 5301 refused "after the restart, A"
assert_eq "$(log_count "netdrift:$A")" "0" "no netdrift record for A"
assert_eq "$(in_force_lines)" "$applied_before" \
    "the restarted agent checked A's table against its state file instead of applying it again"
assert_contains "$(agent_log a)" "netpolicy.state: ignoring a malformed line" \
    "the damaged state line was named and skipped"
sleep 1 # one verifier poll after the checks
v_a=$(container_verdict "$A")
[[ $v_a == trusted* ]] && pass "A stays trusted" || fail "A is \"$v_a\" after the restart"

section "a malformed network section is refused and changes nothing"
"$ATT_BIN/attest-verify" "${V[@]}" --json policy show apps >"$T_DIR/out/policy-before.json" 2>&1
bad_cidr=$(jq '.rules[0].cidr = "10.77.0.1/24"' <<<"$NETPOL")
policy_doc "$T_DIR/bad-cidr.json" '[]' "$bad_cidr"
assert_fails "policy apply: a cidr with host bits set" "$ATT_BIN/attest-verify" "${V[@]}" \
    policy apply apps "$T_DIR/bad-cidr.json"
assert_contains "$T_OUT" "network.rules[0].cidr" "the message names the rule's cidr"
assert_contains "$T_OUT" "host bits" "... and says what is wrong with it"
bad_ports=$(jq '.rules[2].protocol = "icmp"' <<<"$NETPOL")
policy_doc "$T_DIR/bad-ports.json" '[]' "$bad_ports"
assert_fails "policy apply: ports with protocol icmp" "$ATT_BIN/attest-verify" "${V[@]}" \
    policy apply apps "$T_DIR/bad-ports.json"
assert_contains "$T_OUT" "network.rules[2].ports" "the message names the rule's ports"
# the verifier refuses it too, not only the CLI's own check
jq '.' "$T_DIR/bad-cidr.json" >/dev/null || die "bad-cidr.json is not JSON"
expect_api 400 "PUT /api/v1/policies/apps with the host-bits cidr" v "$ADM" PUT \
    /api/v1/policies/apps "@$T_DIR/bad-cidr.json"
assert_contains "$API_OUT" "cidr" "the API error names the cidr"
expect_api 400 "PUT /api/v1/policies/apps with ports on icmp" v "$ADM" PUT \
    /api/v1/policies/apps "@$T_DIR/bad-ports.json"
"$ATT_BIN/attest-verify" "${V[@]}" --json policy show apps >"$T_DIR/out/policy-after.json" 2>&1
if cmp -s "$T_DIR/out/policy-before.json" "$T_DIR/out/policy-after.json"; then
    pass "the stored policy is unchanged"
else
    fail "the stored policy changed" \
        "$(diff "$T_DIR/out/policy-before.json" "$T_DIR/out/policy-after.json" | head -40)"
fi
sleep $((NET_CHECK + 1)) # would a bad policy have reached the agent, it would be applied by now
table_listing "$NS_A" "$A" >"$T_DIR/out/table-after-bad.txt"
cmp -s "$T_DIR/out/table-before.txt" "$T_DIR/out/table-after-bad.txt" &&
    pass "table $TA is unchanged" ||
    fail "table $TA changed" "$(diff "$T_DIR/out/table-before.txt" "$T_DIR/out/table-after-bad.txt")"
expect_tcp "$A" 10.77.0.1 8080 open "after the refused policies, A"
expect_tcp "$A" 10.77.0.9 8080 refused "after the refused policies, A"
assert_eq "$(log_count "netpolicy:$A")" "1" "still one netpolicy record for A"

section "a policy change reaches the running container; DNS names are re-resolved"
hosts_set 10.77.0.1
getent hosts "$DNS_NAME" | grep -q '^10\.77\.0\.1 ' || die "getent does not see $DNS_NAME in /etc/hosts"
# one more rule, second in order: TCP 8081 to whatever $DNS_NAME is, re-resolved every 5 s
NETPOL_DNS=$(jq --arg n "$DNS_NAME" '.resolve_interval = 5 |
    .rules = [.rules[0], {direction: "egress", protocol: "tcp", dns: [$n], ports: 8081}] + .rules[1:]' \
    <<<"$NETPOL")
policy_doc "$T_DIR/policy-dns.json" '[]' "$NETPOL_DNS"
policy_push "$T_DIR/policy-dns.json"
tcp_open() { "$PODMAN" exec "$1" nc -w 3 "$2" "$3" </dev/null >/dev/null 2>&1; }
wait_until 20 tcp_open "$A" 10.77.0.1 8081 &&
    pass "the new rule is in force in the running A: tcp 10.77.0.1:8081 open" ||
    fail "tcp 10.77.0.1:8081 never opened for A after the policy change"
expect_tcp "$A" 10.77.0.9 8081 refused "A, the name does not point there"
n_np=$(log_count "netpolicy:$A")
assert_eq "$n_np" "2" "a second netpolicy record for A"
strings "$ADIR/measurements.bin" | grep -A1 '^status=applied' | tail -n2 >"$T_DIR/out/np-dns.txt"
assert_contains "$T_DIR/out/np-dns.txt" "10.77.0.1" "... whose ruleset holds the name's address"
# the name moves to an address nothing listens on: within resolve_interval
# (5 s) plus a tick the rule follows it, and 10.77.0.1:8081 is refused again
hosts_set 10.77.0.3
tcp_refused() { ! tcp_open "$@"; }
wait_until 20 tcp_refused "$A" 10.77.0.1 8081 &&
    pass "re-resolved: tcp 10.77.0.1:8081 refused once the name points elsewhere" ||
    fail "A still reaches 10.77.0.1:8081 after $DNS_NAME moved to 10.77.0.3"
expect_tcp "$A" 10.77.0.1 8081 refused "A after the re-resolution"
expect_tcp "$A" 10.77.0.1 8080 open "A after the re-resolution"
wait_until 10 bash -c "(( \$(strings '$ADIR/measurements.bin' | grep -c '^netpolicy:$A') >= 3 ))" &&
    pass "a third netpolicy record for A (the new address)" || fail "no record of the re-resolution"
strings "$ADIR/measurements.bin" | grep -A1 '^status=applied' | tail -n2 >"$T_DIR/out/np-dns2.txt"
assert_contains "$T_DIR/out/np-dns2.txt" "10.77.0.3" "... whose ruleset holds the new address"
hosts_unset
RULESET_A=$(sed -n 's/.*ruleset=\([0-9a-f]\{64\}\).*/\1/p' "$T_DIR/out/np-dns2.txt")
[[ -n $RULESET_A ]] || die "no ruleset digest in the last netpolicy record" "$T_DIR/out/np-dns2.txt"
sleep 2 # a verifier poll
v_a=$(container_verdict "$A")
[[ $v_a == trusted* ]] && pass "A stays trusted through the policy change and the re-resolution" ||
    fail "A is \"$v_a\" after the policy change"

section "a rule deleted by hand inside the namespace is drift"
nft_in "$NS_A" -a list chain inet "$TA" egress >"$T_DIR/out/egress-handles.txt" 2>&1
H=$(sed -n 's/.* 8000-8080 accept # handle \([0-9][0-9]*\)$/\1/p' "$T_DIR/out/egress-handles.txt" | head -n1)
[[ -n $H ]] || die "no handle for the 8000-8080 accept rule" "$T_DIR/out/egress-handles.txt"
expect_cmd 0 "nft delete rule inet $TA egress handle $H" ip netns exec "$NS_A" \
    nft delete rule inet "$TA" egress handle "$H"
wait_verdict "$A" "failed network-not-in-force" "A fails appraisal" 20
reason=$("$ATT_BIN/attest-verify" "${V[@]}" --json container "$A" 2>/dev/null | jq -r '.reason // empty')
[[ $reason == "network policy not in force"* ]] && pass "the reason: $reason" ||
    fail "A's reason: \"$reason\" (expected \"network policy not in force...\")"
n=$(log_count "netdrift:$A")
((n >= 1)) && pass "$n netdrift:<id> record(s) for A" || fail "no netdrift record for A"
strings "$ADIR/measurements.bin" | grep "expected=" | grep -F "table=$TA" >"$T_DIR/out/drift-a.txt"
assert_contains "$T_DIR/out/drift-a.txt" "expected=$RULESET_A" "the drift record names the applied ruleset"
expect_cmd 1 "attest-verify container A exits 1" "$ATT_BIN/attest-verify" "${V[@]}" container "$A"
# after logging the drift the agent puts its ruleset back
wait_until 15 tcp_open "$A" 10.77.0.1 8080 && pass "the agent repaired A's table: tcp 10.77.0.1:8080 open again" ||
    fail "A's table was not repaired after the drift"
# a drift made while the agent is down is found by the restarted agent (its state file)
n=$(log_count "netdrift:$A")
stop_agent a
nft_in "$NS_A" -a list chain inet "$TA" egress >"$T_DIR/out/egress-handles2.txt" 2>&1
H=$(sed -n 's/.* udp dport 5300 accept # handle \([0-9][0-9]*\)$/\1/p' "$T_DIR/out/egress-handles2.txt" | head -n1)
[[ -n $H ]] || die "no handle for the udp 5300 accept rule" "$T_DIR/out/egress-handles2.txt"
expect_cmd 0 "with the agent stopped: nft delete rule inet $TA egress handle $H" ip netns exec \
    "$NS_A" nft delete rule inet "$TA" egress handle "$H"
start_agent a "$(rig_tcti 1)" "${AGENT_ARGS[@]}" --listen "127.0.0.1:${AGENT_PORT[a]}"
wait_until 15 bash -c "(( \$(strings '$ADIR/measurements.bin' | grep -c '^netdrift:$A') > $n ))" &&
    pass "the restarted agent found the drift made while it was down" ||
    fail "no new netdrift record after the restart" "$(agent_log a)"
expect_udp "$A" 10.77.1.2 10.77.0.1 5300 open "repaired after the restart, A"
timeout -k 5 30 "$PODMAN" rm -f -t 0 "$A" >/dev/null 2>&1 || fail "cannot remove A"

section "the host's network namespace is never changed: such a start is refused"
nft list tables >"$T_DIR/out/host-tables-before.txt" 2>&1
assert_fails "podman run --network host under a policy with a network section" \
    "$PODMAN" run -d --network host localhost/attest-static:1 /bin/sleep 600
assert_contains "$T_OUT" "network policy cannot be applied" "the refusal says why"
assert_contains "$T_OUT" "host network" "... naming the host network"
nft list tables >"$T_DIR/out/host-tables-after.txt" 2>&1
cmp -s "$T_DIR/out/host-tables-before.txt" "$T_DIR/out/host-tables-after.txt" &&
    pass "the host's nftables tables are as they were" ||
    fail "the host's tables changed" "$(diff "$T_DIR/out/host-tables-before.txt" "$T_DIR/out/host-tables-after.txt")"

section "container B in $NS_B under an isolate-network quarantine, then lifted"
policy_doc "$T_DIR/policy-2.json" '["isolate-network"]' "$NETPOL"
policy_push "$T_DIR/policy-2.json"
B=$(start_in "$NS_B") || die "container B did not start"
wait_until 10 listening "$B" || die "B's httpd did not start"
wait_verdict "$B" "trusted" "container B trusted"
TB=attest_$B
expect_tcp "$B" 10.77.0.1 8080 open "B"
expect_tcp "$B" 10.77.0.1 8081 refused "B"
# a binary no policy knows, run in B: failed, then quarantined (isolate-network only)
run_foreign "$B" 600
wait_verdict "$B" "quarantined" "container B quarantined" 30
netns_expect "$(pid_of "$B")" yes "B's namespace has table inet attest_quarantine"
out=$(nft_in "$NS_B" list tables inet 2>&1)
[[ $out == *"table inet $TB"* ]] && pass "... next to B's policy table $TB" ||
    fail "B's policy table is gone during the quarantine" "$out"
assert_eq "$("$PODMAN" inspect --format '{{.State.Status}}' "$B")" "running" \
    "B is running (isolate-network does not pause)"
expect_tcp "$B" 10.77.0.1 8080 blocked "quarantined B, the allowed destination"
expect_tcp "$B" 10.77.0.1 8081 blocked "quarantined B"
expect_udp "$B" 10.77.2.2 10.77.0.1 5300 refused "quarantined B, the allowed UDP port"
expect_in 10.77.2.2 9090 dropped "SRV to quarantined B, the allowed ingress port"
ORDER=$("$ATT_BIN/attest-verify" "${V[@]}" --json quarantine list --host h1 |
    jq -r --arg id "$B" '.orders[] | select(.container == $id) | .id' | head -n1)
[[ $ORDER =~ ^[0-9a-f]{32}$ ]] || die "no quarantine order listed for B"
expect_cmd 0 "an operator lifts B's quarantine" "$ATT_BIN/attest-verify" \
    --verifier "${VERIFIER_URL[v]}" --token "$OPS" quarantine lift "$ORDER" \
    --reason "test: network policy must apply again"
wait_until 15 netns_open "$(pid_of "$B")"
netns_expect "$(pid_of "$B")" no "table inet attest_quarantine is gone from B's namespace"
out=$(nft_in "$NS_B" list tables inet 2>&1)
[[ $out == *"table inet $TB"* ]] && pass "B's policy table $TB is still there" ||
    fail "B's policy table is gone after the lift" "$out"
expect_tcp "$B" 10.77.0.1 8080 open "lifted B"
expect_tcp "$B" 10.77.0.1 8081 refused "lifted B"
expect_tcp "$B" 10.77.0.9 8080 refused "lifted B, the denied address"
expect_udp "$B" 10.77.2.2 10.77.0.1 5300 open "lifted B"
expect_udp "$B" 10.77.2.2 10.77.0.1 5301 refused "lifted B"
expect_in 10.77.2.2 9090 open "SRV to lifted B, the allowed ingress port"
expect_in 10.77.2.2 9091 dropped "SRV to lifted B, another port"

section "cleanup"
net_cleanup
stop_agent a
stop_verifier v
"$T_RIG_CMD" down "$RIG" >"$T_DIR/out/rig-down.txt" 2>&1 || fail "rig down failed"
finish
