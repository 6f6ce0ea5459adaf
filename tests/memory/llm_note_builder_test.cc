#include "memory/llm_note_builder.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/timestamp.h"
#include "llm/embedded_language_model.h"
#include "llm/json_schema.h"
#include "tests/llm/json_schema_check.h"
#include "tests/llm/stories_fixture.h"
#include "tests/memory/recording_language_model.h"
#include "tests/memory/scripted_language_model.h"
#include "tests/memory/stories_model.h"

namespace kasten::memory {
namespace {

using Json = nlohmann::json;
using testing::RecordingLanguageModel;
using testing::ScriptedLanguageModel;

TimeMs at(const char* text) {
    Result<TimeMs> t = parse_timestamp(text);
    EXPECT_TRUE(t.is_ok()) << text;
    return t.is_ok() ? *t : 0;
}

class MapTermStatistics final : public TermStatistics {
  public:
    MapTermStatistics(std::uint64_t documents, std::map<std::string, std::uint64_t> df, std::uint64_t default_df)
        : documents_(documents), df_(std::move(df)), default_df_(default_df) {}
    std::uint64_t documents() const override { return documents_; }
    std::uint64_t document_frequency(const std::string& stem) const override {
        const auto it = df_.find(stem);
        return it == df_.end() ? default_df_ : it->second;
    }

  private:
    std::uint64_t documents_;
    std::map<std::string, std::uint64_t> df_;
    std::uint64_t default_df_;
};

const MapTermStatistics& no_stats() {
    static const MapTermStatistics stats(0, {}, 0);
    return stats;
}

// Saturday 2023-05-20; the third turn a day later.
NoteBatch three_turns() {
    NoteBatch batch;
    batch.cube_id = "alice";
    batch.session_id = "sess-1";
    batch.turns = {
        {"t_a1", "user", "I adopted a golden retriever puppy last Tuesday!", at("2023-05-20T14:00:00Z")},
        {"t_b2", "assistant", "Congratulations! Golden retrievers need about an hour of exercise a day.",
         at("2023-05-20T14:00:30Z")},
        {"t_c3", "user", "Next month I am taking her to the beach in Lisbon.", at("2023-05-21T09:15:00Z")},
    };
    return batch;
}

std::vector<std::string> enum_values(const Json& node) {
    std::vector<std::string> out;
    for (const Json& v : node.at("enum")) out.push_back(v.get<std::string>());
    return out;
}

Json source_id_schema(const std::string& schema_text) {
    const Json schema = Json::parse(schema_text);
    return schema.at("properties").at("notes").at("items").at("properties").at("source_turn_ids");
}

TEST(LlmNoteBuilderTest, ValidReplyBecomesDrafts) {
    auto model = std::make_shared<ScriptedLanguageModel>("scripted-7b");
    model->reply(R"({"notes": [
        {"source_turn_ids": ["t_a1"], "content": "  The user adopted a golden retriever puppy last Tuesday (2023-05-16).",
         "kind": "Event", "date": "2023-05-16", "keywords": ["  Puppy ", "puppy", "Golden Retriever", ""],
         "tags": ["Pets", "animals", "pets", "family", "home", "life", "extra"], "context": "The user\ntalks about a new dog."},
        {"source_turn_ids": ["t_c3", "t_a1"], "content": "The user plans a beach trip to Lisbon in June 2023.",
         "kind": "plan", "date": "", "keywords": ["beach", "lisbon"], "tags": ["travel"], "context": "Travel plans."}
    ]})");
    LlmNoteBuilder builder(model);
    EXPECT_EQ(builder.id(), "llm:scripted-7b");

    Result<std::vector<NoteDraft>> drafts = builder.build(three_turns(), no_stats());
    ASSERT_TRUE(drafts.is_ok()) << drafts.status().to_string();
    ASSERT_EQ(drafts->size(), 2u);

    const NoteDraft& puppy = (*drafts)[0];
    EXPECT_EQ(puppy.content, "The user adopted a golden retriever puppy last Tuesday (2023-05-16).");
    EXPECT_EQ(puppy.kind, "event");
    EXPECT_EQ(puppy.keywords, (std::vector<std::string>{"puppy", "golden retriever"}));
    EXPECT_EQ(puppy.tags, (std::vector<std::string>{"pets", "animals", "family", "home", "life"}));
    EXPECT_EQ(puppy.context, "The user talks about a new dog.");
    EXPECT_EQ(puppy.source_turn_ids, (std::vector<std::string>{"t_a1"}));
    ASSERT_TRUE(puppy.valid_from.has_value());
    EXPECT_EQ(*puppy.valid_from, at("2023-05-16"));

    const NoteDraft& trip = (*drafts)[1];
    EXPECT_EQ(trip.kind, "plan");
    // Sources in conversation order; without a date the note is valid from its first source turn.
    EXPECT_EQ(trip.source_turn_ids, (std::vector<std::string>{"t_a1", "t_c3"}));
    ASSERT_TRUE(trip.valid_from.has_value());
    EXPECT_EQ(*trip.valid_from, at("2023-05-20T14:00:00Z"));
}

TEST(LlmNoteBuilderTest, OneConstrainedCallWhoseSchemaAdmitsOnlyTheBatchTurnIds) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    model->reply(R"({"notes": []})");
    LlmNoteBuilderOptions options;
    options.max_tokens = 321;
    options.max_notes = 6;
    LlmNoteBuilder builder(model, options);
    Result<std::vector<NoteDraft>> drafts = builder.build(three_turns(), no_stats());
    ASSERT_TRUE(drafts.is_ok());
    EXPECT_TRUE(drafts->empty());

    ASSERT_EQ(model->calls().size(), 1u);
    const ScriptedLanguageModel::Call& call = model->calls()[0];
    EXPECT_EQ(call.options.max_tokens, 321);
    EXPECT_EQ(call.options.temperature, 0.0);
    ASSERT_TRUE(call.options.json_schema.has_value());
    // The schema is in the subset the embedded decoder constrains to.
    Result<llm::JsonSchema> parsed = llm::JsonSchema::parse(*call.options.json_schema);
    EXPECT_TRUE(parsed.is_ok()) << parsed.status().to_string();

    const Json sources = source_id_schema(*call.options.json_schema);
    EXPECT_EQ(enum_values(sources.at("items")), (std::vector<std::string>{"t_a1", "t_b2", "t_c3"}));
    EXPECT_EQ(sources.at("minItems"), 1);
    const Json schema = Json::parse(*call.options.json_schema);
    EXPECT_EQ(schema.at("properties").at("notes").at("maxItems"), 6);
    const Json note = schema.at("properties").at("notes").at("items").at("properties");
    EXPECT_EQ(enum_values(note.at("kind")),
              (std::vector<std::string>{"fact", "preference", "event", "plan", "profile"}));
    EXPECT_EQ(note.at("keywords").at("maxItems"), 8);
    EXPECT_EQ(note.at("tags").at("maxItems"), 5);
    EXPECT_EQ(note.at("date").at("maxLength"), 10);

    // The prompt labels every turn with its id, role and date (weekday included) and gives the conversation date.
    ASSERT_EQ(call.messages.size(), 2u);
    EXPECT_EQ(call.messages[0].role, "system");
    EXPECT_EQ(call.messages[1].role, "user");
    const std::string& user = call.messages[1].content;
    EXPECT_NE(user.find("Conversation date: 2023-05-20 Sat"), std::string::npos) << user;
    EXPECT_NE(user.find("[t_a1] 2023-05-20 Sat user: I adopted a golden retriever puppy last Tuesday!"),
              std::string::npos)
        << user;
    EXPECT_NE(user.find("[t_b2] 2023-05-20 Sat assistant: Congratulations!"), std::string::npos);
    EXPECT_NE(user.find("[t_c3] 2023-05-21 Sun user: Next month"), std::string::npos);
    EXPECT_NE(call.messages[0].content.find("YYYY-MM-DD"), std::string::npos);
    EXPECT_NE(call.messages[0].content.find("Skip greetings"), std::string::npos);  // the full instructions
}

TEST(LlmNoteBuilderTest, UnknownAndRankLikeTurnIdsAreDropped) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    model->reply(R"({"notes": [
        {"source_turn_ids": ["t_zz", " t_b2 ", "t_b2"], "content": "Golden retrievers need an hour of exercise a day.",
         "kind": "fact", "date": "", "keywords": ["exercise"], "tags": [], "context": ""},
        {"source_turn_ids": ["1"], "content": "A note citing a rank.", "kind": "fact", "date": "",
         "keywords": ["rank"], "tags": [], "context": ""},
        {"source_turn_ids": [2, null], "content": "A note citing numbers.", "kind": "fact"},
        {"content": "A note citing nothing.", "kind": "fact"},
        {"source_turn_ids": [], "content": "A note with an empty source list.", "kind": "fact"}
    ]})");
    LlmNoteBuilder builder(model);
    Result<std::vector<NoteDraft>> drafts = builder.build(three_turns(), no_stats());
    ASSERT_TRUE(drafts.is_ok());
    ASSERT_EQ(drafts->size(), 1u);
    EXPECT_EQ((*drafts)[0].source_turn_ids, (std::vector<std::string>{"t_b2"}));
    EXPECT_EQ(*(*drafts)[0].valid_from, at("2023-05-20T14:00:30Z"));
}

TEST(LlmNoteBuilderTest, ContentKindAndDatesAreValidated) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    const std::string long_content(400, 'x');
    model->reply(R"({"notes": [
        {"source_turn_ids": ["t_a1"], "content": "   \n\t ", "kind": "fact"},
        {"source_turn_ids": ["t_a1"], "content": "", "kind": "fact"},
        {"source_turn_ids": ["t_a1"], "content": "Feb 30.", "kind": "opinion", "date": "2023-02-30"},
        {"source_turn_ids": ["t_a1"], "content": "Short month form.", "kind": "fact", "date": "2023-5-16"},
        {"source_turn_ids": ["t_a1"], "content": "A word date.", "kind": "fact", "date": "yesterday"},
        {"source_turn_ids": ["t_a1"], "content": "Month 13.", "kind": "fact", "date": "2023-13-01"},
        {"source_turn_ids": ["t_c3"], "content": "Leap day.", "kind": "PROFILE", "date": " 2024-02-29 "},
        {"source_turn_ids": ["t_c3"], "content": "Leap day.", "kind": "fact", "date": "2024-02-29"},
        {"source_turn_ids": ["t_c3"], "content": ")" +
                 long_content + R"(", "kind": 3, "date": 20230516}
    ]})");
    LlmNoteBuilder builder(model);
    Result<std::vector<NoteDraft>> drafts = builder.build(three_turns(), no_stats());
    ASSERT_TRUE(drafts.is_ok());
    ASSERT_EQ(drafts->size(), 6u);  // two without content, one repeated content dropped
    const TimeMs first_turn = at("2023-05-20T14:00:00Z");
    for (int i = 0; i < 4; ++i) EXPECT_EQ(*(*drafts)[i].valid_from, first_turn) << (*drafts)[i].content;
    EXPECT_EQ((*drafts)[0].kind, "fact");  // "opinion" is not a kind
    EXPECT_EQ((*drafts)[4].content, "Leap day.");
    EXPECT_EQ((*drafts)[4].kind, "profile");
    EXPECT_EQ(*(*drafts)[4].valid_from, at("2024-02-29"));
    EXPECT_EQ((*drafts)[5].content, std::string(LlmNoteBuilder::kMaxContentChars, 'x'));
    EXPECT_EQ((*drafts)[5].kind, "fact");
    EXPECT_EQ(*(*drafts)[5].valid_from, at("2023-05-21T09:15:00Z"));
    for (const NoteDraft& d : *drafts) EXPECT_FALSE(d.keywords.empty()) << d.content;
}

TEST(LlmNoteBuilderTest, MalformedRepliesGiveNoDraftsAndNoError) {
    const std::vector<std::string> replies = {
        "",
        "I cannot help with that.",
        R"({"notes": [{"source_turn_ids": ["t_a1"], "content": "cut off)",
        R"({"facts": ["The user has a puppy."]})",
        R"({"notes": "The user has a puppy."})",
        R"(["notes"])",
        "{\"notes\": [\"\xff\xfe\"]}",
        R"({"notes": [1, "x", null, [], {}]})",
    };
    for (const std::string& reply : replies) {
        auto model = std::make_shared<ScriptedLanguageModel>();
        model->reply(reply);
        LlmNoteBuilder builder(model);
        Result<std::vector<NoteDraft>> drafts = builder.build(three_turns(), no_stats());
        ASSERT_TRUE(drafts.is_ok()) << reply;
        EXPECT_TRUE(drafts->empty()) << reply;
    }
}

TEST(LlmNoteBuilderTest, JsonInsideProseOrACodeFenceIsAccepted) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    model->reply(
        "Here are the notes:\n```json\n{\"notes\": [{\"source_turn_ids\": [\"t_c3\"], \"content\": \"The user "
        "will take her dog to Lisbon.\", \"kind\": \"plan\"}]}\n```");
    LlmNoteBuilder builder(model);
    Result<std::vector<NoteDraft>> drafts = builder.build(three_turns(), no_stats());
    ASSERT_TRUE(drafts.is_ok());
    ASSERT_EQ(drafts->size(), 1u);
    EXPECT_EQ((*drafts)[0].kind, "plan");
}

TEST(LlmNoteBuilderTest, ModelErrorsAreReturned) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    model->fail(Status::io_error("connection refused"));
    LlmNoteBuilder builder(model);
    Result<std::vector<NoteDraft>> drafts = builder.build(three_turns(), no_stats());
    ASSERT_FALSE(drafts.is_ok());
    EXPECT_EQ(drafts.status().code(), StatusCode::kIOError);
    EXPECT_NE(drafts.status().message().find("connection refused"), std::string::npos);
}

TEST(LlmNoteBuilderTest, MissingKeywordsAreFilledWithTheRarestWordsOfTheContent) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    model->reply(R"({"notes": [{"source_turn_ids": ["t_a1"], "content": "The user adopted the golden retriever puppy.",
        "kind": "event", "keywords": ["  ", ""]}]})");
    LlmNoteBuilder builder(model);
    const MapTermStatistics stats(100, {{"retriev", 1}, {"puppi", 4}, {"user", 90}}, 30);
    Result<std::vector<NoteDraft>> drafts = builder.build(three_turns(), stats);
    ASSERT_TRUE(drafts.is_ok());
    ASSERT_EQ(drafts->size(), 1u);
    const std::vector<std::string>& keywords = (*drafts)[0].keywords;
    ASSERT_EQ(keywords.size(), 5u);
    EXPECT_EQ(keywords[0], "retriever");
    EXPECT_EQ(keywords[1], "puppy");
    EXPECT_EQ(keywords[2], "adopted");
    EXPECT_EQ(keywords[3], "golden");
    EXPECT_EQ(keywords[4], "user");
}

TEST(LlmNoteBuilderTest, ABatchOverTheBudgetIsSplitIntoCallsInOrder) {
    NoteBatch batch;
    batch.session_id = "long";
    for (int i = 0; i < 12; ++i) {
        batch.turns.push_back({"t_" + std::to_string(i), i % 2 == 0 ? "user" : "assistant",
                               "Turn number " + std::to_string(i) + " talks about the garden and the weather.",
                               at("2023-06-01T10:00:00Z") + i * 60'000});
    }
    auto model = std::make_shared<ScriptedLanguageModel>();
    for (int i = 0; i < 12; ++i) {
        model->reply(R"({"notes": [{"source_turn_ids": ["t_0", "t_5", "t_11"], "content": "Note )" + std::to_string(i) +
                     R"(", "kind": "fact"}]})");
    }
    LlmNoteBuilderOptions options;
    options.prompt_char_budget = 600;
    LlmNoteBuilder builder(model, options);
    Result<std::vector<NoteDraft>> drafts = builder.build(batch, no_stats());
    ASSERT_TRUE(drafts.is_ok());

    const std::size_t calls = model->calls().size();
    ASSERT_GE(calls, 2u);
    ASSERT_LT(calls, 12u);
    std::vector<std::string> covered;
    for (const ScriptedLanguageModel::Call& call : model->calls()) {
        std::size_t size = 0;
        for (const llm::ChatMessage& m : call.messages) size += m.content.size();
        EXPECT_LE(size, options.prompt_char_budget);
        const std::vector<std::string> ids = enum_values(source_id_schema(*call.options.json_schema).at("items"));
        for (const std::string& id : ids) {
            EXPECT_NE(call.messages[1].content.find("[" + id + "]"), std::string::npos);
            covered.push_back(id);
        }
    }
    std::vector<std::string> expected;
    for (const SourceTurn& t : batch.turns) expected.push_back(t.id);
    EXPECT_EQ(covered, expected);  // every turn in exactly one call, in order

    // Each call's notes may only cite that call's turns: of {t_0, t_5, t_11}, exactly the ones it showed.
    ASSERT_FALSE(drafts->empty());
    std::set<std::string> cited;
    for (const NoteDraft& d : *drafts) {
        EXPECT_EQ(d.source_turn_ids.size(), 1u);
        cited.insert(d.source_turn_ids.begin(), d.source_turn_ids.end());
    }
    EXPECT_EQ(cited, (std::set<std::string>{"t_0", "t_5", "t_11"}));
    EXPECT_EQ(drafts->size(), 3u);
    EXPECT_EQ(model->remaining(), 12u - calls);
}

TEST(LlmNoteBuilderTest, AnOverlongTurnIsTruncatedToTheBudget) {
    NoteBatch batch = three_turns();
    batch.turns[1].content = std::string(2000, 'a') + " \xC3\xA9\xC3\xA9\xC3\xA9 " + std::string(3000, 'b');
    auto model = std::make_shared<ScriptedLanguageModel>();
    model->reply(R"({"notes": []})").reply(R"({"notes": []})").reply(R"({"notes": []})");
    LlmNoteBuilderOptions options;
    options.prompt_char_budget = 1500;
    LlmNoteBuilder builder(model, options);
    ASSERT_TRUE(builder.build(batch, no_stats()).is_ok());
    ASSERT_GE(model->calls().size(), 2u);
    bool truncated = false;
    for (const ScriptedLanguageModel::Call& call : model->calls()) {
        const std::size_t size = call.messages[0].content.size() + call.messages[1].content.size();
        EXPECT_LE(size, options.prompt_char_budget);
        if (call.messages[1].content.find("[t_b2]") != std::string::npos) {
            truncated = call.messages[1].content.find("aaa\xE2\x80\xA6") != std::string::npos;
        }
    }
    EXPECT_TRUE(truncated);

    // A budget below the instructions still shows every turn, each with some of its content.
    auto tiny = std::make_shared<ScriptedLanguageModel>();
    tiny->reply(R"({"notes": []})").reply(R"({"notes": []})").reply(R"({"notes": []})");
    options.prompt_char_budget = 10;
    LlmNoteBuilder tiny_builder(tiny, options);
    ASSERT_TRUE(tiny_builder.build(batch, no_stats()).is_ok());
    ASSERT_EQ(tiny->calls().size(), 3u);
    EXPECT_NE(tiny->calls()[1].messages[1].content.find("assistant: aaaa"), std::string::npos);
}

std::shared_ptr<llm::EmbeddedLanguageModel> open_stories() {
    return testing::open_stories_model();
}

TEST(LlmNoteBuilderTest, EmbeddedStoriesModelOutputAlwaysMeetsTheContract) {
    std::shared_ptr<llm::EmbeddedLanguageModel> stories = open_stories();
    ASSERT_NE(stories, nullptr);
    auto recording = std::make_shared<RecordingLanguageModel>(stories);
    // Short turns: stories260K's 512-token context must hold the prompt and the reply.
    NoteBatch batch = three_turns();
    batch.turns[0].content = "I got a puppy yesterday.";
    batch.turns[1].content = "Puppies need short walks.";
    batch.turns[2].content = "I fly to Lisbon next week.";
    const std::set<std::string> batch_ids = {"t_a1", "t_b2", "t_c3"};
    const std::set<std::string> kinds = {"fact", "preference", "event", "plan", "profile"};
    const MapTermStatistics stats(10, {}, 2);

    const std::pair<std::uint64_t, double> settings[] = {{0, 0.0}, {1, 0.8}, {2, 1.0}, {3, 1.3}, {4, 1.6}};
    std::size_t total_drafts = 0;
    for (const auto& [seed, temperature] : settings) {
        LlmNoteBuilderOptions options;
        options.prompt_char_budget = 400;
        options.max_tokens = 160;
        options.seed = seed;
        options.temperature = temperature;
        LlmNoteBuilder builder(recording, options);
        EXPECT_EQ(builder.id(), "llm:gguf:stories260K-tok512");
        Result<std::vector<NoteDraft>> drafts = builder.build(batch, stats);
        ASSERT_TRUE(drafts.is_ok()) << drafts.status().to_string();
        total_drafts += drafts->size();
        for (const NoteDraft& d : *drafts) {
            EXPECT_FALSE(d.content.empty());
            EXPECT_TRUE(kinds.count(d.kind)) << d.kind;
            EXPECT_LE(d.keywords.size(), 8u);
            EXPECT_LE(d.tags.size(), 5u);
            ASSERT_FALSE(d.source_turn_ids.empty());
            for (const std::string& id : d.source_turn_ids) EXPECT_TRUE(batch_ids.count(id)) << id;
            EXPECT_TRUE(d.valid_from.has_value());
            for (const std::string& k : d.keywords) {
                EXPECT_FALSE(k.empty());
                EXPECT_EQ(std::count(d.keywords.begin(), d.keywords.end(), k), 1);
            }
        }
    }
    // Constrained decoding: every raw reply is JSON of the requested schema, and the prompt fitted the context.
    ASSERT_EQ(recording->records().size(), std::size(settings));
    for (const auto& [generation, schema_text] : recording->records()) {
        Result<llm::JsonSchema> schema = llm::JsonSchema::parse(schema_text);
        ASSERT_TRUE(schema.is_ok());
        EXPECT_EQ(llm::testing::check_json(*schema, generation.text), "") << generation.text;
        EXPECT_LE(generation.prompt_tokens + generation.completion_tokens, 512) << generation.prompt_tokens;
    }
    // Some settings do produce notes (the validation above is exercised, not just empty lists).
    EXPECT_GE(total_drafts, 1u);
}

}  // namespace
}  // namespace kasten::memory
