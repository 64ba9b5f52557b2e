#!/usr/bin/env bash
# BACnet/IP benchmark against the real meter binary: ReadProperty and
# ReadPropertyMultiple to panel 1 through the virtual router, with 1, 4 and
# 16 clients. Build with -DCMAKE_BUILD_TYPE=Release and OPENBCPM_BENCH (or
# OPENBCPM_BACNET_BENCH) on. Usage: bench/bacnet/run.sh [build-dir] [seconds]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../meter_run.sh"
start_one_face bacnet 47951
sleep 1.5
load="$(find "$build" -name bacnet_load -type f -executable | head -1)"
for kind in rp rpm10 rpm-all20; do
  for clients in 1 4 16; do
    "$load" 47951 "$clients" "$seconds" "$kind"
  done
done
