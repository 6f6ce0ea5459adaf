#include "memory/context_builder.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "common/timestamp.h"
#include "llm/hashing_embedder.h"
#include "llm/tokenizer_factory.h"
#include "memory/heuristic_link_decider.h"
#include "memory/heuristic_note_builder.h"
#include "memory/memory_manager.h"
#include "memory/score_calibrator.h"

namespace kasten::memory {
namespace {

constexpr TimeMs kDay = 86'400'000;
const TimeMs kStart = parse_timestamp("2024-01-01T09:00").value();

std::unique_ptr<MemoryManager> open_mm(bool notes) {
    MemoryOptions o;
    o.in_memory = true;
    o.embedder = std::make_shared<llm::HashingEmbedder>(128);
    o.background_jobs = false;
    if (notes) {
        o.note_builder = std::make_shared<HeuristicNoteBuilder>();
        o.link_decider = std::make_shared<HeuristicLinkDecider>();
    }
    auto r = MemoryManager::open(o);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return std::move(r).value();
}

void add(MemoryManager& mm, const std::string& session, TimeMs t, std::vector<std::pair<std::string, std::string>> m) {
    AddMessagesRequest req;
    req.cube_id = "c";
    req.session_id = session;
    req.time = t;
    for (auto& [role, content] : m) req.messages.push_back({role, content, std::nullopt});
    ASSERT_TRUE(mm.add_messages(req).is_ok());
}

// A long history: 30 sessions of small talk, one of which holds the fact asked about.
void add_history(MemoryManager& mm) {
    static const char* const kTopics[] = {"gardening tomatoes",  "a marathon training plan", "baking sourdough",
                                          "learning the guitar", "repairing a bicycle",      "painting the kitchen"};
    for (int s = 0; s < 30; ++s) {
        const std::string topic = kTopics[s % 6];
        std::vector<std::pair<std::string, std::string>> turns = {
            {"user", "Can you give me some advice about " + topic + " this weekend? Session " + std::to_string(s)},
            {"assistant", "Sure. For " + topic + ", start small, keep notes, and take breaks when you need them."},
            {"user", "Thanks, I will try that and tell you how " + topic + " went."}};
        if (s == 17)
            turns.push_back({"user",
                             "By the way, my passport number expires in March and I keep it in the "
                             "blue folder in the desk."});
        // Sessions are added out of time order: the context must still be chronological.
        add(mm, "s" + std::to_string(s), kStart + ((s * 7) % 30) * kDay, turns);
    }
}

std::shared_ptr<const TokenCounter> llama_counter() {
    auto t = llm::load_gguf_tokenizer(std::string(KASTEN_SOURCE_DIR) + "/data/vocab/ggml-vocab-llama-spm.gguf");
    EXPECT_TRUE(t.is_ok()) << t.status().to_string();
    return std::make_shared<TokenizerTokenCounter>(std::shared_ptr<const llm::Tokenizer>(std::move(t).value()));
}

// Session headers' dates in text order.
std::vector<std::string> header_dates(const std::string& text) {
    std::vector<std::string> out;
    size_t at = 0;
    while ((at = text.find("\n### Session ", at)) != std::string::npos) {
        const size_t dot = text.find(" · ", at);
        out.push_back(text.substr(dot + 4, 10 + 6 + 6));  // "2024-01-05 (Fri) 09:00"
        at = dot;
    }
    return out;
}

TEST(ContextBuilderTest, GivesTheWholeHistoryChronologicallyWhenItFits) {
    auto mm = open_mm(false);
    add(*mm, "late", kStart + 5 * kDay, {{"user", "I moved to Denver."}, {"assistant", "Nice, welcome to Denver."}});
    add(*mm, "early", kStart, {{"user", "I live in Boston."}});
    ContextRequest req;
    req.cube_id = "c";
    req.query = "where do I live";
    auto counter = llama_counter();
    req.counter = counter;
    auto r = mm->build_context(req);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->mode, "full");
    ASSERT_EQ(r->items.size(), 3u);
    EXPECT_EQ(r->items[0].text, "I live in Boston.");
    EXPECT_EQ(r->items[1].text, "I moved to Denver.");
    EXPECT_EQ(r->items[2].text, "Nice, welcome to Denver.");
    EXPECT_LT(r->text.find("Boston"), r->text.find("Denver"));
    EXPECT_EQ(r->tokens, counter->count(r->text));
    EXPECT_EQ(r->token_counter, "tokenizer:llama");
    EXPECT_TRUE(r->weights.empty());

    // Excluding the current chat's session leaves it out.
    req.exclude_session_id = "late";
    r = mm->build_context(req);
    ASSERT_TRUE(r.is_ok());
    ASSERT_EQ(r->items.size(), 1u);
    EXPECT_EQ(r->items[0].session_id, "early");
}

TEST(ContextBuilderTest, PacksTheBestItemsUnderTheBudgetWhenTheHistoryDoesNotFit) {
    auto mm = open_mm(false);
    add_history(*mm);
    auto counter = llama_counter();
    ContextRequest req;
    req.cube_id = "c";
    req.query = "where do I keep my passport";
    req.counter = counter;
    req.token_budget = 300;
    auto r = mm->build_context(req);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->mode, "packed");
    EXPECT_LE(r->tokens, 300);
    EXPECT_EQ(r->tokens, counter->count(r->text));
    EXPECT_NE(r->text.find("blue folder"), std::string::npos) << r->text;
    // Chronological sessions.
    auto dates = header_dates(r->text);
    ASSERT_FALSE(dates.empty());
    EXPECT_TRUE(std::is_sorted(dates.begin(), dates.end())) << r->text;
    // The router's weights are a distribution over the granularities it used.
    double sum = 0;
    for (const auto& [g, w] : r->weights) sum += w;
    EXPECT_NEAR(sum, 1.0, 1e-9);
}

// min_score compares against the calibrated search score (SearchHit::score, in [0, 1]).
TEST(ContextBuilderTest, MinScoreKeepsOnlyItemsWhoseCalibratedScoreReachesIt) {
    auto mm = open_mm(false);
    add_history(*mm);
    ContextRequest req;
    req.cube_id = "c";
    req.query = "where do I keep my passport";
    req.counter = llama_counter();
    req.token_budget = 300;
    auto all = mm->build_context(req);
    ASSERT_TRUE(all.is_ok()) << all.status().to_string();
    ASSERT_EQ(all->mode, "packed");
    double best = 0;
    for (const auto& item : all->items) {
        EXPECT_GE(item.score, 0.0);
        EXPECT_LE(item.score, 1.0);
        best = std::max(best, item.score);
    }
    ASSERT_GT(best, 0.0);
    req.min_score = best;  // only the best-scoring items pass
    auto strict = mm->build_context(req);
    ASSERT_TRUE(strict.is_ok()) << strict.status().to_string();
    ASSERT_FALSE(strict->items.empty());
    EXPECT_LT(strict->items.size(), all->items.size());
    for (const auto& item : strict->items) EXPECT_GE(item.score, best) << item.text;
    // An unrelated question packs nothing at the REST default threshold.
    req.query = "quantum chromodynamics lattice gauge theory";
    req.min_score = kDefaultMinScore;
    auto unrelated = mm->build_context(req);
    ASSERT_TRUE(unrelated.is_ok()) << unrelated.status().to_string();
    EXPECT_TRUE(unrelated->items.empty()) << unrelated->text;
}

TEST(ContextBuilderTest, NeverExceedsTheBudgetAndGivesEachItemOnce) {
    auto mm = open_mm(true);
    add_history(*mm);
    ASSERT_TRUE(mm->run_jobs().is_ok());
    auto counter = llama_counter();
    for (ContextStrategy strategy :
         {ContextStrategy::kAuto, ContextStrategy::kTurn, ContextStrategy::kSession, ContextStrategy::kNote}) {
        for (int budget : {1, 20, 60, 150, 400, 900, 2500}) {
            ContextRequest req;
            req.cube_id = "c";
            req.query = "advice about the guitar and my passport";
            req.counter = counter;
            req.token_budget = budget;
            req.strategy = strategy;
            auto r = mm->build_context(req);
            ASSERT_TRUE(r.is_ok()) << r.status().to_string();
            SCOPED_TRACE(std::string(context_strategy_name(strategy)) + " at " + std::to_string(budget));
            EXPECT_LE(r->tokens, budget);
            EXPECT_EQ(r->tokens, counter->count(r->text));
            std::set<std::string> ids;
            std::set<std::string> whole_sessions;
            for (const auto& item : r->items) {
                EXPECT_TRUE(ids.insert(item.id).second) << "twice: " << item.id;
                if (item.granularity == Granularity::kSession) whole_sessions.insert(item.id);
                if (strategy == ContextStrategy::kNote) EXPECT_EQ(item.granularity, Granularity::kNote);
                if (strategy == ContextStrategy::kTurn) EXPECT_EQ(item.granularity, Granularity::kTurn);
            }
            for (const auto& item : r->items) {
                if (item.granularity == Granularity::kTurn) {
                    EXPECT_EQ(whole_sessions.count(item.session_id), 0u) << "a turn of a session given whole";
                }
            }
            if (r->mode == "empty") {
                EXPECT_TRUE(r->text.empty());
                EXPECT_EQ(r->tokens, 0);
            }
        }
    }
}

TEST(ContextBuilderTest, ANoteWaitsWhenItsSourceTurnsAreAlreadyGiven) {
    auto mm = open_mm(true);
    add(*mm, "s1", kStart, {{"user", "My sister Anna works as an architect in Lisbon."}});
    add(*mm, "s2", kStart + kDay, {{"user", "I bought a red bicycle for the commute."}});
    ASSERT_TRUE(mm->run_jobs().is_ok());
    ContextRequest req;
    req.cube_id = "c";
    req.query = "what does my sister Anna do in Lisbon";
    req.full_history = false;
    req.token_budget = 4096;
    auto roomy = mm->build_context(req);
    ASSERT_TRUE(roomy.is_ok());
    int notes = 0;
    int turns = 0;
    for (const auto& item : roomy->items) {
        notes += item.granularity == Granularity::kNote ? 1 : 0;
        turns += item.granularity != Granularity::kNote ? 1 : 0;  // the turn alone or inside its session
    }
    EXPECT_GT(notes, 0);  // with room to spare the note comes too
    EXPECT_GT(turns, 0);
    // Tight: the turn or its note, not both.
    req.token_budget = roomy->tokens - 1;
    auto tight = mm->build_context(req);
    ASSERT_TRUE(tight.is_ok());
    EXPECT_LT(tight->items.size(), roomy->items.size());
}

// A question that names a time ("two weeks ago") asks about what happened then: the best match inside that time
// is packed even when many better matches from other times fill the budget, at every strategy.
TEST(ContextBuilderTest, TheBestMatchInsideATimeTheQueryNamesIsPacked) {
    auto mm = open_mm(false);
    const TimeMs asked = kStart + 60 * kDay;
    for (int s = 0; s < 24; ++s) {
        // Strong matches for "cook dinner for my friend", none of them two weeks before the question.
        add(*mm, "strong" + std::to_string(s), kStart + s * kDay,
            {{"user",
              "I cook dinner for my friend every week; cooking dinner for a friend is my favourite thing. "
              "Variation " +
                  std::to_string(s)}});
    }
    add(*mm, "then", asked - 14 * kDay,
        {{"user", "Yesterday I made a lemon tart for my friend Marta and she loved it."}});
    for (ContextStrategy strategy : {ContextStrategy::kAuto, ContextStrategy::kTurn, ContextStrategy::kSession}) {
        ContextRequest req;
        req.cube_id = "c";
        req.query = "What did I cook for my friend two weeks ago?";
        req.query_time = asked;
        req.full_history = false;
        req.token_budget = 160;  // room for a handful of turns
        req.strategy = strategy;
        auto r = mm->build_context(req);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        EXPECT_NE(r->text.find("lemon tart"), std::string::npos) << context_strategy_name(strategy) << "\n" << r->text;
        // Without the time in the question the strong matches win.
        req.query = "What did I cook for my friend?";
        auto plain = mm->build_context(req);
        ASSERT_TRUE(plain.is_ok());
        EXPECT_EQ(plain->text.find("lemon tart"), std::string::npos) << context_strategy_name(strategy);
    }
}

TEST(ContextBuilderTest, UsesTheLastUserMessageOfTheConversationAsTheQuery) {
    auto mm = open_mm(false);
    add_history(*mm);
    ContextRequest req;
    req.cube_id = "c";
    req.token_budget = 200;
    req.conversation = {{"user", "hello", std::nullopt},
                        {"assistant", "hi, how can I help?", std::nullopt},
                        {"user", "where is my passport kept?", std::nullopt}};
    auto r = mm->build_context(req);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_NE(r->text.find("blue folder"), std::string::npos) << r->text;
}

TEST(ContextBuilderTest, RejectsBadRequests) {
    auto mm = open_mm(false);
    add(*mm, "s", kStart, {{"user", "hello there"}});
    ContextRequest req;
    req.cube_id = "c";
    req.query = "x";
    req.token_budget = 0;
    EXPECT_EQ(mm->build_context(req).status().code(), StatusCode::kInvalidArgument);
    req.token_budget = 100;
    req.query.clear();
    req.conversation = {{"assistant", "only me", std::nullopt}};
    EXPECT_EQ(mm->build_context(req).status().code(), StatusCode::kInvalidArgument);
    req.query = "x";
    req.cube_id = "nope";
    EXPECT_EQ(mm->build_context(req).status().code(), StatusCode::kNotFound);
}

TEST(TokenCounterTest, EstimateCountsBytesAndWordsAndIsZeroOnlyForEmptyText) {
    EstimatedTokenCounter e;
    EXPECT_EQ(e.count(""), 0);
    EXPECT_EQ(e.count("a"), 1);
    EXPECT_EQ(e.count("abcdefgh"), 2);     // 8 bytes / 4
    EXPECT_EQ(e.count("a b c d e f"), 6);  // six words beat 11 bytes / 4
    EXPECT_EQ(e.count("{\"a\": 1}"), 7);   // a, 1 and five punctuation marks
    EXPECT_GE(e.count("internationalisation"), 5);
}

}  // namespace
}  // namespace kasten::memory
