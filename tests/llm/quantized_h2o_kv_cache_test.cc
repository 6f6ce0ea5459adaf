// QuantizedH2oKvCache (eviction combined with quantization): budgets, sinks and windows kept, attention over exactly
// the kept (dequantized) cells, the heavy hitter kept, discard() re-rotating the kept keys, bytes within what the
// factory promises.
#include "llm/quantized_h2o_kv_cache.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "llm/full_kv_cache.h"
#include "llm/kv_cache_factory.h"
#include "llm/rope.h"

namespace kasten::llm {
namespace {

std::vector<float> gaussian(std::size_t n, std::mt19937& rng, float offsets = 0.0f) {
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = d(rng) + offsets * static_cast<float>(static_cast<int>(i % 5) - 2);
    return v;
}

// Softmax attention of one query over explicit keys and values (double precision).
std::vector<double> reference(const std::vector<float>& q, const std::vector<std::vector<float>>& keys,
                              const std::vector<std::vector<float>>& values, float scale) {
    const std::size_t hd = q.size();
    std::vector<double> s;
    double m = -1e300, total = 0;
    for (const auto& k : keys) {
        double d = 0;
        for (std::size_t j = 0; j < hd; ++j) d += q[j] * k[j];
        s.push_back(scale * d);
        m = std::max(m, s.back());
    }
    for (double& x : s) total += (x = std::exp(x - m));
    std::vector<double> out(hd, 0.0);
    for (std::size_t c = 0; c < s.size(); ++c) {
        for (std::size_t j = 0; j < hd; ++j) out[j] += s[c] / total * values[c][j];
    }
    return out;
}

TEST(QuantizedH2oKvCacheTest, KeepsSinksWindowAndHeavyHitterWithinBudget) {
    for (int bits : {8, 4}) {
        const KvCacheShape shape{2, 2, 16, 300};
        QuantizedH2oOptions o;
        o.bits = bits;
        o.budget = 40;
        o.sinks = 4;
        o.window = 16;
        o.n_q = 2;
        o.batch_slots = 8;
        QuantizedH2oKvCache cache(shape, o);
        const std::size_t promised = cache.bytes();
        std::mt19937 rng(3);
        const int hd = 16, heavy = 30;
        std::vector<float> heavy_key(2 * hd, 0.0f);
        heavy_key[0] = heavy_key[hd] = 6.0f;  // the queries below point along channel 0 of both heads
        std::vector<float> out(2 * hd), mx(2), sum(2), scratch(2 * 300);
        for (int c = 0; c < 200; ++c) {
            for (int l = 0; l < 2; ++l) {
                const auto k = c == heavy ? heavy_key : gaussian(2 * hd, rng, 1.0f);
                const auto v = gaussian(2 * hd, rng);
                cache.store(l, c, k.data(), v.data());
                for (int h = 0; h < 2; ++h) {
                    std::vector<float> q = gaussian(2 * hd, rng);
                    q[0] = q[hd] = 3.0f;
                    cache.attend(l, h, q.data(), 2, 0, c + 1, 0.25f, out.data(), mx.data(), sum.data(), scratch.data());
                    // Exactly the softmax over the kept cells as stored (dequantized).
                    std::vector<std::vector<float>> keys, values;
                    for (int p : cache.kept_positions(l, h)) {
                        if (p > c) continue;
                        std::vector<float> kk(hd), vv(hd);
                        ASSERT_TRUE(cache.read(l, h, p, kk.data(), vv.data()));
                        keys.push_back(kk);
                        values.push_back(vv);
                    }
                    const std::vector<float> q0(q.begin(), q.begin() + hd);
                    const auto want = reference(q0, keys, values, 0.25f);
                    for (int d = 0; d < hd; ++d) ASSERT_NEAR(out[d] / sum[0], want[d], 1e-4) << c;
                }
            }
            cache.commit(c + 1);
            ASSERT_LE(cache.bytes(), promised);
            for (int l = 0; l < 2; ++l) {
                for (int h = 0; h < 2; ++h) {
                    const auto pos = cache.kept_positions(l, h);
                    ASSERT_EQ(static_cast<int>(pos.size()), std::min(c + 1, o.budget));
                    const std::set<int> kept(pos.begin(), pos.end());
                    for (int p = 0; p < std::min(c + 1, o.sinks); ++p) ASSERT_TRUE(kept.count(p)) << p;
                    for (int p = std::max(0, c + 1 - o.window); p <= c; ++p) ASSERT_TRUE(kept.count(p)) << p;
                    if (c >= heavy) {
                        ASSERT_TRUE(kept.count(heavy)) << "bits " << bits << " at " << c;
                    }
                }
            }
        }
        // The kept cells are within the per-token quantization error of what was stored.
        std::vector<float> k(hd), v(hd);
        ASSERT_TRUE(cache.read(0, 0, heavy, k.data(), v.data()));
        EXPECT_NEAR(k[0], 6.0f, 0.03);  // keys at 8 bits either way
    }
}

TEST(QuantizedH2oKvCacheTest, DiscardMovesKeptPositionsAndReRotatesKeys) {
    const KvCacheShape shape{1, 1, 16, 200};
    ModelConfig cfg;
    cfg.n_embd = 16;
    cfg.n_head = 1;
    cfg.n_head_kv = 1;
    cfg.head_dim = 16;
    cfg.n_rot = 16;
    cfg.n_layer = 1;
    cfg.n_ff = 8;
    const Rope rope(cfg);
    QuantizedH2oOptions o;
    o.budget = 30;
    o.sinks = 4;
    o.window = 10;
    QuantizedH2oKvCache cache(shape, o);
    FullKvCache full(shape);
    std::mt19937 rng(8);
    for (int c = 0; c < 100; ++c) {
        auto k = gaussian(16, rng, 1.0f);
        const auto v = gaussian(16, rng);
        rope.apply(k.data(), 1, c);
        cache.store(0, c, k.data(), v.data());
        full.store(0, c, k.data(), v.data());
        cache.commit(c + 1);
        full.commit(c + 1);
    }
    const auto before = cache.kept_positions(0, 0);
    cache.discard(4, 20, rope);
    full.discard(4, 20, rope);
    EXPECT_EQ(cache.size(), 80);
    std::vector<int> want;
    for (int p : before) {
        if (p < 4) want.push_back(p);
        if (p >= 24) want.push_back(p - 20);
    }
    auto got = cache.kept_positions(0, 0);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
    // Re-rotated keys match the shifted full cache's within 8-bit error.
    std::vector<float> k(16), v(16);
    for (int p : got) {
        ASSERT_TRUE(cache.read(0, 0, p, k.data(), v.data()));
        for (int d = 0; d < 16; ++d) EXPECT_NEAR(k[d], full.key(0, 0, p)[d], 0.06) << p;
    }
    cache.truncate(50);
    for (int p : cache.kept_positions(0, 0)) EXPECT_LT(p, 50);
}

TEST(QuantizedH2oKvCacheTest, FactoryFitsTheBudgetWithMoreCellsThanF16H2o) {
    ModelConfig c;
    c.n_layer = 30;
    c.n_head = 9;
    c.n_head_kv = 3;
    c.head_dim = 64;
    c.n_embd = 576;
    c.n_rot = 64;
    KvCacheOptions o;
    o.policy = "h2o-q8";
    o.budget_bytes = 8u << 20;
    auto cache = make_kv_cache(c, 4096, o);
    ASSERT_TRUE(cache.is_ok()) << cache.status().to_string();
    EXPECT_LE(cache.value()->bytes(), o.budget_bytes);
    const int cells = kv_tokens_that_fit(c, 4096, o);
    EXPECT_EQ(cache.value()->name().rfind("h2o-k8v8-b" + std::to_string(cells) + "-", 0), 0u) << cache.value()->name();
    KvCacheOptions f16 = o;
    f16.policy = "h2o";
    EXPECT_GT(cells, kv_tokens_that_fit(c, 4096, f16) * 3 / 2);  // 144 against 264 bytes per cell and head
    o.budget_bytes = 1000;
    EXPECT_FALSE(make_kv_cache(c, 4096, o).is_ok());
}

}  // namespace
}  // namespace kasten::llm
