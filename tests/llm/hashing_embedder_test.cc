#include "llm/hashing_embedder.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "llm/stable_hash.h"

namespace kasten::llm {
namespace {

float cosine(const std::vector<float>& a, const std::vector<float>& b) {
    float dot = 0.0f;
    for (std::size_t i = 0; i < a.size(); ++i) dot += a[i] * b[i];
    return dot;
}

// The documented bucket and sign of a word unigram.
struct Slot {
    std::size_t bucket;
    float sign;
};
Slot unigram_slot(std::string_view word, int dim) {
    const std::uint64_t h = mix64(fnv1a64_extend(fnv1a64("u"), word));
    return {static_cast<std::size_t>(((h >> 32) * static_cast<std::uint64_t>(dim)) >> 32),
            ((h >> 2) & 1) ? -1.0f : 1.0f};
}

TEST(HashingEmbedderTest, IdNamesVersionAndDim) {
    EXPECT_EQ(HashingEmbedder().id(), "hashing-v1-256");
    EXPECT_EQ(HashingEmbedder(64).id(), "hashing-v1-64");
    EXPECT_EQ(HashingEmbedder(64).dim(), 64);
    HashingEmbedder one(1);
    std::vector<float> v = one.embed("anything at all");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_FLOAT_EQ(std::fabs(v[0]), 1.0f);
}

// Pins the exact v1 output so that any change to hashing, tokenization or weights is caught: vectors
// stored under "hashing-v1-*" ids must stay comparable.
TEST(HashingEmbedderTest, GoldenVector) {
    HashingEmbedder e(16);
    const std::vector<float> v = e.embed("Hello, World! Hello again.");
    // Computed independently from the documented rules ("again" is a stopword).
    const std::vector<float> expected = {0.0000000f, 0.0000000f,  -0.2866161f, 0.2006313f, -0.3726009f, -0.3396983f,
                                         0.1390670f, 0.0000000f,  0.0000000f,  0.0000000f, 0.2006313f,  0.4588986f,
                                         0.2006313f, -0.2866161f, -0.3396983f, 0.3396983f};
    ASSERT_EQ(v.size(), expected.size());
    for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], expected[i], 1e-6) << "dimension " << i;
}

// With a large dim (no collisions between these few features), a unigram's bucket holds
// sign * weight * (1 + ln tf) before normalisation: check the ratio of two words' buckets.
TEST(HashingEmbedderTest, UnigramsUseSublinearTfAndStopwordWeight) {
    const int dim = HashingEmbedder::kMaxDim;
    HashingEmbedder e(dim);
    const std::vector<float> v = e.embed("apple apple apple apple banana");
    const Slot apple = unigram_slot("apple", dim);
    const Slot banana = unigram_slot("banana", dim);
    ASSERT_NE(apple.bucket, banana.bucket);
    EXPECT_NEAR(v[apple.bucket] * apple.sign / (v[banana.bucket] * banana.sign), 1.0 + std::log(4.0), 1e-4);

    const std::vector<float> w = e.embed("the banana");
    const Slot the = unigram_slot("the", dim);
    EXPECT_NEAR(w[the.bucket] * the.sign / (w[banana.bucket] * banana.sign), 0.2, 1e-5);
}

TEST(HashingEmbedderTest, CaseAndPunctuationInsensitive) {
    HashingEmbedder e;
    EXPECT_EQ(e.embed("The CAT, sat."), e.embed("the cat sat"));
}

TEST(HashingEmbedderTest, FeatureFamiliesShapeSimilarity) {
    HashingEmbedder e;
    // Character trigrams relate inflections.
    EXPECT_GT(cosine(e.embed("kittens"), e.embed("kitten")), 0.3f);
    EXPECT_LT(std::fabs(cosine(e.embed("kitten"), e.embed("budget"))), 0.15f);
    // Bigrams make word order matter, a little.
    const float reordered = cosine(e.embed("dog bites man"), e.embed("man bites dog"));
    EXPECT_LT(reordered, 0.999f);
    EXPECT_GT(reordered, 0.6f);
    // Stopwords barely move the vector.
    EXPECT_GT(cosine(e.embed("the cat on the mat"), e.embed("cat mat")), 0.8f);
}

TEST(HashingEmbedderTest, NonAsciiTextHasFeatures) {
    HashingEmbedder e;
    const std::vector<float> v = e.embed("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
    double norm2 = 0.0;
    for (float x : v) norm2 += x * x;
    EXPECT_NEAR(norm2, 1.0, 1e-5);
}

}  // namespace
}  // namespace kasten::llm
