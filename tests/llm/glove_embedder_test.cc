#include "llm/glove_embedder.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "glove_fixture.h"
#include "llm/crc32c.h"
#include "llm/kvec_format.h"
#include "temp_dir.h"

namespace kasten::llm {
namespace {

using testing::glove_fixture;
using testing::glove_fixture_kvec_path;
using testing::TempDir;

class GloveEmbedderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        Result<std::unique_ptr<GloveEmbedder>> e = GloveEmbedder::load(glove_fixture_kvec_path());
        ASSERT_TRUE(e.is_ok()) << e.status().to_string();
        embedder_ = std::move(e).value();
    }
    std::size_t row(std::string_view word) const {
        std::optional<std::size_t> r = embedder_->find(word);
        EXPECT_TRUE(r.has_value()) << word;
        return r.value_or(0);
    }
    float cosine(std::string_view a, std::string_view b) const {
        const std::vector<float> va = embedder_->embed(a);
        const std::vector<float> vb = embedder_->embed(b);
        float dot = 0.0f;
        for (std::size_t i = 0; i < va.size(); ++i) dot += va[i] * vb[i];
        return dot;
    }
    std::unique_ptr<GloveEmbedder> embedder_;
};

TEST_F(GloveEmbedderTest, VocabularyLookups) {
    EXPECT_EQ(embedder_->vocabulary_size(), glove_fixture().words.size());
    EXPECT_EQ(embedder_->find("the"), 0u);
    EXPECT_EQ(embedder_->word(row("queen")), "queen");
    EXPECT_FALSE(embedder_->find("The").has_value());  // find() takes lower-cased words
    EXPECT_FALSE(embedder_->find("").has_value());
    EXPECT_FALSE(embedder_->find("zzqunknown").has_value());
    const std::size_t cat = row("cat");
    std::span<const float> v = embedder_->vector(cat);
    EXPECT_EQ(std::vector<float>(v.begin(), v.end()), glove_fixture().vectors[*glove_fixture().row("cat")]);
}

// p(r) = 1 / (r * H_N) with r the 1-based rank; weight = a / (a + p).
TEST_F(GloveEmbedderTest, SifWeightsFollowZipfRank) {
    const std::size_t n = embedder_->vocabulary_size();
    double harmonic = 0.0;
    for (std::size_t r = 1; r <= n; ++r) harmonic += 1.0 / static_cast<double>(r);
    for (std::size_t row : {std::size_t{0}, std::size_t{1}, std::size_t{50}, n - 1}) {
        const double p = 1.0 / (static_cast<double>(row + 1) * harmonic);
        EXPECT_NEAR(embedder_->sif_weight(row), 1e-3 / (1e-3 + p), 1e-12) << row;
    }
    for (std::size_t row = 1; row < n; ++row) ASSERT_GT(embedder_->sif_weight(row), embedder_->sif_weight(row - 1));
    EXPECT_LT(embedder_->sif_weight(0), 0.01);
}

TEST_F(GloveEmbedderTest, EmbedIsTheNormalisedSifWeightedSum) {
    const std::size_t cat = row("cat");
    const std::size_t the = row("the");
    const std::size_t rug = row("rug");
    std::vector<double> expected(static_cast<std::size_t>(embedder_->dim()), 0.0);
    for (std::size_t r : {the, cat, rug, the}) {
        for (std::size_t d = 0; d < expected.size(); ++d)
            expected[d] += embedder_->sif_weight(r) * embedder_->vector(r)[d];
    }
    double norm = 0.0;
    for (double x : expected) norm += x * x;
    norm = std::sqrt(norm);
    const std::vector<float> v = embedder_->embed("The cat, the rug!");
    for (std::size_t d = 0; d < expected.size(); ++d) EXPECT_NEAR(v[d], expected[d] / norm, 1e-5);
}

TEST_F(GloveEmbedderTest, UnknownWordsAreSkipped) {
    EXPECT_EQ(embedder_->embed("cat zzqunknown xyzzy"), embedder_->embed("cat"));
    EXPECT_EQ(embedder_->embed("CAT"), embedder_->embed("cat"));
    for (float x : embedder_->embed("zzqunknown xyzzy")) EXPECT_EQ(x, 0.0f);
    // Non-ASCII vocabulary words are found through the tokenizer.
    EXPECT_NE(embedder_->embed("caf\xC3\xA9")[0], 0.0f);
}

TEST_F(GloveEmbedderTest, SynonymsWithoutSharedWords) {
    const float pets = cosine("The kitten rests on the carpet.", "A cat sleeps on the rug.");
    const float unrelated = cosine("The kitten rests on the carpet.", "Investors sold shares as the market fell.");
    EXPECT_GT(pets, 0.7f);
    EXPECT_GT(pets, unrelated + 0.4f);
}

TEST_F(GloveEmbedderTest, NearestSolvesTheAnalogy) {
    const std::size_t king = row("king");
    const std::size_t man = row("man");
    const std::size_t woman = row("woman");
    std::vector<float> query(static_cast<std::size_t>(embedder_->dim()));
    for (std::size_t d = 0; d < query.size(); ++d) {
        query[d] = embedder_->vector(king)[d] - embedder_->vector(man)[d] + embedder_->vector(woman)[d];
    }
    const std::vector<std::size_t> exclude = {king, man, woman};
    const auto best = embedder_->nearest(query, 3, exclude);
    ASSERT_EQ(best.size(), 3u);
    EXPECT_EQ(embedder_->word(best[0].first), "queen");
    EXPECT_GE(best[0].second, best[1].second);
    EXPECT_GE(best[1].second, best[2].second);
    // Without exclusions the query's own nearest neighbour is returned with its cosine.
    const auto self = embedder_->nearest(embedder_->vector(king), 1);
    ASSERT_EQ(self.size(), 1u);
    EXPECT_EQ(self[0].first, king);
    EXPECT_NEAR(self[0].second, 1.0f, 1e-5);
    EXPECT_TRUE(embedder_->nearest(query, 0).empty());
}

// --- Corrupt files ----------------------------------------------------------------------------------

std::string fixture_bytes() {
    return testing::read_file(glove_fixture_kvec_path());
}

Status load_bytes(const std::string& bytes) {
    TempDir dir;
    testing::write_file(dir.file("x.kvec"), bytes);
    Result<std::unique_ptr<GloveEmbedder>> e = GloveEmbedder::load(dir.file("x.kvec"));
    return e.is_ok() ? Status::ok() : e.status();
}

// Recomputes the trailer checksum so that a structural defect is not merely caught by the CRC.
void reseal(std::string* bytes) {
    const std::size_t body = bytes->size() - kKvecTrailerSize;
    store_le32(reinterpret_cast<std::uint8_t*>(bytes->data()) + body, crc32c(bytes->data(), body));
}

TEST(GloveEmbedderFileTest, MissingFileIsNotFound) {
    TempDir dir;
    Result<std::unique_ptr<GloveEmbedder>> e = GloveEmbedder::load(dir.file("none.kvec"));
    ASSERT_FALSE(e.is_ok());
    EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
}

TEST(GloveEmbedderFileTest, EveryFlippedByteIsDetected) {
    const std::string good = fixture_bytes();
    ASSERT_TRUE(load_bytes(good).is_ok());
    for (std::size_t pos = 0; pos < good.size(); pos += (pos < 128 ? 1 : 29)) {
        std::string bad = good;
        bad[pos] = static_cast<char>(bad[pos] ^ 0x5A);
        Status s = load_bytes(bad);
        ASSERT_FALSE(s.is_ok()) << "flip at byte " << pos << " went unnoticed";
        if (pos >= kKvecVersionOffset && pos < kKvecVersionOffset + 4) {
            EXPECT_EQ(s.code(), StatusCode::kNotSupported) << pos << ": " << s.to_string();
        } else {
            EXPECT_EQ(s.code(), StatusCode::kCorruption) << pos << ": " << s.to_string();
        }
    }
}

TEST(GloveEmbedderFileTest, TruncatedOrExtendedIsCorruption) {
    const std::string good = fixture_bytes();
    for (std::size_t length : {std::size_t{0}, std::size_t{3}, std::size_t{8}, std::size_t{63}, std::size_t{64},
                               std::size_t{71}, good.size() / 2, good.size() - 8, good.size() - 1}) {
        Status s = load_bytes(good.substr(0, length));
        EXPECT_EQ(s.code(), StatusCode::kCorruption) << length << ": " << s.to_string();
    }
    EXPECT_EQ(load_bytes(good + "x").code(), StatusCode::kCorruption);
}

TEST(GloveEmbedderFileTest, WrongMagicIsCorruption) {
    std::string bad = fixture_bytes();
    std::memcpy(bad.data(), "GGUF", 4);
    Status s = load_bytes(bad);
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_NE(s.message().find("magic"), std::string::npos) << s.to_string();
}

TEST(GloveEmbedderFileTest, NewerVersionIsNotSupported) {
    std::string newer = fixture_bytes();
    store_le32(reinterpret_cast<std::uint8_t*>(newer.data()) + kKvecVersionOffset, kKvecVersion + 1);
    reseal(&newer);
    Status s = load_bytes(newer);
    EXPECT_EQ(s.code(), StatusCode::kNotSupported);
    EXPECT_NE(s.message().find("version 2"), std::string::npos) << s.to_string();

    std::string zero = fixture_bytes();
    store_le32(reinterpret_cast<std::uint8_t*>(zero.data()) + kKvecVersionOffset, 0);
    reseal(&zero);
    EXPECT_EQ(load_bytes(zero).code(), StatusCode::kCorruption);
}

TEST(GloveEmbedderFileTest, StructuralDefectsBehindAValidChecksum) {
    const std::string good = fixture_bytes();
    const KvecHeader h = decode_kvec_header(reinterpret_cast<const std::uint8_t*>(good.data()));
    auto offsets = [](std::string& s, const KvecHeader& header) {
        return reinterpret_cast<std::uint8_t*>(s.data()) + header.offsets_offset;
    };

    std::string misordered = good;  // word 1 ends before it starts
    store_le32(offsets(misordered, h) + 8, load_le32(offsets(misordered, h) + 4) - 1);
    reseal(&misordered);
    EXPECT_EQ(load_bytes(misordered).code(), StatusCode::kCorruption);

    std::string duplicate = good;  // rows 1 and 2 ("," and ".") both read ","
    ASSERT_EQ(good.substr(h.strings_offset, 5), "the,.");
    duplicate[h.strings_offset + 4] = ',';
    reseal(&duplicate);
    Status dup = load_bytes(duplicate);
    EXPECT_EQ(dup.code(), StatusCode::kCorruption);
    EXPECT_NE(dup.message().find("duplicate word"), std::string::npos) << dup.to_string();

    std::string bad_dim = good;  // consistent CRC, inconsistent sizes
    store_le32(reinterpret_cast<std::uint8_t*>(bad_dim.data()) + kKvecDimOffset, h.dim + 1);
    reseal(&bad_dim);
    EXPECT_EQ(load_bytes(bad_dim).code(), StatusCode::kCorruption);

    std::string bad_count = good;
    store_le32(reinterpret_cast<std::uint8_t*>(bad_count.data()) + kKvecCountOffset, 0);
    reseal(&bad_count);
    EXPECT_EQ(load_bytes(bad_count).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace kasten::llm

namespace kasten::llm {
namespace {

// A session key grows one turn at a time: accumulating the parts must give exactly embed() of the joined text.
TEST(GloveEmbedderAccumulateTest, AccumulatedPartsAreBitForBitTheEmbeddingOfTheJoinedText) {
    auto e = GloveEmbedder::load(testing::glove_fixture_kvec_path());
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    const std::vector<std::string> parts = {"the king and the queen", "my dog likes the park", "unknownword only",
                                            "rain and weather in the city"};
    std::string joined;
    std::vector<float> sum(static_cast<size_t>((*e)->dim()), 0.0f);
    for (const auto& p : parts) {
        if (!joined.empty()) joined += '\n';
        joined += p;
        (*e)->accumulate(p, sum);
    }
    std::vector<float> incremental(sum.size());
    Embedder::normalize(sum, incremental);
    const std::vector<float> whole = (*e)->embed(joined);
    ASSERT_EQ(incremental.size(), whole.size());
    EXPECT_EQ(std::memcmp(incremental.data(), whole.data(), whole.size() * sizeof(float)), 0);
}

}  // namespace
}  // namespace kasten::llm
