#!/usr/bin/env bash
# Modbus TCP benchmark: openbcpm's face and a minimal libmodbus server, in the
# same run, with 1, 16 and 64 concurrent masters reading 125 registers; and
# beside them the floor (floor_server.cpp: one recv and one send per
# readiness and nothing else), the least any server pays per request here.
# Prints each server's requests per second and its CPU time per request
# (utime + stime from /proc over the load), then the ratios.
# Usage: bench/modbus/run.sh [build-dir] [seconds] [masters...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../meter_run.sh"
shift $(($# < 2 ? $# : 2))
masters=("${@:-1 16 64}")
read -r -a masters <<< "${masters[*]}"
cat > "$work/meter.toml" <<TOML
[device]
channels = 84
[faces]
web = false
[modbus]
tcp_port = 15020
max_connections = 128
TOML
start_meter
meter=$!
"$build/bench/modbus/libmodbus_server" 15021 &
peer=$!
"$build/bench/modbus/modbus_floor_server" 15022 &
floor=$!
sleep 1.5
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "$1"; }  # utime + stime of a /proc stat file
now() { date +%s.%N; }

# The meter's own CPU while no master asks anything (its acquisition thread
# meters the simulated panels in real time): subtracted from its process figure.
t0=$(now); m0=$(ticks /proc/$meter/stat); sleep "$seconds"
idle_per_s=$(awk -v a="$m0" -v b="$(ticks /proc/$meter/stat)" -v t0="$t0" -v t1="$(now)" \
  -v hz="$hz" 'BEGIN { printf "%.4f", (b - a) / hz / (t1 - t0) }')
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
echo "meter idle: ${idle_per_s} s of CPU per second (acquisition)"
echo
printf '%-7s %-9s %9s %6s %6s %16s %16s %10s\n' masters server 'req/s' p50 p99 \
  'CPU us/req' 'loop us/req' 'tool us/req'

# run SERVER PORT MASTERS: one load run; sets rps and cpu (us per request).
run() {
  local name=$1 port=$2 clients=$3 pid stat loop t0 t1 c0 c1 l0 l1 out
  case $name in openbcpm) pid=$meter ;; libmodbus) pid=$peer ;; *) pid=$floor ;; esac
  stat=/proc/$pid/stat
  loop=/proc/$pid/task/$pid/stat  # the main thread: openbcpm's event loop
  t0=$(now); c0=$(ticks "$stat"); l0=$(ticks "$loop")
  out=$("$build/bench/modbus/modbus_load" "$port" "$clients" "$seconds" 1 1999)
  t1=$(now); c1=$(ticks "$stat"); l1=$(ticks "$loop")
  read -r rps p50 p99 requests tool < <(echo "$out" |
    sed -E 's/.*: ([0-9]+) req\/s, p50 ([0-9]+) us, p99 ([0-9]+) us.*requests ([0-9]+), load tool CPU ([0-9.]+) us\/req/\1 \2 \3 \4 \5/')
  local idle=0
  if [ "$name" = openbcpm ]; then idle=$idle_per_s; fi
  cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
    -v idle="$idle" -v n="$requests" 'BEGIN { printf "%.2f", ((b - a) / hz - idle * t) * 1e6 / n }')
  lcpu=$(awk -v a="$l0" -v b="$l1" -v hz="$hz" -v n="$requests" 'BEGIN { printf "%.2f", (b - a) / hz * 1e6 / n }')
  printf '%-7s %-9s %9s %6s %6s %16s %16s %10s\n' "$clients" "$name" "$rps" "$p50" "$p99" \
    "$cpu" "$lcpu" "$tool"
  if ! echo "$out" | grep -q 'errors 0,'; then echo "  load tool: $out" >&2; fi
}

summary=()
for clients in "${masters[@]}"; do
  run openbcpm 15020 "$clients"; o_rps=$rps; o_cpu=$cpu
  run libmodbus 15021 "$clients"; l_rps=$rps; l_cpu=$cpu
  run floor 15022 "$clients"; f_cpu=$cpu
  summary+=("$(awk -v c="$clients" -v a="$o_rps" -v b="$l_rps" -v x="$o_cpu" -v y="$l_cpu" -v f="$f_cpu" \
    'BEGIN { printf "%d masters: openbcpm/libmodbus req/s %.2fx, libmodbus/openbcpm CPU per request %.2fx (libmodbus/floor %.2fx)", c, a / b, y / x, y / f }')")
done
echo
echo "CPU us/req: the server process's utime+stime over the run per request (openbcpm: net of its"
echo "idle acquisition); loop us/req: openbcpm's event loop thread (libmodbus: its one thread)."
printf '%s\n' "${summary[@]}"
