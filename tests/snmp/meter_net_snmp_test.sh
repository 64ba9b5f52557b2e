#!/usr/bin/env bash
# The real meter over SNMP, driven by net-snmp's own tools: the exported MIB
# passes smilint -l 3 and loads into snmptranslate; snmpwalk and snmpbulkwalk
# of the whole tree, numeric and by MIB names, agree with each other and with
# the simulator's known loads; an snmpset persists across a restart and shows
# over Modbus (mbpoll); a bad set changes nothing; a wrong community times
# out; snmptrapd receives coldStart and the event notifications a scenario
# causes. Everything listens on 127.0.0.1 and is stopped on exit.
# Usage: meter_net_snmp_test.sh path/to/openbcpm path/to/smiv2-base-modules
set -uo pipefail
bin=${1:?usage: $0 openbcpm base-mib-dir}
base_mibs=${2:?usage: $0 openbcpm base-mib-dir}

work=$(mktemp -d)
pids=()
meter_pid=""
cleanup() {
    [ -n "$meter_pid" ] && kill "$meter_pid" 2>/dev/null && wait "$meter_pid" 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap "exit 143" TERM INT  # so that a timeout still runs the cleanup

export SNMP_PERSISTENT_DIR="$work/persist"
mkdir -p "$work/persist/cert_indexes"  # else the first tool announces creating it
export SNMPCONFPATH="$work"  # ignore any system-wide snmp.conf
export MIBS=""

failures=0
pass() { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; failures=$((failures + 1)); }
check() {  # check "what" command...: passes when the command succeeds
    local what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
near() {  # near VALUE EXPECTED TOLERANCE
    awk -v v="$1" -v e="$2" -v t="$3" 'BEGIN { d = v - e; if (d < 0) d = -d; exit !(v != "" && d <= t) }'
}
free_port() {  # free_port udp|tcp
    python3 -c 'import socket,sys; k=socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM; s=socket.socket(socket.AF_INET,k); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}

[ -f "$base_mibs/SNMPv2-SMI.mib" ] || { echo "no SMIv2 base modules in $base_mibs (run scripts/install-deps.sh)"; exit 1; }
base_mibs=$(cd "$base_mibs" && pwd)
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# --- the exported MIB ---
mkdir -p "$work/mibs"
check "openbcpm export mib" "$bin" export mib -o "$work/mibs/OPENBCPM-BCPME-MIB"
lint=$(cd "$work/mibs" && SMIPATH="$base_mibs" smilint -l 3 ./OPENBCPM-BCPME-MIB 2>&1)
check "smilint -l 3 reports nothing" test -z "$lint"
[ -z "$lint" ] || echo "$lint" | head -20
mibdirs="$base_mibs:$work/mibs"
mibs="SNMPv2-MIB:OPENBCPM-BCPME-MIB"
out=$(snmptranslate -M "$mibdirs" -m "$mibs" -On OPENBCPM-BCPME-MIB::p1UserDefinedSettings.0 2>&1)
check "snmptranslate: p1UserDefinedSettings.0 is where the guide says" \
    test "$out" = ".1.3.6.1.4.1.3833.1.30.1.1.6.3.4.0"
out=$(snmptranslate -M "$mibdirs" -m "$mibs" -Tp -IR bcpme 2>&1)
check "snmptranslate loads the whole tree without complaint" \
    test "$(grep -c 'Cannot\|Unlinked\|Did not find\|Bad' <<<"$out")" -eq 0 -a "$(wc -l <<<"$out")" -gt 500

# --- the notification receiver ---
trap_port=$(free_port udp)
printf 'authCommunity log trap\n' >"$work/snmptrapd.conf"
/usr/sbin/snmptrapd -f -Lo -n -On -C -c "$work/snmptrapd.conf" "udp:127.0.0.1:$trap_port" >"$work/traps.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "NET-SNMP version" "$work/traps.log" && break; sleep 0.1; done

# --- the meter: Protocol_Mode 3 (SNMP), known loads, a scenario over high-high ---
snmp_port=$(free_port udp)
modbus_port=$(free_port tcp)
cat >"$work/meter.toml" <<EOF
[device]
channels = 84
[gateway]
protocol_mode = 3
[faces]
web = false
[network]
ip_address = "127.0.0.1"
[modbus]
tcp_port = $modbus_port
[snmp]
port = $snmp_port
notif_ip = "127.0.0.1"
notif_port = $trap_port
[panel.1]
on_time = 1
hh_delay = 2
h_delay = 2
nl_low_threshold = 0
[panel.2]
nl_low_threshold = 0
[[panel.1.channel]]
channel = 5
breaker_size = 30
[storage]
checkpoint_ms = 200
[simulation]
speed = 2.0
wiring = "wye"
voltage_ln = 120.0
frequency = 60.0
current_noise = 0.0
voltage_thd = 0.0
[[simulation.load]]
panel = 1
channel = 5
amps = 12.5
pf = 0.85
[[simulation.load]]
panel = 1
channel = 3
amps = 10.0
# Panel 2's mains, by phase (aux 1..3): energy at about 15 Wh per second.
[[simulation.load]]
panel = 2
channel = 43
amps = 150.0
pf = 0.95
[[simulation.load]]
panel = 2
channel = 44
amps = 60.0
[[simulation.load]]
panel = 2
channel = 45
amps = 30.0
pf = 0.9
# 16 A on channel 3's 20 A breaker is 80 %: over high-high (70 %) and high (60 %).
[[simulation.event]]
at = 3.0
action = "ramp"
channel = 3
amps = 16.0
duration = 0.5
[[simulation.event]]
at = 8.0
action = "ramp"
channel = 3
amps = 10.0
duration = 0.5
EOF
target="udp:127.0.0.1:$snmp_port"
opts=(-v2c -t 2 -r 1)
num=("${opts[@]}" -On)
named=("${opts[@]}" -M "$mibdirs" -m "$mibs")
start_meter() {  # start_meter LOG
    "$bin" run --config "$work/meter.toml" --state-dir "$work/state" >"$1" 2>&1 &
    meter_pid=$!
    for _ in $(seq 100); do
        snmpget "${num[@]}" -t 0.2 -r 0 -c public "$target" .1.3.6.1.2.1.1.3.0 >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the meter did not answer"; cat "$1"; return 1
}
stop_meter() {
    kill -TERM "$meter_pid"
    wait "$meter_pid"
    local status=$?
    meter_pid=""
    return $status
}
modbus_reg() {  # modbus_reg REGISTER (1-based, as printed in the point map)
    mbpoll -m tcp -a 1 -t 4 -r "$1" -c 1 -p "$modbus_port" -1 -q 127.0.0.1 2>/dev/null | awk '/^\[/{print $2}'
}
get_value() {  # get_value NAME: the value of one instance, by MIB name, without its unit
    snmpget "${named[@]}" -Oqv -c public "$target" "OPENBCPM-BCPME-MIB::$1" 2>&1 | awk '{print $1}'
}

start_meter "$work/meter1.log" || exit 1
echo "meter: SNMP on $target, Modbus TCP on $modbus_port, traps to 127.0.0.1:$trap_port"

for _ in $(seq 30); do grep -q "1.3.6.1.6.3.1.1.5.1" "$work/traps.log" && break; sleep 0.1; done
check "coldStart received" grep -q ".1.3.6.1.6.3.1.1.4.1.0 = OID: .1.3.6.1.6.3.1.1.5.1" "$work/traps.log"
out=$(snmpget "${named[@]}" -c public "$target" SNMPv2-MIB::sysObjectID.0 SNMPv2-MIB::sysORID.2 2>&1)
check "sysObjectID is the meter's subtree" grep -q "sysObjectID.0 = OID: OPENBCPM-BCPME-MIB::bcpme$" <<<"$out"
check "sysORTable names the product MIB" grep -q "sysORID.2 = OID: OPENBCPM-BCPME-MIB::bcpmeMIB$" <<<"$out"

# --- values against the simulator's truth ---
# The agent answers at once, the first metering window ends a few hundred ms
# later (more under ASan): wait for it, as a poller must after power-up.
for _ in $(seq 50); do near "$(get_value p1BranchCurrent.5)" 12.5 0.15 && break; sleep 0.1; done
value=$(get_value p1BranchCurrent.5)
check "p1BranchCurrent.5 is 12.5 A (read: $value)" near "$value" 12.5 0.15
check "p1BranchPf.5 is 0.85" near "$(get_value p1BranchPf.5)" 0.85 0.01
check "p1BranchKw.5 is 12.5 A x 120 V x 0.85" near "$(get_value p1BranchKw.5)" 1.275 0.03
check "p1VoltsLineNeutral.2 is 120 V" near "$(get_value p1VoltsLineNeutral.2)" 120 0.5
check "p1VoltsLineLine.1 is 120 V x sqrt 3" near "$(get_value p1VoltsLineLine.1)" 207.8 1
check "p1Frequency.0 is 60 Hz" near "$(get_value p1Frequency.0)" 60 0.05
check "p2VoltsLineNeutral.3 is 120 V (shared taps)" near "$(get_value p2VoltsLineNeutral.3)" 120 0.5
check "p1ChannelBreakerSize.5 is the configured 30 A" test "$(get_value p1ChannelBreakerSize.5)" = 30
# (numeric: with the MIB loaded, snmpget itself refuses row 43 of a 42-row table)
out=$(snmpget "${num[@]}" -c public "$target" .1.3.6.1.4.1.3833.1.30.1.1.3.2.1.3.4 \
      .1.3.6.1.4.1.3833.1.30.1.1.5.1.1.6.44 .1.3.6.1.4.1.3833.1.30.1.1.4.1.1.2.43 2>&1)
check "absent cells are noSuchInstance (aux 4 kW, flex circuit 44, branch 43)" \
    test "$(grep -c 'No Such Instance' <<<"$out")" -eq 3

# --- the mains by phase (aux table columns 10..13) add up to the mains scalars ---
# Panel 2 (its aux inputs carry the loads). One request reads one snapshot, so
# each sum is exact but for the rounding of each value (energy in Wh, kW in W).
phases_and_total() {  # phases_and_total COLUMN SCALAR: aux 1..3 then the total, one request
    snmpget "${named[@]}" -Oqv -c public "$target" "OPENBCPM-BCPME-MIB::p2$1.1" \
        "OPENBCPM-BCPME-MIB::p2$1.2" "OPENBCPM-BCPME-MIB::p2$1.3" "OPENBCPM-BCPME-MIB::p2$2.0" 2>&1 |
        awk '{print $1}' | paste -sd' '
}
sums_to_total() {  # sums_to_total "A B C TOTAL" TOLERANCE MIN: A + B + C = TOTAL > MIN, all > 0
    awk -v t="$2" -v m="$3" '{ d = $1 + $2 + $3 - $4; if (d < 0) d = -d
        exit !(NF == 4 && $1 > 0 && $2 > 0 && $3 > 0 && $4 > m && d <= t) }' <<<"$1"
}
for _ in $(seq 30); do
    awk '{ exit !($4 > 20) }' <<<"$(phases_and_total AuxKwh MainsKwh)" && break; sleep 0.1
done
# A demand sub-interval ends now: demand and snapshots get their values.
out=$(snmpset "${named[@]}" -c private "$target" OPENBCPM-BCPME-MIB::p2GlobalReset.0 i 26012 2>&1)
check "snmpset p2GlobalReset.0 = beginNewSubinterval" \
    grep -q "beginNewSubinterval" <<<"$out"
for spec in "AuxKwh MainsKwh 2 20" "AuxKwhSnapshot MainsKwhSnapshot 2 20" \
             "AuxKwDemand MainsKwDemand 0.002 20" "AuxMaxKwDemand MainsMaxKwDemand 0.002 20"; do
    read -r column scalar tolerance least <<<"$spec"
    values=$(phases_and_total "$column" "$scalar")
    check "p2$column.1..3 add up to p2$scalar.0 ($values)" sums_to_total "$values" "$tolerance" "$least"
done
out=$(snmpget "${num[@]}" -c public "$target" .1.3.6.1.4.1.3833.1.30.1.2.3.2.1.10.4 \
      .1.3.6.1.4.1.3833.1.30.1.2.3.2.1.13.4 2>&1)
check "aux 4 (the neutral) has no energy or demand cells" \
    test "$(grep -c 'No Such Instance' <<<"$out")" -eq 2
# The same max kW demand over Modbus (unit 2, floats 3619..3623, extension registers).
snmp_max=$(phases_and_total AuxMaxKwDemand MainsMaxKwDemand)
modbus_max=$(mbpoll -m tcp -a 2 -t 4:float -B -r 3619 -c 3 -p "$modbus_port" -1 -q 127.0.0.1 2>/dev/null |
             awk '/^\[/{print $2}' | paste -sd' ')
check "Modbus 3619..3623 read the SNMP max kW demands ($modbus_max / $snmp_max)" \
    awk -v m="$modbus_max" -v s="$snmp_max" 'BEGIN { split(m, a, " "); split(s, b, " ");
        for (i = 1; i <= 3; i++) { d = a[i] - b[i]; if (d < 0) d = -d; if (a[i] == "" || b[i] <= 0 || d > 0.0011) exit 1 } }'
# AuxReset clearEnergy: the phases' energy starts again, as the total's (Wh).
out=$(snmpset "${named[@]}" -c private "$target" OPENBCPM-BCPME-MIB::p2AuxReset.0 i 10203 2>&1)
check "snmpset p2AuxReset.0 = clearEnergy" grep -q "clearEnergy" <<<"$out"
values=$(phases_and_total AuxKwh MainsKwh)
check "the phases' energy and the total are cleared ($values Wh)" \
    awk '{ exit !(NF == 4 && $1 < 3 && $2 < 2 && $3 < 2 && $4 < 5) }' <<<"$values"

# --- whole-tree walks: numeric and by names, one by one and in bulk ---
walk() {  # walk OUTFILE command...
    local out=$1; shift
    local t0; t0=$(date +%s.%N)
    "$@" >"$out" 2>"$out.err"
    local status=$?
    echo "$(echo "$(date +%s.%N) - $t0" | bc)" >"$out.seconds"
    test "$status" -eq 0 -a ! -s "$out.err"
}
check "snmpwalk numeric of the whole tree" walk "$work/walk_num" snmpwalk "${num[@]}" -c public "$target" .1
check "snmpbulkwalk numeric of the whole tree" walk "$work/bulk_num" snmpbulkwalk "${num[@]}" -Cr50 -c public "$target" .1
check "snmpwalk by names of the whole tree" walk "$work/walk_named" snmpwalk "${named[@]}" -c public "$target" .1
check "snmpbulkwalk by names of the whole tree" walk "$work/bulk_named" snmpbulkwalk "${named[@]}" -Cr50 -c public "$target" .1
for f in walk_num bulk_num walk_named bulk_named; do sed -i '/No more variables left/d' "$work/$f"; done
names() { cut -d' ' -f1 "$1"; }
n=$(wc -l <"$work/walk_num")
product=$(grep -c '^\.1\.3\.6\.1\.4\.1\.3833\.1\.30\.' "$work/walk_num")
check "the four walks return the same $n instances in the same order" \
    bash -c "diff <(cut -d' ' -f1 '$work/walk_num') <(cut -d' ' -f1 '$work/bulk_num') >/dev/null &&
             diff <(cut -d' ' -f1 '$work/walk_named') <(cut -d' ' -f1 '$work/bulk_named') >/dev/null &&
             test \$(wc -l <'$work/walk_named') -eq $n"
check "the product tree has $product instances (both panels)" test "$product" -gt 4000
check "every named instance matches the MIB's type (no 'Wrong Type')" \
    test "$(grep -c 'Wrong Type' "$work/walk_named" "$work/bulk_named" | awk -F: '{s += $2} END {print s}')" -eq 0
check "every product instance has a MIB name" \
    test "$(grep -c '^OPENBCPM-BCPME-MIB::' "$work/walk_named")" -eq "$product"
check "the walk holds 42 branch currents per panel" \
    test "$(grep -c '^OPENBCPM-BCPME-MIB::p[12]BranchCurrent\.' "$work/walk_named")" -eq 84
check "the walk skips the absent cells" \
    test "$(grep -c '^OPENBCPM-BCPME-MIB::p1AuxKw\.4 \|^OPENBCPM-BCPME-MIB::p1FlexKw\.44 ' "$work/walk_named")" -eq 0
check "the walk by names shows p1UserDefinedSettings" \
    grep -q '^OPENBCPM-BCPME-MIB::p1UserDefinedSettings.0 = INTEGER: 0$' "$work/walk_named"
# Settings do not move by themselves: both walks agree on every configuration value.
check "walk and bulk walk agree on the configuration branch" \
    diff <(grep '^\.1\.3\.6\.1\.4\.1\.3833\.1\.30\.1\.[12]\.6\.[3-5]\.' "$work/walk_num") \
         <(grep '^\.1\.3\.6\.1\.4\.1\.3833\.1\.30\.1\.[12]\.6\.[3-5]\.' "$work/bulk_num")
echo "     whole tree, $n instances: snmpwalk $(cat "$work/walk_num.seconds")s, snmpbulkwalk $(cat "$work/bulk_num.seconds")s (numeric)"

# --- a set persists, shows over Modbus; a bad set changes nothing ---
out=$(snmpset "${named[@]}" -c private "$target" OPENBCPM-BCPME-MIB::p1HighHighThreshold.0 i 650 \
      OPENBCPM-BCPME-MIB::p1ChannelCtSize.7 i 50 OPENBCPM-BCPME-MIB::p1Location.0 s "Row D" 2>&1)
check "snmpset of three settings" test "$(grep -c ' = ' <<<"$out")" -eq 3
check "the settings read back" test "$(get_value p1HighHighThreshold.0)" = "65.0" -a "$(get_value p1ChannelCtSize.7)" = 50
check "Modbus register 171 (high-high threshold) shows 650" test "$(modbus_reg 171)" = 650
check "Modbus register 79 (CT size of channel 7) shows 50" test "$(modbus_reg 79)" = 50
# -Ir: let the agent judge the range (snmpset checks it against the MIB otherwise).
out=$(snmpset "${named[@]}" -Ir -c private "$target" OPENBCPM-BCPME-MIB::p1HighThreshold.0 i 500 \
      OPENBCPM-BCPME-MIB::p1LowThreshold.0 i 5000 2>&1)
check "a bad snmpset is wrongValue" grep -q "wrongValue" <<<"$out"
check "a bad snmpset names its second binding" grep -q "Failed object: OPENBCPM-BCPME-MIB::p1LowThreshold.0" <<<"$out"
check "a bad snmpset changed nothing (SNMP)" test "$(get_value p1HighThreshold.0)" = "60.0"
check "a bad snmpset changed nothing (Modbus 172)" test "$(modbus_reg 172)" = 600
out=$(snmpset "${named[@]}" -c private "$target" OPENBCPM-BCPME-MIB::p1BranchCurrent.5 i 1 2>&1)
check "a measurement is notWritable" grep -q "notWritable" <<<"$out"
out=$(snmpset "${named[@]}" -c public "$target" OPENBCPM-BCPME-MIB::p1HighThreshold.0 i 500 2>&1)
check "the read community may not set (noAccess)" grep -q "noAccess" <<<"$out"

# --- a wrong community gets no answer and is counted ---
snmpget -v2c -On -t 0.5 -r 0 -c guess "$target" .1.3.6.1.2.1.1.1.0 >"$work/wrong.txt" 2>&1
check "a wrong community times out" grep -q "Timeout" "$work/wrong.txt"
out=$(snmpget "${num[@]}" -c public "$target" .1.3.6.1.2.1.11.4.0 2>&1)
check "snmpInBadCommunityNames counted it" grep -q "= Counter32: 1$" <<<"$out"

# --- the scenario's events reach snmptrapd ---
# Latched high-high on channel 3: p1EventLatched with channel 3, level highHigh(1), ~16 A.
latched=".1.3.6.1.6.3.1.1.4.1.0 = OID: .1.3.6.1.4.1.3833.1.30.1.1.1.0.1"
level_hh="1.3.6.1.4.1.3833.1.30.1.1.1.5.2.0 = INTEGER: 1[^0-9]"
for _ in $(seq 150); do grep "$latched" "$work/traps.log" | grep -q "$level_hh" && break; sleep 0.1; done
trap_hh=$(grep "$latched" "$work/traps.log" | grep "$level_hh" | head -1)
check "p1EventLatched received for high-high" test -n "$trap_hh"
check "... for channel 3" grep -q "1.3.6.1.4.1.3833.1.30.1.1.1.5.1.0 = Gauge32: 3[^0-9]" <<<"$trap_hh"
value=$(grep -o "1.3.6.1.4.1.3833.1.30.1.1.1.5.3.0 = INTEGER: [0-9]*" <<<"$trap_hh" | awk '{print $4}')
check "... at about 16 A ($value mA)" near "$value" 16000 300
check "... with the channel's latched status bound in" \
    grep -q "1.3.6.1.4.1.3833.1.30.1.1.1.3.1.2.3 = INTEGER: [0-9]" <<<"$trap_hh"
check "p1NonLatchingEventActive received for channel 3" \
    grep -q "OID: .1.3.6.1.4.1.3833.1.30.1.1.1.0.3[[:space:]].*5.1.0 = Gauge32: 3[^0-9]" "$work/traps.log"
check "the status shows the latch over SNMP" test "$(( $(get_value p1ChannelEventStatus.3) & 1 ))" -eq 1
check "... and over Modbus (register 180)" test "$(( $(modbus_reg 180) & 1 ))" -eq 1

# Clearing the latch through SNMP (a 0 written to the latched bits) once the
# scenario has brought channel 3 back to 10 A, so that it stays cleared.
for _ in $(seq 100); do near "$(get_value p1BranchCurrent.3)" 10 0.5 && break; sleep 0.1; done
check "channel 3 is back at 10 A" near "$(get_value p1BranchCurrent.3)" 10 0.5
out=$(snmpset "${named[@]}" -c private "$target" OPENBCPM-BCPME-MIB::p1ChannelEventStatus.3 i 0 2>&1)
check "snmpset clears the latches of channel 3" grep -q "p1ChannelEventStatus.3 = INTEGER: 0" <<<"$out"
for _ in $(seq 30); do test "$(( $(modbus_reg 180) & 31 ))" -eq 0 && break; sleep 0.1; done
check "the latches are cleared (Modbus register 180)" test "$(( $(modbus_reg 180) & 31 ))" -eq 0
cleared=".1.3.6.1.6.3.1.1.4.1.0 = OID: .1.3.6.1.4.1.3833.1.30.1.1.1.0.2"
for _ in $(seq 30); do grep -q "$cleared" "$work/traps.log" && break; sleep 0.1; done
check "p1EventLatchCleared received" grep -q "$cleared" "$work/traps.log"

# --- the setting survives a restart with the same state directory ---
check "the meter stops cleanly" stop_meter
start_meter "$work/meter2.log" || exit 1
check "p1HighHighThreshold.0 is still 65.0 % after the restart" test "$(get_value p1HighHighThreshold.0)" = "65.0"
check "p1Location.0 is still Row D" test "$(snmpget "${named[@]}" -Oqv -c public "$target" OPENBCPM-BCPME-MIB::p1Location.0)" = "Row D"
check "Modbus register 171 is still 650" test "$(modbus_reg 171)" = 650
check "the meter stops cleanly again" stop_meter

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    echo "--- meter log"; tail -30 "$work/meter1.log"
    echo "--- snmptrapd log"; tail -40 "$work/traps.log"
    exit 1
fi
echo "all checks passed"
