#include "llm/combined_embedder.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "glove_fixture.h"
#include "llm/glove_embedder.h"
#include "llm/hashing_embedder.h"

namespace kasten::llm {
namespace {

float dot(const std::vector<float>& a, const std::vector<float>& b) {
    float s = 0.0f;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

double norm2(std::span<const float> v) {
    double s = 0.0;
    for (float x : v) s += static_cast<double>(x) * x;
    return s;
}

class CombinedEmbedderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        Result<std::unique_ptr<GloveEmbedder>> g = GloveEmbedder::load(testing::glove_fixture_kvec_path());
        ASSERT_TRUE(g.is_ok()) << g.status().to_string();
        glove_ = std::move(g).value();
        hashing_ = std::make_shared<HashingEmbedder>(64);
    }
    std::shared_ptr<const Embedder> glove_;
    std::shared_ptr<const Embedder> hashing_;
    // Texts with words the fixture's vocabulary knows (and so features in both parts).
    const std::vector<std::string> texts_ = {
        "My cat sleeps on the warm rug.",          "The cat sleeps on a soft rug.",
        "Stock market prices fell sharply today.", "We ordered pizza and pasta for dinner.",
        "The football team scored a late goal.",   "The king and the queen left the palace.",
    };
};

TEST_F(CombinedEmbedderTest, CosineIsTheWeightedMeanOfThePartsCosines) {
    for (double w : {0.5, 0.3, 0.9}) {
        const CombinedEmbedder combined(glove_, hashing_, w);
        for (std::size_t i = 0; i < texts_.size(); ++i) {
            for (std::size_t j = 0; j < texts_.size(); ++j) {
                const float cos_a = dot(glove_->embed(texts_[i]), glove_->embed(texts_[j]));
                const float cos_b = dot(hashing_->embed(texts_[i]), hashing_->embed(texts_[j]));
                ASSERT_NE(cos_a, 0.0f);  // both parts have features
                const float cos = dot(combined.embed(texts_[i]), combined.embed(texts_[j]));
                EXPECT_NEAR(cos, w * cos_a + (1.0 - w) * cos_b, 1e-6) << w << " '" << texts_[i] << "' '" << texts_[j];
            }
        }
    }
}

TEST_F(CombinedEmbedderTest, DimensionAndId) {
    const CombinedEmbedder half(glove_, hashing_);
    EXPECT_EQ(half.dim(), glove_->dim() + 64);
    EXPECT_EQ(half.weight(), CombinedEmbedder::kDefaultWeight);
    EXPECT_EQ(half.id(), "combined-w0.50-" + glove_->id() + "+hashing-v1-64");
    // Another weight or another order is another vector space, so another id.
    EXPECT_EQ(CombinedEmbedder(glove_, hashing_, 0.25).id(), "combined-w0.25-" + glove_->id() + "+hashing-v1-64");
    EXPECT_NE(CombinedEmbedder(hashing_, glove_).id(), half.id());
}

TEST_F(CombinedEmbedderTest, PartsAreTheScaledUnitVectorsOfEachEmbedder) {
    const CombinedEmbedder combined(glove_, hashing_, 0.3);
    const auto da = static_cast<std::size_t>(glove_->dim());
    for (const std::string& text : texts_) {
        const std::vector<float> v = combined.embed(text);
        const std::vector<float> a = glove_->embed(text);
        const std::vector<float> b = hashing_->embed(text);
        for (std::size_t d = 0; d < da; ++d) ASSERT_FLOAT_EQ(v[d], a[d] * std::sqrt(0.3f)) << d;
        for (std::size_t d = 0; d < b.size(); ++d) ASSERT_FLOAT_EQ(v[da + d], b[d] * std::sqrt(0.7f)) << d;
        EXPECT_NEAR(norm2(v), 1.0, 1e-6);
    }
}

TEST_F(CombinedEmbedderTest, APartWithoutFeaturesLeavesTheOtherAlone) {
    const CombinedEmbedder combined(glove_, hashing_);
    const auto da = static_cast<std::size_t>(glove_->dim());
    const std::string unknown = "zzqunknown xyzzy";  // no word of the GloVe fixture; hashing has features
    ASSERT_EQ(norm2(glove_->embed(unknown)), 0.0);
    const std::vector<float> v = combined.embed(unknown);
    const std::vector<float> b = hashing_->embed(unknown);
    for (std::size_t d = 0; d < da; ++d) EXPECT_EQ(v[d], 0.0f);
    for (std::size_t d = 0; d < b.size(); ++d) EXPECT_EQ(v[da + d], b[d]);
    for (float x : combined.embed("")) EXPECT_EQ(x, 0.0f);
}

TEST_F(CombinedEmbedderTest, BatchEqualsOneByOne) {
    const CombinedEmbedder combined(glove_, hashing_);
    std::vector<std::string_view> views(texts_.begin(), texts_.end());
    views.push_back("");
    views.push_back("zzqunknown xyzzy");
    const auto d = static_cast<std::size_t>(combined.dim());
    std::vector<float> batch(views.size() * d, -7.0f);
    combined.embed_batch(views, batch);
    for (std::size_t i = 0; i < views.size(); ++i) {
        const std::vector<float> one = combined.embed(views[i]);
        for (std::size_t k = 0; k < d; ++k) ASSERT_EQ(batch[i * d + k], one[k]) << "text " << i << " dim " << k;
    }
}

TEST_F(CombinedEmbedderTest, FinishedSumIsTheCombinationOfThePartsKeys) {
    const CombinedEmbedder combined(glove_, hashing_, 0.4);
    const auto da = static_cast<std::size_t>(glove_->dim());
    const auto d = static_cast<std::size_t>(combined.dim());
    std::vector<float> sum(d, 0.0f), sum_a(da, 0.0f), sum_b(64, 0.0f);
    for (const std::string& text : texts_) {
        combined.accumulate(text, sum);
        glove_->accumulate(text, sum_a);
        hashing_->accumulate(text, sum_b);
    }
    std::vector<float> key(d), key_a(da), key_b(64);
    combined.finish(sum, key);
    glove_->finish(sum_a, key_a);
    hashing_->finish(sum_b, key_b);
    for (std::size_t k = 0; k < da; ++k) ASSERT_FLOAT_EQ(key[k], key_a[k] * std::sqrt(0.4f)) << k;
    for (std::size_t k = 0; k < 64; ++k) ASSERT_FLOAT_EQ(key[da + k], key_b[k] * std::sqrt(0.6f)) << k;
    // One text: the key is the text's own vector.
    std::vector<float> one(d, 0.0f), finished(d);
    combined.accumulate(texts_[0], one);
    combined.finish(one, finished);
    const std::vector<float> v = combined.embed(texts_[0]);
    for (std::size_t k = 0; k < d; ++k) ASSERT_NEAR(finished[k], v[k], 1e-6) << k;
}

}  // namespace
}  // namespace kasten::llm
