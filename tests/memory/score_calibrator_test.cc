#include "memory/score_calibrator.h"

#include <cmath>

#include <gtest/gtest.h>

#include "llm/hashing_embedder.h"
#include "memory/embedding_background.h"

namespace kasten::memory {
namespace {

using Analysis = retrieval::LexicalIndex::Analysis;

Analysis doc(const std::string& text) {
    return retrieval::LexicalIndex::analyze_text(text);
}

double idf(double n, double df) {
    return std::log(1.0 + (n + 1) / (df + 0.5));
}

TEST(ScoreCalibratorTest, LexicalEvidenceIsTheIdfWeightedShareOfQueryTermsTheUnitContains) {
    // "beagl" is rare in the cube (1 of 10 documents), "walk" common (8 of 10), "zebra" absent.
    const std::vector<std::string> terms = retrieval::LexicalIndex::analyze("beagle walks zebra");
    ASSERT_EQ(terms.size(), 3u);
    ScoreCalibrator c(terms, {1, 8, 0}, 10, 0.0, Retriever::kLexical, 1, 1);
    const double total = idf(10, 1) + idf(10, 8) + idf(10, 0);
    EXPECT_NEAR(c.lexical(doc("My beagle loves long walks")), (idf(10, 1) + idf(10, 8)) / total, 1e-12);
    EXPECT_NEAR(c.lexical(doc("We walked by the river")), idf(10, 8) / total, 1e-12);
    EXPECT_NEAR(c.lexical(doc("A zebra and a beagle went for a walk")), 1.0, 1e-12);
    EXPECT_EQ(c.lexical(doc("Nothing in common here")), 0.0);
    // A common word is weak evidence: sharing only it scores far below sharing the rare one.
    EXPECT_LT(c.lexical(doc("walk")), c.lexical(doc("beagle")) / 2);
    // Lexical search reports L alone; the cosine is not read.
    EXPECT_FALSE(c.uses_cosine());
    EXPECT_EQ(c.score(doc("beagle walk zebra"), 0.99), 1.0);
}

TEST(ScoreCalibratorTest, SemanticEvidenceIsTheCosineAboveTheQueryBackground) {
    ScoreCalibrator c({}, {}, 0, 0.8, Retriever::kVector, 1, 1);
    EXPECT_NEAR(c.semantic(0.9), 0.5, 1e-12);
    EXPECT_EQ(c.semantic(0.8), 0.0);
    EXPECT_EQ(c.semantic(0.5), 0.0);
    EXPECT_EQ(c.semantic(-0.3), 0.0);
    EXPECT_NEAR(c.semantic(1.0), 1.0, 1e-12);
    EXPECT_EQ(c.semantic(std::nullopt), 0.0);
    EXPECT_NEAR(c.score(doc("anything"), 0.95), 0.75, 1e-12);
    // A negative background is no evidence of relatedness: a cosine of 0 stays 0.
    ScoreCalibrator negative({}, {}, 0, -0.2, Retriever::kVector, 1, 1);
    EXPECT_EQ(negative.semantic(0.0), 0.0);
    EXPECT_NEAR(negative.semantic(0.5), 0.5, 1e-12);
}

TEST(ScoreCalibratorTest, HybridScoreIsTheFusionWeightedMeanAndStaysInTheUnitInterval) {
    const std::vector<std::string> terms = retrieval::LexicalIndex::analyze("beagle");
    ScoreCalibrator equal(terms, {1}, 5, 0.0, Retriever::kHybrid, 1, 1);
    EXPECT_NEAR(equal.score(doc("beagle"), 0.5), 0.75, 1e-12);
    EXPECT_NEAR(equal.score(doc("cat"), 0.5), 0.25, 1e-12);
    EXPECT_EQ(equal.score(doc("cat"), 0.0), 0.0);
    EXPECT_NEAR(equal.score(doc("beagle"), 1.0), 1.0, 1e-12);
    ScoreCalibrator lexical_heavy(terms, {1}, 5, 0.0, Retriever::kHybrid, 3, 1);
    EXPECT_NEAR(lexical_heavy.score(doc("beagle"), 0.0), 0.75, 1e-12);
    for (double cosine : {-1.0, -0.1, 0.0, 0.3, 0.999, 1.0}) {
        for (const char* text : {"beagle", "cat", ""}) {
            const double s = equal.score(doc(text), cosine);
            EXPECT_GE(s, 0.0);
            EXPECT_LE(s, 1.0);
        }
    }
    // A query without index terms (only stopwords) has no lexical evidence.
    ScoreCalibrator stopwords(retrieval::LexicalIndex::analyze("the and of"), {}, 5, 0.0, Retriever::kHybrid, 1, 1);
    EXPECT_EQ(stopwords.lexical(doc("the and of")), 0.0);
}

TEST(EmbeddingBackgroundTest, IsTheQuerysHighestCosineToTheReferenceSentences) {
    auto embedder = std::make_shared<llm::HashingEmbedder>(256);
    EmbeddingBackground background(embedder);
    // A reference sentence itself: cosine 1.
    EXPECT_NEAR(background.of(embedder->embed(EmbeddingBackground::references().front())), 1.0, 1e-6);
    // Hashing vectors of unrelated text are nearly orthogonal: the background is small.
    const double b = background.of(embedder->embed("quantum chromodynamics lattice gauge theory"));
    EXPECT_LT(b, 0.2);
    EXPECT_GE(b, -1.0);
    EXPECT_EQ(background.of(std::vector<float>(256, 0.0f)), 0.0);
}

}  // namespace
}  // namespace kasten::memory
