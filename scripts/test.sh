#!/usr/bin/env bash
# Installs what is needed, builds openbcpm twice (Release for the integration
# tests against the real binary; Debug with AddressSanitizer and
# UndefinedBehaviorSanitizer for the unit tests) and runs the whole suite.
# This is what CI runs (.ci/run).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${OPENBCPM_JOBS:-$(nproc)}"
"$here/scripts/install-deps.sh"

echo "== Format"
"$here/scripts/check-format.sh"

echo "== Release build"
cmake -S "$here" -B "$here/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOPENBCPM_TESTS=ON -DOPENBCPM_BENCH=ON
cmake --build "$here/build" -j "$jobs"

echo "== Debug + ASan/UBSan build"
cmake -S "$here" -B "$here/build-asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOPENBCPM_SANITIZE=ON \
  -DOPENBCPM_TESTS=ON -DOPENBCPM_BENCH=OFF
cmake --build "$here/build-asan" -j "$jobs"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

echo "== Unit tests (ASan/UBSan)"
ctest --test-dir "$here/build-asan" -L unit -j "$jobs" --output-on-failure
echo "== Integration tests (ASan/UBSan binary)"
ctest --test-dir "$here/build-asan" -L integration --output-on-failure
echo "== Unit tests (Release)"
ctest --test-dir "$here/build" -L unit -j "$jobs" --output-on-failure
echo "== all tests passed"
