#!/usr/bin/env bash
# Installs what is needed, builds openbcpm and runs the meter on its embedded
# default: a simulated two-panel, 84-channel data-centre panel. Extra arguments
# go to `openbcpm run` (e.g. --config my.toml --state-dir /var/lib/openbcpm).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/install-deps.sh"
cmake -S "$here" -B "$here/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOPENBCPM_TESTS=OFF -DOPENBCPM_BENCH=OFF
cmake --build "$here/build" --target openbcpm
exec "$here/build/openbcpm" run --state-dir "${OPENBCPM_STATE_DIR:-$here/state}" "$@"
