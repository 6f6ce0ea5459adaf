#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (-DKASTEN_FUZZ=ON: libFuzzer + ASan + UBSan, leak
# detection on) and runs each for a number of executions, starting from its corpus in tests/fuzz/corpus/<target>/.
# New inputs go to the build tree, never into the repository; a crash, leak or timeout leaves its input in
# $BUILD/fuzz-artifacts/<target>/ and makes the script exit non-zero. docs/testing.md.
#
#   scripts/fuzz.sh                          # every target, 100000 executions each
#   scripts/fuzz.sh --runs 1000000 gguf tokenizer
#   scripts/fuzz.sh --list
#
# Options: --runs N (executions per target), --max-len N (largest input, bytes; default per target), --timeout S
# (per input, seconds; default 10), --build-only. Environment: KASTEN_FUZZ_BUILD_DIR (default build-fuzz),
# KASTEN_CLANG (default clang++), KASTEN_FUZZ_JOBS (build parallelism, default nproc).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${KASTEN_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
CXX="${KASTEN_CLANG:-clang++}"
JOBS="${KASTEN_FUZZ_JOBS:-$(nproc)}"

# Every target, and the largest input each is given (a GGUF file or an archive needs more room than a URL).
ALL_TARGETS=(http_request request_parser mem0 openai_request mcp_message cube_archive gguf tokenizer json_schema
             query_time lexical_query kvec use_lite kv_snapshot)
declare -A MAX_LEN=([http_request]=1024 [gguf]=8192 [cube_archive]=8192 [tokenizer]=2048 [json_schema]=1024 [lexical_query]=512
                    [query_time]=2048)
DEFAULT_MAX_LEN=4096

runs=100000 max_len="" timeout=10 build_only=0 targets=()
while (($#)); do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --max-len) max_len="$2"; shift 2 ;;
        --timeout) timeout="$2"; shift 2 ;;
        --build-only) build_only=1; shift ;;
        --list) printf '%s\n' "${ALL_TARGETS[@]}"; exit 0 ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target $t (--list)" >&2; exit 2; }
done

command -v "$CXX" >/dev/null 2>&1 || { echo "fuzz.sh: $CXX not found (scripts/setup.sh installs clang)" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
    # -O1 with assertions on: fuzzing also checks the code's own assertions.
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_CXX_COMPILER="$CXX" -DKASTEN_FUZZ=ON -DKASTEN_BUILD_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=Fuzz -DCMAKE_CXX_FLAGS_FUZZ="-O1 -g" "${launcher[@]}" >/dev/null
fi
if ! cmake --build "$BUILD_DIR" -j"$JOBS" --target $(printf '%s_fuzz ' "${targets[@]}") >"$BUILD_DIR/build.log" 2>&1; then
    tail -n 50 "$BUILD_DIR/build.log" >&2
    echo "fuzz.sh: build failed (log: $BUILD_DIR/build.log)" >&2
    exit 1
fi
((build_only)) && exit 0

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=0
rows=()
for t in "${targets[@]}"; do
    work="$BUILD_DIR/fuzz-corpus/$t" artifacts="$BUILD_DIR/fuzz-artifacts/$t"
    mkdir -p "$work" "$artifacts"
    len="${max_len:-${MAX_LEN[$t]:-$DEFAULT_MAX_LEN}}"
    log="$BUILD_DIR/fuzz-$t.log"
    before=$(find "$artifacts" -type f | wc -l)
    start=$(date +%s)
    status=0
    (cd "$BUILD_DIR" && "$BUILD_DIR/fuzz/${t}_fuzz" -runs="$runs" -max_len="$len" -timeout="$timeout" \
        -rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "$work" "$ROOT/tests/fuzz/corpus/$t") >"$log" 2>&1 || status=$?
    secs=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate="?"
    [[ -n "$execs" ]] && rate=$((execs / (secs > 0 ? secs : 1)))
    found=$(($(find "$artifacts" -type f | wc -l) - before))
    if ((status != 0 || found > 0)); then
        failed=1
        rows+=("$(printf '%-16s %12s %8s %8s %8s  FAILED (exit %d): see %s' "$t" "${execs:-?}" "$found" "$secs" \
            "${rate:-?}" "$status" "$log")")
        grep -m3 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error|fuzz check failed' "$log" >&2 || true
    else
        rows+=("$(printf '%-16s %12s %8s %8s %8s' "$t" "${execs:-?}" 0 "$secs" "${rate:-?}")")
    fi
    echo "${rows[-1]}" >&2
done
printf '%-16s %12s %8s %8s %8s\n' target executions crashes seconds exec/s
printf '%s\n' "${rows[@]}"
exit "$failed"
