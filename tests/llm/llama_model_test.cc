#include "llm/llama_model.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "llm/gguf_reader.h"
#include "llm/gguf_writer.h"
#include "stories_fixture.h"
#include "temp_dir.h"

namespace kasten::llm {
namespace {

TEST(LlamaModelTest, LoadsStoriesFromBothFormats) {
    Result<std::shared_ptr<const LlamaModel>> g = LlamaModel::open(testing::stories_gguf());
    Result<std::shared_ptr<const LlamaModel>> b = LlamaModel::open(testing::stories_bin());
    ASSERT_TRUE(g.is_ok()) << g.status().to_string();
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    EXPECT_NE((*g)->gguf(), nullptr);
    EXPECT_EQ((*b)->gguf(), nullptr);
    EXPECT_FALSE((*g)->tied_output());  // the converter wrote output.weight
    EXPECT_TRUE((*b)->tied_output());
    EXPECT_EQ((*g)->config().n_vocab, 512);
    EXPECT_EQ((*g)->weight_types(), "F32 ×37");
    // Tied: every matrix and norm plus one embedding row; the GGUF adds its separate output matrix.
    EXPECT_EQ((*b)->bytes_read_per_token(), (*b)->weight_bytes() - 512u * 64 * 4 + 64 * 4 + 512u * 64 * 4);
    EXPECT_EQ((*g)->bytes_read_per_token(), (*g)->weight_bytes() - 512u * 64 * 4 + 64 * 4);
    EXPECT_EQ((*g)->layer(0).wk.rows(), 32);
    EXPECT_TRUE((*g)->layer(0).bq.empty());
}

// Rewrites the stories GGUF with one change and returns the load status.
Status load_modified(const std::function<void(GgufWriter&, const GgufReader&)>& edit,
                     const std::function<bool(const TensorView&)>& keep_tensor = nullptr) {
    Result<GgufReader> src = GgufReader::open(testing::stories_gguf());
    EXPECT_TRUE(src.is_ok());
    GgufWriter w;
    for (const auto& [key, value] : src->metadata()) w.set(key, value);
    for (const TensorView& t : src->tensors()) {
        if (keep_tensor && !keep_tensor(t)) continue;
        EXPECT_TRUE(
            w.add_tensor(t.name, t.type, t.dims, std::vector<std::uint8_t>(t.data, t.data + t.n_bytes)).is_ok());
    }
    edit(w, *src);
    testing::TempDir dir;
    EXPECT_TRUE(w.write(dir.file("m.gguf")).is_ok());
    return LlamaModel::open(dir.file("m.gguf")).status();
}

TEST(LlamaModelTest, RejectsInconsistentModelsWithClearErrors) {
    auto u32 = [](std::uint32_t v) { return GgufValue::u32(v); };
    EXPECT_EQ(
        load_modified([&](GgufWriter& w, const GgufReader&) { w.set("llama.block_count", u32(1u << 29)); }).code(),
        StatusCode::kInvalidArgument);
    EXPECT_EQ(load_modified([&](GgufWriter& w, const GgufReader&) { w.set("llama.block_count", u32(6)); }).code(),
              StatusCode::kNotFound);  // blk.5.* missing
    EXPECT_EQ(
        load_modified([&](GgufWriter& w, const GgufReader&) { w.set("llama.attention.head_count_kv", u32(3)); }).code(),
        StatusCode::kInvalidArgument);  // 8 % 3
    EXPECT_EQ(
        load_modified([&](GgufWriter& w, const GgufReader&) { w.set("llama.attention.head_count", u32(0)); }).code(),
        StatusCode::kInvalidArgument);
    EXPECT_EQ(
        load_modified([&](GgufWriter& w, const GgufReader&) { w.set("llama.feed_forward_length", u32(100)); }).code(),
        StatusCode::kInvalidArgument);  // ffn tensors are 172 wide
    EXPECT_EQ(load_modified([&](GgufWriter& w, const GgufReader&) {
                  w.set("general.architecture", GgufValue::string("mamba"));
              }).code(),
              StatusCode::kNotSupported);
    EXPECT_EQ(load_modified([&](GgufWriter& w, const GgufReader&) {
                  w.set("llama.rope.scaling.type", GgufValue::string("yarn"));
              }).code(),
              StatusCode::kNotSupported);
    Status missing = load_modified([](GgufWriter&, const GgufReader&) {},
                                   [](const TensorView& t) { return t.name != "blk.2.ffn_up.weight"; });
    EXPECT_EQ(missing.code(), StatusCode::kNotFound);
    EXPECT_NE(missing.message().find("blk.2.ffn_up.weight"), std::string::npos);
    // A matrix type the kernels do not handle.
    Status q51 = load_modified(
        [](GgufWriter& w, const GgufReader&) {
            ASSERT_TRUE(w.add_tensor("blk.0.attn_q.weight", TensorType::kQ5_1, {64, 64},
                                     std::vector<std::uint8_t>(64 * 64 / 32 * 24))
                            .is_ok());
        },
        [](const TensorView& t) { return t.name != "blk.0.attn_q.weight"; });
    EXPECT_EQ(q51.code(), StatusCode::kNotSupported);
    EXPECT_NE(q51.message().find("Q5_1"), std::string::npos);
}

TEST(LlamaModelTest, ReportsFileErrors) {
    testing::TempDir dir;
    EXPECT_EQ(LlamaModel::open(dir.file("none.gguf")).status().code(), StatusCode::kNotFound);
    testing::write_file(dir.file("junk.bin"), "definitely not a model");
    EXPECT_EQ(LlamaModel::open(dir.file("junk.bin")).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace kasten::llm
