#!/usr/bin/env bash
# Modbus TCP benchmark: openbcpm's face and a minimal libmodbus server, in the
# same run, with 1, 16 and 64 concurrent masters reading 125 registers.
# Usage: bench/modbus/run.sh [build-dir] [seconds]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../meter_run.sh"
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
"$build/bench/modbus/libmodbus_server" 15021 &
sleep 1.5
for clients in 1 16 64; do
  printf 'openbcpm  '; "$build/bench/modbus/modbus_load" 15020 "$clients" "$seconds" 1 1999
  printf 'libmodbus '; "$build/bench/modbus/modbus_load" 15021 "$clients" "$seconds" 1 1999
done
