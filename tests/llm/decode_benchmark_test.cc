#include "llm/decode_benchmark.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "llm/memory_bandwidth.h"
#include "stories_fixture.h"
#include "temp_dir.h"

namespace kasten::llm {
namespace {

TEST(MemoryBandwidthTest, TriadReportsAPlausibleRate) {
    ThreadPool pool(2);
    const double bw = measure_triad_bandwidth(pool, std::size_t{8} << 20, 2);
    EXPECT_GT(bw, 1e8);   // > 0.1 GB/s
    EXPECT_LT(bw, 1e13);  // < 10 TB/s
}

TEST(DecodeBenchmarkTest, MeasuresStoriesInEveryTypeAndThreadCount) {
    testing::TempDir dir;
    DecodeBenchmarkOptions o;
    o.stories_path = testing::stories_gguf();
    o.work_dir = dir.file("work");
    o.include_135m = false;
    o.types = {TensorType::kF32, TensorType::kQ8_0};
    o.threads = {1, 2};
    o.prompt_tokens = 16;
    o.generate_tokens = 8;
    o.repetitions = 2;
    o.bandwidth_array_bytes = std::size_t{8} << 20;
    int progress_lines = 0;
    o.progress = [&](std::string_view) { ++progress_lines; };
    Result<DecodeBenchmarkReport> r = run_decode_benchmark(o);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_EQ(r->bandwidth.size(), 2u);
    ASSERT_EQ(r->runs.size(), 4u);
    for (const DecodeRun& run : r->runs) {
        EXPECT_EQ(run.model, "stories260K");
        EXPECT_GT(run.prompt_tokens_per_s, 0);
        EXPECT_GT(run.generate_tokens_per_s, 0);
        EXPECT_GT(run.weight_bytes_per_token, 0u);
        EXPECT_GT(run.kv_bytes_per_token, 0u);
        EXPECT_NEAR(run.fraction_of_limit * run.bandwidth_limit_tokens_per_s, run.generate_tokens_per_s, 1e-6);
        // The reported speeds are the means of the repetitions.
        ASSERT_EQ(run.generate_tokens_per_s_each.size(), 2u);
        ASSERT_EQ(run.prompt_tokens_per_s_each.size(), 2u);
        EXPECT_NEAR(run.generate_tokens_per_s,
                    (run.generate_tokens_per_s_each[0] + run.generate_tokens_per_s_each[1]) / 2, 1e-9);
        EXPECT_NEAR(run.prompt_tokens_per_s, (run.prompt_tokens_per_s_each[0] + run.prompt_tokens_per_s_each[1]) / 2,
                    1e-9);
    }
    // Q8_0 reads fewer weight bytes per token than F32.
    EXPECT_LT(r->runs[2].weight_bytes_per_token, r->runs[0].weight_bytes_per_token / 2);
    EXPECT_EQ(progress_lines, 2 + 4);
    EXPECT_NE(r->to_text().find("stories260K"), std::string::npos);
    EXPECT_TRUE(std::filesystem::is_empty(dir.file("work")));  // requantized files removed
    o.work_dir.clear();
    EXPECT_EQ(run_decode_benchmark(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::llm
