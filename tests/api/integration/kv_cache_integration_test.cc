// `kasten model generate --kv-policy/--kv-budget` and `kasten bench kv` end to end, with the committed
// stories260K model.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/api/integration/kasten_process.h"

namespace kasten::api::testing {
namespace {

using nlohmann::json;

const std::string kStoriesGguf = std::string(KASTEN_SOURCE_DIR) + "/data/models/stories260K/stories260K-tok512.gguf";

CommandResult generate(std::vector<std::string> extra) {
    std::vector<std::string> args = {"model",  "generate", "--model", kStoriesGguf, "--prompt",     "Once upon a time",
                                     "--temp", "0",        "--ctx",   "512",        "--max-tokens", "24"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_kasten(args);
}

TEST(KvCacheCliTest, GenerateSaysWhichCacheItChose) {
    CommandResult full = generate({});
    ASSERT_EQ(full.exit_code, 0) << full.err;
    EXPECT_NE(full.err.find("KV cache: full-f32"), std::string::npos) << full.err;

    // stories260K at 512 tokens: f16 needs 320 KiB, 4-bit KIVI 140 KiB, 2-bit KIVI 100 KiB.
    CommandResult kivi = generate({"--kv-budget", "150KiB"});
    ASSERT_EQ(kivi.exit_code, 0) << kivi.err;
    EXPECT_NE(kivi.err.find("KV cache: kivi-q4-r32"), std::string::npos) << kivi.err;
    EXPECT_FALSE(kivi.out.empty());

    CommandResult h2o = generate({"--kv-policy", "h2o", "--kv-budget", "200KiB"});
    ASSERT_EQ(h2o.exit_code, 0) << h2o.err;
    EXPECT_NE(h2o.err.find("KV cache: h2o-f16"), std::string::npos) << h2o.err;

    CommandResult tiny = generate({"--kv-budget", "1KiB"});
    EXPECT_EQ(tiny.exit_code, 1);
    EXPECT_NE(tiny.err.find("too small"), std::string::npos) << tiny.err;
    EXPECT_EQ(generate({"--kv-policy", "zip"}).exit_code, 2);
    EXPECT_EQ(generate({"--kv-budget", "8XB"}).exit_code, 2);
}

TEST(KvCacheCliTest, BenchKvWritesTheQualityReport) {
    TempDir tmp("kasten-it-bench-kv");
    const std::string dir = tmp.path();
    const std::string out = dir + "/kv.json";
    CommandResult r = run_kasten({"bench", "kv", "--model", kStoriesGguf, "--no-speed", "--samples", "1", "--tokens",
                                  "96", "--json", "--out", out, "--plot", dir + "/kv.svg"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json report = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(report.is_object()) << r.out;
    std::ifstream in(out);
    std::ostringstream file;
    file << in.rdbuf();
    EXPECT_EQ(json::parse(file.str(), nullptr, false), report);
    EXPECT_EQ(report["benchmark"], "kv");
    EXPECT_EQ(report["sample_tokens"], 96);
    ASSERT_GE(report["quality"].size(), 10u);
    EXPECT_EQ(report["quality"][0]["cache"], "full-f32");
    EXPECT_EQ(report["quality"][0]["mean_kl"].get<double>(), 0.0);
    for (const auto& row : report["quality"]) {
        EXPECT_GE(row["mean_kl"].get<double>(), 0.0) << row.dump();
        EXPECT_GT(row["bytes"].get<std::uint64_t>(), 0u) << row.dump();
        EXPECT_GT(row["top1_agreement"].get<double>(), 0.5) << row.dump();
        EXPECT_GE(row["peak_bytes"].get<std::uint64_t>(), row["bytes"].get<std::uint64_t>()) << row.dump();
    }
    // A 96-token prompt batch (the whole text) into a 64-cell SnapKV cache that reserves one batch slot: the peak
    // is above the reserve and says so.
    const auto snap = std::find_if(report["quality"].begin(), report["quality"].end(),
                                   [](const json& row) { return row["policy"] == "snapkv-64-p256"; });
    ASSERT_NE(snap, report["quality"].end());
    EXPECT_GT((*snap)["peak_bytes"].get<std::uint64_t>(), (*snap)["bytes"].get<std::uint64_t>()) << snap->dump();
    EXPECT_TRUE(report["speed"].empty());
    std::ifstream svg_in(dir + "/kv.svg");
    std::ostringstream svg;
    svg << svg_in.rdbuf();
    EXPECT_EQ(svg.str().rfind("<svg", 0), 0u) << svg.str();
    EXPECT_NE(svg.str().find("kivi-q4-r32"), std::string::npos);
    EXPECT_EQ(run_kasten({"bench", "kv", "--bogus"}).exit_code, 2);
    EXPECT_EQ(run_kasten({"bench", "kv", "--model", dir + "/none.gguf"}).exit_code, 1);
}

}  // namespace
}  // namespace kasten::api::testing
