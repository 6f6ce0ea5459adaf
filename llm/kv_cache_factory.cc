#include "llm/kv_cache_factory.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "llm/evicting_kv_cache.h"
#include "llm/f16_kv_cache.h"
#include "llm/full_kv_cache.h"
#include "llm/kivi_kv_cache.h"
#include "llm/mixed_kv_cache.h"
#include "llm/quantized_h2o_kv_cache.h"

namespace kasten::llm {
namespace {

constexpr int kSinks = 4;
constexpr int kBatchSlots = 64;  // EvictingKvCache reserves room for one batch beyond its budget

std::size_t f16_bytes(const KvCacheShape& s) {
    return 4u * static_cast<std::size_t>(s.n_layer) * s.n_head_kv * s.capacity * s.head_dim;
}

// Budget in cells of an eviction cache that fits `bytes`, or 0.
int eviction_cells(const KvCacheShape& s, std::size_t bytes) {
    const std::size_t per_cell = EvictingKvCache::bytes_per_cell(s);
    const auto cells = static_cast<long long>(bytes / per_cell) - kBatchSlots;
    return static_cast<int>(std::clamp<long long>(cells, 0, s.capacity));
}

Result<std::unique_ptr<KvCache>> make_eviction(const KvCacheShape& shape, int n_q, EvictionPolicy policy,
                                               std::size_t budget_bytes, KernelIsa isa) {
    const int cells = budget_bytes == 0 ? 0 : eviction_cells(shape, budget_bytes);
    constexpr int kMinWindow = 16;
    if (cells < kSinks + kMinWindow) {
        return Status::invalid_argument(
            fmt::format("a KV budget of {} bytes is too small for an eviction cache (at least {} bytes)", budget_bytes,
                        (kSinks + kMinWindow + kBatchSlots) * EvictingKvCache::bytes_per_cell(shape)));
    }
    EvictionOptions o;
    o.policy = policy;
    o.budget = cells;
    o.sinks = kSinks;
    o.n_q = n_q;
    o.batch_slots = kBatchSlots;
    // StreamingLLM: everything but the sinks is the recent window. H2O: half recent, half heavy hitters.
    o.window = policy == EvictionPolicy::kStreaming ? cells - kSinks : std::max(kMinWindow, cells / 2);
    return std::unique_ptr<KvCache>(std::make_unique<EvictingKvCache>(shape, o, isa));
}

// SnapKV and its per-layer (PyramidKV) and per-head (Ada-KV) budgets: sinks, a recent window of half the
// budget (as H2O), the other cells chosen by the votes of a prefill's last 32 queries, max-pooled over 7 cells.
Result<std::unique_ptr<KvCache>> make_snap_eviction(const KvCacheShape& shape, int n_q, std::string_view policy,
                                                    std::size_t budget_bytes, KernelIsa isa) {
    KASTEN_ASSIGN_OR_RETURN(auto h2o, make_eviction(shape, n_q, EvictionPolicy::kH2o, budget_bytes, isa));
    EvictionOptions o = static_cast<const EvictingKvCache&>(*h2o).options();
    o.policy = EvictionPolicy::kSnapKv;
    o.observation = std::min(32, o.window);
    o.pool = 7;
    o.pyramid = policy == "pyramidkv";
    o.adaptive_heads = policy == "adakv";
    return std::unique_ptr<KvCache>(std::make_unique<EvictingKvCache>(shape, o, isa));
}

// "h2o-q8" / "h2o-q4": H2O over cells quantized per token, as many cells as `budget_bytes` buys.
Result<std::unique_ptr<KvCache>> make_quantized_h2o(const KvCacheShape& shape, int n_q, int bits,
                                                    std::size_t budget_bytes) {
    const std::size_t per_cell = QuantizedH2oKvCache::bytes_per_cell(shape, bits);
    const auto cells = static_cast<int>(
        std::clamp<long long>(static_cast<long long>(budget_bytes / per_cell) - kBatchSlots, 0, shape.capacity));
    constexpr int kMinWindow = 16;
    if (budget_bytes == 0 || cells < kSinks + kMinWindow) {
        return Status::invalid_argument(
            fmt::format("a KV budget of {} bytes is too small for a quantized eviction cache (at least {} bytes)",
                        budget_bytes, (kSinks + kMinWindow + kBatchSlots) * per_cell));
    }
    QuantizedH2oOptions o;
    o.bits = bits;
    o.budget = cells;
    o.sinks = kSinks;
    o.window = std::max(kMinWindow, cells / 2);
    o.n_q = n_q;
    o.batch_slots = kBatchSlots;
    return std::unique_ptr<KvCache>(std::make_unique<QuantizedH2oKvCache>(shape, o));
}

MixedKvOptions mixed_options(const ModelConfig& config, const KvCacheOptions& options) {
    MixedKvOptions o;
    o.high_bits = options.mixed_high_bits;
    o.low_bits = options.mixed_low_bits;
    o.salient_fraction = options.mixed_salient_fraction;
    o.residual = std::max(0, options.residual);
    o.sinks = kSinks;
    o.n_q = config.n_head / config.n_head_kv;
    return o;
}

Status check_mixed(const ModelConfig& config, const KvCacheOptions& options) {
    if (config.head_dim % 4 != 0) return Status::invalid_argument("the mixed KV cache needs head_dim a multiple of 4");
    if (options.mixed_high_bits != 4 && options.mixed_high_bits != 8) {
        return Status::invalid_argument("mixed KV cache: the salient cells' bits must be 4 or 8");
    }
    if (options.mixed_low_bits != 2 && options.mixed_low_bits != 4 && options.mixed_low_bits != 8) {
        return Status::invalid_argument("mixed KV cache: the other cells' bits must be 2, 4 or 8");
    }
    if (!(options.mixed_salient_fraction >= 0.0 && options.mixed_salient_fraction <= 1.0)) {
        return Status::invalid_argument("mixed KV cache: the salient fraction must be in [0, 1]");
    }
    return Status::ok();
}

}  // namespace

std::string_view kv_policy_names() {
    return "auto, full, f16, kivi8, kivi4, kivi2, mixed, streaming, h2o, h2o-q8, h2o-q4, snapkv, pyramidkv, adakv";
}

Result<std::size_t> kv_cache_bytes(const ModelConfig& config, int n_ctx, const KvCacheOptions& options) {
    const KvCacheShape shape{config.n_layer, config.n_head_kv, config.head_dim, std::max(1, n_ctx)};
    const std::string& p = options.policy;
    if (p == "full") return 2 * f16_bytes(shape);
    if (p == "f16") return f16_bytes(shape);
    if (p == "kivi8" || p == "kivi4" || p == "kivi2") {
        return KiviKvCache::bytes_for(shape, p[4] - '0', std::max(0, options.residual));
    }
    if (p == "mixed") {
        KASTEN_RETURN_IF_ERROR(check_mixed(config, options));
        return MixedKvCache::bytes_for(shape, mixed_options(config, options));
    }
    return Status::invalid_argument(fmt::format("the '{}' KV cache has no fixed size per context", p));
}

int kv_tokens_that_fit(const ModelConfig& config, int n_ctx, const KvCacheOptions& options) {
    const std::size_t budget = options.budget_bytes;
    if (budget == 0 || n_ctx < 1) return std::max(0, n_ctx);
    const KvCacheShape shape{config.n_layer, config.n_head_kv, config.head_dim, n_ctx};
    const auto fits = [&](const std::string& policy, int n) {
        if (policy != "f16" && policy != "full" && config.head_dim % 4 != 0) return false;  // make_kv_cache skips them
        KvCacheOptions o = options;
        o.policy = policy;
        Result<std::size_t> b = kv_cache_bytes(config, n, o);
        return b.is_ok() && b.value() <= budget;
    };
    const std::string& p = options.policy;
    if (p == "streaming" || p == "h2o" || p == "snapkv" || p == "pyramidkv" || p == "adakv") {
        return std::min(n_ctx, eviction_cells(shape, budget));
    }
    if (p == "h2o-q8" || p == "h2o-q4") {
        const std::size_t per_cell = QuantizedH2oKvCache::bytes_per_cell(shape, p == "h2o-q8" ? 8 : 4);
        return static_cast<int>(
            std::clamp<long long>(static_cast<long long>(budget / per_cell) - kBatchSlots, 0, n_ctx));
    }
    if (p == "auto") {
        for (const char* q : {"f16", "kivi8", "kivi4", "mixed", "kivi2"}) {
            if (fits(q, n_ctx)) return n_ctx;
        }
        return std::min(n_ctx, eviction_cells(shape, budget));
    }
    // Bytes grow with the context: the largest n <= n_ctx that fits.
    int lo = 0, hi = n_ctx;
    while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        if (fits(p, mid))
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

Result<std::size_t> parse_byte_size(std::string_view text) {
    double value = 0;
    std::size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == 0 || std::from_chars(text.data(), text.data() + i, value).ec != std::errc{}) {
        return Status::invalid_argument(fmt::format("'{}' is not a size (e.g. 8MiB, 512KiB, 4096)", text));
    }
    const std::string_view unit = text.substr(i);
    double mult = 0;
    if (unit.empty() || unit == "B")
        mult = 1;
    else if (unit == "KiB")
        mult = 1024.0;
    else if (unit == "MiB")
        mult = 1024.0 * 1024;
    else if (unit == "GiB")
        mult = 1024.0 * 1024 * 1024;
    else if (unit == "KB" || unit == "kB")
        mult = 1e3;
    else if (unit == "MB")
        mult = 1e6;
    else if (unit == "GB")
        mult = 1e9;
    if (mult == 0) {
        return Status::invalid_argument(
            fmt::format("unknown size unit '{}' in '{}' (B, KiB, MiB, GiB, KB, MB, GB)", unit, text));
    }
    return static_cast<std::size_t>(std::floor(value * mult));
}

Result<std::unique_ptr<KvCache>> make_kv_cache(const ModelConfig& config, int n_ctx, const KvCacheOptions& options,
                                               KernelIsa isa) {
    if (n_ctx < 1) return Status::invalid_argument("the KV cache needs at least one cell");
    const KvCacheShape shape{config.n_layer, config.n_head_kv, config.head_dim, n_ctx};
    const int n_q = config.n_head / config.n_head_kv;
    const std::string& p = options.policy;
    const std::size_t budget = options.budget_bytes;
    const auto kivi = [&](int bits) -> Result<std::unique_ptr<KvCache>> {
        if (config.head_dim % 4 != 0) return Status::invalid_argument("KIVI needs head_dim a multiple of 4");
        return std::unique_ptr<KvCache>(std::make_unique<KiviKvCache>(shape, bits, std::max(0, options.residual), isa));
    };
    std::unique_ptr<KvCache> cache;
    if (p == "full") {
        cache = std::make_unique<FullKvCache>(shape);
    } else if (p == "f16") {
        cache = std::make_unique<F16KvCache>(shape, isa);
    } else if (p == "kivi8" || p == "kivi4" || p == "kivi2") {
        KASTEN_ASSIGN_OR_RETURN(cache, kivi(p[4] - '0'));
    } else if (p == "mixed") {
        KASTEN_RETURN_IF_ERROR(check_mixed(config, options));
        cache = std::make_unique<MixedKvCache>(shape, mixed_options(config, options), isa);
    } else if (p == "h2o-q8" || p == "h2o-q4") {
        if (config.head_dim % 2 != 0) return Status::invalid_argument("h2o-q4 and h2o-q8 need an even head_dim");
        return make_quantized_h2o(shape, n_q, p == "h2o-q8" ? 8 : 4, budget);
    } else if (p == "streaming" || p == "h2o") {
        return make_eviction(shape, n_q, p == "h2o" ? EvictionPolicy::kH2o : EvictionPolicy::kStreaming, budget, isa);
    } else if (p == "snapkv" || p == "pyramidkv" || p == "adakv") {
        return make_snap_eviction(shape, n_q, p, budget, isa);
    } else if (p == "auto") {
        if (budget == 0) return std::unique_ptr<KvCache>(std::make_unique<FullKvCache>(shape));
        if (f16_bytes(shape) <= budget) return std::unique_ptr<KvCache>(std::make_unique<F16KvCache>(shape, isa));
        // In the order of measured quality (docs/kv-cache.md): the first that fits is the best that fits.
        for (int bits : {8, 4, 0, 2}) {
            if (config.head_dim % 4 != 0) break;
            if (bits == 0) {
                if (!check_mixed(config, options).is_ok() ||
                    MixedKvCache::bytes_for(shape, mixed_options(config, options)) > budget) {
                    continue;
                }
                return std::unique_ptr<KvCache>(
                    std::make_unique<MixedKvCache>(shape, mixed_options(config, options), isa));
            }
            auto c = std::make_unique<KiviKvCache>(shape, bits, std::max(0, options.residual), isa);
            if (c->bytes() <= budget) return std::unique_ptr<KvCache>(std::move(c));
        }
        return make_eviction(shape, n_q, EvictionPolicy::kH2o, budget, isa);
    } else {
        return Status::invalid_argument(fmt::format("unknown KV cache policy '{}' (one of: {})", p, kv_policy_names()));
    }
    if (budget != 0 && cache->bytes() > budget) {
        return Status::invalid_argument(fmt::format("the {} KV cache of {} cells needs {} bytes, over the budget of {}",
                                                    cache->name(), n_ctx, cache->bytes(), budget));
    }
    return cache;
}

}  // namespace kasten::llm
