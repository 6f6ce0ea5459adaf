#include "memory/memory_chat.h"

#include <gtest/gtest.h>

#include "common/timestamp.h"
#include "llm/hashing_embedder.h"
#include "memory/extractive_answerer.h"
#include "memory/memory_manager.h"

namespace kasten::memory {
namespace {

class FixedClock final : public Clock {
  public:
    explicit FixedClock(TimeMs t) : t_(t) {}
    TimeMs now_ms() const override { return t_; }

  private:
    TimeMs t_;
};

std::unique_ptr<MemoryManager> open_mm() {
    MemoryOptions o;
    o.in_memory = true;
    o.embedder = std::make_shared<llm::HashingEmbedder>(128);
    o.background_jobs = false;
    auto r = MemoryManager::open(o);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return std::move(r).value();
}

std::string extract(const PreparedChat& prepared) {
    ExtractiveAnswerer answerer;
    auto g = answerer.chat(prepared.messages, {});
    EXPECT_TRUE(g.is_ok()) << g.status().to_string();
    return g.is_ok() ? g->text : "";
}

TEST(MemoryChatTest, AnExchangeIsStoredAndRecalledInTheNextConversation) {
    auto mm = open_mm();
    const FixedClock clock(parse_timestamp("2024-03-05T10:00").value());
    MemoryChat chat(*mm, {}, &clock);

    ChatExchange first{"user:alice", "conv-1", {{"user", "My dog is called Biscuit and she is a beagle."}}};
    auto p1 = chat.prepare(first);
    ASSERT_TRUE(p1.is_ok()) << p1.status().to_string();
    EXPECT_EQ(p1->context.mode, "empty");  // the cube does not exist yet
    EXPECT_EQ(p1->messages.size(), 1u);
    auto stored = chat.remember(first, *p1, "Biscuit is a lovely name!", false);
    ASSERT_TRUE(stored.is_ok()) << stored.status().to_string();
    EXPECT_EQ(stored->turn_ids.size(), 2u);
    EXPECT_EQ(stored->session_id, "conv-1");

    ChatExchange second{"user:alice", "conv-2", {{"system", "Be brief."}, {"user", "What breed is my dog Biscuit?"}}};
    auto p2 = chat.prepare(second);
    ASSERT_TRUE(p2.is_ok());
    EXPECT_NE(p2->context.mode, "empty");
    ASSERT_EQ(p2->messages.size(), 2u);  // the memory joined the client's system message
    EXPECT_EQ(p2->messages[0].role, "system");
    EXPECT_EQ(p2->messages[0].content.rfind("Be brief.", 0), 0u);
    EXPECT_NE(p2->messages[0].content.find("beagle"), std::string::npos);
    EXPECT_EQ(p2->messages[1].content, "What breed is my dog Biscuit?");

    // The extractive answerer answers with the stored fact and says what it is.
    const std::string answer = extract(*p2);
    EXPECT_EQ(answer.rfind(ExtractiveAnswerer::kMarker, 0), 0u) << answer;
    EXPECT_NE(answer.find("My dog is called Biscuit and she is a beagle."), std::string::npos) << answer;
    EXPECT_NE(answer.find("[2024-03-05]"), std::string::npos) << answer;
    // Extractive answers are not stored; the user's message is.
    auto s2 = chat.remember(second, *p2, answer, true);
    ASSERT_TRUE(s2.is_ok());
    EXPECT_EQ(s2->turn_ids.size(), 1u);
}

TEST(MemoryChatTest, TheCurrentConversationIsLeftOutOfItsOwnContextAndDailySessionsAreNamed) {
    auto mm = open_mm();
    const FixedClock clock(parse_timestamp("2024-03-05T10:00").value());
    MemoryChat chat(*mm, {}, &clock);
    ChatExchange a{"c", "conv", {{"user", "I parked the car on level 3 of the garage."}}};
    auto pa = chat.prepare(a);
    ASSERT_TRUE(pa.is_ok());
    ASSERT_TRUE(chat.remember(a, *pa, "Noted.", false).is_ok());
    ChatExchange again{"c", "conv", {{"user", "Where did I park the car?"}}};
    auto p = chat.prepare(again);
    ASSERT_TRUE(p.is_ok());
    EXPECT_EQ(p->context.mode, "empty");  // its only memories are this conversation's, which the client holds

    ChatExchange daily{"c", "", {{"user", "Where did I park the car?"}}};
    auto d = chat.prepare(daily);
    ASSERT_TRUE(d.is_ok());
    EXPECT_EQ(d->session_id, "chat-2024-03-05");
    EXPECT_NE(d->context.text.find("level 3"), std::string::npos);
}

TEST(MemoryChatTest, RejectsBadExchanges) {
    auto mm = open_mm();
    MemoryChat chat(*mm, {});
    EXPECT_EQ(chat.prepare({"c", "", {}}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(chat.prepare({"bad cube!", "", {{"user", "hi"}}}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(chat.prepare({"c", "bad id!", {{"user", "hi"}}}).status().code(), StatusCode::kInvalidArgument);
}

TEST(ExtractiveAnswererTest, SaysSoWhenNothingMatchesAndStreamsWhatItReturns) {
    ExtractiveAnswerer answerer;
    std::vector<llm::ChatMessage> messages = {
        {"system",
         "Memories…\n\n### Session s · 2024-01-02 (Tue) 09:00\n{\"role\": \"user\", \"content\": \"I like "
         "green tea.\"}\n"},
        {"user", "What is the capital of Peru?"}};
    auto g = answerer.chat(messages, {});
    ASSERT_TRUE(g.is_ok());
    EXPECT_NE(g->text.find("found nothing in memory"), std::string::npos);

    messages.back().content = "Which tea do I like?";
    std::string streamed;
    g = answerer.chat(messages, {}, [&](std::string_view piece) {
        streamed += piece;
        return true;
    });
    ASSERT_TRUE(g.is_ok());
    EXPECT_EQ(streamed, g->text);
    EXPECT_NE(g->text.find("- [2024-01-02] I like green tea."), std::string::npos) << g->text;
    EXPECT_EQ(g->finish_reason, "stop");
    EXPECT_EQ(answerer.complete("hello", {}).status().code(), StatusCode::kNotSupported);
    EXPECT_EQ(answerer.chat({{"system", "x"}}, {}).status().code(), StatusCode::kInvalidArgument);
}

// Puts "dog" and "beagle" on one axis and everything else on another: a paraphrase an embedder can see.
class SynonymEmbedder final : public llm::Embedder {
  public:
    std::string id() const override { return "synonyms"; }
    int dim() const override { return 2; }
    void embed(std::string_view text, std::span<float> out) const override {
        const bool pet = text.find("dog") != std::string_view::npos || text.find("beagle") != std::string_view::npos;
        out[0] = pet ? 1.0f : 0.0f;
        out[1] = pet ? 0.0f : 1.0f;
    }
};

TEST(ExtractiveAnswererTest, WithoutASharedWordGivesTheMemoriesClosestInMeaningAndSaysSo) {
    const std::vector<llm::ChatMessage> messages = {
        {"system",
         "### Session s · 2024-01-02 (Tue) 09:00\n{\"role\": \"user\", \"content\": \"I adopted a beagle "
         "named Biscuit.\"}\n{\"role\": \"user\", \"content\": \"Tea at five.\"}\n"},
        {"user", "what dog do I have?"}};
    ExtractiveAnswerer plain;
    auto g = plain.chat(messages, {});
    ASSERT_TRUE(g.is_ok());
    EXPECT_NE(g->text.find("found nothing in memory"), std::string::npos) << g->text;

    ExtractiveAnswerer with_meaning(std::make_shared<SynonymEmbedder>());
    g = with_meaning.chat(messages, {});
    ASSERT_TRUE(g.is_ok());
    EXPECT_NE(g->text.find("closest to it in meaning"), std::string::npos) << g->text;
    EXPECT_NE(g->text.find("- [2024-01-02] I adopted a beagle named Biscuit."), std::string::npos) << g->text;
    EXPECT_EQ(g->text.find("Tea at five"), std::string::npos) << g->text;  // orthogonal: not close at all
}

}  // namespace
}  // namespace kasten::memory
