#include "memory/heuristic_note_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/timestamp.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {
namespace {

constexpr TimeMs kDay = 86'400'000;

TimeMs date(int y, int m, int d) {
    return days_from_civil(y, m, d) * kDay;
}

// Corpus statistics from explicit document frequencies (by surface word, stemmed like the index).
class FakeStats final : public TermStatistics {
  public:
    explicit FakeStats(std::uint64_t documents = 1000) : documents_(documents) {}
    FakeStats& set(std::string_view word, std::uint64_t df) {
        for (const auto& stem : retrieval::LexicalIndex::analyze(word)) df_[stem] = df;
        return *this;
    }
    std::uint64_t documents() const override { return documents_; }
    std::uint64_t document_frequency(const std::string& stem) const override {
        const auto it = df_.find(stem);
        return it == df_.end() ? default_df_ : it->second;
    }
    std::uint64_t default_df_ = 50;

  private:
    std::uint64_t documents_;
    std::unordered_map<std::string, std::uint64_t> df_;
};

const TimeMs kConv = date(2023, 6, 15) + 10 * 3600 * 1000;  // Thursday 2023-06-15 10:00 UTC

NoteBatch batch_of(std::vector<std::pair<std::string, std::string>> turns, TimeMs conv = kConv) {
    NoteBatch b{"cube", "session", {}};
    int i = 0;
    for (auto& [role, text] : turns) {
        std::string id = std::to_string(i++);
        id.insert(id.begin(), 't');  // (not "t" + …: GCC 12 warns spuriously, -Wrestrict)
        b.turns.push_back({id, role, text, conv});
    }
    return b;
}

std::vector<NoteDraft> build(const NoteBatch& batch, const TermStatistics& stats) {
    HeuristicNoteBuilder builder;
    auto result = builder.build(batch, stats);
    EXPECT_TRUE(result.is_ok());
    return std::move(result).value();
}

bool has(const std::vector<std::string>& v, std::string_view x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

// The contract every draft must meet.
void expect_well_formed(const NoteDraft& d, const NoteBatch& batch) {
    EXPECT_FALSE(d.content.empty());
    EXPECT_LE(d.content.size(), 340u) << d.content;
    EXPECT_GE(d.keywords.size(), 1u) << d.content;
    EXPECT_LE(d.keywords.size(), 8u) << d.content;
    std::set<std::string> distinct(d.keywords.begin(), d.keywords.end());
    EXPECT_EQ(distinct.size(), d.keywords.size());
    for (const auto& k : d.keywords) {
        for (char c : k) EXPECT_FALSE(c >= 'A' && c <= 'Z') << k;
    }
    EXPECT_LE(d.tags.size(), 5u);
    std::set<std::string> tags(d.tags.begin(), d.tags.end());
    EXPECT_EQ(tags.size(), d.tags.size());
    EXPECT_TRUE(d.kind == "fact" || d.kind == "preference" || d.kind == "event" || d.kind == "plan" ||
                d.kind == "profile")
        << d.kind;
    EXPECT_GE(d.importance, 0.0);
    EXPECT_LE(d.importance, 1.0);
    EXPECT_FALSE(d.context.empty());
    ASSERT_FALSE(d.source_turn_ids.empty());
    for (const auto& id : d.source_turn_ids) {
        EXPECT_TRUE(
            std::any_of(batch.turns.begin(), batch.turns.end(), [&](const SourceTurn& t) { return t.id == id; }));
    }
}

TEST(HeuristicNoteBuilderTest, IdNamesTheVersion) {
    EXPECT_EQ(HeuristicNoteBuilder().id(), "heuristic-v1");
}

TEST(HeuristicNoteBuilderTest, FirstPersonFactWithRelativeDate) {
    FakeStats stats;
    stats.set("denver", 2).set("acme", 1).set("corp", 3).set("job", 200).set("moved", 100).set("coffee", 80);
    const NoteBatch batch = batch_of({{"user",
                                       "Hi! I moved to Denver last month for a new job at Acme Corp. Can you "
                                       "recommend a good coffee shop?"}});
    const auto drafts = build(batch, stats);
    ASSERT_EQ(drafts.size(), 1u);
    const NoteDraft& d = drafts[0];
    expect_well_formed(d, batch);
    EXPECT_EQ(d.content, "I moved to Denver last month (2023-05) for a new job at Acme Corp.");
    EXPECT_EQ(d.kind, "event");
    EXPECT_TRUE(has(d.keywords, "denver"));
    EXPECT_TRUE(has(d.keywords, "acme"));
    EXPECT_FALSE(has(d.keywords, "new"));
    EXPECT_TRUE(has(d.tags, "location"));
    EXPECT_TRUE(has(d.tags, "work"));
    EXPECT_TRUE(has(d.tags, "event"));
    ASSERT_TRUE(d.valid_from.has_value());
    EXPECT_EQ(*d.valid_from, date(2023, 5, 1));
    EXPECT_EQ(d.source_turn_ids, std::vector<std::string>{"t0"});
    EXPECT_GE(d.importance, 0.7);
    EXPECT_EQ(d.context.rfind("Conversation about ", 0), 0u) << d.context;
    EXPECT_NE(d.context.find("Denver"), std::string::npos) << d.context;
}

TEST(HeuristicNoteBuilderTest, SmallTalkGivesNoNotes) {
    FakeStats stats;
    const NoteBatch batch = batch_of({{"user", "Thanks!"},
                                      {"assistant", "Sure, I'd be happy to help!"},
                                      {"user", "Hi there! How are you?"},
                                      {"assistant", "I'm doing well, thank you for asking. How can I help you today?"},
                                      {"user", "Thanks so much, that's really helpful. I appreciate it."},
                                      {"user", "Can you recommend a good book?"},
                                      {"user", "ok"},
                                      {"system", "You are a helpful assistant. I am the system."},
                                      {"assistant", "Here are some tips:"}});
    EXPECT_TRUE(build(batch, stats).empty());
}

TEST(HeuristicNoteBuilderTest, AssistantSpecificFactsAreKeptAndPleasantriesDropped) {
    FakeStats stats;
    const NoteBatch batch = batch_of(
        {{"assistant",
          "Sure, I'd be happy to help! The Denver Art Museum near your hotel is open until 5 pm on Tuesdays. Try to "
          "arrive early. Drinking water is important. I hope this helps!"}});
    const auto drafts = build(batch, stats);
    ASSERT_EQ(drafts.size(), 1u);
    expect_well_formed(drafts[0], batch);
    EXPECT_EQ(drafts[0].content, "The Denver Art Museum near your hotel is open until 5 pm on Tuesdays.");
    EXPECT_EQ(drafts[0].kind, "fact");
    EXPECT_TRUE(has(drafts[0].keywords, "denver"));
    EXPECT_TRUE(has(drafts[0].keywords, "museum"));
    EXPECT_EQ(drafts[0].valid_from, kConv);  // "on Tuesdays" is a habit, not a date
    EXPECT_LE(drafts[0].importance, 0.55);
}

TEST(HeuristicNoteBuilderTest, AssistantNotesPerTurnAreCapped) {
    FakeStats stats;
    std::string answer = "Here are my top picks:\n";
    const char* names[] = {"Blue Bottle", "Stumptown",       "Intelligentsia", "Verve", "Ritual",
                           "Sightglass",  "Counter Culture", "La Colombe",     "Heart", "Onyx"};
    for (int i = 0; i < 10; ++i) {
        answer += "- " + std::string(names[i]) + " roasts your single-origin beans and opens at " +
                  std::to_string(6 + i % 3) + " am" + (i < 3 ? " in Portland and Seattle" : "") + ".\n";
    }
    answer += "- Bring a reusable cup.\n";
    const NoteBatch batch = batch_of({{"assistant", answer}});
    // By default one note per assistant turn: its most salient specific fact.
    const auto one = build(batch, stats);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_NE(one[0].content.find("Blue Bottle"), std::string::npos);
    HeuristicNoteBuilder::Options options;
    options.max_assistant_notes_per_turn = 3;
    const auto drafts = HeuristicNoteBuilder(options).build_drafts(batch, stats);
    ASSERT_EQ(drafts.size(), 3u);
    // The most salient (with two more proper nouns) win, kept in text order.
    EXPECT_NE(drafts[0].content.find("Blue Bottle"), std::string::npos);
    EXPECT_NE(drafts[1].content.find("Stumptown"), std::string::npos);
    EXPECT_NE(drafts[2].content.find("Intelligentsia"), std::string::npos);
    options.max_assistant_notes_per_turn = 2;
    EXPECT_EQ(HeuristicNoteBuilder(options).build_drafts(batch, stats).size(), 2u);
}

TEST(HeuristicNoteBuilderTest, GenericAdviceIsDroppedUnlessSpecific) {
    FakeStats stats;
    const NoteBatch batch = batch_of({{"assistant",
                                       "Try to drink more water every day. Consider going for a walk after dinner. "
                                       "Since you're in Paris, visit the Louvre on a weekday morning."}});
    const auto drafts = build(batch, stats);
    ASSERT_EQ(drafts.size(), 1u);
    EXPECT_NE(drafts[0].content.find("Louvre"), std::string::npos);
}

TEST(HeuristicNoteBuilderTest, FactClauseOfAQuestionIsKept) {
    FakeStats stats;
    const NoteBatch batch = batch_of({{"user", "I'm going to Paris next week, what should I pack?"}});
    const auto drafts = build(batch, stats);
    ASSERT_EQ(drafts.size(), 1u);
    EXPECT_EQ(drafts[0].content, "I'm going to Paris next week (week of 2023-06-19)");
    EXPECT_EQ(drafts[0].kind, "plan");
    EXPECT_EQ(drafts[0].valid_from, date(2023, 6, 19));
    EXPECT_TRUE(has(drafts[0].keywords, "paris"));
    EXPECT_TRUE(has(drafts[0].tags, "plan"));

    const auto since = build(
        batch_of({{"user", "Can you suggest a dinner recipe, since I'm vegetarian and lactose intolerant?"}}), stats);
    ASSERT_EQ(since.size(), 1u);
    EXPECT_EQ(since[0].content, "I'm vegetarian and lactose intolerant");
    EXPECT_TRUE(has(since[0].tags, "food"));
}

TEST(HeuristicNoteBuilderTest, SpecificFirstPersonQuestionIsRememberedAsAsked) {
    FakeStats stats;
    const auto drafts = build(batch_of({{"user", "What should I pack for my trip to Tokyo in October?"}}), stats);
    ASSERT_EQ(drafts.size(), 1u);
    EXPECT_EQ(drafts[0].content, "User asked: What should I pack for my trip to Tokyo in October (2023-10)?");
    EXPECT_TRUE(has(drafts[0].keywords, "tokyo"));
    EXPECT_LT(drafts[0].importance, 0.6);
}

TEST(HeuristicNoteBuilderTest, Kinds) {
    FakeStats stats;
    const auto kind_of = [&](const std::string& text) {
        const auto drafts = build(batch_of({{"user", text}}), stats);
        EXPECT_EQ(drafts.size(), 1u) << text;
        return drafts.empty() ? std::string("none") : drafts[0].kind;
    };
    EXPECT_EQ(kind_of("I really love Thai food and spicy curries."), "preference");
    EXPECT_EQ(kind_of("My favorite band is Radiohead."), "preference");
    EXPECT_EQ(kind_of("I'm a nurse at St. Mary's hospital in Boston."), "profile");
    EXPECT_EQ(kind_of("My name is Priya and I grew up in Pune."), "profile");
    EXPECT_EQ(kind_of("I work as a data analyst for a bank."), "profile");
    EXPECT_EQ(kind_of("I'm planning to repaint the kitchen."), "plan");
    EXPECT_EQ(kind_of("We have a dentist appointment tomorrow."), "plan");
    EXPECT_EQ(kind_of("I adopted a kitten yesterday."), "event");
    EXPECT_EQ(kind_of("I ran my first marathon two weeks ago."), "event");
    EXPECT_EQ(kind_of("My sister lives in Chicago with her two kids."), "fact");
    EXPECT_EQ(kind_of("I'd like to learn Spanish before my trip."), "plan");
}

TEST(HeuristicNoteBuilderTest, AUserTurnsFurtherNotesMustNameSomethingSpecific) {
    FakeStats stats;
    // The most salient statement always; the others only with a proper noun, number or date.
    const auto drafts = build(batch_of({{"user",
                                         "My neighbour Tom gave me 3 tomato seedlings. I really enjoy spending time "
                                         "outside with my plants. I planted the seedlings in Portland."}}),
                              stats);
    ASSERT_EQ(drafts.size(), 2u);
    EXPECT_EQ(drafts[0].content, "My neighbour Tom gave me 3 tomato seedlings.");
    EXPECT_EQ(drafts[1].content, "I planted the seedlings in Portland.");
    // A turn of only general statements still gives its best one.
    const auto general = build(batch_of({{"user",
                                          "I've been thinking a lot about my garden lately. I really enjoy spending "
                                          "time outside with my plants."}}),
                               stats);
    EXPECT_EQ(general.size(), 1u);
    HeuristicNoteBuilder::Options none;
    none.max_user_notes_per_turn = 0;
    EXPECT_TRUE(HeuristicNoteBuilder(none)
                    .build_drafts(batch_of({{"user", "My neighbour Tom gave me 3 seedlings."}}), stats)
                    .empty());
}

TEST(HeuristicNoteBuilderTest, ImportanceFavoursProfilesAndDatedEvents) {
    FakeStats stats;
    const auto drafts = build(batch_of({{"user",
                                         "My name is Priya. I adopted a kitten named Miso yesterday. I have 12 "
                                         "plants on the balcony."}}),
                              stats);
    ASSERT_EQ(drafts.size(), 3u);
    EXPECT_EQ(drafts[0].kind, "profile");
    EXPECT_EQ(drafts[1].kind, "event");
    EXPECT_EQ(drafts[2].kind, "fact");
    EXPECT_GT(drafts[0].importance, drafts[2].importance);
    EXPECT_GT(drafts[1].importance, drafts[2].importance);
}

TEST(HeuristicNoteBuilderTest, KeywordsPreferCorpusRareWords) {
    const NoteBatch batch = batch_of({{"user", "I adopted a kitten and a dog from the shelter."}});
    FakeStats kitten_rare;
    kitten_rare.set("kitten", 1).set("dog", 600).set("shelter", 300).set("adopted", 300);
    auto drafts = build(batch, kitten_rare);
    ASSERT_EQ(drafts.size(), 1u);
    EXPECT_EQ(drafts[0].keywords.front(), "kitten");

    FakeStats dog_rare;
    dog_rare.set("kitten", 600).set("dog", 1).set("shelter", 300).set("adopted", 300);
    drafts = build(batch, dog_rare);
    ASSERT_EQ(drafts.size(), 1u);
    EXPECT_EQ(drafts[0].keywords.front(), "dog");
    EXPECT_TRUE(has(drafts[0].tags, "pets"));
}

TEST(HeuristicNoteBuilderTest, AssistantGeneralStatementsAreNotNotesEvenInRareWords) {
    // No proper noun, number or date: general advice, not a fact of this conversation, however rare its words.
    const NoteBatch batch =
        batch_of({{"assistant", "Sourdough starters need regular feeding with flour and water to stay active."}});
    FakeStats common(1000);
    common.default_df_ = 400;
    EXPECT_TRUE(build(batch, common).empty());
    FakeStats rare(1000);
    rare.default_df_ = 400;
    rare.set("sourdough", 1).set("starters", 2);
    EXPECT_TRUE(build(batch, rare).empty());
    // Naming something specific, about a participant, makes it one.
    const NoteBatch named = batch_of(
        {{"assistant", "The Tartine bakery in San Francisco, near your office, feeds its starter twice a day."}});
    EXPECT_EQ(build(named, common).size(), 1u);
    // Impersonal "you" is advice, not the user's situation.
    const NoteBatch impersonal =
        batch_of({{"assistant", "You can book a table at the Tartine bakery in San Francisco through OpenTable."}});
    EXPECT_TRUE(build(impersonal, common).empty());
    // Specific but about nobody in the conversation: exposition, not memory.
    const NoteBatch exposition =
        batch_of({{"assistant", "The Tartine bakery in San Francisco feeds its sourdough starter twice a day."}});
    EXPECT_TRUE(build(exposition, common).empty());
    const NoteBatch first_person =
        batch_of({{"assistant", "I reserved a table at the Tartine bakery in San Francisco for Friday."}});
    EXPECT_EQ(build(first_person, common).size(), 1u);
}

TEST(HeuristicNoteBuilderTest, ContextNamesTheSessionsMainTerms) {
    FakeStats stats;
    stats.default_df_ = 300;
    stats.set("apartment", 5).set("denver", 3).set("moving", 10);
    const NoteBatch batch = batch_of({{"user", "I'm moving to a new apartment in Denver next month."},
                                      {"assistant", "Moving to Denver is exciting! Apartment prices there vary."},
                                      {"user", "The apartment is near my office in Denver."}});
    const auto drafts = build(batch, stats);
    ASSERT_FALSE(drafts.empty());
    for (const auto& d : drafts) EXPECT_EQ(d.context, drafts[0].context);
    const std::string& context = drafts[0].context;
    EXPECT_NE(context.find("Denver"), std::string::npos) << context;
    EXPECT_NE(context.find("apartment"), std::string::npos) << context;
}

TEST(HeuristicNoteBuilderTest, ExactRepeatsInABatchAreMerged) {
    FakeStats stats;
    const NoteBatch batch = batch_of({{"user", "I live in Lisbon with my partner."},
                                      {"assistant", "Lisbon is lovely."},
                                      {"user", "i live in lisbon with my partner"}});
    const auto drafts = build(batch, stats);
    ASSERT_EQ(drafts.size(), 1u);
    EXPECT_EQ(drafts[0].source_turn_ids, (std::vector<std::string>{"t0", "t2"}));
}

TEST(HeuristicNoteBuilderTest, UnknownConversationTimeLeavesRelativeDatesAlone) {
    FakeStats stats;
    const auto drafts = build(batch_of({{"user", "I adopted a kitten named Miso yesterday."}}, /*conv=*/0), stats);
    ASSERT_EQ(drafts.size(), 1u);
    EXPECT_EQ(drafts[0].content, "I adopted a kitten named Miso yesterday.");
    EXPECT_FALSE(drafts[0].valid_from.has_value());
    const auto explicit_date = build(batch_of({{"user", "I adopted a kitten on 2023-05-30."}}, 0), stats);
    ASSERT_EQ(explicit_date.size(), 1u);
    EXPECT_EQ(explicit_date[0].valid_from, date(2023, 5, 30));
}

TEST(HeuristicNoteBuilderTest, LongRunOnTextIsSplitIntoShortNotes) {
    FakeStats stats;
    std::string text = "So basically I started a pottery class at the Clayhouse studio in Austin";
    for (int i = 0; i < 15; ++i) {
        text += ", and I made bowl number " + std::to_string(i) + " for my sister Ana who collects ceramics";
    }
    text += ".";
    const NoteBatch batch = batch_of({{"user", text}});
    const auto drafts = build(batch, stats);
    ASSERT_GE(drafts.size(), 3u);
    EXPECT_LE(drafts.size(), 12u);  // max_user_notes_per_turn
    EXPECT_EQ(drafts[0].content.rfind("I started a pottery class", 0), 0u) << drafts[0].content;
    for (const auto& d : drafts) expect_well_formed(d, batch);
}

TEST(HeuristicNoteBuilderTest, MixedConversationIsWellFormedAndDeterministic) {
    FakeStats stats;
    const NoteBatch batch =
        batch_of({{"user", "Hey! My daughter Emma turns 7 next Saturday and we're throwing a party at Lakeside Park."},
                  {"assistant",
                   "What a fun milestone! Lakeside Park has covered pavilions for your party at $50 per day. "
                   "For a 7-year-old, games like a scavenger hunt work well. Let me know if you need more ideas!"},
                  {"user", "She's obsessed with dinosaurs. I bought a T-Rex piñata on Amazon last week."},
                  {"assistant", "Great choice! The Natural History Museum sells party favors your guests will love."},
                  {"user", "Thanks, that's perfect."}});
    const auto a = build(batch, stats);
    const auto b = build(batch, stats);
    ASSERT_EQ(a.size(), b.size());
    ASSERT_GE(a.size(), 4u);
    for (std::size_t i = 0; i < a.size(); ++i) {
        expect_well_formed(a[i], batch);
        EXPECT_EQ(a[i].content, b[i].content);
        EXPECT_EQ(a[i].keywords, b[i].keywords);
        EXPECT_EQ(a[i].tags, b[i].tags);
        EXPECT_EQ(a[i].context, b[i].context);
        EXPECT_EQ(a[i].importance, b[i].importance);
        EXPECT_EQ(a[i].valid_from, b[i].valid_from);
    }
    EXPECT_EQ(a[0].content,
              "My daughter Emma turns 7 next Saturday (2023-06-17) and we're throwing a party at Lakeside Park.");
    EXPECT_EQ(a[0].kind, "plan");
    EXPECT_TRUE(has(a[0].tags, "family"));
    const auto bought = std::find_if(a.begin(), a.end(),
                                     [](const NoteDraft& d) { return d.content.find("piñata") != std::string::npos; });
    ASSERT_NE(bought, a.end());
    EXPECT_EQ(bought->content, "I bought a T-Rex piñata on Amazon last week (week of 2023-06-05).");
    EXPECT_EQ(bought->kind, "event");
    EXPECT_EQ(bought->valid_from, date(2023, 6, 5));
}

TEST(HeuristicNoteBuilderTest, ConcurrentBuildsAgree) {
    FakeStats stats;
    const NoteBatch batch = batch_of({{"user", "I moved to Denver last month for a new job at Acme Corp."},
                                      {"assistant", "The Denver Art Museum is open until 5 pm on your Tuesdays."}});
    const HeuristicNoteBuilder builder;
    const auto expected = builder.build_drafts(batch, stats);
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            bool same = true;
            for (int i = 0; i < 200; ++i) {
                const auto got = builder.build_drafts(batch, stats);
                same = same && got.size() == expected.size() && got[0].content == expected[0].content &&
                       got[0].keywords == expected[0].keywords && got[1].tags == expected[1].tags;
            }
            ok[t] = same ? 1 : 0;
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok, (std::vector<int>{1, 1, 1, 1}));
}

TEST(HeuristicNoteBuilderTest, OddInputDoesNotBreakIt) {
    FakeStats empty(0);
    const NoteBatch batch =
        batch_of({{"user", ""},
                  {"user", std::string(5000, 'x')},
                  {"user", "\xFF\xFE\xC3 I moved to \xE6\x9D\xB1\xE4\xBA\xAC last year \xF0\x9F\x98\x80"},
                  {"tool", "{\"result\": 42}"},
                  {"assistant", "```\nint x = 5;\n```"}});
    const auto drafts = build(batch, empty);
    for (const auto& d : drafts) expect_well_formed(d, batch);
}

}  // namespace
}  // namespace kasten::memory
