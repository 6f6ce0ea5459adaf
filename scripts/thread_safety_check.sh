#!/usr/bin/env bash
# Clang's thread-safety analysis (-Wthread-safety) over the code whose locks carry annotations (GUARDED_BY,
# REQUIRES, EXCLUDES: common/thread_annotations.h). Syntax-only, so it takes seconds, not a second build.
# Run by scripts/test.sh; any warning fails it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CXX="${KASTEN_CLANG:-clang++}"
if ! command -v "$CXX" >/dev/null 2>&1; then
    echo "thread-safety check: $CXX not found (scripts/setup.sh installs clang)" >&2
    exit 1
fi
files=("$ROOT"/memory/*.cc "$ROOT"/common/*.cc)
fails=0
for f in "${files[@]}"; do
    if ! "$CXX" -std=c++20 -fsyntax-only -Wthread-safety -Werror=thread-safety -Wno-unknown-warning-option \
        -I"$ROOT" -I/usr/include/eigen3 -I/usr/include/xapian-1.4 "$f" 2>/tmp/kasten-tsa.$$; then
        echo "thread-safety check failed: ${f#$ROOT/}" >&2
        cat /tmp/kasten-tsa.$$ >&2
        fails=$((fails + 1))
    fi
done
rm -f /tmp/kasten-tsa.$$
if ((fails)); then exit 1; fi
echo "thread-safety check: ${#files[@]} files clean (clang -Wthread-safety)"
