#!/usr/bin/env bash
# Two builds of the meter side by side (A/B, e.g. before and after a change)
# and net-snmp's snmpd, in one run on 127.0.0.1: each meter serves SNMP only
# in its own process (Protocol_Mode 3, 84 channels, simulating in real time);
# per round, 3 s each, 16 requests in flight, alternating: Get sysDescr.0,
# Get p1BranchCurrent.5 and GetBulk 10 of p1BranchTable against A then B,
# then Get sysDescr.0 against snmpd; each line ends with the server's CPU per
# response (bench/meter_run.sh's load_with_cpu).
# Usage: bench/snmp/ab.sh BUILD_A BUILD_B [rounds]   (Release builds with openbcpm; B's snmp_load)
set -uo pipefail
[ -n "${2:-}" ] || { echo "usage: $0 BUILD_A BUILD_B [rounds]"; exit 2; }
a=$(cd "$1" && pwd)
b=$(cd "$2" && pwd)
rounds=${3:-3}
source "$(dirname "${BASH_SOURCE[0]}")/../meter_run.sh" "$b"
load="$b/bench/snmp/snmp_load"
for f in "$a/openbcpm" "$b/openbcpm" "$load"; do [ -x "$f" ] || { echo "missing $f"; exit 1; }; done
free_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# start BUILD PORT NAME: one meter with its own configuration and state.
start() {
    mkdir -p "$work/$3"
    printf '[device]\nchannels = 84\n[faces]\nweb = false\nmodbus_tcp = false\n[gateway]\nprotocol_mode = 3\n[snmp]\nport = %s\nnotif_ip = "0.0.0.0"\n' \
        "$2" >"$work/$3/meter.toml"
    "$1/openbcpm" run --config "$work/$3/meter.toml" --state-dir "$work/$3/state" >"$work/$3/meter.log" 2>&1 &
}
port_a=$(free_port)
start "$a" "$port_a" a
pid_a=$!
port_b=$(free_port)
start "$b" "$port_b" b
pid_b=$!
theirs=$(free_port)
cat >"$work/snmpd.conf" <<CONF
agentaddress udp:127.0.0.1:$theirs
view systemonly included .1.3.6.1.2.1.1
rocommunity public 127.0.0.1 -V systemonly
sysDescr net-snmp benchmark peer
CONF
export MIBS="" SNMP_PERSISTENT_DIR="$work/persist"
/usr/sbin/snmpd -f -Lo -C -c "$work/snmpd.conf" -I -smux >"$work/snmpd.log" 2>&1 &
pid_s=$!
for port in "$port_a" "$port_b" "$theirs"; do
    for _ in $(seq 100); do
        snmpget -v2c -c public -t 0.2 -r 0 "udp:127.0.0.1:$port" .1.3.6.1.2.1.1.1.0 >/dev/null 2>&1 && break
        sleep 0.1
    done
done

echo "# $(date -u +%F) $(uname -m) $(lscpu | grep 'Model name' | sed 's/.*: *//'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# A: $a  B: $b"
branch=1.3.6.1.4.1.3833.1.30.1.1.4.1  # p1BranchTable
for round in $(seq "$rounds"); do
    echo "# round $round"
    for what in "Get sysDescr.0|--op get --oid 1.3.6.1.2.1.1.1.0" \
        "Get p1BranchCurrent.5|--op get --oid $branch.1.2.5" \
        "GetBulk 10 p1BranchTable|--op bulk --oid $branch --repetitions 10"; do
        name=${what%%|*}
        read -ra args <<<"${what#*|}"
        load_with_cpu "$pid_a" 3 "$load" --label "A $name" --port "$port_a" "${args[@]}" --window 16
        load_with_cpu "$pid_b" 3 "$load" --label "B $name" --port "$port_b" "${args[@]}" --window 16
    done
    load_with_cpu "$pid_s" 3 "$load" --label "snmpd Get sysDescr.0" --port "$theirs" --op get \
        --oid 1.3.6.1.2.1.1.1.0 --window 16
done
