#!/usr/bin/env bash
# The SNMP benchmark: Get and GetBulk requests per second and full walks,
# against the real meter (openbcpm run: the SNMPv2-MIB and the product MIB of
# an 84-channel, two-panel BCPME), our test agent (SNMPv2-MIB + a test table)
# and net-snmp's snmpd serving its own system group, in the same run on
# 127.0.0.1.
# Usage: bench/snmp/run.sh BUILD_DIR [rows]   (BUILD_DIR built with -DOPENBCPM_BENCH=ON, Release)
set -uo pipefail
[ -n "${1:-}" ] || { echo "usage: $0 BUILD_DIR [rows]"; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/../meter_run.sh"
rows=${2:-5000}
agent_bin="$build/src/protocols/snmp/snmp_test_agent"
load="$build/bench/snmp/snmp_load"
for f in "$agent_bin" "$load" "$build/openbcpm"; do [ -x "$f" ] || { echo "missing $f"; exit 1; }; done
free_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Our agent; notifications go nowhere.
"$agent_bin" --rows "$rows" --trap-address 0.0.0.0 >"$work/agent.log" 2>&1 &
agent_port=""
for _ in $(seq 50); do agent_port=$(awk '/^port /{print $2}' "$work/agent.log"); [ -n "$agent_port" ] && break; sleep 0.1; done
[ -n "$agent_port" ] || { echo "test agent did not start"; exit 1; }

# The meter: SNMP only (Protocol_Mode 3, no Modbus, no web), simulating in real time.
meter=$(free_port)
start_one_face snmp "$meter"
for _ in $(seq 100); do
    snmpget -v2c -c public -t 0.2 -r 0 "udp:127.0.0.1:$meter" .1.3.6.1.2.1.1.1.0 >/dev/null 2>&1 && break
    sleep 0.1
done

# net-snmp's snmpd: "public" sees the system group, "all" everything it serves.
theirs=$(free_port)
cat >"$work/snmpd.conf" <<CONF
agentaddress udp:127.0.0.1:$theirs
view systemonly included .1.3.6.1.2.1.1
rocommunity public 127.0.0.1 -V systemonly
rocommunity all 127.0.0.1
sysDescr net-snmp benchmark peer
sysLocation bench
sysContact bench
CONF
export MIBS="" SNMP_PERSISTENT_DIR="$work/persist"
/usr/sbin/snmpd -f -Lo -C -c "$work/snmpd.conf" -I -smux >"$work/snmpd.log" 2>&1 &
snmpd_pid=$!
for _ in $(seq 50); do
    snmpget -v2c -c public -t 0.2 -r 0 "udp:127.0.0.1:$theirs" .1.3.6.1.2.1.1.1.0 >/dev/null 2>&1 && break
    sleep 0.1
done

echo "# $(date -u +%F) $(uname -m) $(lscpu | grep 'Model name' | sed 's/.*: *//'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(snmpd -v | grep -o 'version: *[0-9.]*' | head -1 | tr -s ' ')"
echo "# test agent: SNMPv2-MIB + test table of $rows rows; 3 s per figure; load tool on the same host"
# (60 s at most per run; a walk that gets no answer for 5 s ends as an error)
run() { timeout 60 "$load" "$@" || echo "(errors or a timeout in the run above)"; }
branch=1.3.6.1.4.1.3833.1.30.1.1.4.1  # p1BranchTable
run --label "meter sysDescr, 1 in flight" --port "$meter" --op get --oid 1.3.6.1.2.1.1.1.0 --window 1
run --label "meter sysDescr, 8 in flight" --port "$meter" --op get --oid 1.3.6.1.2.1.1.1.0
run --label "meter p1BranchCurrent.5, 1" --port "$meter" --op get --oid "$branch.1.2.5" --window 1
run --label "meter p1BranchCurrent.5, 8" --port "$meter" --op get --oid "$branch.1.2.5"
run --label "meter p1BranchTable, 8" --port "$meter" --op bulk --oid "$branch" --repetitions 10
for target in "test agent:$agent_port" "net-snmp snmpd:$theirs"; do
    name=${target%%:*}
    port=${target##*:}
    run --label "$name, 1 in flight" --port "$port" --op get --oid 1.3.6.1.2.1.1.1.0 --window 1
    run --label "$name, 8 in flight" --port "$port" --op get --oid 1.3.6.1.2.1.1.1.0
    run --label "$name, 8 in flight" --port "$port" --op bulk --oid 1.3.6.1.2.1.1 --repetitions 10
done
# Side by side with 16 in flight, alternating, 3 rounds: req/s, server CPU per
# request (utime + stime from /proc/PID/stat, the meter's including its
# metering thread) and the ratio meter / snmpd.
# side PID LABEL ARGS...: one 3 s run; prints it with the server's CPU per
# response and leaves responses/s in $rate.
side() {
    local pid=$1 label=$2
    shift 2
    load_with_cpu "$pid" 3 "$load" --label "$label" "$@"
}
echo "# 16 in flight, side by side (3 rounds)"
for what in "sysDescr.0:1.3.6.1.2.1.1.1.0" "p1BranchCurrent.5:$branch.1.2.5"; do
    name=${what%%:*}
    oid=${what#*:}
    ratios=()
    for _ in 1 2 3; do
        side "$meter_pid" "meter $name, 16" --port "$meter" --op get --oid "$oid" --window 16
        meter_rate=$rate
        side "$snmpd_pid" "net-snmp sysDescr.0, 16" --port "$theirs" --op get --oid 1.3.6.1.2.1.1.1.0 --window 16
        ratios+=("$(awk -v a="$meter_rate" -v b="$rate" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')")
    done
    echo "ratio meter Get $name / snmpd Get sysDescr.0, 16 in flight: ${ratios[*]} (median $(printf '%s\n' "${ratios[@]}" | sort -n | sed -n 2p))"
done
echo "# full walks"
run --label "meter (GetNext)" --port "$meter" --op walk --oid 1 --repetitions 0
run --label "meter (GetBulk 50)" --port "$meter" --op walk --oid 1 --repetitions 50
run --label "meter (GetBulk 1000)" --port "$meter" --op walk --oid 1 --repetitions 1000
run --label "test agent (GetNext)" --port "$agent_port" --op walk --oid 1 --repetitions 0
run --label "test agent (GetBulk 50)" --port "$agent_port" --op walk --oid 1 --repetitions 50
run --label "test agent (GetBulk 1000)" --port "$agent_port" --op walk --oid 1 --repetitions 1000
run --label "snmpd all (GetNext)" --port "$theirs" --community all --op walk --oid 1 --repetitions 0
run --label "snmpd all (GetBulk 50)" --port "$theirs" --community all --op walk --oid 1 --repetitions 50
start=$(date +%s.%N)
n=$(snmpbulkwalk -v2c -c public -Cr50 "udp:127.0.0.1:$agent_port" .1 2>/dev/null | wc -l)
printf '%-28s walk  %8d lines    in %8.3f s (net-snmp snmpbulkwalk -Cr50 against openbcpm, incl. its endOfMibView line)\n' "snmpbulkwalk" "$n" \
    "$(echo "$(date +%s.%N) - $start" | bc)"
for op in snmpwalk "snmpbulkwalk -Cr50"; do
    start=$(date +%s.%N)
    n=$($op -v2c -c public "udp:127.0.0.1:$meter" .1 2>/dev/null | wc -l)
    printf '%-28s walk  %8d lines    in %8.3f s (net-snmp %s of the meter, incl. its endOfMibView line)\n' "${op%% *}" "$n" \
        "$(echo "$(date +%s.%N) - $start" | bc)" "$op"
done
