#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kasten::memory {

struct ActivationBenchmarkOptions {
    std::string work_dir;  // where the random model and the memory store are written (the caller removes it)
    std::vector<std::string> policies = {"full", "f16"};  // KV cache policies, each measured on its own
    int prefix_tokens = 2048;                             // pinned prefix length to aim at (within a few tokens)
    int threads = 2;
    int rounds = 5;  // per policy; each round runs both ways, in alternating order
    std::function<void(std::string_view)> progress;
};

// One policy: time to first token of a chat exchange whose pinned prefix is recomputed against one whose prefix
// is loaded from the cube's kv_segments (SQLite on disk), per round and as medians.
struct ActivationBenchmarkRow {
    std::string cache;  // KvCache::name()
    int prefix_tokens = 0;
    int prompt_tokens = 0;
    std::size_t segment_bytes = 0;
    double store_ms = 0;  // the first exchange: computing the prefix, serialising it and storing it
    std::vector<double> recompute_ms;
    std::vector<double> loaded_ms;
    std::vector<double> load_ms;  // of loaded_ms: finding, reading, checking and restoring the segment
    double recompute_median_ms = 0;
    double loaded_median_ms = 0;
    double load_median_ms = 0;
    double ratio = 0;  // loaded / recompute (medians)
};

struct ActivationBenchmarkReport {
    std::vector<ActivationBenchmarkRow> rows;
    double seconds = 0;
    std::string to_text() const;
};

// Activation memory's measure (issue 12): a random model with SmolLM2-135M shapes (Q8_0), a cube on disk, a
// system prompt of about prefix_tokens tokens pinned before the memory context, one generated token. "Recompute"
// evaluates the whole prompt; "loaded" first loads the segment (MemoryChat::pin_prefix: list, read, check, restore)
// and evaluates the rest. The model's cache is emptied before every timed exchange.
Result<ActivationBenchmarkReport> run_activation_benchmark(const ActivationBenchmarkOptions& options);

}  // namespace kasten::memory
