// The contract every KvCache meets, measured against FullKvCache (the ground truth): attention outputs within a
// tolerance stated per cache, split ranges that merge to the whole, discard() and truncate(), and for the
// evicting caches the positions, sinks, windows and budgets after eviction.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "llm/evicting_kv_cache.h"
#include "llm/f16_kv_cache.h"
#include "llm/full_kv_cache.h"
#include "llm/kivi_kv_cache.h"
#include "llm/kv_cache_factory.h"
#include "llm/mixed_kv_cache.h"
#include "llm/quantized_h2o_kv_cache.h"
#include "llm/rope.h"

namespace kasten::llm {
namespace {

struct CacheCase {
    std::string name;
    std::function<std::unique_ptr<KvCache>(const KvCacheShape&)> make;
    // Largest |attention output − full-cache output| allowed, for unit-variance values (max abs, over every
    // output value of the tests below).
    double tolerance;
};

// Every kernel level this CPU runs, the scalar reference always.
std::vector<KernelIsa> isa_levels() {
    std::vector<KernelIsa> levels;
    for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512Vnni}) {
        if (kernel_isa_supported(isa)) levels.push_back(isa);
    }
    return levels;
}

std::vector<CacheCase> cache_cases() {
    std::vector<CacheCase> cases;
    cases.push_back({"full", [](const KvCacheShape& s) { return std::make_unique<FullKvCache>(s); }, 1e-5});
    for (KernelIsa isa : isa_levels()) {
        std::string suffix = std::string("_") + kernel_isa_name(isa);
        std::replace(suffix.begin(), suffix.end(), '-', '_');  // test names: letters, digits and '_' only
        cases.push_back(
            {"f16" + suffix, [isa](const KvCacheShape& s) { return std::make_unique<F16KvCache>(s, isa); }, 5e-3});
        // Quantization steps are (max − min) / (2^bits − 1) of a group; the bounds are about twice the largest error
        // measured on the random data here (keys N(0,1) with channel offsets, values N(0,1), scale 1/√head_dim:
        // 8 bit 0.019, 4 bit 0.18, 2 bit 1.05; f16 0.0017). 2 bits on Gaussian noise is coarse; that the fused
        // kernels add nothing to the quantization error is checked tightly by FusedAttentionEquals... below.
        for (auto [bits_, tol] : {std::pair{8, 0.04}, std::pair{4, 0.35}, std::pair{2, 1.6}}) {
            const int bits = bits_;  // a structured binding cannot be captured under clang 14
            for (int residual : {0, 16}) {
                cases.push_back(
                    {"kivi" + std::to_string(bits) + "_r" + std::to_string(residual) + suffix,
                     [=](const KvCacheShape& s) { return std::make_unique<KiviKvCache>(s, bits, residual, isa); },
                     tol});
            }
        }
        // Mixed precision: every cell at least as precise as the low-bit KIVI store, so its tolerance.
        for (auto [low_, tol] : {std::pair{2, 1.6}, std::pair{4, 0.35}}) {
            const int low = low_;
            cases.push_back({"mixed_q8q" + std::to_string(low) + suffix,
                             [=](const KvCacheShape& s) {
                                 MixedKvOptions o;
                                 o.low_bits = low;
                                 o.salient_fraction = 0.1;
                                 o.residual = 16;
                                 o.n_q = 3;
                                 return std::make_unique<MixedKvCache>(s, o, isa);
                             },
                             tol});
        }
        // H2O over quantized cells whose budget holds every cell: per-token quantization error only.
        for (auto [bits_, tol] : {std::pair{8, 0.08}, std::pair{4, 0.35}}) {
            const int bits = bits_;
            cases.push_back({"h2o_q" + std::to_string(bits) + "_roomy" + suffix,
                             [=](const KvCacheShape& s) {
                                 QuantizedH2oOptions o;
                                 o.bits = bits;
                                 o.budget = s.capacity;
                                 o.window = 8;
                                 o.n_q = 3;
                                 return std::make_unique<QuantizedH2oKvCache>(s, o);
                             },
                             tol});
        }
        // Evicting caches whose budget holds every cell evict nothing and match the full cache like f16.
        for (EvictionPolicy p : {EvictionPolicy::kStreaming, EvictionPolicy::kH2o}) {
            cases.push_back({std::string(p == EvictionPolicy::kH2o ? "h2o" : "streaming") + "_roomy" + suffix,
                             [=](const KvCacheShape& s) {
                                 EvictionOptions o{p, s.capacity, 4, 8, 3};
                                 return std::make_unique<EvictingKvCache>(s, o, isa);
                             },
                             5e-3});
        }
        // SnapKV, PyramidKV (its last layer's budget still above the capacity) and Ada-KV with room for every cell.
        for (const char* variant : {"snapkv", "pyramidkv", "adakv"}) {
            cases.push_back({std::string(variant) + "_roomy" + suffix,
                             [=](const KvCacheShape& s) {
                                 EvictionOptions o{EvictionPolicy::kSnapKv, s.capacity, 4, 8, 3};
                                 o.observation = 8;
                                 o.pyramid = std::string_view(variant) == "pyramidkv";
                                 o.adaptive_heads = std::string_view(variant) == "adakv";
                                 if (o.pyramid) o.budget = 40 * s.capacity;
                                 return std::make_unique<EvictingKvCache>(s, o, isa);
                             },
                             5e-3});
        }
    }
    return cases;
}

std::vector<float> random_vec(std::size_t n, std::mt19937& rng, float offset_scale = 0.0f) {
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        // Channel offsets (keys have outlier channels, the reason KIVI quantizes keys per channel).
        v[i] = d(rng) + offset_scale * static_cast<float>(static_cast<int>(i % 7) - 3);
    }
    return v;
}

ModelConfig rope_config(int n_head_kv, int head_dim) {
    ModelConfig cfg;
    cfg.n_embd = n_head_kv * head_dim;
    cfg.n_head = n_head_kv;
    cfg.n_head_kv = n_head_kv;
    cfg.head_dim = head_dim;
    cfg.n_rot = head_dim;
    cfg.n_layer = 1;
    cfg.n_ff = 8;
    return cfg;
}

// Writes the same cells to both caches, in batches of `batch` (stored, then committed).
void fill(KvCache& a, KvCache& b, int from, int to, int batch, std::mt19937& rng, const Rope* rope = nullptr) {
    const KvCacheShape& s = a.shape();
    const std::size_t row = static_cast<std::size_t>(s.n_head_kv) * s.head_dim;
    for (int c0 = from; c0 < to; c0 += batch) {
        const int c1 = std::min(to, c0 + batch);
        for (int c = c0; c < c1; ++c) {
            for (int l = 0; l < s.n_layer; ++l) {
                std::vector<float> k = random_vec(row, rng, 1.0f), v = random_vec(row, rng);
                if (rope != nullptr) rope->apply(k.data(), s.n_head_kv, c);
                a.store(l, c, k.data(), v.data());
                b.store(l, c, k.data(), v.data());
            }
        }
        a.commit(c1);
        b.commit(c1);
    }
}

// The decoder's attention scale.
float kScale(int head_dim) {
    return 1.0f / std::sqrt(static_cast<float>(head_dim));
}

// Normalised attention of n_q queries over [begin, end), merging `parts` equal ranges as the decoder does.
std::vector<float> attention(const KvCache& cache, int layer, int kv_head, const std::vector<float>& q, int n_q,
                             int begin, int end, int parts) {
    const int hd = cache.shape().head_dim;
    std::vector<float> result(static_cast<std::size_t>(n_q) * hd, 0.0f);
    std::vector<float> outs(static_cast<std::size_t>(parts) * n_q * hd), maxs(parts * n_q), sums(parts * n_q);
    std::vector<float> scratch(static_cast<std::size_t>(n_q) * (end - begin));
    for (int p = 0; p < parts; ++p) {
        const int b = begin + (end - begin) * p / parts, e = begin + (end - begin) * (p + 1) / parts;
        if (b >= e) {  // as the decoder: an empty part contributes nothing
            for (int i = 0; i < n_q; ++i) sums[p * n_q + i] = 0.0f, maxs[p * n_q + i] = -1e30f;
            continue;
        }
        cache.attend(layer, kv_head, q.data(), n_q, b, e, kScale(hd), outs.data() + p * n_q * hd, maxs.data() + p * n_q,
                     sums.data() + p * n_q, scratch.data());
    }
    for (int i = 0; i < n_q; ++i) {
        double m = -1e30, total = 0;
        for (int p = 0; p < parts; ++p) m = std::max<double>(m, maxs[p * n_q + i]);
        std::vector<double> acc(hd, 0.0);
        for (int p = 0; p < parts; ++p) {
            if (sums[p * n_q + i] == 0.0f) continue;
            const double w = std::exp(maxs[p * n_q + i] - m);
            total += w * sums[p * n_q + i];
            for (int d = 0; d < hd; ++d) acc[d] += w * outs[(p * n_q + i) * hd + d];
        }
        for (int d = 0; d < hd; ++d) result[i * hd + d] = static_cast<float>(acc[d] / total);
    }
    return result;
}

// Attention over the full cache's cells whose positions are in `positions` (what an evicting cache keeps).
std::vector<float> masked_attention(const FullKvCache& full, int layer, int kv_head, const std::vector<float>& q,
                                    int n_q, const std::vector<int>& positions) {
    const int hd = full.shape().head_dim;
    std::vector<float> result(static_cast<std::size_t>(n_q) * hd);
    for (int i = 0; i < n_q; ++i) {
        std::vector<double> s;
        double m = -1e30, total = 0;
        for (int p : positions) {
            double d = 0;
            for (int j = 0; j < hd; ++j) d += q[i * hd + j] * full.key(layer, kv_head, p)[j];
            s.push_back(kScale(hd) * d);
            m = std::max(m, s.back());
        }
        for (double& x : s) total += (x = std::exp(x - m));
        for (int d = 0; d < hd; ++d) {
            double acc = 0;
            for (std::size_t c = 0; c < positions.size(); ++c)
                acc += s[c] * full.value(layer, kv_head, positions[c])[d];
            result[i * hd + d] = static_cast<float>(acc / total);
        }
    }
    return result;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
    return m;
}

class KvCacheContractTest : public ::testing::TestWithParam<CacheCase> {};

// Two geometries: head_dim 64 (SmolLM2-like) and 8 (stories260K, value groups spanning heads).
const KvCacheShape kShapes[] = {{2, 3, 64, 200}, {2, 4, 8, 200}};

TEST_P(KvCacheContractTest, AttentionMatchesFullCacheWithinTolerance) {
    for (const KvCacheShape& shape : kShapes) {
        auto cache = GetParam().make(shape);
        FullKvCache full(shape);
        std::mt19937 rng(11);
        fill(*cache, full, 0, 150, 1, rng);     // decode-like
        fill(*cache, full, 150, 181, 16, rng);  // a prefill batch
        ASSERT_EQ(cache->size(), 181);
        const int n_q = 3;
        for (int l = 0; l < shape.n_layer; ++l) {
            for (int h = 0; h < shape.n_head_kv; ++h) {
                const std::vector<float> q = random_vec(static_cast<std::size_t>(n_q) * shape.head_dim, rng);
                for (auto [b, e] : {std::pair{0, 181}, std::pair{37, 150}, std::pair{5, 6}, std::pair{100, 181}}) {
                    const auto want = attention(full, l, h, q, n_q, b, e, 1);
                    const auto got = attention(*cache, l, h, q, n_q, b, e, 1);
                    EXPECT_LE(max_abs_diff(got, want), GetParam().tolerance)
                        << GetParam().name << " hd " << shape.head_dim << " [" << b << ", " << e << ")";
                    // Ranges split into parts merge to the whole.
                    const auto split = attention(*cache, l, h, q, n_q, b, e, 3);
                    EXPECT_LE(max_abs_diff(split, got), 1e-5) << GetParam().name;
                }
            }
        }
        EXPECT_GT(cache->bytes(), 0u);
        EXPECT_FALSE(cache->name().empty());
    }
}

TEST_P(KvCacheContractTest, DiscardMatchesFullCacheDiscard) {
    const KvCacheShape shape{1, 2, 16, 120};
    const Rope rope(rope_config(2, 16));
    auto cache = GetParam().make(shape);
    FullKvCache full(shape);
    std::mt19937 rng(21);
    fill(*cache, full, 0, 100, 8, rng, &rope);
    cache->discard(10, 45, rope);
    full.discard(10, 45, rope);
    ASSERT_EQ(cache->size(), 55);
    // New tokens continue at the shifted positions.
    fill(*cache, full, 55, 90, 1, rng, &rope);
    ASSERT_EQ(cache->size(), 90);
    for (int h = 0; h < 2; ++h) {
        const std::vector<float> q = random_vec(2 * 16, rng);
        EXPECT_LE(max_abs_diff(attention(*cache, 0, h, q, 2, 0, 90, 2), attention(full, 0, h, q, 2, 0, 90, 1)),
                  GetParam().tolerance)
            << GetParam().name;
    }
}

TEST_P(KvCacheContractTest, TruncateForgetsTheTailAndAcceptsNewCells) {
    const KvCacheShape shape{1, 2, 16, 120};
    auto cache = GetParam().make(shape);
    FullKvCache full(shape);
    std::mt19937 rng(31);
    fill(*cache, full, 0, 100, 10, rng);
    cache->truncate(200);
    EXPECT_EQ(cache->size(), 100);
    cache->truncate(45);  // inside a key group of the quantized caches
    full.truncate(45);
    EXPECT_EQ(cache->size(), 45);
    fill(*cache, full, 45, 110, 5, rng);
    for (int h = 0; h < 2; ++h) {
        const std::vector<float> q = random_vec(3 * 16, rng);
        EXPECT_LE(max_abs_diff(attention(*cache, 0, h, q, 3, 0, 110, 1), attention(full, 0, h, q, 3, 0, 110, 1)),
                  GetParam().tolerance)
            << GetParam().name;
    }
    cache->truncate(0);
    EXPECT_EQ(cache->size(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllCaches, KvCacheContractTest, ::testing::ValuesIn(cache_cases()),
                         [](const ::testing::TestParamInfo<CacheCase>& info) { return info.param.name; });

// KIVI's fused attention equals attention over its own dequantized cells up to the rounding of the integer query
// (kv_key_query: the query folded with the key scales in 8 bits; measured at most 0.0034 here), so the tolerance
// above is the cache's quantization error, not the kernels'.
TEST(KiviKvCacheTest, FusedAttentionEqualsAttentionOverDequantizedCells) {
    for (KernelIsa isa : isa_levels()) {
        for (int bits : {2, 4, 8}) {
            for (const KvCacheShape& shape : kShapes) {
                KiviKvCache cache(shape, bits, 8, isa);
                FullKvCache full(shape);
                std::mt19937 rng(41 + bits);
                fill(cache, full, 0, 170, 7, rng);
                EXPECT_EQ(cache.quantized(), 160);
                // A full cache holding exactly what KIVI stores.
                FullKvCache dequantized(shape);
                std::vector<float> k(shape.head_dim), v(shape.head_dim);
                const std::size_t row = static_cast<std::size_t>(shape.n_head_kv) * shape.head_dim;
                for (int l = 0; l < shape.n_layer; ++l) {
                    for (int c = 0; c < 170; ++c) {
                        std::vector<float> kr(row), vr(row);
                        for (int h = 0; h < shape.n_head_kv; ++h) {
                            cache.read(l, h, c, kr.data() + h * shape.head_dim, vr.data() + h * shape.head_dim);
                        }
                        dequantized.store(l, c, kr.data(), vr.data());
                    }
                }
                dequantized.commit(170);
                for (int h = 0; h < shape.n_head_kv; ++h) {
                    const std::vector<float> q = random_vec(2 * static_cast<std::size_t>(shape.head_dim), rng);
                    EXPECT_LE(max_abs_diff(attention(cache, 1, h, q, 2, 3, 170, 2),
                                           attention(dequantized, 1, h, q, 2, 3, 170, 1)),
                              5e-3)
                        << bits << " bits, hd " << shape.head_dim;
                }
            }
        }
    }
}

TEST(KiviKvCacheTest, BytesShrinkWithBits) {
    const KvCacheShape shape{4, 3, 64, 8192};
    const std::size_t f16 = F16KvCache(shape).bytes();
    const std::size_t q8 = KiviKvCache(shape, 8, 32).bytes(), q4 = KiviKvCache(shape, 4, 32).bytes(),
                      q2 = KiviKvCache(shape, 2, 32).bytes();
    EXPECT_LT(q8, f16 * 6 / 10);
    EXPECT_LT(q4, f16 * 35 / 100);
    EXPECT_LT(q2, f16 / 5);  // 2 bits + 1 bit of f16 (scale, min) per 32 values, + the window
    EXPECT_LT(q2, q4);
}

// Eviction: budgets, sinks, windows, positions.
class EvictingKvCacheTest : public ::testing::TestWithParam<EvictionPolicy> {};

TEST_P(EvictingKvCacheTest, KeepsSinksAndWindowWithinBudgetAndAttendsOverWhatItKeeps) {
    const KvCacheShape shape{2, 2, 16, 300};
    const EvictionOptions o{GetParam(), 40, 4, 16, 2};
    EvictingKvCache cache(shape, o);
    FullKvCache full(shape);
    std::mt19937 rng(51);
    const auto check = [&](int n) {
        for (int l = 0; l < 2; ++l) {
            for (int h = 0; h < 2; ++h) {
                ASSERT_LE(cache.kept(l, h), o.budget);
                const std::vector<int> pos = cache.kept_positions(l, h);
                ASSERT_EQ(static_cast<int>(pos.size()), std::min(n, o.budget));
                const std::set<int> kept(pos.begin(), pos.end());
                for (int p = 0; p < std::min(n, o.sinks); ++p) ASSERT_TRUE(kept.count(p)) << "sink " << p;
                for (int p = std::max(0, n - o.window); p < n; ++p) ASSERT_TRUE(kept.count(p)) << "window " << p;
                if (GetParam() == EvictionPolicy::kStreaming && n > o.budget) {
                    ASSERT_EQ(*std::next(kept.begin(), o.sinks), n - (o.budget - o.sinks));
                }
            }
        }
    };
    // Decode one token at a time, attending as the decoder does (H2O learns from it).
    for (int c = 0; c < 120; ++c) {
        for (int l = 0; l < 2; ++l) {
            std::vector<float> k = random_vec(32, rng, 1.0f), v = random_vec(32, rng);
            cache.store(l, c, k.data(), v.data());
            full.store(l, c, k.data(), v.data());
            for (int h = 0; h < 2; ++h) {
                const std::vector<float> q = random_vec(2 * 16, rng);
                const auto got = attention(cache, l, h, q, 2, 0, c + 1, 2);
                std::vector<int> visible;
                for (int p : cache.kept_positions(l, h)) {
                    if (p <= c) visible.push_back(p);
                }
                full.commit(c + 1);
                ASSERT_LE(max_abs_diff(got, masked_attention(full, l, h, q, 2, visible)), 5e-3) << c;
            }
        }
        cache.commit(c + 1);
        check(c + 1);
    }
    // A prefill batch larger than the window still ends within budget.
    fill(cache, full, 120, 180, 60, rng);
    check(180);
    EXPECT_EQ(cache.size(), 180);
}

TEST_P(EvictingKvCacheTest, DiscardMovesKeptPositionsAndReRotatesKeys) {
    const KvCacheShape shape{1, 2, 16, 200};
    const Rope rope(rope_config(2, 16));
    const EvictionOptions o{GetParam(), 30, 4, 10, 1};
    EvictingKvCache cache(shape, o);
    FullKvCache full(shape);
    std::mt19937 rng(61);
    fill(cache, full, 0, 100, 1, rng, &rope);
    const std::vector<int> before = cache.kept_positions(0, 1);
    cache.discard(4, 20, rope);
    full.discard(4, 20, rope);
    EXPECT_EQ(cache.size(), 80);
    std::vector<int> want;
    for (int p : before) {
        if (p < 4) want.push_back(p);
        if (p >= 24) want.push_back(p - 20);
    }
    std::vector<int> got = cache.kept_positions(0, 1);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
    // Keys now carry their new positions: attention matches the shifted full cache over the kept cells.
    const std::vector<float> q = random_vec(16, rng);
    EXPECT_LE(max_abs_diff(attention(cache, 0, 1, q, 1, 0, 80, 1), masked_attention(full, 0, 1, q, 1, got)), 5e-3);
    cache.truncate(50);
    for (int p : cache.kept_positions(0, 0)) EXPECT_LT(p, 50);
}

TEST(EvictingKvCacheTest, H2oKeepsTheHeavyHitter) {
    const KvCacheShape shape{1, 1, 16, 200};
    const EvictionOptions o{EvictionPolicy::kH2o, 24, 2, 8, 1};
    EvictingKvCache cache(shape, o);
    EvictingKvCache streaming(shape, EvictionOptions{EvictionPolicy::kStreaming, 24, 2, 8, 1});
    std::mt19937 rng(71);
    std::vector<float> heavy(16, 0.0f);
    heavy[0] = 6.0f;  // every query below points along channel 0
    for (int c = 0; c < 150; ++c) {
        std::vector<float> k = c == 10 ? heavy : random_vec(16, rng), v = random_vec(16, rng);
        for (KvCache* kv : {static_cast<KvCache*>(&cache), static_cast<KvCache*>(&streaming)}) {
            kv->store(0, c, k.data(), v.data());
            std::vector<float> q(16, 0.0f);
            q[0] = 2.0f;
            attention(*kv, 0, 0, q, 1, 0, c + 1, 1);
            kv->commit(c + 1);
        }
    }
    const std::vector<int> kept = cache.kept_positions(0, 0);
    EXPECT_TRUE(std::find(kept.begin(), kept.end(), 10) != kept.end());
    const std::vector<int> kept_s = streaming.kept_positions(0, 0);
    EXPECT_TRUE(std::find(kept_s.begin(), kept_s.end(), 10) == kept_s.end());
}

INSTANTIATE_TEST_SUITE_P(Policies, EvictingKvCacheTest,
                         ::testing::Values(EvictionPolicy::kStreaming, EvictionPolicy::kH2o),
                         [](const ::testing::TestParamInfo<EvictionPolicy>& info) {
                             return info.param == EvictionPolicy::kH2o ? "h2o" : "streaming";
                         });

// SnapKV, PyramidKV and Ada-KV (and the per-layer and per-head budgets over H2O), driven as the decoder drives a
// cache: a batch is stored, every token of it attends causally (ranges split in parts), then commit() evicts.
struct EvictionVariant {
    std::string name;
    EvictionOptions options;
};

std::vector<EvictionVariant> eviction_variants() {
    const auto make = [](EvictionPolicy p, bool pyramid, bool adaptive) {
        EvictionOptions o{p, 40, 4, 12, 2};
        o.observation = 8;
        o.pyramid = pyramid;
        o.pyramid_beta = 20;  // the paper's slope: the steepest schedule
        o.adaptive_heads = adaptive;
        o.batch_slots = 16;
        return o;
    };
    return {{"snapkv", make(EvictionPolicy::kSnapKv, false, false)},
            {"pyramidkv", make(EvictionPolicy::kSnapKv, true, false)},
            {"adakv", make(EvictionPolicy::kSnapKv, false, true)},
            {"ada_pyramidkv", make(EvictionPolicy::kSnapKv, true, true)},
            {"h2o_pyramid", make(EvictionPolicy::kH2o, true, false)},
            {"h2o_ada", make(EvictionPolicy::kH2o, false, true)}};
}

// Stores cells [from, to) of every layer in `cache` and `full` in batches of `batch`; each token then attends over
// [0, token] with queries from make_q(layer, head, token), the range split in two parts; then commit().
void drive(KvCache& cache, FullKvCache& full, int from, int to, int batch, std::mt19937& rng,
           const std::function<std::vector<float>(int, int, int)>& make_q,
           const std::function<std::vector<float>(int, int)>& make_k = nullptr) {
    const KvCacheShape& s = cache.shape();
    const std::size_t row = static_cast<std::size_t>(s.n_head_kv) * s.head_dim;
    for (int c0 = from; c0 < to; c0 += batch) {
        const int c1 = std::min(to, c0 + batch);
        for (int l = 0; l < s.n_layer; ++l) {
            for (int c = c0; c < c1; ++c) {
                std::vector<float> k = make_k ? make_k(l, c) : random_vec(row, rng, 1.0f), v = random_vec(row, rng);
                cache.store(l, c, k.data(), v.data());
                full.store(l, c, k.data(), v.data());
            }
            for (int c = c0; c < c1; ++c) {
                for (int h = 0; h < s.n_head_kv; ++h) {
                    const std::vector<float> q = make_q(l, h, c);
                    attention(cache, l, h, q, static_cast<int>(q.size()) / s.head_dim, 0, c + 1, 2);
                }
            }
        }
        cache.commit(c1);
        full.commit(c1);
    }
}

void PrintTo(const EvictionVariant& v, std::ostream* os) {
    *os << v.name;
}

class EvictionVariantTest : public ::testing::TestWithParam<EvictionVariant> {};

TEST_P(EvictionVariantTest, KeepsSinksAndWindowWithinLayerAndHeadBudgetsAtEveryIsa) {
    const EvictionOptions& o = GetParam().options;
    const KvCacheShape shape{4, 3, 16, 400};
    for (KernelIsa isa : isa_levels()) {
        EvictingKvCache cache(shape, o, isa);
        FullKvCache full(shape);
        std::mt19937 rng(81);
        // The schedule: n_layer · budget cells per head in total; PyramidKV's non-increasing, first > last layer.
        int total = 0;
        for (int l = 0; l < shape.n_layer; ++l) {
            total += cache.layer_budget(l);
            ASSERT_GE(cache.layer_budget(l), o.sinks + o.window);
            if (l > 0) {
                ASSERT_LE(cache.layer_budget(l), cache.layer_budget(l - 1));
            }
        }
        EXPECT_EQ(total, shape.n_layer * o.budget);
        if (o.pyramid) {
            // budget 40, sinks 4, window 12: S = 24, last layer S/20 = 1, first 2·24 − 1 = 47; 48 with the floors'
            // remainder, 31 and 16 between.
            EXPECT_EQ(cache.layer_budget(0), 4 + 12 + 48);
            EXPECT_EQ(cache.layer_budget(1), 4 + 12 + 31);
            EXPECT_EQ(cache.layer_budget(2), 4 + 12 + 16);
            EXPECT_EQ(cache.layer_budget(3), 4 + 12 + 1);
        } else {
            for (int l = 0; l < shape.n_layer; ++l) EXPECT_EQ(cache.layer_budget(l), o.budget);
        }
        const auto queries = [&](int, int, int) { return random_vec(2 * 16, rng); };
        // `exact`: eviction has filled every budget (not so after a discard() took kept cells away).
        const auto check = [&](int n, bool exact = true) {
            for (int l = 0; l < shape.n_layer; ++l) {
                const int budget = cache.layer_budget(l);
                int layer_total = 0;
                for (int h = 0; h < shape.n_head_kv; ++h) {
                    const std::vector<int> pos = cache.kept_positions(l, h);
                    ASSERT_EQ(static_cast<int>(pos.size()), cache.kept(l, h));
                    layer_total += cache.kept(l, h);
                    if (!o.adaptive_heads) {
                        ASSERT_LE(cache.kept(l, h), budget) << l << " " << h;
                        if (exact) {
                            ASSERT_EQ(cache.kept(l, h), std::min(n, budget)) << l << " " << h;
                        }
                    }
                    const std::set<int> kept(pos.begin(), pos.end());
                    for (int p = 0; p < std::min(n, o.sinks); ++p) ASSERT_TRUE(kept.count(p)) << "sink " << p;
                    for (int p = std::max(0, n - o.window); p < n; ++p) ASSERT_TRUE(kept.count(p)) << "window " << p;
                    for (int p : pos) ASSERT_TRUE(p >= 0 && p < n);
                }
                // Ada-KV: the layer's total, not each head's, is the budget; eviction stops exactly at it.
                ASSERT_LE(layer_total, budget * shape.n_head_kv) << "layer " << l;
                if (exact) {
                    ASSERT_EQ(layer_total, std::min(n * shape.n_head_kv, budget * shape.n_head_kv)) << "layer " << l;
                }
            }
        };
        drive(cache, full, 0, 90, 90, rng, queries);  // one prefill batch
        check(90);
        drive(cache, full, 90, 130, 1, rng, queries);  // decode
        check(130);
        drive(cache, full, 130, 200, 35, rng, queries);  // a second prompt, two batches
        check(200);
        // Attention covers exactly the kept cells at their own positions.
        for (int l = 0; l < shape.n_layer; ++l) {
            for (int h = 0; h < shape.n_head_kv; ++h) {
                const std::vector<float> q = random_vec(2 * 16, rng);
                EXPECT_LE(max_abs_diff(attention(cache, l, h, q, 2, 0, 200, 3),
                                       masked_attention(full, l, h, q, 2, cache.kept_positions(l, h))),
                          5e-3)
                    << GetParam().name << " " << kernel_isa_name(isa);
            }
        }
        // discard() and truncate() keep the bookkeeping consistent.
        const Rope rope(rope_config(3, 16));
        cache.discard(4, 50, rope);
        EXPECT_EQ(cache.size(), 150);
        for (int l = 0; l < shape.n_layer; ++l) {
            for (int p : cache.kept_positions(l, 0)) EXPECT_LT(p, 150);
        }
        drive(cache, full, 150, 170, 20, rng, queries);
        check(170, false);
        cache.truncate(60);
        for (int p : cache.kept_positions(0, 1)) EXPECT_LT(p, 60);
    }
}

INSTANTIATE_TEST_SUITE_P(Variants, EvictionVariantTest, ::testing::ValuesIn(eviction_variants()),
                         [](const ::testing::TestParamInfo<EvictionVariant>& info) { return info.param.name; });

// The prompt's last queries all look at one early cell: SnapKV keeps it (and, through max-pooling, its
// neighbours) through the prefill and the decode after it; StreamingLLM evicts it.
TEST(SnapKvTest, KeepsTheCellTheObservationWindowAttendsTo) {
    for (KernelIsa isa : isa_levels()) {
        const KvCacheShape shape{1, 1, 16, 200};
        EvictionOptions o{EvictionPolicy::kSnapKv, 24, 2, 8, 1};
        o.observation = 8;
        o.pool = 7;
        EvictingKvCache snap(shape, o, isa);
        EvictingKvCache streaming(shape, EvictionOptions{EvictionPolicy::kStreaming, 24, 2, 8, 1}, isa);
        for (EvictingKvCache* cache : {&snap, &streaming}) {
            FullKvCache full(shape);
            std::mt19937 rng(91);
            const auto keys = [&](int, int c) {
                std::vector<float> k = random_vec(16, rng);
                if (c == 30) k.assign(16, 0.0f), k[0] = 6.0f;
                return k;
            };
            // Queries of the prompt's last 8 tokens (92..99) point along channel 0; the others are random.
            const auto queries = [&](int, int, int c) {
                if (c < 92 || c >= 100) return random_vec(16, rng);
                std::vector<float> q(16, 0.0f);
                q[0] = 2.0f;
                return q;
            };
            drive(*cache, full, 0, 100, 100, rng, queries, keys);
            drive(*cache, full, 100, 140, 1, rng, queries, keys);  // decode: SnapKV's selection stays
        }
        std::vector<int> kept = snap.kept_positions(0, 0);
        std::sort(kept.begin(), kept.end());
        for (int p = 27; p <= 33; ++p) {
            EXPECT_TRUE(std::binary_search(kept.begin(), kept.end(), p)) << p << " " << kernel_isa_name(isa);
        }
        const std::vector<int> kept_s = streaming.kept_positions(0, 0);
        EXPECT_TRUE(std::find(kept_s.begin(), kept_s.end(), 30) == kept_s.end());
        EXPECT_EQ(snap.kept(0, 0), 24);
        EXPECT_EQ(snap.name(), "snapkv-f16-b24-s2-w8-o8-p7");
    }
}

// Decode steps score as H2O: token by token, with no prefill batch, SnapKV keeps exactly H2O's cells.
TEST(SnapKvTest, DecodesAsH2oWithoutAPrefill) {
    const KvCacheShape shape{2, 2, 16, 200};
    EvictionOptions o{EvictionPolicy::kSnapKv, 30, 4, 10, 2};
    EvictingKvCache snap(shape, o);
    o.policy = EvictionPolicy::kH2o;
    EvictingKvCache h2o(shape, o);
    for (EvictingKvCache* cache : {&snap, &h2o}) {
        FullKvCache full(shape);
        std::mt19937 rng(111);
        drive(*cache, full, 0, 150, 1, rng, [&](int, int, int) { return random_vec(2 * 16, rng); });
    }
    for (int l = 0; l < 2; ++l) {
        for (int h = 0; h < 2; ++h) {
            std::vector<int> a = snap.kept_positions(l, h), b = h2o.kept_positions(l, h);
            std::sort(a.begin(), a.end());
            std::sort(b.begin(), b.end());
            EXPECT_EQ(a, b) << l << " " << h;
            // Not simply StreamingLLM's cells: some kept cell is older than the most recent 30 − 4.
            ASSERT_EQ(a.size(), 30u);
            EXPECT_LT(a[4], 150 - 26) << l << " " << h;
        }
    }
}

// Ada-KV: of a layer's budget, the head whose observation queries all look at one cell keeps fewer cells than the
// head whose attention is spread evenly; the layer's total stays within budget and each head keeps sinks + window.
TEST(AdaKvTest, ConcentratedHeadsGiveTheirBudgetToDiffuseOnes) {
    const KvCacheShape shape{1, 2, 16, 200};
    EvictionOptions o{EvictionPolicy::kSnapKv, 24, 2, 8, 1};
    o.observation = 8;
    o.adaptive_heads = true;
    EvictingKvCache cache(shape, o);
    FullKvCache full(shape);
    std::mt19937 rng(101);
    const auto keys = [&](int, int c) {
        std::vector<float> k = random_vec(32, rng);
        if (c == 30) std::fill(k.begin() + 16, k.end(), 0.0f), k[16] = 20.0f;  // head 1
        return k;
    };
    const auto queries = [&](int, int h, int c) {
        std::vector<float> q(16, 0.0f);  // head 0: zero queries, uniform attention
        if (h == 1) q[0] = c >= 92 ? 2.0f : 0.0f;
        return q;
    };
    drive(cache, full, 0, 100, 100, rng, queries, keys);
    EXPECT_LT(cache.kept(0, 1), cache.kept(0, 0));
    EXPECT_GE(cache.kept(0, 1), o.sinks + o.window);
    EXPECT_GT(cache.kept(0, 0), o.budget);  // more than a uniform split would give it
    EXPECT_EQ(cache.kept(0, 0) + cache.kept(0, 1), 2 * o.budget);
    const std::vector<int> kept = cache.kept_positions(0, 1);
    EXPECT_TRUE(std::find(kept.begin(), kept.end(), 30) != kept.end());
    EXPECT_EQ(cache.name(), "adakv-f16-b24-s2-w8-o8-p7");
}

// Memory never exceeds what make_kv_cache() fitted to the byte budget: through many prompt batches (up to the
// decoder's 64 tokens) and decode steps, with one KV head whose attention is concentrated on a few cells and one
// whose attention is diffuse (so Ada-KV moves most of the layer's budget to the diffuse head), bytes() stays at
// the reserve after every commit, for every eviction policy, at every ISA level.
TEST(EvictionBytesTest, StayWithinTheFittedBudgetThroughPrefillsAndDecodes) {
    ModelConfig config;
    config.n_layer = 3;
    config.n_head = 4;
    config.n_head_kv = 2;
    config.head_dim = 16;
    config.n_embd = 64;
    config.n_rot = 16;
    const int n_ctx = 700;
    const std::size_t budget_bytes = 150 * EvictingKvCache::bytes_per_cell({3, 2, 16, n_ctx});
    for (KernelIsa isa : isa_levels()) {
        for (const char* policy : {"streaming", "h2o", "snapkv", "pyramidkv", "adakv"}) {
            auto made = make_kv_cache(config, n_ctx, KvCacheOptions{policy, budget_bytes, 32}, isa);
            ASSERT_TRUE(made.is_ok()) << policy;
            KvCache& cache = *made.value();
            const std::size_t reserved = cache.bytes();
            ASSERT_LE(reserved, budget_bytes) << policy;
            FullKvCache full(cache.shape());
            std::mt19937 rng(121);
            // Head 1's keys at positions 30, 230, 430, ... point along channel 0, and its queries too: concentrated.
            // Head 0's queries are zero: uniform attention over everything it keeps.
            const auto keys = [&](int, int c) {
                std::vector<float> k = random_vec(32, rng);
                if (c % 200 == 30) k[16] = 8.0f;
                return k;
            };
            const auto queries = [&](int, int h, int) {
                std::vector<float> q(2 * 16, 0.0f);
                if (h == 1) q[0] = q[16] = 4.0f;
                return q;
            };
            const int batches[] = {64, 1, 1, 1, 37, 64, 2, 1, 64, 64, 5, 1, 1, 63, 1};
            int n = 0;
            for (int round = 0; n < n_ctx - 64; ++round) {
                const int b = batches[round % std::size(batches)];
                drive(cache, full, n, n + b, b, rng, queries, keys);
                n += b;
                ASSERT_LE(cache.bytes(), budget_bytes) << policy << " " << kernel_isa_name(isa) << " at " << n;
                ASSERT_EQ(cache.bytes(), reserved) << policy << " " << kernel_isa_name(isa) << " at " << n;
            }
            const auto& e = dynamic_cast<const EvictingKvCache&>(cache);
            if (std::string_view(policy) == "adakv") {
                // The layer's budget went mostly to the diffuse head (the test's premise).
                EXPECT_GT(e.kept(0, 0), e.kept(0, 1)) << kernel_isa_name(isa);
                EXPECT_GT(e.kept(0, 0), e.layer_budget(0)) << kernel_isa_name(isa);
            }
        }
    }
}

// PyramidKV's default slope, β = 2: of S = budget − sinks − window selected cells per layer on average, the last
// layer keeps S/2 and the first 3S/2; the bytes are those of the uniform budget.
TEST(PyramidKvTest, DefaultSlopeIsTwo) {
    const KvCacheShape shape{4, 2, 16, 400};
    EvictionOptions o{EvictionPolicy::kSnapKv, 40, 4, 12, 2};
    o.pyramid = true;
    EvictingKvCache cache(shape, o);
    EXPECT_EQ(cache.options().pyramid_beta, 2);
    EXPECT_EQ(cache.layer_budget(0), 4 + 12 + 36);
    EXPECT_EQ(cache.layer_budget(1), 4 + 12 + 28);
    EXPECT_EQ(cache.layer_budget(2), 4 + 12 + 20);
    EXPECT_EQ(cache.layer_budget(3), 4 + 12 + 12);
    o.pyramid = false;
    EXPECT_EQ(cache.bytes(), EvictingKvCache(shape, o).bytes());
    EXPECT_EQ(cache.name(), "pyramidkv-f16-b40-s4-w12-o32-p7-beta2");
}

// A batch larger than the reserved batch slots still stores every cell (overflow slots are appended), and
// bytes() reports the growth.
TEST(EvictionBytesTest, ABatchBeyondTheBatchSlotsGrowsBytesAndBytesSayIt) {
    const KvCacheShape shape{2, 2, 16, 400};
    EvictionOptions o{EvictionPolicy::kSnapKv, 40, 4, 12, 2};
    o.observation = 8;
    o.adaptive_heads = true;
    o.batch_slots = 8;
    EvictingKvCache cache(shape, o);
    const std::size_t reserved = cache.bytes();
    EXPECT_EQ(reserved, static_cast<std::size_t>(40 + 8) * EvictingKvCache::bytes_per_cell(shape));
    FullKvCache full(shape);
    std::mt19937 rng(131);
    drive(cache, full, 0, 100, 100, rng, [&](int, int, int) { return random_vec(2 * 16, rng); });
    EXPECT_GT(cache.bytes(), reserved);
    for (int l = 0; l < 2; ++l) {
        EXPECT_EQ(cache.kept(l, 0) + cache.kept(l, 1), 2 * 40);
        for (int h = 0; h < 2; ++h) {
            const std::vector<float> q = random_vec(2 * 16, rng);
            EXPECT_LE(max_abs_diff(attention(cache, l, h, q, 2, 0, 100, 3),
                                   masked_attention(full, l, h, q, 2, cache.kept_positions(l, h))),
                      5e-3);
        }
    }
}

}  // namespace
}  // namespace kasten::llm
