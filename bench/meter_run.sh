# Sourced by bench/<face>/run.sh [build-dir] [seconds]: sets `here` (the
# repository), `build`, `seconds` and `work` (a scratch directory removed,
# with every background job, on exit), and start_meter, which runs openbcpm
# in the background on "$work/meter.toml" with its state in "$work/state".
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
seconds="${2:-5}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
start_meter() {
  "$build/openbcpm" run --config "$work/meter.toml" --state-dir "$work/state" > "$work/meter.log" 2>&1 &
}
