#!/usr/bin/env bash
# Installs every Debian package that building, running and testing openbcpm needs,
# then the npm packages of the browser tests and the BACnet test client.
# Safe to run again: apt-get and npm ci are idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang clang-tidy clang-format
  libclang-rt-dev
  # libraries
  libboost-dev libboost-system-dev libssl-dev libsqlite3-dev sqlite3
  nlohmann-json3-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev
  libargon2-dev libgtest-dev libgmock-dev libbenchmark-dev libmodbus-dev
  # real protocol peers used by the integration tests
  socat mbpoll python3 python3-pymodbus python3-serial python3-serial-asyncio snmp snmpd snmptrapd smitools
  tshark nodejs chromium
  # tests/lan: network namespaces, veth, tc; curl for the web on the LAN address
  iproute2 curl
)

if [ -z "${OPENBCPM_SKIP_APT:-}" ]; then
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
  # Some Node.js builds ship npm inside the nodejs package and conflict with
  # Debian's separate npm package; install that one only where npm is missing.
  command -v npm >/dev/null 2>&1 || $SUDO apt-get install -y -qq --no-install-recommends npm
fi

# npm packages: the web GUI's front-end libraries (uPlot), Playwright for the
# browser tests, the BACnet test client, and the SMIv2 base modules that the
# SNMP tests load the exported MIB with (tests/snmp).
if [ -z "${OPENBCPM_SKIP_NPM:-}" ]; then
  for dir in web tests/bacnet tests/web tests/snmp; do
    if [ -f "$here/$dir/package-lock.json" ]; then
      (cd "$here/$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  done
fi
