#!/usr/bin/env bash
# Drives the SNMP test agent with net-snmp's own tools: snmpget, snmpgetnext,
# snmpwalk, snmpbulkwalk, snmpbulkget, snmpset, and snmptrapd for the
# coldStart notification. Everything listens on 127.0.0.1 and is stopped on exit.
# Usage: net_snmp_test.sh path/to/snmp_test_agent
set -uo pipefail
agent_bin=${1:?usage: $0 snmp_test_agent}
rows=2000

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap "exit 143" TERM INT  # so that a timeout still runs the cleanup

export MIBS=""                           # numeric OIDs only: no MIB files needed
export SNMP_PERSISTENT_DIR="$work/persist"
export SNMPCONFPATH="$work"               # ignore any system-wide snmp.conf

failures=0
pass() { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; failures=$((failures + 1)); }
check() {  # check "what" command...: passes when the command succeeds
    local what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The notification receiver: logs every trap in the "trap" community.
trap_port=$(free_port)
printf 'authCommunity log trap\n' >"$work/snmptrapd.conf"
/usr/sbin/snmptrapd -f -Lo -n -On -C -c "$work/snmptrapd.conf" "udp:127.0.0.1:$trap_port" >"$work/traps.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "NET-SNMP version" "$work/traps.log" && break; sleep 0.1; done

"$agent_bin" --rows "$rows" --trap-port "$trap_port" >"$work/agent.log" 2>&1 &
pids+=($!)
port=""
for _ in $(seq 50); do
    port=$(awk '/^port /{print $2}' "$work/agent.log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "agent did not start"; cat "$work/agent.log"; exit 1; }
target="udp:127.0.0.1:$port"
opts=(-v2c -On -t 2 -r 1)
echo "agent on $target, traps to 127.0.0.1:$trap_port"

# --- coldStart reached snmptrapd ---
for _ in $(seq 30); do grep -q "1.3.6.1.6.3.1.1.5.1" "$work/traps.log" && break; sleep 0.1; done
check "coldStart notification received" grep -q ".1.3.6.1.6.3.1.1.4.1.0 = OID: .1.3.6.1.6.3.1.1.5.1" "$work/traps.log"

# --- snmpget ---
out=$(snmpget "${opts[@]}" -c public "$target" .1.3.6.1.2.1.1.2.0 .1.3.6.1.2.1.1.7.0 .1.3.6.1.3.1717.1.1.2.17 \
      .1.3.6.1.3.1717.1.1.2.99999 .1.3.6.1.3.1717.99.0 2>&1)
check "snmpget sysObjectID" grep -q "^.1.3.6.1.2.1.1.2.0 = OID: .1.3.6.1.4.1.3833.1.30$" <<<"$out"
check "snmpget sysServices" grep -q "^.1.3.6.1.2.1.1.7.0 = INTEGER: 72$" <<<"$out"
check "snmpget table cell" grep -q "^.1.3.6.1.3.1717.1.1.2.17 = INTEGER: 17$" <<<"$out"
check "snmpget noSuchInstance" grep -q "^.1.3.6.1.3.1717.1.1.2.99999 = No Such Instance" <<<"$out"
check "snmpget noSuchObject" grep -q "^.1.3.6.1.3.1717.99.0 = No Such Object" <<<"$out"

# --- snmpgetnext ---
out=$(snmpgetnext "${opts[@]}" -c public "$target" .1.3.6.1.2.1.1.9.1.4.2 .1.3.6.1.3.1717.1.1.3.99 .1.3.6.1.6.3.1.1.6.1.0 2>&1)
check "snmpgetnext into the snmp group" grep -q "^.1.3.6.1.2.1.11.1.0 = Counter32:" <<<"$out"
check "snmpgetnext skips an absent instance" grep -q '^.1.3.6.1.3.1717.1.1.3.101 = STRING: "row 101"$' <<<"$out"
check "snmpgetnext endOfMibView" grep -q "^.1.3.6.1.6.3.1.1.6.1.0 = No more variables left" <<<"$out"

# --- walks: snmpwalk checks the order itself ("OID not increasing") ---
expected=$((8 + 6 + 8 + rows * 7 + (rows - rows / 100) + rows / 2 + 8 + 1))
start=$(date +%s.%N)
snmpwalk "${opts[@]}" -c public "$target" .1 >"$work/walk.txt" 2>"$work/walk.err"
status=$?
walk_s=$(echo "$(date +%s.%N) - $start" | bc)
check "snmpwalk exits cleanly" test "$status" -eq 0 -a ! -s "$work/walk.err"
# net-snmp prints the final endOfMibView as a line of its own.
check "snmpwalk ends with endOfMibView" grep -q "^.1.3.6.1.6.3.1.1.6.1.0 = No more variables left" <(tail -1 "$work/walk.txt")
sed -i '$d' "$work/walk.txt"
check "snmpwalk returns all $expected instances" test "$(wc -l <"$work/walk.txt")" -eq "$expected"
check "snmpwalk ends at snmpSetSerialNo" grep -q "^.1.3.6.1.6.3.1.1.6.1.0 = INTEGER:" <(tail -1 "$work/walk.txt")
start=$(date +%s.%N)
snmpbulkwalk "${opts[@]}" -Cr50 -c public "$target" .1 >"$work/bulkwalk.txt" 2>"$work/bulkwalk.err"
status=$?
bulk_s=$(echo "$(date +%s.%N) - $start" | bc)
check "snmpbulkwalk exits cleanly" test "$status" -eq 0 -a ! -s "$work/bulkwalk.err"
sed -i '/No more variables left/d' "$work/bulkwalk.txt"
# The two walks agree except for what changes on its own (sysUpTime, the snmp counters).
moving='^\.1\.3\.6\.1\.2\.1\.(1\.3\.0|11\.)'
check "snmpbulkwalk returns what snmpwalk returned" \
    diff <(grep -Ev "$moving" "$work/walk.txt") <(grep -Ev "$moving" "$work/bulkwalk.txt")
echo "     walk of $expected instances: snmpwalk ${walk_s}s, snmpbulkwalk ${bulk_s}s"

# --- GetBulk far beyond one datagram is truncated, not tooBig ---
out=$(snmpbulkget "${opts[@]}" -Cn0 -Cr100000 -c public "$target" .1.3.6.1.3.1717 2>&1)
lines=$(wc -l <<<"$out")
check "snmpbulkget of max-repetitions 100000 fills one datagram ($lines bindings)" \
    test "$lines" -gt 1000 -a "$(grep -c 'Error\|tooBig' <<<"$out")" -eq 0

# --- snmpset ---
out=$(snmpset "${opts[@]}" -c private "$target" .1.3.6.1.3.1717.1.1.2.5 i 555 .1.3.6.1.3.1717.1.1.3.5 s "feeder 5" 2>&1)
check "snmpset two columns" test "$(grep -c '^.1.3.6.1.3.1717.1.1.[23].5 = ' <<<"$out")" -eq 2
out=$(snmpget "${opts[@]}" -c public "$target" .1.3.6.1.3.1717.1.1.2.5 .1.3.6.1.3.1717.1.1.3.5 2>&1)
check "snmpset took effect" grep -q '^.1.3.6.1.3.1717.1.1.3.5 = STRING: "feeder 5"$' <<<"$out"

# A bad set changes nothing: the first binding is fine, the second out of range.
out=$(snmpset "${opts[@]}" -c private "$target" .1.3.6.1.3.1717.1.1.2.6 i 666 .1.3.6.1.3.1717.1.1.2.7 i 5000 2>&1)
check "bad snmpset is wrongValue on the second binding" grep -q "wrongValue" <<<"$out"
check "bad snmpset names the failed object" grep -q "Failed object: .1.3.6.1.3.1717.1.1.2.7" <<<"$out"
out=$(snmpget "${opts[@]}" -c public "$target" .1.3.6.1.3.1717.1.1.2.6 .1.3.6.1.3.1717.1.1.2.7 2>&1)
check "bad snmpset changed nothing" \
    test "$(grep -c '^.1.3.6.1.3.1717.1.1.2.6 = INTEGER: 6$\|^.1.3.6.1.3.1717.1.1.2.7 = INTEGER: 7$' <<<"$out")" -eq 2
out=$(snmpset "${opts[@]}" -c private "$target" .1.3.6.1.3.1717.1.1.2.6 i 666 .1.3.6.1.3.1717.1.1.3.6 s "far too long a name" 2>&1)
check "snmpset wrongLength" grep -q "wrongLength" <<<"$out"
out=$(snmpset "${opts[@]}" -c private "$target" .1.3.6.1.3.1717.2.7.0 i 1 2>&1)
check "snmpset of a read-only object is notWritable" grep -q "notWritable" <<<"$out"
out=$(snmpset "${opts[@]}" -c private "$target" .1.3.6.1.3.1717.1.1.2.6 s text 2>&1)
check "snmpset of the wrong type is wrongType" grep -q "wrongType" <<<"$out"
out=$(snmpset "${opts[@]}" -c private "$target" .1.3.6.1.3.1717.1.1.2.99999 i 1 2>&1)
check "snmpset of a missing row is noCreation" grep -q "noCreation" <<<"$out"
out=$(snmpget "${opts[@]}" -c public "$target" .1.3.6.1.3.1717.1.1.2.6 2>&1)
check "failed snmpsets changed nothing" grep -q '^.1.3.6.1.3.1717.1.1.2.6 = INTEGER: 6$' <<<"$out"

# The read community may not write.
out=$(snmpset "${opts[@]}" -c public "$target" .1.3.6.1.3.1717.1.1.2.6 i 1 2>&1)
check "snmpset with the read community is noAccess" grep -q "noAccess" <<<"$out"

# --- a wrong community times out and is counted ---
snmpget -v2c -On -t 0.5 -r 0 -c guess "$target" .1.3.6.1.2.1.1.1.0 >"$work/wrong.txt" 2>&1
check "a wrong community times out" grep -q "Timeout" "$work/wrong.txt"
out=$(snmpget "${opts[@]}" -c public "$target" .1.3.6.1.2.1.11.4.0 .1.3.6.1.2.1.11.5.0 2>&1)
check "snmpInBadCommunityNames counted it" grep -q "^.1.3.6.1.2.1.11.4.0 = Counter32: 1$" <<<"$out"
check "snmpInBadCommunityUses counted the read-community set" grep -q "^.1.3.6.1.2.1.11.5.0 = Counter32: 1$" <<<"$out"

# --- SNMPv1 is not spoken: no answer, counted in snmpInBadVersions ---
snmpget -v1 -On -t 0.5 -r 0 -c public "$target" .1.3.6.1.2.1.1.1.0 >"$work/v1.txt" 2>&1
check "an SNMPv1 request times out" grep -q "Timeout" "$work/v1.txt"
out=$(snmpget "${opts[@]}" -c public "$target" .1.3.6.1.2.1.11.3.0 2>&1)
check "snmpInBadVersions counted it" grep -q "^.1.3.6.1.2.1.11.3.0 = Counter32: 1$" <<<"$out"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    echo "--- agent log"; cat "$work/agent.log"
    echo "--- snmptrapd log"; cat "$work/traps.log"
    exit 1
fi
echo "all checks passed"
