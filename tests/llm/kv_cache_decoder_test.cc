// The compressed caches inside the decoder on the trained stories260K model: next-token distributions against the
// full cache (the kv benchmark's measurement on a short text), and multi-threaded flash-decoding splits.
#include <cmath>
#include <memory>
#include <utility>

#include <gtest/gtest.h>

#include "llm/kv_benchmark.h"
#include "llm/kv_cache_factory.h"
#include "llm/llama_context.h"
#include "llm/llama_model.h"
#include "tests/llm/stories_fixture.h"

namespace kasten::llm {
namespace {

TEST(KvCacheDecoderTest, CompressedCachesStayCloseToTheFullCacheOnStories) {
    KvBenchmarkOptions o;
    o.stories_path = testing::stories_gguf();
    o.samples = 1;
    o.sample_tokens = 160;
    o.include_speed = false;
    o.quality_configs = {{"full"}, {"f16"}, {"kivi8"}, {"kivi4"}, {"streaming", 32, 64}, {"h2o", 32, 64}};
    auto report = run_kv_benchmark(o);
    ASSERT_TRUE(report.is_ok()) << report.status().to_string();
    const auto& q = report.value().quality;
    ASSERT_EQ(q.size(), 6u);
    EXPECT_EQ(q[0].mean_kl, 0.0);
    EXPECT_EQ(q[0].top1_agreement, 1.0);
    EXPECT_GT(q[0].ppl_full, 1.0);
    // Bounds about ten times the measured values (docs/kv-cache.md), so a broken kernel or position shows.
    EXPECT_LT(q[1].mean_kl, 1e-4) << q[1].cache;
    EXPECT_LT(q[2].mean_kl, 5e-4) << q[2].cache;
    EXPECT_LT(q[3].mean_kl, 0.03) << q[3].cache;
    EXPECT_GE(q[2].top1_agreement, 0.97) << q[2].cache;
    for (std::size_t i = 4; i < 6; ++i) {
        // Eviction to 64 of 160 cells: measurably worse, yet far from a broken cache (KL of a uniform guess ≈ 3).
        EXPECT_GT(q[i].mean_kl, 1e-4) << q[i].cache;
        EXPECT_LT(q[i].mean_kl, 0.3) << q[i].cache;
    }
    for (const KvQualityRow& r : q) EXPECT_GT(r.bytes, 0u) << r.cache;
    EXPECT_LT(q[3].bytes, q[1].bytes);
}

// SnapKV, PyramidKV and Ada-KV after a prefill batch (the first 80 tokens), 64 of 160 cells kept: the prompt's
// positions are exact (nothing is evicted inside a batch), the rest measurably worse yet far from broken.
TEST(KvCacheDecoderTest, SnapKvVariantsAfterAPrefillStayCloseToTheFullCacheOnStories) {
    KvBenchmarkOptions o;
    o.stories_path = testing::stories_gguf();
    o.samples = 1;
    o.sample_tokens = 160;
    o.include_speed = false;
    o.quality_configs = {{"full"}, {"snapkv", 32, 64, 80}, {"pyramidkv", 32, 64, 80}, {"adakv", 32, 64, 80}};
    auto report = run_kv_benchmark(o);
    ASSERT_TRUE(report.is_ok()) << report.status().to_string();
    const auto& q = report.value().quality;
    ASSERT_EQ(q.size(), 4u);
    EXPECT_EQ(q[0].mean_kl, 0.0);
    for (std::size_t i = 1; i < 4; ++i) {
        EXPECT_GT(q[i].mean_kl, 1e-4) << q[i].cache;
        EXPECT_LT(q[i].mean_kl, 0.3) << q[i].cache;
        EXPECT_GT(q[i].top1_agreement, 0.7) << q[i].cache;
        EXPECT_EQ(q[i].policy.substr(q[i].policy.size() - 4), "-p80") << q[i].policy;
    }
    EXPECT_EQ(q[1].cache.rfind("snapkv-f16-b64", 0), 0u) << q[1].cache;
    EXPECT_EQ(q[2].cache.rfind("pyramidkv-f16-b64", 0), 0u) << q[2].cache;
    EXPECT_EQ(q[3].cache.rfind("adakv-f16-b64", 0), 0u) << q[3].cache;
}

TEST(KvCacheDecoderTest, SplitAttentionOverThreadsMatchesOneThread) {
    auto model = LlamaModel::open(testing::stories_gguf());
    ASSERT_TRUE(model.is_ok());
    std::vector<int> prompt;
    for (int i = 0; i < 300; ++i) prompt.push_back(3 + (i * 37) % 500);
    // The eviction caches with a budget of 128 cells (+ one 64-token batch; 800 bytes a cell on stories260K):
    // the queries they record and score are the same however the ranges are split.
    for (auto [policy, budget] : {std::pair<const char*, std::size_t>{"f16", 0},
                                  {"kivi4", 0},
                                  {"kivi2", 0},
                                  {"h2o", 192 * 800},
                                  {"snapkv", 192 * 800},
                                  {"pyramidkv", 192 * 800},
                                  {"adakv", 192 * 800}}) {
        ThreadPool one(1), two(2);
        auto a = make_kv_cache((*model)->config(), 320, KvCacheOptions{policy, budget, 32});
        auto b = make_kv_cache((*model)->config(), 320, KvCacheOptions{policy, budget, 32});
        ASSERT_TRUE(a.is_ok() && b.is_ok());
        LlamaContext ca(*model, std::move(a).value(), &one), cb(*model, std::move(b).value(), &two);
        ASSERT_TRUE(ca.eval(prompt).is_ok());
        ASSERT_TRUE(cb.eval(prompt).is_ok());
        // Decode steps past 256 cells split attention across the two threads.
        for (int step = 0; step < 4; ++step) {
            const int token = 5 + step;
            ASSERT_TRUE(ca.eval(std::span<const int>(&token, 1)).is_ok());
            ASSERT_TRUE(cb.eval(std::span<const int>(&token, 1)).is_ok());
            const auto la = ca.logits(), lb = cb.logits();
            for (std::size_t i = 0; i < la.size(); ++i) ASSERT_NEAR(la[i], lb[i], 1e-3) << policy << " " << i;
        }
    }
}

}  // namespace
}  // namespace kasten::llm
