// MixedKvCache beyond the contract suite: salient cells keep high-precision error bounds while the rest are low-bit,
// sinks stay salient, bytes never exceed what bytes_for() and kv_tokens_that_fit() promise, and the factory's
// "mixed" policy and its place in "auto".
#include "llm/mixed_kv_cache.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "llm/kv_cache_factory.h"

namespace kasten::llm {
namespace {

std::vector<float> gaussian(std::size_t n, std::mt19937& rng) {
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

double max_abs(const float* a, const float* b, int n) {
    double m = 0;
    for (int i = 0; i < n; ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
    return m;
}

// Largest error of a per-token min/max quantization of x at `bits` (half a step, plus f16 rounding of the params).
double token_bound(const float* x, int n, int bits) {
    const auto [lo, hi] = std::minmax_element(x, x + n);
    return 0.5 * (*hi - *lo) / ((1 << bits) - 1) * 1.01 + 2e-3 * std::max(std::abs(*lo), std::abs(*hi));
}

TEST(MixedKvCacheTest, SalientTokensKeepHighPrecisionAndTheOthersAreLowBit) {
    for (KernelIsa isa : {KernelIsa::kScalar, best_kernel_isa()}) {
        const KvCacheShape shape{2, 2, 16, 256};
        MixedKvOptions o;
        o.high_bits = 8;
        o.low_bits = 2;
        o.salient_fraction = 0.05;  // 4 sinks + 13 slots per head
        o.residual = 16;
        o.sinks = 4;
        o.n_q = 2;
        MixedKvCache cache(shape, o, isa);
        std::mt19937 rng(5);
        const int hd = shape.head_dim, row = shape.n_head_kv * hd;
        const int heavy = 40;  // every later query attends to it
        std::vector<std::vector<float>> keys(200), values(200);
        std::vector<float> out(2 * hd), mx(2), sum(2), scratch(2 * 256);
        for (int c = 0; c < 200; ++c) {
            keys[c] = gaussian(row, rng);  // the same cells in every layer
            if (c == heavy) {
                for (float& x : keys[c]) x *= 2.0f;  // a distinctive key, so a query can single it out
            }
            values[c] = gaussian(row, rng);
            for (int l = 0; l < shape.n_layer; ++l) cache.store(l, c, keys[c].data(), values[c].data());
            for (int l = 0; l < shape.n_layer; ++l) {
                for (int h = 0; h < shape.n_head_kv; ++h) {
                    std::vector<float> q = gaussian(2 * hd, rng);
                    if (c >= heavy) {  // both query heads point at the heavy token's key
                        for (int i = 0; i < 2; ++i) {
                            for (int d = 0; d < hd; ++d) q[i * hd + d] = 2.0f * keys[heavy][h * hd + d];
                        }
                    }
                    cache.attend(l, h, q.data(), 2, 0, c + 1, 0.25f, out.data(), mx.data(), sum.data(), scratch.data());
                }
            }
            cache.commit(c + 1);
        }
        ASSERT_GT(cache.low().quantized(), heavy);
        std::vector<float> k(hd), v(hd);
        int low_cells = 0;
        double low_error = 0, low_bound_sum = 0;
        for (int l = 0; l < shape.n_layer; ++l) {
            for (int h = 0; h < shape.n_head_kv; ++h) {
                const std::vector<int> salient = cache.salient_positions(l, h);
                const std::set<int> kept(salient.begin(), salient.end());
                EXPECT_LE(static_cast<int>(salient.size()), cache.slots());
                EXPECT_TRUE(kept.count(heavy)) << "layer " << l << " head " << h;
                for (int s = 0; s < o.sinks; ++s) EXPECT_TRUE(kept.count(s)) << s;
                for (int c = 0; c < cache.low().quantized(); ++c) {
                    cache.read(l, h, c, k.data(), v.data());
                    const float* kc = keys[c].data() + h * hd;
                    const float* vc = values[c].data() + h * hd;
                    if (kept.count(c)) {  // 8-bit per token
                        EXPECT_LE(max_abs(k.data(), kc, hd), token_bound(kc, hd, 8)) << c;
                        EXPECT_LE(max_abs(v.data(), vc, hd), token_bound(vc, hd, 8)) << c;
                    } else {  // 2-bit: the low-bit store, at most half a 2-bit step of its value group
                        ++low_cells;
                        low_error += max_abs(v.data(), vc, hd);
                        low_bound_sum += token_bound(vc, hd, 8);
                    }
                }
            }
        }
        ASSERT_GT(low_cells, 0);
        // The others are clearly coarser than 8-bit (2-bit steps are 85 times 8-bit ones).
        EXPECT_GT(low_error, 10 * low_bound_sum);
        // A query that (almost) only sees the heavy token reads its 8-bit value, not a 2-bit one.
        for (int h = 0; h < shape.n_head_kv; ++h) {
            std::vector<float> q(2 * hd);
            for (int i = 0; i < 2; ++i)
                for (int d = 0; d < hd; ++d) q[i * hd + d] = 5.0f * keys[heavy][h * hd + d];
            cache.attend(0, h, q.data(), 2, 0, 200, 0.25f, out.data(), mx.data(), sum.data(), scratch.data());
            for (int d = 0; d < hd; ++d) {
                EXPECT_NEAR(out[d] / sum[0], values[heavy][h * hd + d], 0.05) << d;
            }
        }
    }
}

// A decode step split across threads (flash-decoding parts) scores the same as one call over the whole range, and
// a batch scored in attend() the same as token by token.
TEST(MixedKvCacheTest, SplitStepsAndBatchesScoreAsWholeRanges) {
    const KvCacheShape shape{1, 2, 8, 160};
    MixedKvOptions o;
    o.salient_fraction = 0.1;
    o.residual = 8;
    o.sinks = 2;
    o.n_q = 2;
    MixedKvCache whole(shape, o, KernelIsa::kScalar), split(shape, o, KernelIsa::kScalar);
    // Batches quantize groups at other commits than single tokens, which changes what a softmax sees; with a window
    // holding every cell both see the same cells.
    MixedKvOptions unquantized = o;
    unquantized.residual = shape.capacity;
    MixedKvCache one_by_one(shape, unquantized, KernelIsa::kScalar), batched(shape, unquantized, KernelIsa::kScalar);
    std::mt19937 rng(9);
    const int hd = shape.head_dim, row = shape.n_head_kv * hd;
    std::vector<float> out(2 * hd), mx(2), sum(2), scratch(2 * 160);
    std::vector<std::vector<float>> keys, values, queries;
    for (int c = 0; c < 150; ++c) {
        keys.push_back(gaussian(row, rng));
        values.push_back(gaussian(row, rng));
        queries.push_back(gaussian(static_cast<std::size_t>(shape.n_head_kv) * 2 * hd, rng));
        whole.store(0, c, keys[c].data(), values[c].data());
        split.store(0, c, keys[c].data(), values[c].data());
        one_by_one.store(0, c, keys[c].data(), values[c].data());
        for (int h = 0; h < shape.n_head_kv; ++h) {
            const float* q = queries[c].data() + h * 2 * hd;
            whole.attend(0, h, q, 2, 0, c + 1, 0.35f, out.data(), mx.data(), sum.data(), scratch.data());
            one_by_one.attend(0, h, q, 2, 0, c + 1, 0.35f, out.data(), mx.data(), sum.data(), scratch.data());
            const int b = (c + 1) / 3;
            if (b > 0) split.attend(0, h, q, 2, 0, b, 0.35f, out.data(), mx.data(), sum.data(), scratch.data());
            split.attend(0, h, q, 2, b, c + 1, 0.35f, out.data(), mx.data(), sum.data(), scratch.data());
        }
        whole.commit(c + 1);
        split.commit(c + 1);
        one_by_one.commit(c + 1);
    }
    // The same tokens in batches of 10, each token attending over [0, t].
    for (int c0 = 0; c0 < 150; c0 += 10) {
        for (int c = c0; c < c0 + 10; ++c) batched.store(0, c, keys[c].data(), values[c].data());
        for (int c = c0; c < c0 + 10; ++c) {
            for (int h = 0; h < shape.n_head_kv; ++h) {
                batched.attend(0, h, queries[c].data() + h * 2 * hd, 2, 0, c + 1, 0.35f, out.data(), mx.data(),
                               sum.data(), scratch.data());
            }
        }
        batched.commit(c0 + 10);
    }
    for (int h = 0; h < shape.n_head_kv; ++h) {
        auto a = whole.salient_positions(0, h), b = split.salient_positions(0, h);
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        EXPECT_EQ(a, b);
        int scored = 0;
        for (int c = o.sinks; c < 150; ++c) {
            const double s = whole.score(0, h, c);
            EXPECT_NEAR(split.score(0, h, c), s, 1e-5 + 1e-4 * std::abs(s)) << c;
            if (s > 0) ++scored;
        }
        EXPECT_GT(scored, 10);
    }
    for (int h = 0; h < shape.n_head_kv; ++h) {
        ASSERT_EQ(batched.low().quantized(), 0);
        for (int c = o.sinks; c < 150; ++c) {  // (sinks score infinity)
            const double s = one_by_one.score(0, h, c);
            EXPECT_NEAR(batched.score(0, h, c), s, 1e-5 + 1e-4 * std::abs(s)) << c;
        }
    }
}

// The saved state carries the scores: a loaded cache picks the same salient cells as the original from then on.
TEST(MixedKvCacheTest, LoadedStateContinuesWithTheSameScores) {
    const KvCacheShape shape{1, 2, 8, 200};
    MixedKvOptions o;
    o.salient_fraction = 0.1;
    o.residual = 8;
    o.n_q = 2;
    MixedKvCache a(shape, o, KernelIsa::kScalar), b(shape, o, KernelIsa::kScalar);
    std::mt19937 rng(4);
    const int hd = shape.head_dim, row = shape.n_head_kv * hd;
    std::vector<float> out(2 * hd), mx(2), sum(2), scratch(2 * 200);
    const auto step = [&](MixedKvCache& cache, int c, const std::vector<float>& k, const std::vector<float>& v,
                          const std::vector<float>& q) {
        cache.store(0, c, k.data(), v.data());
        for (int h = 0; h < shape.n_head_kv; ++h) {
            cache.attend(0, h, q.data() + h * 2 * hd, 2, 0, c + 1, 0.35f, out.data(), mx.data(), sum.data(),
                         scratch.data());
        }
        cache.commit(c + 1);
    };
    for (int c = 0; c < 100; ++c) step(a, c, gaussian(row, rng), gaussian(row, rng), gaussian(2 * row, rng));
    std::string state;
    ASSERT_TRUE(a.save_state(state).is_ok());
    ASSERT_TRUE(b.load_state(state, 100).is_ok());
    for (int c = 100; c < 190; ++c) {
        const auto k = gaussian(row, rng), v = gaussian(row, rng), q = gaussian(2 * row, rng);
        step(a, c, k, v, q);
        step(b, c, k, v, q);
    }
    std::string sa, sb;
    ASSERT_TRUE(a.save_state(sa).is_ok());
    ASSERT_TRUE(b.save_state(sb).is_ok());
    EXPECT_EQ(sa, sb);
    EXPECT_EQ(a.salient_positions(0, 1), b.salient_positions(0, 1));
    // Damaged or short states are refused and leave an empty cache.
    EXPECT_EQ(b.load_state(std::string_view(state).substr(0, state.size() - 1), 100).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(b.size(), 0);
    EXPECT_EQ(b.load_state(state, 99).code(), StatusCode::kInvalidArgument);
}

TEST(MixedKvCacheTest, WithoutQueriesSinksAndEarliestCellsAreKept) {
    const KvCacheShape shape{1, 1, 8, 128};
    MixedKvOptions o;
    o.salient_fraction = 0.0;
    o.residual = 0;
    o.sinks = 4;
    MixedKvCache cache(shape, o, KernelIsa::kScalar);
    EXPECT_EQ(cache.slots(), 4);
    std::mt19937 rng(2);
    for (int c = 0; c < 100; ++c) {
        const auto k = gaussian(8, rng), v = gaussian(8, rng);
        cache.store(0, c, k.data(), v.data());
        cache.commit(c + 1);
    }
    std::vector<int> salient = cache.salient_positions(0, 0);
    std::sort(salient.begin(), salient.end());
    EXPECT_EQ(salient, (std::vector<int>{0, 1, 2, 3}));
    cache.truncate(2);
    EXPECT_EQ(cache.salient_positions(0, 0).size(), 0u);  // cells back in the f16 window
    EXPECT_EQ(cache.size(), 2);
}

ModelConfig config_of(int n_layer, int n_head, int n_head_kv, int head_dim) {
    ModelConfig c;
    c.n_layer = n_layer;
    c.n_head = n_head;
    c.n_head_kv = n_head_kv;
    c.head_dim = head_dim;
    c.n_embd = n_head * head_dim;
    c.n_rot = head_dim;
    return c;
}

TEST(MixedKvCacheTest, BytesNeverExceedWhatBytesForAndTheFitPromise) {
    for (const ModelConfig& c : {config_of(30, 9, 3, 64), config_of(5, 8, 4, 8)}) {
        for (int n_ctx : {100, 512, 2048}) {
            KvCacheOptions o;
            o.policy = "mixed";
            auto cache = make_kv_cache(c, n_ctx, o, KernelIsa::kScalar);
            ASSERT_TRUE(cache.is_ok()) << cache.status().to_string();
            const std::size_t promised = kv_cache_bytes(c, n_ctx, o).value();
            EXPECT_EQ(cache.value()->bytes(), promised) << cache.value()->name();
            // Filled in batches up to the window's size, the cache stays within its promise.
            std::mt19937 rng(3);
            const int row = c.n_head_kv * c.head_dim;
            for (int c0 = 0; c0 < n_ctx; c0 += 32) {
                const int c1 = std::min(n_ctx, c0 + 32);
                for (int l = 0; l < c.n_layer; ++l) {
                    for (int t = c0; t < c1; ++t) {
                        const auto k = gaussian(row, rng), v = gaussian(row, rng);
                        cache.value()->store(l, t, k.data(), v.data());
                    }
                }
                cache.value()->commit(c1);
                ASSERT_LE(cache.value()->bytes(), promised) << c1;
            }
            for (const char* policy : {"f16", "kivi4", "kivi2"}) {
                KvCacheOptions p;
                p.policy = policy;
                EXPECT_EQ(make_kv_cache(c, n_ctx, p).value()->bytes(), kv_cache_bytes(c, n_ctx, p).value()) << policy;
            }
            // Tokens that fit a budget: that many fit it, one more does not.
            for (double fraction : {0.3, 0.7}) {
                o.budget_bytes = static_cast<std::size_t>(fraction * static_cast<double>(promised));
                const int fit = kv_tokens_that_fit(c, n_ctx, o);
                ASSERT_GT(fit, 0);
                ASSERT_LT(fit, n_ctx);
                KvCacheOptions unlimited = o;
                unlimited.budget_bytes = 0;
                EXPECT_LE(make_kv_cache(c, fit, unlimited).value()->bytes(), o.budget_bytes);
                EXPECT_GT(kv_cache_bytes(c, fit + 1, unlimited).value(), o.budget_bytes);
            }
        }
    }
}

TEST(MixedKvCacheTest, FitOfEvictionAndUnlimitedCaches) {
    const ModelConfig c = config_of(30, 9, 3, 64);
    EXPECT_EQ(kv_tokens_that_fit(c, 4096, KvCacheOptions{}), 4096);
    KvCacheOptions o;
    o.policy = "h2o";
    o.budget_bytes = 8u << 20;
    auto h2o = make_kv_cache(c, 4096, o);
    ASSERT_TRUE(h2o.is_ok());
    const int fit = kv_tokens_that_fit(c, 4096, o);
    EXPECT_GT(fit, 0);
    EXPECT_LT(fit, 4096);
    EXPECT_NE(h2o.value()->name().find("-b" + std::to_string(fit) + "-"), std::string::npos) << h2o.value()->name();
    o.policy = "auto";
    EXPECT_EQ(kv_tokens_that_fit(c, 4096, o), fit);  // auto falls back to h2o at 8 MiB for 4096 tokens
    o.budget_bytes = 1u << 30;
    EXPECT_EQ(kv_tokens_that_fit(c, 4096, o), 4096);
}

TEST(MixedKvCacheTest, FactoryBuildsItAndAutoPicksItBetweenKivi4AndKivi2) {
    const ModelConfig c = config_of(30, 9, 3, 64);
    KvCacheOptions o;
    o.policy = "mixed";
    auto cache = make_kv_cache(c, 1024, o);
    ASSERT_TRUE(cache.is_ok());
    EXPECT_EQ(cache.value()->name(), "mixed-q8q2-f0.10-r32-s4");
    o.mixed_low_bits = 3;
    EXPECT_FALSE(make_kv_cache(c, 1024, o).is_ok());
    o.mixed_low_bits = 2;
    o.mixed_salient_fraction = 1.5;
    EXPECT_FALSE(make_kv_cache(c, 1024, o).is_ok());
    // A budget below kivi4 and above the mixed cache picks it.
    const int n_ctx = 8192;
    KvCacheOptions m;
    m.policy = "mixed";
    KvCacheOptions k4;
    k4.policy = "kivi4";
    const std::size_t mixed_bytes = kv_cache_bytes(c, n_ctx, m).value();
    const std::size_t kivi4_bytes = kv_cache_bytes(c, n_ctx, k4).value();
    ASSERT_LT(mixed_bytes, kivi4_bytes);
    KvCacheOptions a;
    a.policy = "auto";
    a.budget_bytes = (mixed_bytes + kivi4_bytes) / 2;
    EXPECT_EQ(make_kv_cache(c, n_ctx, a).value()->name(), "mixed-q8q2-f0.10-r32-s4");
}

}  // namespace
}  // namespace kasten::llm
