#!/usr/bin/env bash
# Runs the BACnet integration tests (the engine's test server and the real
# meter binary) while dumpcap captures their traffic on lo, then checks that
# tshark decodes every packet as BACnet with no "Malformed" mark, no unknown
# service and no expert error. Usage: run_with_capture.sh SERVER [METER]
# Capturing on lo needs root: without it the script says so and exits 77
# (CTest reports the test as skipped).
set -uo pipefail
server="${1:?path of bacnet_test_server}"
meter="${2:-}"
here="$(cd "$(dirname "$0")" && pwd)"
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: capturing on lo needs root (CI runs as root); the tests themselves run as bacnet_integration*"
    exit 77
fi
out="${BACNET_CAPTURE_DIR:-$here/captures}"
mkdir -p "$out"
pcap="$out/bacnet-integration.pcapng"
rm -f "$pcap"

dumpcap -q -i lo -f "udp portrange 47900-47935" -w "$pcap" 2>"$out/dumpcap.log" &
cap=$!
trap 'kill "$cap" 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$pcap" ] && break; sleep 0.1; done
sleep 0.5

files=("$here/integration.test.mjs")
[ -n "$meter" ] && files+=("$here/meter.test.mjs")
BACNET_TEST_SERVER="$server" OPENBCPM_BINARY="$meter" node --test --test-concurrency=1 "${files[@]}"
status=$?
sleep 0.5
kill -INT "$cap"
wait "$cap" 2>/dev/null
trap - EXIT
[ "$status" -eq 0 ] || { echo "integration tests failed"; exit "$status"; }

# The test server uses ports 47901 and 47911, the meter 47921 (and a second
# meter, a BBMD without bdt.ini, 47927); every packet has one of them.
decode=(-d udp.port==47901,bvlc -d udp.port==47911,bvlc -d udp.port==47921,bvlc -d udp.port==47927,bvlc)
count() { tshark -r "$pcap" "${decode[@]}" -Y "$1" 2>/dev/null | wc -l; }
total=$(count "udp")
meter_packets=$(count "udp.port == 47921")
not_bacnet=$(count "udp && !bvlc")
malformed=$(count "_ws.malformed")
expert_errors=$(count "_ws.expert.severity == error")
unknown=$(tshark -r "$pcap" "${decode[@]}" -T fields -e _ws.col.Info 2>/dev/null | grep -ci "unknown\|malformed\|reserved")
echo "tshark: $total packets ($meter_packets of the meter), not BACnet: $not_bacnet, malformed: $malformed, expert errors: $expert_errors, unknown marks: $unknown"
tshark -r "$pcap" "${decode[@]}" -T fields -e _ws.col.Info 2>/dev/null | sed -E 's/[0-9]+//g; s/ +/ /g' | sort | uniq -c | sort -rn | head -50
if [ "$total" -lt 100 ] || { [ -n "$meter" ] && [ "$meter_packets" -lt 100 ]; } || [ "$not_bacnet" -ne 0 ] ||
    [ "$malformed" -ne 0 ] || [ "$expert_errors" -ne 0 ] || [ "$unknown" -ne 0 ]; then
    echo "FAILED: the capture has packets tshark does not decode cleanly"
    tshark -r "$pcap" "${decode[@]}" -Y "_ws.malformed || _ws.expert.severity == error || (udp && !bvlc)" 2>/dev/null | head -20
    exit 1
fi
echo "capture check passed: $pcap"
