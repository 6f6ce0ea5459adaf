#include "llm/importance_matrix.h"

#include <gtest/gtest.h>

#include "llm/tokenizer_factory.h"
#include "stories_fixture.h"

namespace kasten::llm {
namespace {

std::vector<std::vector<int>> two_sequences() {
    std::vector<int> a = {1}, b = {1};
    for (int i = 0; i < 30; ++i) a.push_back((i * 31 + 7) % 500 + 3);
    for (int i = 0; i < 12; ++i) b.push_back((i * 13 + 5) % 500 + 3);
    return {a, b};
}

TEST(ImportanceMatrixTest, CollectsMeanSquaredInputsPerSite) {
    Result<std::shared_ptr<const LlamaModel>> model = LlamaModel::open(testing::stories_gguf());
    ASSERT_TRUE(model.is_ok());
    const ModelConfig& c = (*model)->config();
    const std::vector<std::vector<int>> seqs = two_sequences();
    Result<ImportanceMatrix> im = ImportanceMatrix::collect(**model, seqs);
    ASSERT_TRUE(im.is_ok()) << im.status().to_string();
    EXPECT_EQ(im->n_tokens(), 31 + 13);
    EXPECT_EQ(im->size(), 5u * 7 + 1);  // every layer matrix and the classifier; not the embedding lookup
    EXPECT_TRUE(im->of("token_embd.weight").empty());
    ASSERT_EQ(im->of("blk.1.attn_q.weight").size(), static_cast<std::size_t>(c.n_embd));
    ASSERT_EQ(im->of("blk.1.ffn_down.weight").size(), static_cast<std::size_t>(c.n_ff));
    ASSERT_EQ(im->of("output.weight").size(), static_cast<std::size_t>(c.n_embd));
    // q, k and v read the same input.
    EXPECT_EQ(im->of("blk.1.attn_q.weight").data(), im->of("blk.1.attn_v.weight").data());
    EXPECT_NE(im->of("blk.1.attn_q.weight").data(), im->of("blk.1.ffn_gate.weight").data());
    // The importance is the diagonal of the second moment, which is symmetric; RMS-normed inputs are non-zero.
    const std::span<const float> h = im->second_moment("blk.3.attn_output.weight");
    const std::span<const float> d = im->of("blk.3.attn_output.weight");
    ASSERT_EQ(h.size(), d.size() * d.size());
    for (std::size_t i = 0; i < d.size(); ++i) {
        EXPECT_NEAR(h[i * d.size() + i], d[i], 1e-5f * (1.0f + d[i]));
        EXPECT_EQ(h[i * d.size() + (i + 1) % d.size()], h[((i + 1) % d.size()) * d.size() + i]);
    }
    float sum = 0.0f;
    for (float v : im->of("blk.0.attn_q.weight")) sum += v;
    EXPECT_GT(sum, 0.0f);

    // Without room for second moments only the importance is kept.
    Result<ImportanceMatrix> small = ImportanceMatrix::collect(**model, seqs, nullptr, 0);
    ASSERT_TRUE(small.is_ok());
    EXPECT_TRUE(small->second_moment("blk.3.attn_output.weight").empty());
    EXPECT_EQ(
        std::vector<float>(small->of("blk.3.attn_output.weight").begin(), small->of("blk.3.attn_output.weight").end()),
        std::vector<float>(d.begin(), d.end()));
}

TEST(ImportanceMatrixTest, RejectsBadCalibration) {
    Result<std::shared_ptr<const LlamaModel>> model = LlamaModel::open(testing::stories_gguf());
    ASSERT_TRUE(model.is_ok());
    EXPECT_EQ(ImportanceMatrix::collect(**model, {}).status().code(), StatusCode::kInvalidArgument);
    const std::vector<std::vector<int>> bad = {{1, 512}};
    EXPECT_EQ(ImportanceMatrix::collect(**model, bad).status().code(), StatusCode::kInvalidArgument);
    const std::vector<std::vector<int>> too_long = {std::vector<int>(5000, 1)};
    EXPECT_EQ(ImportanceMatrix::collect(**model, too_long).status().code(), StatusCode::kInvalidArgument);
}

TEST(ImportanceMatrixTest, CalibrationTextIsChunkedWithBos) {
    Result<std::unique_ptr<Tokenizer>> tok = load_gguf_tokenizer(testing::stories_gguf());
    ASSERT_TRUE(tok.is_ok());
    const std::string text = "Once upon a time, there was a little dog. The dog liked to run and play in the park.";
    const std::vector<int> all = (*tok)->encode(text);
    Result<std::vector<std::vector<int>>> chunks = calibration_from_text(**tok, text, 8);
    ASSERT_TRUE(chunks.is_ok());
    std::vector<int> joined;
    for (const std::vector<int>& c : *chunks) {
        ASSERT_FALSE(c.empty());
        EXPECT_LE(c.size(), 8u);
        EXPECT_EQ(c[0], (*tok)->bos());
        joined.insert(joined.end(), c.begin() + 1, c.end());
    }
    EXPECT_EQ(joined, all);
    EXPECT_EQ(calibration_from_text(**tok, "", 8).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(calibration_from_text(**tok, text, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(ImportanceMatrixTest, GeneratedCalibrationIsDeterministicAndLongEnough) {
    Result<std::shared_ptr<const LlamaModel>> model = LlamaModel::open(testing::stories_gguf());
    Result<std::unique_ptr<Tokenizer>> tok = load_gguf_tokenizer(testing::stories_gguf());
    ASSERT_TRUE(model.is_ok() && tok.is_ok());
    ThreadPool pool(1);
    const std::vector<std::string> prompts = default_calibration_prompts();
    Result<std::vector<std::vector<int>>> a = generate_calibration(*model, **tok, prompts, 300, 64, 5, pool);
    Result<std::vector<std::vector<int>>> b = generate_calibration(*model, **tok, prompts, 300, 64, 5, pool);
    ASSERT_TRUE(a.is_ok() && b.is_ok());
    EXPECT_EQ(*a, *b);
    std::size_t total = 0;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const std::vector<int>& s = (*a)[i];
        total += s.size();
        const std::vector<int> prompt = (*tok)->encode(prompts[i % prompts.size()], EncodeOptions{.add_special = true});
        ASSERT_GT(s.size(), prompt.size());
        EXPECT_LE(s.size(), prompt.size() + 64);
        EXPECT_TRUE(std::equal(prompt.begin(), prompt.end(), s.begin()));
    }
    EXPECT_GE(total, 300u);
    Result<std::vector<std::vector<int>>> other = generate_calibration(*model, **tok, prompts, 300, 64, 6, pool);
    ASSERT_TRUE(other.is_ok());
    EXPECT_NE(*a, *other);
    EXPECT_EQ(generate_calibration(*model, **tok, {}, 300, 64, 5, pool).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::llm
