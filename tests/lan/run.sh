#!/usr/bin/env bash
# BACnet/IP (and Modbus TCP, SNMP, web) on a real LAN, made of network
# namespaces: two subnets joined by a router, a meter on each, clients on
# each. Every name has a random suffix; everything is removed on every exit.
#
#   192.0.2.0/24                                 198.51.100.0/24
#   [m1] meter 1 (BBMD) .1 --veth-- .2 [lan] .254 --veth-- br0 [far] .2
#                                clients, router              |
#                                                      [m2] meter 2 (BBMD) .1
#
# The clients run in lan (tests/lan/lan.test.mjs, node --test), one more in
# far. dumpcap captures both subnets; tshark must find no malformed packet
# and no expert error; the captures stay in LAN_CAPTURE_DIR (CTest: the build
# tree) or a new /tmp/openbcpm-lan-captures.* directory, the meters' files go
# (LAN_KEEP_LOGS=1 keeps them). Usage: run.sh OPENBCPM_BINARY. Needs root (CI runs as
# root); without it the script says so and exits 77 (CTest: skipped).
set -uo pipefail
binary="${1:?path of the openbcpm binary}"
here="$(cd "$(dirname "$0")" && pwd)"
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: the LAN test creates network namespaces and veth pairs, which needs root (CI runs as root)"
    exit 77
fi
for tool in ip tc dumpcap tshark node mbpoll snmpget curl ss; do
    command -v "$tool" >/dev/null || { echo "FAILED: $tool is missing (scripts/install-deps.sh installs it)"; exit 1; }
done

suffix="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
m1="obm1-$suffix" lan="oblan-$suffix" m2="obm2-$suffix" far="obfar-$suffix"
# Captures go under the build tree (CTest sets LAN_CAPTURE_DIR) or /tmp,
# never into the source tree.
out="${LAN_CAPTURE_DIR:-$(mktemp -d /tmp/openbcpm-lan-captures.XXXXXX)}"
mkdir -p "$out"
pcap_lan="$out/lan-subnets.pcapng" pcap_far="$out/lan-far.pcapng"
rm -f "$pcap_lan" "$pcap_far"
captures=()

# The meters' configs, state and logs (kept with LAN_KEEP_LOGS=1).
work="$(mktemp -d /tmp/openbcpm-lan.XXXXXX)"
tests=""
cleanup() {
    [ -n "$tests" ] && kill -TERM "$tests" 2>/dev/null
    for pid in "${captures[@]}"; do kill -INT "$pid" 2>/dev/null; done
    for pid in "${captures[@]}"; do wait "$pid" 2>/dev/null; done
    for ns in "$m1" "$lan" "$m2" "$far"; do
        # What the test started in the namespace (a meter left by a failure).
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    if [ -n "${LAN_KEEP_LOGS:-}" ]; then echo "meter logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

set -e
for ns in "$m1" "$lan" "$m2" "$far"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
# Subnet 1: meter 1 and the lan namespace (clients, router).
ip -n "$m1" link add eth0 type veth peer name sub1 netns "$lan"
ip -n "$m1" addr add 192.0.2.1/24 brd + dev eth0
ip -n "$m1" link set eth0 up
ip -n "$m1" route add default via 192.0.2.2
ip -n "$lan" addr add 192.0.2.2/24 brd + dev sub1
ip -n "$lan" link set sub1 up
# Subnet 2: a bridge in far joins the router, meter 2 and far's own client.
ip -n "$far" link add br0 type bridge
ip -n "$far" addr add 198.51.100.2/24 brd + dev br0
ip -n "$far" link set br0 up
ip -n "$lan" link add sub2 type veth peer name p-lan netns "$far"
ip -n "$m2" link add eth0 type veth peer name p-m2 netns "$far"
for port in p-lan p-m2; do ip -n "$far" link set "$port" master br0 up; done
ip -n "$lan" addr add 198.51.100.254/24 brd + dev sub2
ip -n "$lan" link set sub2 up
ip -n "$m2" addr add 198.51.100.1/24 brd + dev eth0
ip -n "$m2" link set eth0 up
ip -n "$m2" route add default via 198.51.100.254
ip -n "$far" route add default via 198.51.100.254
ip netns exec "$lan" sysctl -qw net.ipv4.ip_forward=1
set +e

ip netns exec "$lan" dumpcap -q -i sub1 -i sub2 -w "$pcap_lan" 2>"$out/dumpcap-lan.log" &
captures+=($!)
ip netns exec "$far" dumpcap -q -i br0 -w "$pcap_far" 2>"$out/dumpcap-far.log" &
captures+=($!)
for _ in $(seq 50); do [ -s "$pcap_lan" ] && [ -s "$pcap_far" ] && break; sleep 0.1; done
sleep 0.5

# In the background with a deadline of its own (below CTest's TIMEOUT): a
# signal or a hang still ends in cleanup(), which a foreground child would
# hold back until it exits.
LAN_NS_M1="$m1" LAN_NS_M2="$m2" LAN_NS_FAR="$far" OPENBCPM_BINARY="$binary" LAN_WORK_DIR="$work" \
    timeout -k 5 300 ip netns exec "$lan" node --test --test-concurrency=1 --test-timeout=120000 \
    "$here/lan.test.mjs" &
tests=$!
wait "$tests"
status=$?
tests=""
sleep 0.5
for pid in "${captures[@]}"; do kill -INT "$pid" 2>/dev/null; done
for pid in "${captures[@]}"; do wait "$pid" 2>/dev/null; done
captures=()
[ "$status" -eq 0 ] || { echo "LAN tests failed"; exit "$status"; }

# Every packet of both captures: BACnet/IP on 47808, Modbus TCP on 502, SNMP
# on 161, HTTP on 80, ARP; none malformed, no expert error.
failed=0
for pcap in "$pcap_lan" "$pcap_far"; do
    count() { tshark -r "$pcap" -Y "$1" 2>/dev/null | wc -l; }
    total=$(count "frame") bacnet=$(count "bvlc") modbus=$(count "mbtcp") snmp=$(count "snmp")
    malformed=$(count "_ws.malformed") expert=$(count "_ws.expert.severity == error")
    echo "tshark $(basename "$pcap"): $total packets, BACnet $bacnet, Modbus $modbus, SNMP $snmp; malformed $malformed, expert errors $expert"
    tshark -r "$pcap" -Y bvlc -T fields -e _ws.col.Info 2>/dev/null | sed -E 's/[0-9]+//g; s/ +/ /g' |
        sort | uniq -c | sort -rn | head -12
    if [ "$malformed" -ne 0 ] || [ "$expert" -ne 0 ] || [ "$bacnet" -lt 10 ]; then
        tshark -r "$pcap" -Y "_ws.malformed || _ws.expert.severity == error" 2>/dev/null | head -20
        failed=1
    fi
done
[ "$(tshark -r "$pcap_lan" -Y mbtcp 2>/dev/null | wc -l)" -gt 0 ] || { echo "no Modbus TCP in the capture"; failed=1; }
[ "$(tshark -r "$pcap_lan" -Y snmp 2>/dev/null | wc -l)" -gt 0 ] || { echo "no SNMP in the capture"; failed=1; }
[ "$failed" -eq 0 ] || { echo "FAILED: the LAN captures have packets tshark does not decode cleanly"; exit 1; }
echo "LAN test passed; captures in $out"
