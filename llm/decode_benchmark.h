#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "llm/tensor_type.h"

namespace kasten::llm {

struct DecodeBenchmarkOptions {
    // stories260K GGUF (F32); it is also requantized to each type of `types` into work_dir. Empty: skipped.
    std::string stories_path;
    // Where the synthetic 135M-shaped models (and requantized stories files) are written; they are removed
    // afterwards unless keep_models.
    std::string work_dir;
    bool keep_models = false;
    bool include_135m = true;  // false: stories260K only (tests)
    std::vector<TensorType> types = {TensorType::kF32, TensorType::kQ8_0, TensorType::kQ4_0};
    std::vector<int> threads = {1, 2};
    int prompt_tokens = 64;    // prompt-processing run: one batch of this many tokens in a fresh context
    int generate_tokens = 64;  // generation runs: single-token decode steps timed (after one warm-up step)
    // Short-context runs are repeated this often, each in a fresh context, and report the mean of the repetitions'
    // tokens/s (as llama-bench -r does); long-context runs are timed once.
    int repetitions = 3;
    // Generation at long context, for the 135M shape in `long_context_type` with every thread count: the KV
    // cache is filled with this many synthetic entries first (a prefill that long would dominate the run).
    std::vector<int> long_contexts = {2048, 8192};
    TensorType long_context_type = TensorType::kQ8_0;
    std::size_t bandwidth_array_bytes = std::size_t{128} << 20;
    // Progress lines ("135M Q8_0 2 threads: ..."); may be empty.
    std::function<void(std::string_view)> progress;
};

// STREAM-style triad bandwidth with a number of threads.
struct BandwidthFigure {
    int threads = 0;
    double gb_per_s = 0;  // 1e9 bytes per second
};

// One measured configuration. A plain struct so callers can serialise it (JSON in api/).
struct DecodeRun {
    std::string model;        // "stories260K" | "135M-shape"
    std::string weight_type;  // "F32", "Q8_0", "Q4_0" (the matrices' main type)
    int threads = 0;
    int context = 0;                   // cells in the KV cache while generating (prompt length for short runs)
    double prompt_tokens_per_s = 0;    // 0 when not measured (long-context runs); mean of the repetitions
    double generate_tokens_per_s = 0;  // mean of the repetitions
    // Each repetition's tokens/s (one entry for long-context runs).
    std::vector<double> prompt_tokens_per_s_each;
    std::vector<double> generate_tokens_per_s_each;
    std::uint64_t weight_bytes_per_token = 0;  // weights one decode step reads (LlamaModel::bytes_read_per_token)
    std::uint64_t kv_bytes_per_token = 0;      // KV cache bytes one decode step reads (average over the run)
    double bandwidth_limit_tokens_per_s = 0;   // triad bandwidth (same threads) / (weight + KV bytes per token)
    double fraction_of_limit = 0;              // generate_tokens_per_s / bandwidth_limit_tokens_per_s
};

struct DecodeBenchmarkReport {
    std::vector<BandwidthFigure> bandwidth;
    std::vector<DecodeRun> runs;
    double seconds = 0;  // wall time of the whole benchmark

    // A fixed-width table for terminals.
    std::string to_text() const;
};

// Measures prompt processing and generation speed of the embedded decoder (REFERENCE.md §3.3 gives
// llama.cpp's figures on a similar machine): stories260K and a synthetic model with SmolLM2-135M shapes that
// this function writes itself (random weights, via the GGUF writer), in every type of `types`, with every
// thread count, plus generation at each long context; and the machine's triad bandwidth, to report each
// generation speed as a fraction of the bandwidth limit. Takes about a minute. Errors: writing or loading the
// models (kIOError...), kInvalidArgument for an empty work_dir.
Result<DecodeBenchmarkReport> run_decode_benchmark(const DecodeBenchmarkOptions& options);

}  // namespace kasten::llm
