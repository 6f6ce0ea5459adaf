#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "llm/kv_cache.h"
#include "llm/kv_kernels.h"
#include "llm/model_config.h"

namespace kasten::llm {

// Which KV cache a decoding session gets. policy: "full" (f32), "f16", "kivi8", "kivi4", "kivi2" (KIVI with an
// f16 window of `residual` tokens), "mixed" (salient cells at 8 bit, the rest at 2, docs/kv-cache.md),
// "streaming", "h2o", "snapkv", "pyramidkv", "adakv" (f16 cells evicted to fit budget_bytes; see
// llm/evicting_kv_cache.h), "h2o-q8", "h2o-q4" (H2O over cells quantized per token, llm/quantized_h2o_kv_cache.h),
// or "auto": the best-quality cache whose bytes fit budget_bytes, in the order of measured quality f16, kivi8,
// kivi4, mixed, kivi2, h2o (f32 when there is no budget). budget_bytes = 0 means none; the eviction policies need
// one.
struct KvCacheOptions {
    std::string policy = "auto";
    std::size_t budget_bytes = 0;
    int residual = 32;
    // "mixed" (MixedKvCache, llm/mixed_kv_cache.h): salient cells at high_bits, every cell at low_bits.
    int mixed_high_bits = 8;
    int mixed_low_bits = 2;
    double mixed_salient_fraction = 0.1;
};

// Bytes the cache make_kv_cache() builds for `policy` with n_ctx cells allocates (the policies of fixed size:
// full, f16, kivi*, mixed); kInvalidArgument for the others.
Result<std::size_t> kv_cache_bytes(const ModelConfig& config, int n_ctx, const KvCacheOptions& options);

// Tokens of context the cache make_kv_cache(config, n_ctx, options) keeps within options.budget_bytes: n_ctx for
// a cache holding every cell (no budget, or a fixed-size policy that fits), the evicting budget in cells for
// streaming / h2o / snapkv / pyramidkv / adakv (and auto when it falls back to h2o), else the largest context whose
// cache fits (0 if none). What a caller sizing text for the model (e.g. the packed memory context) can count on the
// cache to hold.
int kv_tokens_that_fit(const ModelConfig& config, int n_ctx, const KvCacheOptions& options);

// The known policy names, for help texts.
std::string_view kv_policy_names();

// Parses "8MiB", "512KiB", "1GiB", "1.5MB", "4096" (bytes) into bytes. kInvalidArgument otherwise.
Result<std::size_t> parse_byte_size(std::string_view text);

// Builds the cache for `config` with n_ctx cells. kInvalidArgument for an unknown policy, an eviction policy
// without a budget, or a budget that no policy fits (the message says the smallest that would).
// The cache's name() says which policy and parameters were chosen.
Result<std::unique_ptr<KvCache>> make_kv_cache(const ModelConfig& config, int n_ctx, const KvCacheOptions& options,
                                               KernelIsa isa = best_kernel_isa());

}  // namespace kasten::llm
