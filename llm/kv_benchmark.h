#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kasten::llm {

// One KV cache configuration of the benchmark: a make_kv_cache() policy, or an eviction policy with a budget in
// cells (eviction_cells > 0: "streaming" / "h2o" built directly, so budgets below one batch are measurable).
struct KvBenchConfig {
    // full | f16 | kivi8 | kivi4 | kivi2 | mixed | streaming | h2o | h2o-q8 | h2o-q4 | snapkv | pyramidkv | adakv
    std::string policy;
    int residual = 32;       // KIVI f16 window
    int eviction_cells = 0;  // streaming / h2o / h2o-q* / snapkv / pyramidkv / adakv: cells kept per layer and head
    // Quality: the first `prompt` tokens of each sample are evaluated as one batch (a prefill, every position's
    // logits compared) before the rest is teacher-forced token by token; 0: every token on its own.
    int prompt = 0;
    int pyramid_beta = 0;  // pyramidkv: PyramidKV's slope β; 0: the cache's default
    // mixed: bits of the salient cells and of the rest, salient fraction (KvCacheOptions::mixed_*).
    int high_bits = 8;
    int low_bits = 2;
    double salient_fraction = 0.1;
    // h2o / h2o-q8 / h2o-q4, instead of eviction_cells: as many cells as this fraction of an f16 cache of the whole
    // context buys (rows compared at equal bytes, e.g. make_kv_cache()'s "auto" fallbacks).
    double f16_fraction = 0;
};

struct KvBenchmarkOptions {
    std::string stories_path;  // stories260K GGUF: the quality measurement
    std::string work_dir;      // where the random 135M-shaped model is written (removed afterwards)
    // The quality context: stories260K was trained on 512-token sequences (llama2.c seq_len; its GGUF records
    // 128, the converter's default).
    int n_ctx = 512;
    int samples = 4;        // texts the model writes at temperature 1, seeds 1 .. samples
    int sample_tokens = 0;  // tokens per text; 0: n_ctx
    std::vector<KvBenchConfig> quality_configs;
    // When not empty: instead of quality_configs, f16 and these schemes simulated by SimKvCache (llm/sim_kv_cache.h,
    // a prototype: quantize, dequantize, keep f32; analytic bytes), e.g. "k=4,v=2,kchan=1,kg=32,vchan=1,win=32".
    std::vector<std::string> sim_schemes;
    // Speed: decode tok/s on the 135M shape (Q8_0) at these contexts, each configuration beside F16, rounds
    // alternating over the configurations (the best round counts).
    bool include_speed = true;
    std::vector<int> speed_contexts = {64, 2048, 8192, 16384};
    std::vector<KvBenchConfig> speed_configs;
    int threads = 2;
    int steps = 16;  // timed decode steps per run
    int rounds = 2;
    std::function<void(std::string_view)> progress;
    // When not empty: only the configurations whose label contains it (f16, the reference of the ratios, always).
    std::string only;
};

struct KvQualityRow {
    std::string cache;  // KvCache::name()
    std::string policy;
    std::uint64_t bytes = 0;  // KvCache::bytes() for the whole context, as constructed (the reserve)
    // The most bytes() reached (after the run; storage only grows): above `bytes` when a prompt batch is larger
    // than an eviction cache's batch slots (the batch is stored before commit() evicts).
    std::uint64_t peak_bytes = 0;
    double bytes_per_token = 0;  // bytes / context
    double f16_ratio = 0;        // bytes / the F16 cache's bytes
    double mean_kl = 0;          // mean over positions of KL(full ‖ this), nats
    double max_kl = 0;
    double top1_agreement = 0;  // fraction of positions whose argmax equals the full cache's
    double ppl_full = 0;        // perplexity of the samples under the full cache
    double ppl = 0;             // ... under this cache
};

struct KvSpeedRow {
    std::string cache;
    std::string policy;
    int context = 0;
    std::uint64_t bytes = 0;  // after the run (eviction caches reserve one 64-token prefill batch, as make_kv_cache())
    double tokens_per_s = 0;
    double vs_f16 = 0;  // tokens_per_s / the F16 cache's at the same context
    // Attention alone, one thread: every layer's and KV head's attend() over the whole context for one token's
    // queries (best of three), and its ratio to the F16 cache's.
    double attention_ms = 0;
    double attention_vs_f16 = 0;
    // commit() of the prefill's last 64-token batch (best round). The eviction caches' batch attends with random
    // queries first, so this includes H2O's scoring or SnapKV's vote; other caches' commit only quantizes or marks.
    double commit_ms = 0;
};

struct KvBenchmarkReport {
    int n_ctx = 0;
    int samples = 0;
    int sample_tokens = 0;
    std::vector<KvQualityRow> quality;
    std::vector<KvSpeedRow> speed;
    double seconds = 0;
    std::string to_text() const;
    // The quality rows as an SVG scatter plot: bytes per token (× f16) against mean KL (log scale), one labelled
    // point per cache, the targets (≤ 0.2 × f16, KL ≤ 0.01) as dashed lines.
    std::string quality_svg() const;
};

// The default configurations: every policy, KIVI at 8/4/2 bits with windows 0 and 32, eviction at several
// budgets, mixed precision at several salient fractions and windows, H2O over 8- and 4-bit cells.
std::vector<KvBenchConfig> default_kv_quality_configs(int n_ctx);
std::vector<KvBenchConfig> default_kv_speed_configs();

// Measures every compressed KV cache against the full-precision one. Quality: stories260K writes `samples`
// texts at temperature 1 (plain softmax sampling, fixed seeds) with the full cache; each text is then
// teacher-forced token by token through the full cache and every configuration, comparing next-token
// distributions. Speed: generation tok/s of the 135M-shaped random model (written into work_dir) with the cache
// prefilled by synthetic keys and values to each context. Errors: loading or writing models; kInvalidArgument
// for a configuration make_kv_cache() rejects.
Result<KvBenchmarkReport> run_kv_benchmark(const KvBenchmarkOptions& options);

}  // namespace kasten::llm
