#include "api/cli/kv_cache_flags.h"

#include <gtest/gtest.h>

#include "llm/full_kv_cache.h"

namespace kasten::api {
namespace {

Result<ParsedArgs> parse(const std::vector<std::string>& args) {
    return ArgParser(kv_cache_flags()).parse(args);
}

TEST(KvCacheFlagsTest, PolicyAndBudgetFillTheOptions) {
    auto args = parse({"--kv-policy", "kivi4", "--kv-budget", "8MiB"});
    ASSERT_TRUE(args.is_ok());
    llm::KvCacheOptions o;
    ASSERT_TRUE(parse_kv_cache_flags(args.value(), &o).is_ok());
    EXPECT_EQ(o.policy, "kivi4");
    EXPECT_EQ(o.budget_bytes, 8u << 20);

    llm::KvCacheOptions defaults;
    ASSERT_TRUE(parse_kv_cache_flags(parse({}).value(), &defaults).is_ok());
    EXPECT_EQ(defaults.policy, "auto");
    EXPECT_EQ(defaults.budget_bytes, 0u);
}

TEST(KvCacheFlagsTest, BadValuesNameTheFlag) {
    for (const auto& bad : std::vector<std::vector<std::string>>{{"--kv-policy", "zip"},
                                                                 {"--kv-policy", "f16,kivi4"},
                                                                 {"--kv-policy", ""},
                                                                 {"--kv-budget", "lots"},
                                                                 {"--kv-budget", "0"}}) {
        llm::KvCacheOptions o;
        const Status st = parse_kv_cache_flags(parse(bad).value(), &o);
        EXPECT_FALSE(st.is_ok()) << bad[1];
        EXPECT_NE(st.message().find(bad[0]), std::string::npos) << st.message();
    }
}

TEST(KvCacheFlagsTest, MixedParametersAndQuantizedEvictionPolicies) {
    llm::KvCacheOptions o;
    ASSERT_TRUE(parse_kv_cache_flags(parse({"--kv-policy", "mixed", "--kv-mixed", "4,2,0.25"}).value(), &o).is_ok());
    EXPECT_EQ(o.policy, "mixed");
    EXPECT_EQ(o.mixed_high_bits, 4);
    EXPECT_EQ(o.mixed_low_bits, 2);
    EXPECT_DOUBLE_EQ(o.mixed_salient_fraction, 0.25);
    for (const char* bad : {"8,3,0.1", "2,2,0.1", "8,2,1.5", "8,2", "8,2,0.1x", "x"}) {
        llm::KvCacheOptions b;
        const Status st = parse_kv_cache_flags(parse({"--kv-mixed", bad}).value(), &b);
        EXPECT_FALSE(st.is_ok()) << bad;
        EXPECT_NE(st.message().find("--kv-mixed"), std::string::npos) << st.message();
    }
    for (const char* policy : {"h2o-q8", "h2o-q4"}) {
        llm::KvCacheOptions q;
        EXPECT_TRUE(parse_kv_cache_flags(parse({"--kv-policy", policy}).value(), &q).is_ok()) << policy;
    }
}

TEST(KvCacheFlagsTest, DescriptionNamesTheChosenCache) {
    const llm::FullKvCache cache(llm::KvCacheShape{2, 2, 16, 512});
    const std::string text = describe_kv_cache(cache);
    EXPECT_NE(text.find("full-f32"), std::string::npos) << text;
    EXPECT_NE(text.find("512 tokens"), std::string::npos) << text;
}

}  // namespace
}  // namespace kasten::api
