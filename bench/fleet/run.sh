#!/usr/bin/env bash
# The site benchmark (issue 17, docs/fleet.md): COUNT meters in one
# `openbcpm run` ([fleet], first_address 127.0.1.1, meter k on 127.0.1.1 + k),
# the embedded default (BCPME84: two panels, 73 simulated loads) at real time,
# with Modbus TCP, BACnet/IP, SNMP and the web on (FACES=noweb: the web off).
# Measures, in this order:
#   * start-up: until the last meter answers Modbus TCP (mbpoll), SNMP
#     (snmpget) and HTTPS (curl); meters start in index order;
#   * after 10 s of settling, over SECONDS of polling: the process's and each
#     thread's CPU (/proc/PID/task/*/stat; the pool's threads are named
#     acquisition-N), VmRSS, and the poller (fleet_poll: one connection per
#     meter, 125 registers of both panels, units 1 and 2, every 5 s spread
#     evenly over the 5 s; p50/p99/max on a monotonic clock, polls missed);
#   * real time: bcpm_windows_total and bcpm_meter_lag_seconds of every meter
#     from the site's /metrics?scope=site (50 meters an answer) before and after
#     the polling (web on);
#   * BACnet discovery: discover.mjs (@bacnet-js/client), a global Who-Is to
#     each meter, expecting 3 x COUNT devices;
#   * `snmpbulkwalk -v2c -c public udp:<meter>:PORT .1` (the whole tree) of
#     meters 0, COUNT/2 and COUNT-1, three times each;
#   * the stop (SIGTERM until exit), then the same walk of one meter run alone
#     (the same file without [fleet], at 127.0.1.1).
# Only 127.0.0.0/8; every process started is stopped on exit.
# NICE=-10 (root) runs the script and all it starts (meters and clients) at that
# nice value: on a machine shared with builds, the figures of the meter rather
# than of the queue for the two cores (the event loop's wait for a core is printed).
# Usage: bench/fleet/run.sh [build-dir] [seconds] [count]   (FACES=noweb to turn the web off)
#   build-dir: Release with -DOPENBCPM_BENCH=ON (targets openbcpm, fleet_poll).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../meter_run.sh"
count="${3:-50}"
[ -z "${NICE:-}" ] || renice -n "$NICE" -p $$ > /dev/null
faces="${FACES:-all}"
web=$([ "$faces" = noweb ] && echo false || echo true)
poll="$build/bench/fleet/fleet_poll"
[ -x "$poll" ] && [ -x "$build/openbcpm" ] || { echo "build openbcpm and fleet_poll in $build"; exit 1; }
modbus=15502 bacnet=47982 client=47983 snmp=16161 notif=16162 https=18443 offset=200000
export MIBS="" SNMPCONFPATH=/nonexistent
address() { python3 -c "import ipaddress, sys; print(ipaddress.ip_address('127.0.1.1') + int(sys.argv[1]))" "$1"; }
last=$(address $((count - 1)))
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The template; a /16 netmask so that no meter's address is its subnet's broadcast address.
template() {
  cat <<TOML
[device]
channels = 84
serial_number = "00B00000"
[bacnet]
ip_port = $bacnet
device_id_offset = $offset
[modbus]
tcp_port = $modbus
[snmp]
port = $snmp
notif_port = $notif
[web]
port = $https
[network]
ip_address = "127.0.1.1"
netmask = "255.255.0.0"
[faces]
modbus_tcp = true
bacnet_ip = true
snmp = true
web = $web
[panel.1]
location = "Hall B"
TOML
}
{ template; printf '[fleet]\ncount = %s\nfirst_address = "127.0.1.1"\n' "$count"; } > "$work/meter.toml"

echo "# $(date -u '+%F %H:%M') $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $count meters on 127.0.1.1..$last, nice ${NICE:-0}, faces: Modbus TCP, BACnet/IP, SNMP$([ "$web" = true ] && echo ', web')"
t0=$(now)
start_meter
pid=$!
answers() {  # answers ADDRESS: every face of that meter answers
  mbpoll -m tcp -p "$modbus" -a 1 -r 1 -c 2 -1 -0 -o 1 "$1" > /dev/null 2>&1 &&
    snmpget -v2c -c public -t 1 -r 0 "udp:$1:$snmp" .1.3.6.1.2.1.1.1.0 > /dev/null 2>&1 &&
    { [ "$web" = false ] || curl -sk -o /dev/null --max-time 5 "https://$1:$https/"; }
}
until answers "$last"; do
  kill -0 "$pid" 2> /dev/null || { tail -20 "$work/meter.log"; exit 1; }
  sleep 1
done
echo "start-up: all $count meters answer every face after $(since "$t0") s"
sleep 10

# Real time: each meter's windows (0.2 s each) and lag from the site's metrics.
scrape() {  # scrape FILE: "meter windows lag" per line
  local a
  for ((a = 0; a < count; a += 50)); do  # at most 50 meters' series an answer
    curl -sk --max-time 120 -H "Authorization: Bearer $token" \
      "https://127.0.1.1:$https/metrics?scope=site&meters=$a-$((a + 49 < count ? a + 49 : count - 1))"
  done | awk '/^bcpm_(windows_total|meter_lag_seconds)\{meter="/ {
           split($1, a, "\""); if ($1 ~ /^bcpm_windows/) w[a[2]] = $2; else l[a[2]] = $2 }
         END { for (k in w) print k, w[k], l[k] }' | LC_ALL=C sort > "$1"
}
if [ "$web" = true ]; then
  # A fleet meter's initial password is written by the hashing pool after it starts.
  password="$work/state/meters/0000/initial-admin-password"
  for _ in $(seq 600); do [ -s "$password" ] && break; sleep 0.5; done
  token=$(python3 "$here/bench/fleet/site_token.py" 127.0.1.1 "$https" "$password")
  a=$(now)
  scrape "$work/windows0"
  b=$(now)
  s0=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (a + b) / 2 }')  # a meter's part: within the scrape
fi

# CPU of the process and of each thread, RSS, while the poller runs.
hz=$(getconf CLK_TCK)
threads() {  # "name ticks" per thread name (its -N dropped: the pool's threads summed)
  for f in /proc/"$pid"/task/*/stat; do cat "$f" 2> /dev/null; echo; done |
    sed -nE 's/^[0-9]+ \((.*)\) . (.*)$/\1 \2/p' |
    awk '{ sub(/-[0-9]+$/, "", $1); t[$1] += $12 + $13 } END { for (n in t) print n, t[n] }' | LC_ALL=C sort
}
c0=$(awk '{ print $14 + $15 }' /proc/"$pid"/stat)
threads > "$work/threads0"
q0=$(cat /proc/"$pid"/schedstat)
p0=$(now)
poll_line=$("$poll" 127.0.1.1 "$count" "$modbus" "$seconds" 5 1 || true)
p1=$(now)
c1=$(awk '{ print $14 + $15 }' /proc/"$pid"/stat)
threads > "$work/threads1"
q1=$(cat /proc/"$pid"/schedstat)
wall=$(awk -v a="$p0" -v b="$p1" 'BEGIN { print b - a }')
echo "poller ($seconds s, $((2 * count)) panels every 5 s, 125 registers): $poll_line"
echo "RSS: $(awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' /proc/"$pid"/status), threads $(ls /proc/"$pid"/task | wc -l)"
echo "CPU over the poll (cores): process $(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v t="$wall" 'BEGIN { printf "%.3f", (b - a) / hz / t }')"
LC_ALL=C join "$work/threads0" "$work/threads1" | awk -v hz="$hz" -v t="$wall" '
  { c = ($3 - $2) / hz / t; if (c >= 0.001) printf "  %-20s %.3f\n", $1, c }'

# The main thread runs the event loop: the time it was ready to run but waited for a core
# (schedstat's run-queue delay) is the machine's share of the poller's latency.
awk -v t="$wall" '{ printf "event loop thread: on a core %.3f, waiting for a core %.3f of the time (load %s)\n",
  ($4 - $1) / 1e9 / t, ($5 - $2) / 1e9 / t, load }' load="$(cut -d' ' -f1-3 /proc/loadavg)" <<< "$q0 $q1"

if [ "$web" = true ]; then
  a=$(now)
  scrape "$work/windows1"
  b=$(now)
  t=$(awk -v a="$a" -v b="$b" -v s0="$s0" 'BEGIN { printf "%.3f", (a + b) / 2 - s0 }')
  echo "site metrics scrape: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b - a }') s"
  LC_ALL=C join "$work/windows0" "$work/windows1" | awk -v t="$t" -v n="$count" '
    { r = ($4 - $2) / t; if (NR == 1 || r < lo) lo = r; if (NR == 1 || r > hi) hi = r
      if ($5 > lag) lag = $5; if ($3 > lag) lag = $3 }
    END { printf "real time: %d of %d meters in the site metrics, windows per second %.2f..%.2f (5 = real time), lag max %.3f s\n", NR, n, lo, hi, lag }'
fi

echo "BACnet: $(node "$here/bench/fleet/discover.mjs" 127.0.1.1 "$count" "$bacnet" "$client" "$offset" || true)"

walk() {  # walk ADDRESS: seconds of one snmpbulkwalk of the whole tree, and its lines
  local a b n
  a=$(now)
  n=$(snmpbulkwalk -v2c -c public -On "udp:$1:$snmp" .1 | wc -l)
  b=$(now)
  awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.3f s (%d lines)", b - a, n }'
}
walks() {  # walks ADDRESS: three walks
  echo "  $1: $(walk "$1"), $(walk "$1"), $(walk "$1")"
}
echo "snmpbulkwalk -v2c -c public udp:ADDRESS:$snmp .1, of meters of the site:"
for k in 0 $((count / 2)) $((count - 1)); do walks "$(address "$k")"; done

t1=$(now)
kill -TERM "$pid"
wait "$pid" || true
echo "stop: $(since "$t1") s (SIGTERM until exit)"

# One meter alone: the same file without [fleet], at 127.0.1.1.
template > "$work/meter.toml"
rm -rf "$work/state"
start_meter
pid=$!
until answers 127.0.1.1; do
  kill -0 "$pid" 2> /dev/null || { tail -20 "$work/meter.log"; exit 1; }
  sleep 0.5
done
sleep 5
echo "snmpbulkwalk of a single meter run alone:"
walks 127.0.1.1
kill -TERM "$pid"
wait "$pid" || true
