#include "llm/full_kv_cache.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "llm/rope.h"

namespace kasten::llm {
namespace {

std::vector<float> random_vec(std::size_t n, std::mt19937& rng) {
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

TEST(FullKvCacheTest, AttendMatchesNaiveSoftmaxAndMergesAcrossRanges) {
    const KvCacheShape shape{2, 2, 16, 40};
    FullKvCache cache(shape);
    EXPECT_EQ(cache.bytes(), 2u * 2 * 2 * 16 * 40 * 4);
    EXPECT_EQ(cache.name(), "full-f32");
    std::mt19937 rng(3);
    std::vector<std::vector<float>> ks, vs;
    for (int c = 0; c < 30; ++c) {
        ks.push_back(random_vec(32, rng));
        vs.push_back(random_vec(32, rng));
        cache.store(1, c, ks.back().data(), vs.back().data());
    }
    cache.commit(30);
    EXPECT_EQ(cache.size(), 30);
    const int n_q = 3, kv_head = 1, hd = 16;
    std::vector<float> q = random_vec(n_q * hd, rng);
    const float scale = 0.25f;

    // Naive attention over cells [0, 30) for each query.
    std::vector<double> want(n_q * hd, 0.0);
    for (int i = 0; i < n_q; ++i) {
        std::vector<double> s(30);
        double m = -1e30, total = 0;
        for (int c = 0; c < 30; ++c) {
            double d = 0;
            for (int j = 0; j < hd; ++j) d += q[i * hd + j] * ks[c][kv_head * hd + j];
            s[c] = d * scale;
            m = std::max(m, s[c]);
        }
        for (double& x : s) total += (x = std::exp(x - m));
        for (int c = 0; c < 30; ++c) {
            for (int j = 0; j < hd; ++j) want[i * hd + j] += s[c] / total * vs[c][kv_head * hd + j];
        }
    }
    // Two parts [0, 11) and [11, 30), merged as the decoder does.
    std::vector<float> out1(n_q * hd), out2(n_q * hd), scratch(n_q * 30);
    float max1[3], sum1[3], max2[3], sum2[3];
    cache.attend(1, kv_head, q.data(), n_q, 0, 11, scale, out1.data(), max1, sum1, scratch.data());
    cache.attend(1, kv_head, q.data(), n_q, 11, 30, scale, out2.data(), max2, sum2, scratch.data());
    for (int i = 0; i < n_q; ++i) {
        const double m = std::max(max1[i], max2[i]);
        const double w1 = std::exp(max1[i] - m), w2 = std::exp(max2[i] - m);
        const double total = w1 * sum1[i] + w2 * sum2[i];
        for (int j = 0; j < hd; ++j) {
            const double got = (w1 * out1[i * hd + j] + w2 * out2[i * hd + j]) / total;
            EXPECT_NEAR(got, want[i * hd + j], 1e-5);
        }
    }
}

TEST(FullKvCacheTest, DiscardMovesCellsAndReRotatesKeys) {
    ModelConfig cfg;
    cfg.n_embd = 32;
    cfg.n_head = 2;
    cfg.n_head_kv = 2;
    cfg.head_dim = 16;
    cfg.n_rot = 12;  // partial rotary dims: the last 4 of each head are untouched
    cfg.n_layer = 1;
    cfg.n_ff = 8;
    const Rope rope(cfg);
    FullKvCache cache(KvCacheShape{1, 2, 16, 20});
    std::mt19937 rng(5);
    std::vector<std::vector<float>> raw_k, raw_v;
    for (int c = 0; c < 20; ++c) {
        raw_k.push_back(random_vec(32, rng));
        raw_v.push_back(random_vec(32, rng));
        std::vector<float> k = raw_k.back();
        rope.apply(k.data(), 2, c);
        cache.store(0, c, k.data(), raw_v.back().data());
    }
    cache.commit(20);
    cache.discard(3, 7, rope);
    ASSERT_EQ(cache.size(), 13);
    for (int c = 0; c < 13; ++c) {
        const int original = c < 3 ? c : c + 7;
        std::vector<float> expected = raw_k[original];
        rope.apply(expected.data(), 2, c);  // the key as if computed at its new position
        for (int h = 0; h < 2; ++h) {
            for (int j = 0; j < 16; ++j) {
                EXPECT_NEAR(cache.key(0, h, c)[j], expected[h * 16 + j], 2e-5) << c << " " << h << " " << j;
                EXPECT_EQ(cache.value(0, h, c)[j], raw_v[original][h * 16 + j]);
            }
        }
    }
    cache.truncate(5);
    EXPECT_EQ(cache.size(), 5);
    cache.truncate(50);
    EXPECT_EQ(cache.size(), 5);
}

}  // namespace
}  // namespace kasten::llm
