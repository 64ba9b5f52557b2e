#!/usr/bin/env bash
# Does a web login hold up the event loop? One Modbus TCP master reads 125
# registers back to back, alone and then while logins (Argon2id, ~19 MiB and
# tens of ms each) arrive one after another; the latency figures show what a
# login costs the other faces. Usage: bench/web/run.sh [build-dir] [seconds]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../meter_run.sh"
cat > "$work/meter.toml" <<TOML
[device]
channels = 84
[faces]
modbus_tcp = true
web = true
[modbus]
tcp_port = 15030
[web]
port = 18030
allow_plain_http = true
TOML
start_meter
for _ in $(seq 50); do
  [ -s "$work/state/initial-admin-password" ] && grep -q "web: listening" "$work/meter.log" && break
  sleep 0.2
done
password="$(cat "$work/state/initial-admin-password")"
printf 'modbus alone        '; "$build/bench/modbus/modbus_load" 15030 1 "$seconds" 1 1999
python3 "$here/bench/web/login_loop.py" 18030 "$password" "$seconds" > "$work/logins.txt" &
logins=$!
printf 'modbus during login '; "$build/bench/modbus/modbus_load" 15030 1 "$seconds" 1 1999
wait "$logins"
cat "$work/logins.txt"
