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
// f16 window of `residual` tokens), "streaming", "h2o", "snapkv", "pyramidkv", "adakv" (f16 cells evicted to fit
// budget_bytes; see llm/evicting_kv_cache.h), or "auto":
// the best-quality cache whose bytes fit budget_bytes, in the order f16, kivi8, kivi4, kivi2, h2o (f32 when
// there is no budget). budget_bytes = 0 means none; the eviction policies need one.
struct KvCacheOptions {
    std::string policy = "auto";
    std::size_t budget_bytes = 0;
    int residual = 32;
};

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
