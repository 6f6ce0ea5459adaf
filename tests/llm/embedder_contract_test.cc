// The contract every Embedder must meet (llm/embedder.h), run against each implementation.
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "glove_fixture.h"
#include "llm/combined_embedder.h"
#include "llm/embedder.h"
#include "llm/embedder_factory.h"
#include "llm/glove_embedder.h"
#include "llm/hashing_embedder.h"
#include "llm/use_lite_embedder.h"

namespace kasten::llm {
namespace {

struct HashingMaker {
    static std::unique_ptr<Embedder> make() { return std::make_unique<HashingEmbedder>(); }
    static std::string id_pattern() { return "hashing-v1-256"; }
    static std::vector<std::string> featureless_texts() { return {"", " \t\n", "...!?;", "\xE2\x80\x94\xE2\x80\xA6"}; }
};

struct GloveMaker {
    static std::unique_ptr<Embedder> make() {
        Result<std::unique_ptr<GloveEmbedder>> e = GloveEmbedder::load(testing::glove_fixture_kvec_path());
        if (!e.is_ok()) {
            ADD_FAILURE() << e.status().to_string();
            return nullptr;
        }
        return std::move(e).value();
    }
    static std::string id_pattern() { return "glove-custom-24d-[0-9]+w-[0-9a-f]{8}-sif-v1"; }
    static std::vector<std::string> featureless_texts() { return HashingMaker::featureless_texts(); }
};

// GloVe (the fixture) and hashing as one vector (CombinedEmbedder).
struct CombinedMaker {
    static std::unique_ptr<Embedder> make() {
        std::unique_ptr<Embedder> glove = GloveMaker::make();
        if (glove == nullptr) return nullptr;
        return std::make_unique<CombinedEmbedder>(std::move(glove), std::make_shared<HashingEmbedder>());
    }
    static std::string id_pattern() { return "combined-w0\\.50-" + GloveMaker::id_pattern() + "\\+hashing-v1-256"; }
    static std::vector<std::string> featureless_texts() { return HashingMaker::featureless_texts(); }
};

// The encoder file KASTEN_TEST_USE names; null (and a test failure) when it is not set.
const char* test_use_path() {
    const char* path = std::getenv("KASTEN_TEST_USE");
    if (path == nullptr || *path == '\0') {
        ADD_FAILURE() << "KASTEN_TEST_USE is not set: run scripts/fetch_use_lite.sh, then "
                         "`build/kasten embeddings import-use`, and set it to the .kuse file";
        return nullptr;
    }
    return path;
}

// The real encoder file (KASTEN_TEST_USE); only in llm_use_data_test, which defines KASTEN_CONTRACT_USE_LITE.
struct UseLiteMaker {
    static std::unique_ptr<Embedder> make() {
        const char* path = test_use_path();
        if (path == nullptr) return nullptr;
        Result<std::unique_ptr<UseLiteEmbedder>> e = UseLiteEmbedder::load(path);
        if (!e.is_ok()) {
            ADD_FAILURE() << e.status().to_string();
            return nullptr;
        }
        return std::move(e).value();
    }
    static std::string id_pattern() { return "use-lite-en-512-v1"; }
    // Like the reference, the encoder reads whitespace and punctuation as pieces: only text without any is empty.
    static std::vector<std::string> featureless_texts() { return {""}; }
};

// `--embedder glove+use` as the factory makes it, with the GloVe fixture and the real encoder file; only in
// llm_use_data_test.
struct GloveUseMaker {
    static std::unique_ptr<Embedder> make() {
        const char* path = test_use_path();
        if (path == nullptr) return nullptr;
        Result<std::unique_ptr<Embedder>> e = create_embedder("glove+use", testing::glove_fixture_kvec_path(), 1, path);
        if (!e.is_ok()) {
            ADD_FAILURE() << e.status().to_string();
            return nullptr;
        }
        return std::move(e).value();
    }
    static std::string id_pattern() {
        return "combined-w0\\.50-" + GloveMaker::id_pattern() + "\\+" + UseLiteMaker::id_pattern();
    }
    static std::vector<std::string> featureless_texts() { return UseLiteMaker::featureless_texts(); }
};

template <typename Maker>
class EmbedderContractTest : public ::testing::Test {
  protected:
    void SetUp() override {
        embedder_ = Maker::make();
        ASSERT_NE(embedder_, nullptr);
    }
    float cosine(std::string_view a, std::string_view b) const {
        const std::vector<float> va = embedder_->embed(a);
        const std::vector<float> vb = embedder_->embed(b);
        float dot = 0.0f;
        for (std::size_t i = 0; i < va.size(); ++i) dot += va[i] * vb[i];
        return dot;
    }
    std::unique_ptr<Embedder> embedder_;
};

#ifdef KASTEN_CONTRACT_USE_LITE
using Makers = ::testing::Types<UseLiteMaker, GloveUseMaker>;
#else
using Makers = ::testing::Types<HashingMaker, GloveMaker, CombinedMaker>;
#endif
class MakerNames {
  public:
    template <typename T>
    static std::string GetName(int) {
        if constexpr (std::is_same_v<T, HashingMaker>) return "Hashing";
        if constexpr (std::is_same_v<T, UseLiteMaker>) return "UseLite";
        if constexpr (std::is_same_v<T, CombinedMaker>) return "GloveHashing";
        if constexpr (std::is_same_v<T, GloveUseMaker>) return "GloveUse";
        return "Glove";
    }
};
TYPED_TEST_SUITE(EmbedderContractTest, Makers, MakerNames);

const std::vector<std::string>& sample_texts() {
    static const std::vector<std::string> texts = {
        "My cat sleeps on the warm rug.",
        "The stock market fell sharply today after the earnings report.",
        "We ordered pizza and pasta for dinner at the new restaurant.",
        "The football team scored a late goal to win the match.",
        "Tomorrow's forecast: rain, wind and a cold storm.",
        "The king and the queen left the palace.",
        "I booked a train ticket and a hotel for our beach vacation.",
        "CAT cat Cat cAt",
        "zzqunknown words only xyzzy",
        "caf\xC3\xA9 \xF0\x9F\x90\xB1 \xE6\x97\xA5\xE6\x9C\xAC",
        std::string(3000, 'a') + " cat",
    };
    return texts;
}

TYPED_TEST(EmbedderContractTest, DimMatchesOutputSize) {
    ASSERT_GT(this->embedder_->dim(), 0);
    for (const std::string& text : sample_texts()) {
        EXPECT_EQ(this->embedder_->embed(text).size(), static_cast<std::size_t>(this->embedder_->dim()));
    }
}

TYPED_TEST(EmbedderContractTest, UnitNormOrZero) {
    std::vector<std::string> texts = sample_texts();
    texts.insert(texts.end(), {"", "   ", "?!", "zzqunknown", "the the the", "a"});
    for (const std::string& text : texts) {
        const std::vector<float> v = this->embedder_->embed(text);
        double norm2 = 0.0;
        bool zero = true;
        for (float x : v) {
            ASSERT_TRUE(std::isfinite(x)) << text;
            norm2 += static_cast<double>(x) * x;
            zero = zero && x == 0.0f;
        }
        EXPECT_TRUE(zero || std::fabs(norm2 - 1.0) < 1e-5) << "'" << text << "' has squared norm " << norm2;
    }
}

TYPED_TEST(EmbedderContractTest, EmptyTextGivesZeros) {
    for (const std::string& text : TypeParam::featureless_texts()) {
        for (float x : this->embedder_->embed(text)) ASSERT_EQ(x, 0.0f) << "'" << text << "'";
    }
}

TYPED_TEST(EmbedderContractTest, OverwritesTheWholeOutput) {
    std::vector<float> out(static_cast<std::size_t>(this->embedder_->dim()), std::numeric_limits<float>::quiet_NaN());
    this->embedder_->embed("", out);
    for (float x : out) EXPECT_EQ(x, 0.0f);
    std::fill(out.begin(), out.end(), 123.0f);
    this->embedder_->embed(sample_texts()[0], out);
    EXPECT_EQ(out, this->embedder_->embed(sample_texts()[0]));
}

TYPED_TEST(EmbedderContractTest, BatchEqualsEmbedOfEachText) {
    // A fresh embedder, so that an embedder remembering recent results computes the batch (the encoder's batched
    // forward pass differs from one text's by float summation order).
    std::unique_ptr<Embedder> fresh = TypeParam::make();
    std::vector<std::string_view> texts(sample_texts().begin(), sample_texts().end());
    texts.push_back("");
    texts.push_back(sample_texts()[0]);  // a text twice in one batch
    const auto dim = static_cast<std::size_t>(fresh->dim());
    std::vector<float> batch(texts.size() * dim, std::numeric_limits<float>::quiet_NaN());
    fresh->embed_batch(texts, batch);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const std::vector<float> one = this->embedder_->embed(texts[i]);
        for (std::size_t d = 0; d < dim; ++d) ASSERT_NEAR(batch[i * dim + d], one[d], 1e-5) << "text " << i;
    }
    // Texts already embedded come back as they were.
    std::vector<float> again(texts.size() * dim);
    fresh->embed_batch(texts, again);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const std::vector<float> one = fresh->embed(texts[i]);
        for (std::size_t d = 0; d < dim; ++d) ASSERT_NEAR(again[i * dim + d], one[d], 1e-5) << "text " << i;
    }
}

TYPED_TEST(EmbedderContractTest, Deterministic) {
    std::unique_ptr<Embedder> other = TypeParam::make();
    ASSERT_NE(other, nullptr);
    for (const std::string& text : sample_texts()) {
        const std::vector<float> first = this->embedder_->embed(text);
        EXPECT_EQ(first, this->embedder_->embed(text)) << text;
        EXPECT_EQ(first, other->embed(text)) << text;
    }
}

TYPED_TEST(EmbedderContractTest, ConcurrentEmbedEqualsSerial) {
    const std::vector<std::string>& texts = sample_texts();
    std::vector<std::vector<float>> serial;
    for (const std::string& text : texts) serial.push_back(this->embedder_->embed(text));
    constexpr int kThreads = 4;
    constexpr int kRounds = 50;
    std::vector<int> mismatches(kThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::vector<float> out(static_cast<std::size_t>(this->embedder_->dim()));
            for (int round = 0; round < kRounds; ++round) {
                for (std::size_t i = 0; i < texts.size(); ++i) {
                    const std::size_t k = (i + static_cast<std::size_t>(t + round)) % texts.size();
                    this->embedder_->embed(texts[k], out);
                    if (out != serial[k]) ++mismatches[t];
                }
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TYPED_TEST(EmbedderContractTest, SimilarTextsScoreHigherThanUnrelated) {
    const std::string cat_a = "My cat sleeps on the warm rug.";
    const std::string cat_b = "The cat sleeps on a soft rug.";
    const std::string stocks = "Stock market prices fell sharply today.";
    EXPECT_GT(this->cosine(cat_a, cat_b), this->cosine(cat_a, stocks) + 0.2f);
    EXPECT_GT(this->cosine(cat_a, cat_b), this->cosine(cat_b, stocks) + 0.2f);

    const std::string food_a = "We ordered pizza and pasta for dinner.";
    const std::string food_b = "Dinner was pasta with cheese.";
    const std::string sport = "The football team scored a late goal.";
    EXPECT_GT(this->cosine(food_a, food_b), this->cosine(food_a, sport) + 0.2f);
    EXPECT_GT(this->cosine(food_a, food_b), this->cosine(food_b, sport) + 0.2f);
}

TYPED_TEST(EmbedderContractTest, IdIsStable) {
    const std::string id = this->embedder_->id();
    EXPECT_TRUE(std::regex_match(id, std::regex(TypeParam::id_pattern()))) << id;
    EXPECT_EQ(id, this->embedder_->id());
    std::unique_ptr<Embedder> other = TypeParam::make();
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(other->id(), id);
}

}  // namespace
}  // namespace kasten::llm
