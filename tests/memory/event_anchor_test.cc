// Times relative to an event or a date: parsing and windows (memory/event_anchor.h), and end to end through
// MemoryManager::search (MemoryOptions::event_anchor_weight).

#include "memory/event_anchor.h"

#include <gtest/gtest.h>

#include "common/timestamp.h"
#include "llm/hashing_embedder.h"
#include "memory/memory_manager.h"

namespace kasten::memory {
namespace {

constexpr TimeMs kDay = 86'400'000;

TimeMs day(int y, int m, int d) {
    return static_cast<TimeMs>(days_from_civil(y, m, d)) * kDay;
}

const TimeMs kAsked = day(2023, 7, 1) + 15 * 3'600'000;

TEST(FindEventAnchorsTest, DistanceBeforeAnEvent) {
    const auto a = find_event_anchors("What did I buy two weeks before my trip to Japan?", kAsked);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].relation, AnchorRelation::kBefore);
    EXPECT_EQ(a[0].offset_days, 14);
    EXPECT_FALSE(a[0].period);
    EXPECT_EQ(a[0].event, "my trip to Japan");
    EXPECT_FALSE(a[0].date);
}

TEST(FindEventAnchorsTest, AQueryNamesAtMostFourAnchors) {
    std::string query = "What happened";
    for (int i = 0; i < 50; ++i) query += " the day after concert" + std::to_string(i) + " and";
    const auto a = find_event_anchors(query + " today?", kAsked);
    ASSERT_EQ(a.size(), 4u);
    EXPECT_EQ(a[0].event, "concert0");
    EXPECT_EQ(a[3].event, "concert3");
}

TEST(FindEventAnchorsTest, TheDayAfterAndBareAfterAndSince) {
    auto a = find_event_anchors("Where did we eat the day after the concert?", kAsked);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].relation, AnchorRelation::kAfter);
    EXPECT_EQ(a[0].offset_days, 1);
    EXPECT_FALSE(a[0].period);
    EXPECT_EQ(a[0].event, "the concert");

    a = find_event_anchors("How did Melanie feel after the accident?", kAsked);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].relation, AnchorRelation::kAfter);
    EXPECT_EQ(a[0].offset_days, 0);
    EXPECT_EQ(a[0].event, "the accident");

    a = find_event_anchors("How many books have I read since I started the new job", kAsked);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].relation, AnchorRelation::kSince);
    EXPECT_EQ(a[0].event, "I started the new job");
}

TEST(FindEventAnchorsTest, ThePhraseEndsWhereTheMainClauseStarts) {
    const auto a = find_event_anchors("How many days after the concert did I buy the vinyl?", kAsked);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].event, "the concert");
    EXPECT_EQ(a[0].offset_days, 0);  // "many days" asks for the distance, names none
}

TEST(FindEventAnchorsTest, QuestionsAskingForTheDistanceOrBareBeforeNameNoWindow) {
    EXPECT_TRUE(find_event_anchors("How many days before my best friend's birthday party did I order her gift?", kAsked)
                    .empty());
    EXPECT_TRUE(find_event_anchors("What did Jean go through before meeting Maria?", kAsked).empty());
    EXPECT_TRUE(find_event_anchors("What did I cook yesterday?", kAsked).empty());
    EXPECT_TRUE(find_event_anchors("What happened after that?", kAsked).empty());  // no index term
}

TEST(FindEventAnchorsTest, DatesAnchorByThemselves) {
    auto a = find_event_anchors("What is the name of the puppy she got two weeks before August 11, 2023?", kAsked);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].offset_days, 14);
    ASSERT_TRUE(a[0].date);
    EXPECT_EQ(*a[0].date, day(2023, 8, 11));
    EXPECT_TRUE(a[0].event.empty());

    a = find_event_anchors("What did John do the week before August 3, 2023 involving his kids?", kAsked);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_TRUE(a[0].period);
    EXPECT_EQ(*a[0].date, day(2023, 8, 3));

    a = find_event_anchors("What did Maria participate in last weekend before April 10, 2023?", kAsked);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_TRUE(a[0].period);
    EXPECT_EQ(a[0].relation, AnchorRelation::kBefore);
}

TEST(AnchoredWindowTest, EachShape) {
    const TimeMs event = day(2023, 6, 20) + 9 * 3'600'000;  // 09:00 on June 20
    EventAnchor a;
    a.relation = AnchorRelation::kBefore;
    a.offset_days = 14;  // June 6 ± 3.5 days
    auto w = anchored_window(a, event, kAsked);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->from, day(2023, 6, 6) - 14 * kDay / 4);
    EXPECT_EQ(w->to, day(2023, 6, 7) - 1 + 14 * kDay / 4);

    a.relation = AnchorRelation::kAfter;
    a.offset_days = 1;  // June 21 ± 1 day
    w = anchored_window(a, event, kAsked);
    EXPECT_EQ(w->from, day(2023, 6, 20));
    EXPECT_EQ(w->to, day(2023, 6, 23) - 1);

    a.offset_days = 7;
    a.period = true;  // the week before: June 13 .. June 20
    a.relation = AnchorRelation::kBefore;
    w = anchored_window(a, event, kAsked);
    EXPECT_EQ(w->from, day(2023, 6, 13));
    EXPECT_EQ(w->to, day(2023, 6, 21) - 1);

    a = {};
    a.relation = AnchorRelation::kAfter;  // bare after: June 20 .. June 27
    w = anchored_window(a, event, kAsked);
    EXPECT_EQ(w->from, day(2023, 6, 20));
    EXPECT_EQ(w->to, day(2023, 6, 28) - 1);

    a.relation = AnchorRelation::kSince;
    w = anchored_window(a, event, kAsked);
    EXPECT_EQ(w->from, day(2023, 6, 20));
    EXPECT_EQ(w->to, kAsked);
    EXPECT_FALSE(anchored_window(a, kAsked + 3 * kDay, kAsked));  // since a later event: empty
}

TEST(EventAnchoredWindowsTest, LooksUpEventsAndSkipsUnknownOnes) {
    std::vector<std::string> asked;
    auto lookup = [&](const std::string& event) -> std::optional<TimeMs> {
        asked.push_back(event);
        if (event == "my trip to Japan") return day(2023, 6, 20);
        return std::nullopt;
    };
    auto w = event_anchored_windows("What did I buy two weeks before my trip to Japan?", kAsked, 2.0, lookup);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].from, day(2023, 6, 6) - 14 * kDay / 4);
    EXPECT_DOUBLE_EQ(w[0].weight, 2.0);
    EXPECT_TRUE(event_anchored_windows("What did I buy the day after the wedding?", kAsked, 1.0, lookup).empty());
    EXPECT_EQ(asked, (std::vector<std::string>{"my trip to Japan", "the wedding"}));
    // A date anchor needs no lookup.
    w = event_anchored_windows("the week before August 3, 2023", kAsked, 1.0, lookup);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].from, day(2023, 7, 27));
    EXPECT_EQ(asked.size(), 2u);
}

// End to end: the trip is found by searching its phrase, and the suitcase bought two weeks before it outranks one
// bought earlier that matches the question's words better.
class EventAnchorSearchTest : public ::testing::Test {
  protected:
    void open(double anchor_weight) {
        MemoryOptions o;
        o.embedder = std::make_shared<llm::HashingEmbedder>(256);
        o.clock = &clock_;
        o.in_memory = true;
        o.background_jobs = false;
        o.event_anchor_weight = anchor_weight;
        auto r = MemoryManager::open(o);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        mm_ = std::move(r).value();
        add("s1", day(2023, 5, 1), "I got a blue suitcase, a great suitcase for the price");
        add("s2", day(2023, 6, 6), "I got a red suitcase at the mall today");
        add("s3", day(2023, 6, 20), "My trip to Japan starts today, so excited");
        add("s4", day(2023, 7, 20), "Planning my next trip to Japan for the autumn");  // after the question
    }

    void add(const std::string& session, TimeMs time, const std::string& text) {
        AddMessagesRequest req;
        req.cube_id = "u";
        req.session_id = session;
        req.time = time;
        req.messages.push_back({"user", text, std::nullopt});
        auto r = mm_->add_messages(req);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    }

    // The texts of the hits mentioning a suitcase, in ranking order.
    std::vector<std::string> suitcases(Granularity g) {
        SearchRequest req;
        req.cube_id = "u";
        req.query = "Which suitcase did I get two weeks before my trip to Japan?";
        req.query_time = kAsked;
        req.granularity = g;
        req.retriever = Retriever::kLexical;
        req.top_k = 10;
        auto hits = mm_->search(req);
        EXPECT_TRUE(hits.is_ok()) << hits.status().to_string();
        std::vector<std::string> out;
        if (!hits.is_ok()) return out;
        for (const auto& h : *hits) {
            if (h.text.find("suitcase") != std::string::npos)
                out.push_back(h.text.find("red") != std::string::npos ? "red" : "blue");
        }
        return out;
    }

    FakeClock clock_{1700000000000};
    std::unique_ptr<MemoryManager> mm_;
};

TEST_F(EventAnchorSearchTest, TheWindowBeforeTheEventLiftsWhatHappenedInIt) {
    open(0);
    EXPECT_EQ(suitcases(Granularity::kTurn), (std::vector<std::string>{"blue", "red"}));
    open(1.0);
    EXPECT_EQ(suitcases(Granularity::kTurn), (std::vector<std::string>{"red", "blue"}));
    EXPECT_EQ(suitcases(Granularity::kSession), (std::vector<std::string>{"red", "blue"}));
}

}  // namespace
}  // namespace kasten::memory
