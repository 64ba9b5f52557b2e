#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a while on its
# committed corpus (new inputs go to a scratch copy; crashes to fuzz/).
# Usage: scripts/fuzz.sh [seconds-per-target] [target ...]   (default 600 s, all targets)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-600}"
shift || true
CC=clang CXX=clang++ cmake -S "$here" -B "$here/build-fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOPENBCPM_FUZZ=ON -DOPENBCPM_TESTS=OFF -DOPENBCPM_BENCH=OFF -UOPENBCPM_FACES >/dev/null  # every face
cmake --build "$here/build-fuzz"
mapfile -t all < <(find "$here/build-fuzz" -type f -executable -name 'fuzz_*' | sort)
for bin in "${all[@]}"; do
  name="$(basename "$bin")"
  name="${name#fuzz_}"
  if [ "$#" -gt 0 ] && [[ ! " $* " =~ " $name " ]]; then continue; fi
  corpus="$here/fuzz/corpus/$name"
  scratch="$(mktemp -d)"
  [ -d "$corpus" ] && cp -r "$corpus/." "$scratch/"
  echo "== $name: ${seconds}s"
  (cd "$here/fuzz" && "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 "$scratch" 2>&1 | tail -n 12)
  rm -rf "$scratch"
done
