# Sourced by bench/<face>/run.sh [build-dir] [seconds]: sets `here` (the
# repository), `build`, `seconds` and `work` (a scratch directory removed,
# with every background job, on exit, also on SIGINT/SIGTERM), and:
#   start_meter: runs openbcpm in the background on "$work/meter.toml" with
#     its state in "$work/state" (log "$work/meter.log"); $! is its PID;
#   start_one_face bacnet|snmp PORT: writes "$work/meter.toml" for the
#     84-channel meter simulating in real time with only that face on
#     127.0.0.1:PORT (Protocol_Mode 2 or 3) and starts it; $meter_pid is its PID;
#   cpu_ticks PID: utime + stime of a process so far, in clock ticks;
#   load_with_cpu PID SECONDS CMD...: runs the load command CMD (SECONDS long)
#     against the server PID, prints CMD's line and the server's CPU per
#     request (its utime + stime over the run over the "N req/s" or
#     "N responses/s" of the line times SECONDS), and leaves that rate in $rate.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
seconds="${2:-5}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
trap 'exit 143' TERM INT
start_meter() {
  "$build/openbcpm" run --config "$work/meter.toml" --state-dir "$work/state" > "$work/meter.log" 2>&1 &
}
start_one_face() {
  local face=$1 port=$2
  {
    printf '[device]\nchannels = 84\n[faces]\nweb = false\nmodbus_tcp = false\n'
    if [ "$face" = bacnet ]; then
      printf 'snmp = false\n[gateway]\nprotocol_mode = 2\n[bacnet]\nip_port = %s\n' "$port"
    else
      printf '[gateway]\nprotocol_mode = 3\n[snmp]\nport = %s\nnotif_ip = "0.0.0.0"\n' "$port"
    fi
  } > "$work/meter.toml"
  start_meter
  meter_pid=$!
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
load_with_cpu() {
  local pid=$1 secs=$2 c0 c1 line unit
  shift 2
  c0=$(cpu_ticks "$pid")
  line=$("$@") || line="$line (errors)"
  c1=$(cpu_ticks "$pid")
  read -r rate unit < <(grep -oE '[0-9.]+ (req|responses)/s' <<< "$line" | head -1 | sed 's|/s$||') ||
    rate=0 unit=req
  printf '%s  server CPU %s us/%s\n' "$line" "$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
    -v r="$rate" -v s="$secs" 'BEGIN { printf "%.1f", (r > 0 ? t * 1e6 / hz / (r * s) : 0) }')" \
    "${unit%s}"
}
