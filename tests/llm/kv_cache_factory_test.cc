#include "llm/kv_cache_factory.h"

#include <gtest/gtest.h>

#include "llm/evicting_kv_cache.h"

namespace kasten::llm {
namespace {

ModelConfig smollm_like() {
    ModelConfig c;
    c.n_layer = 30;
    c.n_head = 9;
    c.n_head_kv = 3;
    c.head_dim = 64;
    c.n_embd = 576;
    c.n_rot = 64;
    return c;
}

TEST(KvCacheFactoryTest, ParsesByteSizes) {
    EXPECT_EQ(parse_byte_size("4096").value(), 4096u);
    EXPECT_EQ(parse_byte_size("8MiB").value(), 8u << 20);
    EXPECT_EQ(parse_byte_size("512KiB").value(), 512u << 10);
    EXPECT_EQ(parse_byte_size("1GiB").value(), 1u << 30);
    EXPECT_EQ(parse_byte_size("1.5MB").value(), 1500000u);
    EXPECT_EQ(parse_byte_size("2kB").value(), 2000u);
    for (const char* bad : {"", "MiB", "8 MiB", "8XB", "-1", "x8"}) {
        EXPECT_FALSE(parse_byte_size(bad).is_ok()) << bad;
    }
}

TEST(KvCacheFactoryTest, ExplicitPoliciesBuildTheirCaches) {
    const ModelConfig c = smollm_like();
    for (auto [policy, name] :
         {std::pair{"full", "full-f32"}, std::pair{"f16", "f16"}, std::pair{"kivi8", "kivi-q8-r32"},
          std::pair{"kivi4", "kivi-q4-r32"}, std::pair{"kivi2", "kivi-q2-r32"}}) {
        auto cache = make_kv_cache(c, 1024, KvCacheOptions{policy, 0, 32});
        ASSERT_TRUE(cache.is_ok()) << policy;
        EXPECT_EQ(cache.value()->name(), name);
        EXPECT_EQ(cache.value()->capacity(), 1024);
    }
    auto h2o = make_kv_cache(c, 4096, KvCacheOptions{"h2o", 8u << 20, 32});
    ASSERT_TRUE(h2o.is_ok());
    EXPECT_EQ(h2o.value()->name().rfind("h2o-f16-b", 0), 0u) << h2o.value()->name();
    EXPECT_LE(h2o.value()->bytes(), 8u << 20);
    EXPECT_FALSE(make_kv_cache(c, 1024, KvCacheOptions{"streaming", 0, 32}).is_ok());  // needs a budget
    EXPECT_FALSE(make_kv_cache(c, 1024, KvCacheOptions{"zip", 0, 32}).is_ok());
    // An explicit policy over the budget is an error, not a silent substitute.
    EXPECT_FALSE(make_kv_cache(c, 1024, KvCacheOptions{"f16", 1u << 20, 32}).is_ok());
}

TEST(KvCacheFactoryTest, AutoPicksTheBestQualityThatFits) {
    const ModelConfig c = smollm_like();
    const int n_ctx = 8192;
    EXPECT_EQ(make_kv_cache(c, n_ctx, KvCacheOptions{}).value()->name(), "full-f32");
    const std::size_t f16 = make_kv_cache(c, n_ctx, KvCacheOptions{"f16", 0, 32}).value()->bytes();
    std::string previous;
    // Shrinking budgets walk down the quality order, and every cache fits its budget.
    std::vector<std::string> chosen;
    for (double fraction : {1.0, 0.6, 0.35, 0.21, 0.1}) {
        const auto budget = static_cast<std::size_t>(fraction * static_cast<double>(f16));
        auto cache = make_kv_cache(c, n_ctx, KvCacheOptions{"auto", budget, 32});
        ASSERT_TRUE(cache.is_ok()) << fraction;
        EXPECT_LE(cache.value()->bytes(), budget) << cache.value()->name();
        chosen.push_back(cache.value()->name());
    }
    EXPECT_EQ(chosen[0], "f16");
    EXPECT_EQ(chosen[1], "kivi-q8-r32");
    EXPECT_EQ(chosen[2], "kivi-q4-r32");
    EXPECT_EQ(chosen[3], "kivi-q2-r32");
    EXPECT_EQ(chosen[4].rfind("h2o-f16-b", 0), 0u) << chosen[4];
    auto tiny = make_kv_cache(c, n_ctx, KvCacheOptions{"auto", 1024, 32});
    ASSERT_FALSE(tiny.is_ok());
    EXPECT_NE(tiny.status().message().find("too small"), std::string::npos) << tiny.status().message();
}

TEST(KvCacheFactoryTest, SnapKvPyramidKvAndAdaKvFitTheBudget) {
    const ModelConfig c = smollm_like();
    const std::size_t budget = 8u << 20;
    for (const char* policy : {"snapkv", "pyramidkv", "adakv"}) {
        auto cache = make_kv_cache(c, 4096, KvCacheOptions{policy, budget, 32});
        ASSERT_TRUE(cache.is_ok()) << policy;
        EXPECT_EQ(cache.value()->name().rfind(std::string(policy) + "-f16-b", 0), 0u) << cache.value()->name();
        EXPECT_LE(cache.value()->bytes(), budget) << policy;
        const auto& e = dynamic_cast<const EvictingKvCache&>(*cache.value());
        EXPECT_EQ(e.options().policy, EvictionPolicy::kSnapKv);
        EXPECT_EQ(e.options().observation, 32);
        // The same cells as H2O for the budget: a window of half of them.
        const auto h2o = make_kv_cache(c, 4096, KvCacheOptions{"h2o", budget, 32});
        EXPECT_EQ(e.options().budget, dynamic_cast<const EvictingKvCache&>(*h2o.value()).options().budget);
        EXPECT_EQ(e.options().window, e.options().budget / 2);
        EXPECT_EQ(e.options().pyramid, std::string(policy) == "pyramidkv");
        EXPECT_EQ(e.options().adaptive_heads, std::string(policy) == "adakv");
        EXPECT_FALSE(make_kv_cache(c, 1024, KvCacheOptions{policy, 0, 32}).is_ok()) << policy;  // needs a budget
    }
}

}  // namespace
}  // namespace kasten::llm
