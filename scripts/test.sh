#!/usr/bin/env bash
# Runs the whole test suite (after scripts/setup.sh). Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${KASTEN_BUILD_DIR:-$ROOT/build}"
DATA_DIR="${KASTEN_HOME:-$HOME/.local/share/kasten}"
export KASTEN_TEST_GLOVE="${KASTEN_TEST_GLOVE:-$DATA_DIR/embeddings/glove-6b-100d.kvec}"
"$ROOT/scripts/thread_safety_check.sh"
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" "$@"
