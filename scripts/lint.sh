#!/usr/bin/env bash
# clang-format (check only) and clang-tidy over our own C++ sources.
# Usage: scripts/lint.sh [--format-only] ; needs a configured build/ (compile_commands.json).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mapfile -t files < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'fuzz/*.cpp')
clang-format --dry-run --Werror "${files[@]}"
echo "clang-format: clean"
[ "${1:-}" = "--format-only" ] && exit 0
mapfile -t units < <(printf '%s\n' "${files[@]}" | grep '\.cpp$')
clang-tidy -p build --quiet "${units[@]}"
echo "clang-tidy: clean"
