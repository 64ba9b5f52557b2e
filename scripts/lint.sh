#!/usr/bin/env bash
# clang-format (check only) and clang-tidy over our own C++ sources.
# Usage: scripts/lint.sh [--format-only] ; needs a configured build directory with every face
# and the tests (compile_commands.json): build/, or the one named by OPENBCPM_LINT_BUILD.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mapfile -t files < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'fuzz/*.cpp')
clang-format --dry-run --Werror "${files[@]}"
echo "clang-format: clean"
[ "${1:-}" = "--format-only" ] && exit 0
mapfile -t units < <(printf '%s\n' "${files[@]}" | grep '\.cpp$')
build="${OPENBCPM_LINT_BUILD:-build}"
# run-clang-tidy runs the files in parallel and fails when any file has a finding.
run-clang-tidy -quiet -j "$(nproc)" -p "$build" "${units[@]/#/$here/}" >"$build/clang-tidy.log" 2>&1 ||
    { grep -E "(error|warning):" "$build/clang-tidy.log" || tail -20 "$build/clang-tidy.log"; exit 1; }
echo "clang-tidy: clean"
