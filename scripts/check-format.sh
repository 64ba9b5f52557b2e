#!/usr/bin/env bash
# Fails when a committed C++ file is not formatted by the root .clang-format.
# scripts/test.sh (and so CI) runs it first; fix with: scripts/check-format.sh --fix
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.cc')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! out="$(clang-format --dry-run -Werror "${files[@]}" 2>&1)"; then
  printf '%s\n' "$out" | grep -E '^[^ :]+:[0-9]+:[0-9]+: (warning|error):' | cut -d: -f1 | sort | uniq -c >&2
  echo "clang-format: the files above are not formatted; run scripts/check-format.sh --fix" >&2
  exit 1
fi
echo "clang-format: ${#files[@]} files clean"
