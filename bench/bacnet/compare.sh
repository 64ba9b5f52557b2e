#!/usr/bin/env bash
# BACnet/IP ReadProperty, openbcpm against bacnet-stack's demo server, in the
# same run on 127.0.0.1: requests per second, p50/p99, server CPU per request
# (utime + stime of the server process from /proc/PID/stat) and the ratio.
#
# openbcpm: `openbcpm run` (BCPME84, Protocol_Mode 2, the simulator in real
# time, BACnet/IP only); the request is Present_Value of panel 1's AI417
# through the virtual router (DNET 50, DADR 1). The peer: bacnet-stack's
# apps/server answering on its own device; the request is Present_Value of
# the Analog Input it creates at start. The load (`bacnet_load --window N`)
# is one thread keeping N requests in flight on one socket, for both.
# Beside them: the same meter with `[bacnet] udp_gso = true`, and the floor
# (floor_server.cpp: recvmmsg, a fixed answer per request, sendmmsg), the
# least any server with one datagram per answer pays here.
#
# The peer is not part of this repository and is never vendored: build it
# from bacnet-stack's source in a directory of your own, e.g.
#   git clone <bacnet-stack repository> /tmp/bacnet-stack && cd /tmp/bacnet-stack
#   sed -i 's/-DPRINT_ENABLED=1/-DPRINT_ENABLED=0/' apps/Makefile   # no line on stderr per request
#   make BACDL=bip OPTIMIZATION=-O2 server                        # -> bin/bacserv
# and give its path in BACNET_PEER.
#
# Usage: BACNET_PEER=/tmp/bacnet-stack/bin/bacserv bench/bacnet/compare.sh [build-dir] [seconds] [rounds]
#   build-dir built with -DCMAKE_BUILD_TYPE=Release and OPENBCPM_BACNET_BENCH
#   (targets openbcpm and bacnet_load).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../meter_run.sh"
rounds="${3:-3}"
peer="${BACNET_PEER:?set BACNET_PEER to a built bacnet-stack apps/server (bacserv); see the comment at the top}"
[ -x "$peer" ] || { echo "BACNET_PEER=$peer is not executable"; exit 1; }
load="$(find "$build" -name bacnet_load -type f -executable | head -1)"
[ -n "$load" ] || { echo "no bacnet_load under $build"; exit 1; }
floor_server="$(find "$build" -name bacnet_floor_server -type f -executable | head -1)"
[ -n "$floor_server" ] || { echo "no bacnet_floor_server under $build"; exit 1; }
ours_port=47961
gso_port=47965
floor_port=47967
peer_port=47963

start_one_face bacnet "$ours_port"
ours_pid=$meter_pid
# A second meter, the same but with [bacnet] udp_gso = true (docs/bacnet.md).
sed -e "s/^ip_port = .*/ip_port = $gso_port\nudp_gso = true/" "$work/meter.toml" > "$work/gso.toml"
"$build/openbcpm" run --config "$work/gso.toml" --state-dir "$work/gso-state" > "$work/gso.log" 2>&1 &
gso_pid=$!
# The floor (floor_server.cpp): a datagram in, a datagram out, nothing else.
"$floor_server" "$floor_port" &
floor_pid=$!
(cd "$work" && BACNET_IP_PORT=$peer_port BACNET_IFACE=lo exec "$peer" 260001 > "$work/peer.log" 2>&1) &
peer_pid=$!
sleep 1.5
kill -0 "$ours_pid" || { cat "$work/meter.log"; exit 1; }
kill -0 "$gso_pid" || { cat "$work/gso.log"; exit 1; }
kill -0 "$peer_pid" || { cat "$work/peer.log"; exit 1; }
# The peer's Analog Input (created at start, instance printed), else 1.
peer_ai=$(grep -o 'analog-input-[0-9]*' "$work/peer.log" | head -1 | grep -o '[0-9]*$' || true)
peer_ai=${peer_ai:-1}

# run PID LABEL ARGS...: one load run; prints its line with the server CPU per request
# and leaves req/s in $rate.
run() {
  local pid=$1 label=$2
  shift 2
  printf '%-12s ' "$label"
  load_with_cpu "$pid" "$seconds" "$load" "$@"
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "# $(date -u '+%F %H:%M') $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# ReadProperty Present_Value, ${seconds} s per line; peer: $peer (AI$peer_ai)"
for window in 1 16; do
  ratios=() gso_ratios=() floors=()
  for r in $(seq "$rounds"); do
    run "$ours_pid" openbcpm "$ours_port" 1 "$seconds" rp --window "$window"
    ours=$rate
    run "$gso_pid" 'openbcpm+gso' "$gso_port" 1 "$seconds" rp --window "$window"
    gso=$rate
    run "$peer_pid" bacnet-stk "$peer_port" 1 "$seconds" rp --window "$window" --direct "$peer_ai"
    theirs=$rate
    run "$floor_pid" floor "$floor_port" 1 "$seconds" rp --window "$window" --direct 1
    floors+=("$(awk -v a="$rate" -v b="$theirs" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')")
    ratios+=("$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')")
    gso_ratios+=("$(awk -v a="$gso" -v b="$theirs" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')")
  done
  echo "window $window: openbcpm / bacnet-stack = ${ratios[*]} (median $(median "${ratios[@]}"))"
  echo "window $window: openbcpm with udp_gso / bacnet-stack = ${gso_ratios[*]} (median $(median "${gso_ratios[@]}"))"
  echo "window $window: floor / bacnet-stack = ${floors[*]} (median $(median "${floors[@]}"))"
done
