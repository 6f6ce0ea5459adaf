// The compressed caches inside the decoder on the trained stories260K model: next-token distributions against the
// full cache (the kv benchmark's measurement on a short text), and multi-threaded flash-decoding splits.
#include <cmath>
#include <memory>

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

TEST(KvCacheDecoderTest, SplitAttentionOverThreadsMatchesOneThread) {
    auto model = LlamaModel::open(testing::stories_gguf());
    ASSERT_TRUE(model.is_ok());
    std::vector<int> prompt;
    for (int i = 0; i < 300; ++i) prompt.push_back(3 + (i * 37) % 500);
    for (const char* policy : {"f16", "kivi4", "kivi2"}) {
        ThreadPool one(1), two(2);
        auto a = make_kv_cache((*model)->config(), 320, KvCacheOptions{policy, 0, 32});
        auto b = make_kv_cache((*model)->config(), 320, KvCacheOptions{policy, 0, 32});
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
