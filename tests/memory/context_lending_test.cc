// Turns and sessions lend each other context (MemoryOptions::turn_context_weight, session_context_weight,
// turn_rollup_weight), end to end through MemoryManager with the lexical retriever (deterministic term matches).

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "llm/hashing_embedder.h"
#include "memory/memory_manager.h"

namespace kasten::memory {
namespace {

struct Weights {
    double turn_context = 0;
    double session_context = 0;
    double turn_rollup = 0;
};

class ContextLendingTest : public ::testing::Test {
  protected:
    // data_dir "" opens in memory.
    void open(const Weights& w, const std::string& data_dir = {}) {
        mm_.reset();
        MemoryOptions o;
        o.embedder = std::make_shared<llm::HashingEmbedder>(256);
        o.clock = &clock_;
        o.in_memory = data_dir.empty();
        o.data_dir = data_dir;
        o.background_jobs = false;
        o.turn_context_weight = w.turn_context;
        o.session_context_weight = w.session_context;
        o.turn_rollup_weight = w.turn_rollup;
        auto r = MemoryManager::open(o);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        mm_ = std::move(r).value();
        if (!mm_->get_cube("u").is_ok()) fill();
    }

    void fill() {
        turn_ids_.clear();
        // Two people talking (both role user), then an assistant exchange whose answer alone names the topic.
        add("hike", {{"user", "How was the hike with the kids after the road trip?"},
                     {"user", "We just did it yesterday and everybody loved it"},
                     {"user", "Glad to hear that, the weather was perfect"}});
        add("garden", {{"user", "The tomatoes in the garden are finally red"},
                       {"user", "Pick them before the squirrels find them"}});
        add("help", {{"user", "Can you suggest a name for my boat?"},
                     {"assistant", "How about Saltwater Symphony, a name for a sailing boat with a violin maker"}});
    }

    void add(const std::string& session, const std::vector<std::pair<std::string, std::string>>& turns) {
        AddMessagesRequest req;
        req.cube_id = "u";
        req.session_id = session;
        req.time = 1690000000000;
        for (const auto& [role, text] : turns) req.messages.push_back({role, text, std::nullopt});
        auto r = mm_->add_messages(req);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        for (const auto& id : r->turn_ids) turn_ids_.push_back(id);
    }

    std::vector<SearchHit> search(const std::string& query, Granularity g, std::optional<std::string> role = {}) {
        SearchRequest req;
        req.cube_id = "u";
        req.query = query;
        req.granularity = g;
        req.retriever = Retriever::kLexical;
        req.top_k = 20;
        req.role = std::move(role);
        auto hits = mm_->search(req);
        EXPECT_TRUE(hits.is_ok()) << hits.status().to_string();
        return hits.is_ok() ? *hits : std::vector<SearchHit>{};
    }

    static std::vector<std::string> ids(const std::vector<SearchHit>& hits) {
        std::vector<std::string> out;
        for (const auto& h : hits) out.push_back(h.id);
        return out;
    }

    static std::vector<std::string> texts(const std::vector<SearchHit>& hits) {
        std::vector<std::string> out;
        for (const auto& h : hits) out.push_back(h.text);
        return out;
    }

    FakeClock clock_{1700000000000};
    std::unique_ptr<MemoryManager> mm_;
    std::vector<std::string> turn_ids_;  // in the order added
};

TEST_F(ContextLendingTest, WithoutWeightsAReplyIsNotFoundByItsQuestionsWords) {
    open({});
    EXPECT_EQ(ids(search("hike after the road trip", Granularity::kTurn)), std::vector<std::string>{turn_ids_[0]});
}

TEST_F(ContextLendingTest, NeighboursLendToTheTurnsBeforeAndAfterAMatch) {
    open({.turn_context = 0.5});
    const auto hits = search("hike after the road trip", Granularity::kTurn);
    // The question first, then its neighbour (the reply) with half the question's fused score; the turn after the
    // reply borrows nothing (the reply lends what it had alone: nothing), and nothing comes from other sessions.
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].id, turn_ids_[0]);
    EXPECT_EQ(hits[1].id, turn_ids_[1]);
    EXPECT_NEAR(hits[1].rank_score, 0.5 * hits[0].rank_score, 1e-9);
}

TEST_F(ContextLendingTest, UnderARoleFilterNeighboursLendNothing) {
    open({.turn_context = 0.5});
    EXPECT_EQ(ids(search("hike after the road trip", Granularity::kTurn, "user")),
              std::vector<std::string>{turn_ids_[0]});
}

TEST_F(ContextLendingTest, ATurnBorrowsFromItsSession) {
    open({.session_context = 1.0});
    // "tomatoes squirrels": the session key matches both words, each turn one. With its session's score added,
    // each garden turn outranks what it had alone, and the order between them stays by their own scores.
    const auto with = search("tomatoes squirrels", Granularity::kTurn);
    open({});
    const auto without = search("tomatoes squirrels", Granularity::kTurn);
    ASSERT_EQ(with.size(), 2u);
    ASSERT_EQ(without.size(), 2u);
    EXPECT_EQ(texts(with), texts(without));
    for (size_t i = 0; i < with.size(); ++i) EXPECT_GT(with[i].rank_score, without[i].rank_score);
}

TEST_F(ContextLendingTest, ASessionBorrowsFromItsBestTurn) {
    // Session keys hold user turns only: the boat session's assistant turn is searchable at turn granularity, and
    // lends its score to its session.
    open({});
    EXPECT_TRUE(search("violin maker", Granularity::kSession).empty());
    open({.turn_rollup = 0.5});
    const auto hits = search("violin maker", Granularity::kSession);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].id, "help");
}

// Neighbours come from the in-memory place index: it follows deletes, and it is rebuilt from the store at open.
TEST_F(ContextLendingTest, NeighboursFollowDeletesAndReopening) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("kasten-lending-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    open({.turn_context = 0.5}, dir.string());
    const std::vector<std::string> added = turn_ids_;
    open({.turn_context = 0.5}, dir.string());  // reopened: the turns are the store's, the places rebuilt
    EXPECT_EQ(ids(search("hike after the road trip", Granularity::kTurn)),
              (std::vector<std::string>{added[0], added[1]}));
    ASSERT_TRUE(mm_->delete_turn("u", added[1], "test").is_ok());
    // The reply is gone; the turn after it is two positions from the question: no neighbour any more.
    EXPECT_EQ(ids(search("hike after the road trip", Granularity::kTurn)), std::vector<std::string>{added[0]});
    open({.turn_context = 0.5}, dir.string());
    EXPECT_EQ(ids(search("hike after the road trip", Granularity::kTurn)), std::vector<std::string>{added[0]});
    mm_.reset();
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kasten::memory
