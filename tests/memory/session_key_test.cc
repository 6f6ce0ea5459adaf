#include "memory/session_key.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include <gtest/gtest.h>

#include "llm/combined_embedder.h"
#include "llm/hashing_embedder.h"

namespace kasten::memory {
namespace {

store::TurnRecord turn(const std::string& role, const std::string& content) {
    store::TurnRecord t;
    t.role = role;
    t.content = content;
    return t;
}

std::vector<retrieval::LexicalIndex::Analysis> analyses_of(const std::vector<store::TurnRecord>& turns) {
    std::vector<retrieval::LexicalIndex::Analysis> out;
    for (const auto& t : turns) out.push_back(retrieval::LexicalIndex::analyze_text(t.content));
    return out;
}

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class SessionKeyTest : public ::testing::Test {
  protected:
    llm::HashingEmbedder embedder_{64};
    std::vector<store::TurnRecord> turns_ = {
        turn("assistant", "Welcome back, how can I help today?"), turn("user", "I adopted a beagle named Biscuit"),
        turn("assistant", "Beagles love long walks in the park"), turn("user", "My sister lives in Lisbon"),
        turn("user", "Biscuit chewed my running shoes"),
    };
};

TEST_F(SessionKeyTest, AppendingOneTurnAtATimeEqualsBuildingFromAllTurns) {
    const store::SessionKeyState whole = SessionKey::build(embedder_, turns_);
    store::SessionKeyState state;
    SessionKey::Append last;
    for (const auto& t : turns_) {
        std::vector<store::TurnRecord> one = {t};
        last = SessionKey::append(embedder_, state, one, analyses_of(one));
    }
    EXPECT_TRUE(same_floats(state.user_sum, whole.user_sum));
    EXPECT_EQ(state.user_turns, 3);
    EXPECT_EQ(state.embedder_id, embedder_.id());
    EXPECT_TRUE(same_floats(last.embedding, SessionKey::embedding(embedder_, whole)));
}

TEST_F(SessionKeyTest, ACombinedEmbeddersKeyCombinesThePartsKeys) {
    // Each part finished on its own (CombinedEmbedder::finish), not the concatenated sum normalised as one vector.
    auto a = std::make_shared<llm::HashingEmbedder>(32);
    auto b = std::make_shared<llm::HashingEmbedder>(48);
    const llm::CombinedEmbedder combined(a, b, 0.25);
    const store::SessionKeyState state = SessionKey::build(combined, turns_);
    const std::vector<float> key = SessionKey::embedding(combined, state);
    const std::vector<float> key_a = SessionKey::embedding(*a, SessionKey::build(*a, turns_));
    const std::vector<float> key_b = SessionKey::embedding(*b, SessionKey::build(*b, turns_));
    ASSERT_EQ(key.size(), 80u);
    for (std::size_t d = 0; d < 32; ++d) EXPECT_FLOAT_EQ(key[d], 0.5f * key_a[d]) << d;
    for (std::size_t d = 0; d < 48; ++d) EXPECT_FLOAT_EQ(key[32 + d], std::sqrt(0.75f) * key_b[d]) << d;
}

TEST_F(SessionKeyTest, TheKeyIsTheUserTurnsOnceThereAreAny) {
    store::SessionKeyState state;
    std::vector<store::TurnRecord> first = {turns_[0]};
    auto a = SessionKey::append(embedder_, state, first, analyses_of(first));
    // Only an assistant turn so far: it is the key, and its terms start the document.
    EXPECT_FALSE(a.replace_lexical);
    EXPECT_FALSE(a.lexical.terms.empty());
    std::vector<store::TurnRecord> second = {turns_[1], turns_[2]};
    auto b = SessionKey::append(embedder_, state, second, analyses_of(second));
    // The first user turn switches the key: the document is replaced by the user turn's terms alone.
    EXPECT_TRUE(b.replace_lexical);
    const auto user_only = retrieval::LexicalIndex::analyze_text(turns_[1].content);
    EXPECT_EQ(b.lexical.terms, user_only.terms);
    std::vector<float> expected(64);
    llm::Embedder::normalize(state.user_sum, expected);
    EXPECT_TRUE(same_floats(b.embedding, expected));
    // Later user turns add to it; assistant turns no longer count.
    std::vector<store::TurnRecord> third = {turns_[3]};
    auto c = SessionKey::append(embedder_, state, third, analyses_of(third));
    EXPECT_FALSE(c.replace_lexical);
    EXPECT_EQ(c.lexical.terms, retrieval::LexicalIndex::analyze_text(turns_[3].content).terms);
}

TEST_F(SessionKeyTest, ASessionWithoutUserTurnsIsKeyedByAllItsTurns) {
    std::vector<store::TurnRecord> assistant = {turns_[0], turns_[2]};
    store::SessionKeyState state;
    for (const auto& t : assistant) {
        std::vector<store::TurnRecord> one = {t};
        SessionKey::append(embedder_, state, one, analyses_of(one));
    }
    const store::SessionKeyState whole = SessionKey::build(embedder_, assistant);
    EXPECT_EQ(state.user_turns, 0);
    EXPECT_TRUE(same_floats(state.all_sum, whole.all_sum));
    std::vector<float> expected(64, 0.0f);
    embedder_.accumulate(turns_[0].content, expected);
    embedder_.accumulate(turns_[2].content, expected);
    EXPECT_TRUE(same_floats(state.all_sum, expected));
}

TEST_F(SessionKeyTest, WholeSessionAnalysisSumsTheKeyTurns) {
    const auto a = SessionKey::analysis(turns_);
    std::vector<retrieval::LexicalIndex::Analysis> parts;
    for (const auto& t : turns_) {
        if (t.role == "user") parts.push_back(retrieval::LexicalIndex::analyze_text(t.content));
    }
    EXPECT_EQ(a.terms, retrieval::LexicalIndex::merge({&parts[0], &parts[1], &parts[2]}).terms);
}

TEST_F(SessionKeyTest, AnalysisAmongTermsIsTheWholeAnalysisRestrictedToThem) {
    const auto whole = SessionKey::analysis(turns_);
    for (const std::vector<std::string>& terms :
         {std::vector<std::string>{"biscuit", "beagl", "lisbon", "welcom"}, std::vector<std::string>{"shoe", "zzz"},
          std::vector<std::string>{}, std::vector<std::string>{"biscuit", "biscuit"}}) {
        retrieval::LexicalIndex::Analysis expected;
        for (const auto& entry : whole.terms) {
            if (std::find(terms.begin(), terms.end(), entry.first) != terms.end()) expected.terms.push_back(entry);
        }
        EXPECT_EQ(SessionKey::analysis_among(turns_, terms).terms, expected.terms);
    }
    // Without user turns the key is every turn's.
    const std::vector<store::TurnRecord> assistant_only = {turn("assistant", "Beagles love long walks"),
                                                           turn("assistant", "long walks again")};
    const auto among = SessionKey::analysis_among(assistant_only, {"walk", "long"});
    EXPECT_EQ(among.terms, (std::vector<std::pair<std::string, std::uint32_t>>{{"long", 2}, {"walk", 2}}));
}

}  // namespace
}  // namespace kasten::memory
