#!/usr/bin/env bash
# Runs the integration tests while dumpcap captures their traffic on lo, then
# checks that tshark decodes every packet as BACnet with no "Malformed" mark,
# no unknown service and no expert error. Usage: run_with_capture.sh SERVER
set -uo pipefail
server="${1:?path of bacnet_test_server}"
here="$(cd "$(dirname "$0")" && pwd)"
out="${BACNET_CAPTURE_DIR:-$here/captures}"
mkdir -p "$out"
pcap="$out/bacnet-integration.pcapng"
rm -f "$pcap"

dumpcap -q -i lo -f "udp portrange 47900-47920" -w "$pcap" 2>"$out/dumpcap.log" &
cap=$!
trap 'kill "$cap" 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$pcap" ] && break; sleep 0.1; done
sleep 0.5

BACNET_TEST_SERVER="$server" node --test "$here/integration.test.mjs"
status=$?
sleep 0.5
kill -INT "$cap"
wait "$cap" 2>/dev/null
trap - EXIT
[ "$status" -eq 0 ] || { echo "integration tests failed"; exit "$status"; }

# The servers use ports 47901 and 47911; every packet has one of them.
decode=(-d udp.port==47901,bvlc -d udp.port==47911,bvlc)
count() { tshark -r "$pcap" "${decode[@]}" -Y "$1" 2>/dev/null | wc -l; }
total=$(count "udp")
not_bacnet=$(count "udp && !bvlc")
malformed=$(count "_ws.malformed")
expert_errors=$(count "_ws.expert.severity == error")
unknown=$(tshark -r "$pcap" "${decode[@]}" -T fields -e _ws.col.Info 2>/dev/null | grep -ci "unknown\|malformed\|reserved")
echo "tshark: $total packets, not BACnet: $not_bacnet, malformed: $malformed, expert errors: $expert_errors, unknown marks: $unknown"
tshark -r "$pcap" "${decode[@]}" -T fields -e _ws.col.Info 2>/dev/null | sed -E 's/[0-9]+//g; s/ +/ /g' | sort | uniq -c | sort -rn | head -40
if [ "$total" -lt 100 ] || [ "$not_bacnet" -ne 0 ] || [ "$malformed" -ne 0 ] || [ "$expert_errors" -ne 0 ] || [ "$unknown" -ne 0 ]; then
    echo "FAILED: the capture has packets tshark does not decode cleanly"
    tshark -r "$pcap" "${decode[@]}" -Y "_ws.malformed || _ws.expert.severity == error || (udp && !bvlc)" 2>/dev/null | head -20
    exit 1
fi
echo "capture check passed: $pcap"
