#include "memory/llm_link_decider.h"

#include <cmath>
#include <limits>
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

store::NoteRecord note(std::string id, std::string content, std::vector<std::string> tags, std::string context,
                       const char* date) {
    store::NoteRecord n;
    n.id = std::move(id);
    n.cube_id = "alice";
    n.content = std::move(content);
    n.keywords = {"dog"};
    n.tags = std::move(tags);
    n.context = std::move(context);
    n.valid_from = at(date);
    return n;
}

store::NoteRecord new_note() {
    return note("n_new", "The user's dog is now called Biscuit.", {"pets"}, "The user renames the dog.", "2023-06-02");
}

std::vector<NeighbourNote> three_neighbours() {
    return {
        {note("n_aaa", "The user's dog is called Rex.", {"pets", "names"}, "About the dog.", "2023-05-16"), 0.8, 3.0},
        {note("n_bbb", "The user walks the dog every morning.", {"routine"}, "Daily habits.", "2023-05-20"), -0.2, 2.0},
        {note("n_ccc", "The user likes jazz.", {"music"}, "Music taste.", "2023-04-01"), 0.5, 1.0},
    };
}

std::vector<std::string> enum_values(const Json& node) {
    std::vector<std::string> out;
    for (const Json& v : node.at("enum")) out.push_back(v.get<std::string>());
    return out;
}

Json decision_schema(const std::string& schema_text) {
    return Json::parse(schema_text).at("properties").at("decisions").at("items").at("properties");
}

TEST(LlmLinkDeciderTest, NoNeighboursNeedsNoCall) {
    auto model = std::make_shared<ScriptedLanguageModel>("m");
    LlmLinkDecider decider(model);
    EXPECT_EQ(decider.id(), "llm:m");
    Result<LinkPlan> plan = decider.decide(new_note(), {});
    ASSERT_TRUE(plan.is_ok());
    EXPECT_TRUE(plan->links.empty());
    EXPECT_TRUE(plan->rewrites.empty());
    EXPECT_TRUE(model->calls().empty());
}

TEST(LlmLinkDeciderTest, ValidReplyBecomesLinksAndRewrites) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    model->reply(R"({"decisions": [
        {"neighbour_id": "n_aaa", "relation": "updates", "reason": "The dog was renamed.",
         "new_tags": ["Pets", "pets", " Renamed "], "new_context": "The dog's old name, before Biscuit."},
        {"neighbour_id": "n_bbb", "relation": "Related", "reason": "", "new_tags": [], "new_context": ""},
        {"neighbour_id": "n_ccc", "relation": "none", "reason": "Unrelated.", "new_tags": ["dogs"],
         "new_context": "Now about dogs."}
    ]})");
    LlmLinkDecider decider(model);
    Result<LinkPlan> plan = decider.decide(new_note(), three_neighbours());
    ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();

    ASSERT_EQ(plan->links.size(), 2u);
    EXPECT_EQ(plan->links[0].neighbour_id, "n_aaa");
    EXPECT_EQ(plan->links[0].relation, "updates");
    EXPECT_EQ(plan->links[0].weight, 1.0);
    EXPECT_EQ(plan->links[0].reason, "The dog was renamed.");
    EXPECT_EQ(plan->links[1].neighbour_id, "n_bbb");
    EXPECT_EQ(plan->links[1].relation, "related");
    EXPECT_EQ(plan->links[1].weight, LlmLinkDecider::kMinWeight);  // cosine -0.2 clamped into (0, 1]
    EXPECT_EQ(plan->links[1].reason, "related");

    // "none" makes no link and no rewrite: an unrelated note is never rewritten.
    ASSERT_EQ(plan->rewrites.size(), 1u);
    const NeighbourRewrite& rewrite = plan->rewrites[0];
    EXPECT_EQ(rewrite.neighbour_id, "n_aaa");
    ASSERT_TRUE(rewrite.tags.has_value());
    EXPECT_EQ(*rewrite.tags, (std::vector<std::string>{"pets", "renamed"}));
    ASSERT_TRUE(rewrite.context.has_value());
    EXPECT_EQ(*rewrite.context, "The dog's old name, before Biscuit.");
    EXPECT_NE(rewrite.reason.find("n_new"), std::string::npos);
    EXPECT_NE(rewrite.reason.find("evolution"), std::string::npos);
}

TEST(LlmLinkDeciderTest, WeightFollowsTheCosineExceptForUpdatesAndContradictions) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    model->reply(R"({"decisions": [
        {"neighbour_id": "n_ccc", "relation": "supports"},
        {"neighbour_id": "n_aaa", "relation": "follows"},
        {"neighbour_id": "n_bbb", "relation": "contradicts"}
    ]})");
    std::vector<NeighbourNote> neighbours = three_neighbours();
    neighbours[0].cosine = std::numeric_limits<double>::quiet_NaN();
    LlmLinkDecider decider(model);
    Result<LinkPlan> plan = decider.decide(new_note(), neighbours);
    ASSERT_TRUE(plan.is_ok());
    ASSERT_EQ(plan->links.size(), 3u);
    EXPECT_EQ(plan->links[0].weight, 0.5);
    EXPECT_EQ(plan->links[1].weight, LlmLinkDecider::kMinWeight);
    EXPECT_EQ(plan->links[2].weight, 1.0);
    EXPECT_TRUE(plan->rewrites.empty());
}

TEST(LlmLinkDeciderTest, UnknownRankLikeAndRepeatedIdsAreDropped) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    model->reply(R"({"decisions": [
        {"neighbour_id": "1", "relation": "updates", "new_tags": ["x"]},
        {"neighbour_id": 0, "relation": "updates"},
        {"neighbour_id": "n_zzz", "relation": "contradicts"},
        {"neighbour_id": "n_new", "relation": "related"},
        {"relation": "related"},
        {"neighbour_id": "n_ccc", "relation": "related", "new_context": "Music and dogs."},
        {"neighbour_id": "n_ccc", "relation": "contradicts", "new_context": "Overwritten?"},
        {"neighbour_id": "n_bbb", "relation": "replaces"},
        {"neighbour_id": "n_bbb", "relation": "supports"},
        "n_aaa"
    ]})");
    LlmLinkDecider decider(model);
    Result<LinkPlan> plan = decider.decide(new_note(), three_neighbours());
    ASSERT_TRUE(plan.is_ok());
    // n_ccc: the first decision wins; n_bbb: its first decision names no known relation, so no link at all.
    ASSERT_EQ(plan->links.size(), 1u);
    EXPECT_EQ(plan->links[0].neighbour_id, "n_ccc");
    EXPECT_EQ(plan->links[0].relation, "related");
    ASSERT_EQ(plan->rewrites.size(), 1u);
    EXPECT_EQ(plan->rewrites[0].neighbour_id, "n_ccc");
    EXPECT_FALSE(plan->rewrites[0].tags.has_value());
    EXPECT_EQ(*plan->rewrites[0].context, "Music and dogs.");
}

TEST(LlmLinkDeciderTest, UnchangedOrEmptyTagsAndContextAreNoRewrite) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    model->reply(R"({"decisions": [
        {"neighbour_id": "n_aaa", "relation": "related", "new_tags": ["PETS", "names"], "new_context": " About the dog. "},
        {"neighbour_id": "n_bbb", "relation": "related", "new_tags": ["", "  "], "new_context": "\n"},
        {"neighbour_id": "n_ccc", "relation": "related", "new_tags": ["music", "dogs"], "new_context": "Music taste."}
    ]})");
    LlmLinkDecider decider(model);
    Result<LinkPlan> plan = decider.decide(new_note(), three_neighbours());
    ASSERT_TRUE(plan.is_ok());
    EXPECT_EQ(plan->links.size(), 3u);
    ASSERT_EQ(plan->rewrites.size(), 1u);
    EXPECT_EQ(plan->rewrites[0].neighbour_id, "n_ccc");
    EXPECT_EQ(*plan->rewrites[0].tags, (std::vector<std::string>{"music", "dogs"}));
    EXPECT_FALSE(plan->rewrites[0].context.has_value());
}

TEST(LlmLinkDeciderTest, TheSchemaAdmitsOnlyTheNeighbourIdsAndThePromptShowsThem) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    model->reply(R"({"decisions": []})");
    LlmLinkDeciderOptions options;
    options.max_tokens = 222;
    options.seed = 9;
    LlmLinkDecider decider(model, options);
    Result<LinkPlan> plan = decider.decide(new_note(), three_neighbours());
    ASSERT_TRUE(plan.is_ok());
    EXPECT_TRUE(plan->links.empty());

    ASSERT_EQ(model->calls().size(), 1u);
    const ScriptedLanguageModel::Call& call = model->calls()[0];
    EXPECT_EQ(call.options.max_tokens, 222);
    EXPECT_EQ(call.options.seed, 9u);
    ASSERT_TRUE(call.options.json_schema.has_value());
    Result<llm::JsonSchema> parsed = llm::JsonSchema::parse(*call.options.json_schema);
    EXPECT_TRUE(parsed.is_ok()) << parsed.status().to_string();
    const Json decision = decision_schema(*call.options.json_schema);
    EXPECT_EQ(enum_values(decision.at("neighbour_id")), (std::vector<std::string>{"n_aaa", "n_bbb", "n_ccc"}));
    EXPECT_EQ(enum_values(decision.at("relation")),
              (std::vector<std::string>{"none", "related", "supports", "updates", "contradicts", "follows"}));
    EXPECT_EQ(decision.at("reason").at("maxLength"), 120);
    EXPECT_EQ(decision.at("new_tags").at("maxItems"), 5);
    EXPECT_EQ(decision.at("new_context").at("maxLength"), 200);
    const Json decisions = Json::parse(*call.options.json_schema).at("properties").at("decisions");
    EXPECT_EQ(decisions.at("minItems"), 3);  // one decision asked for per neighbour
    EXPECT_EQ(decisions.at("maxItems"), 3);

    ASSERT_EQ(call.messages.size(), 2u);
    const std::string& user = call.messages[1].content;
    EXPECT_NE(user.find("[n_new] 2023-06-02: The user's dog is now called Biscuit."), std::string::npos) << user;
    EXPECT_NE(user.find("[n_aaa] 2023-05-16: The user's dog is called Rex.\n  keywords: dog; tags: pets, names; "
                        "context: About the dog."),
              std::string::npos)
        << user;
    EXPECT_NE(user.find("[n_bbb] 2023-05-20"), std::string::npos);
    EXPECT_NE(user.find("[n_ccc] 2023-04-01"), std::string::npos);
    EXPECT_LT(user.find("[n_aaa]"), user.find("[n_bbb]"));  // best first
}

TEST(LlmLinkDeciderTest, MalformedRepliesGiveAnEmptyPlanAndModelErrorsAreReturned) {
    for (const std::string reply :
         {"", "no", R"({"decisions": {"n_aaa": "updates"}})", R"({"decisions": [)", R"({"links": []})", "[]"}) {
        auto model = std::make_shared<ScriptedLanguageModel>();
        model->reply(reply);
        LlmLinkDecider decider(model);
        Result<LinkPlan> plan = decider.decide(new_note(), three_neighbours());
        ASSERT_TRUE(plan.is_ok()) << reply;
        EXPECT_TRUE(plan->links.empty()) << reply;
        EXPECT_TRUE(plan->rewrites.empty()) << reply;
    }
    auto failing = std::make_shared<ScriptedLanguageModel>();
    failing->fail(Status::resource_exhausted("the prompt has 900 tokens; the context holds 512"));
    LlmLinkDecider decider(failing);
    Result<LinkPlan> plan = decider.decide(new_note(), three_neighbours());
    ASSERT_FALSE(plan.is_ok());
    EXPECT_EQ(plan.status().code(), StatusCode::kResourceExhausted);
}

TEST(LlmLinkDeciderTest, ASmallBudgetShortensTextsThenLeavesOutTheFarthestNeighbours) {
    std::vector<NeighbourNote> neighbours;
    for (int i = 0; i < 10; ++i) {
        neighbours.push_back(
            {note("n_" + std::to_string(i),
                  "Neighbour " + std::to_string(i) + " " + std::string(500, 'a' + static_cast<char>(i)), {"t"},
                  std::string(300, 'c'), "2023-01-01"),
             0.9 - 0.05 * i, 0});
    }
    auto model = std::make_shared<ScriptedLanguageModel>();
    // n_9 is not shown under this budget, so a decision about it is dropped.
    model->reply(R"({"decisions": [{"neighbour_id": "n_9", "relation": "updates"},
                                   {"neighbour_id": "n_0", "relation": "supports"}]})");
    LlmLinkDeciderOptions options;
    options.prompt_char_budget = 900;
    LlmLinkDecider decider(model, options);
    Result<LinkPlan> plan = decider.decide(new_note(), neighbours);
    ASSERT_TRUE(plan.is_ok());
    ASSERT_EQ(plan->links.size(), 1u);
    EXPECT_EQ(plan->links[0].neighbour_id, "n_0");
    EXPECT_DOUBLE_EQ(plan->links[0].weight, 0.9);

    const ScriptedLanguageModel::Call& call = model->calls()[0];
    EXPECT_LE(call.messages[0].content.size() + call.messages[1].content.size(), options.prompt_char_budget);
    const std::vector<std::string> shown = enum_values(decision_schema(*call.options.json_schema).at("neighbour_id"));
    ASSERT_GE(shown.size(), 1u);
    ASSERT_LT(shown.size(), 10u);
    for (std::size_t i = 0; i < shown.size(); ++i) {
        EXPECT_EQ(shown[i], "n_" + std::to_string(i));  // the best ones are kept
        EXPECT_NE(call.messages[1].content.find("[" + shown[i] + "]"), std::string::npos);
    }
    EXPECT_EQ(call.messages[1].content.find("[n_9]"), std::string::npos);
    EXPECT_NE(call.messages[1].content.find("\xE2\x80\xA6"), std::string::npos);  // shortened texts are marked
}

std::shared_ptr<llm::EmbeddedLanguageModel> open_stories() {
    return testing::open_stories_model();
}

TEST(LlmLinkDeciderTest, EmbeddedStoriesModelOutputAlwaysMeetsTheContract) {
    std::shared_ptr<llm::EmbeddedLanguageModel> stories = open_stories();
    ASSERT_NE(stories, nullptr);
    auto recording = std::make_shared<RecordingLanguageModel>(stories);
    // Short notes: stories260K's 512-token context must hold the prompt and the reply.
    store::NoteRecord fresh = note("n_new", "The dog is Biscuit now.", {"pets"}, "Dog name.", "2023-06-02");
    std::vector<NeighbourNote> neighbours = {
        {note("n_aaa", "The dog is Rex.", {"pets"}, "Dog name.", "2023-05-16"), 0.8, 2.0},
        {note("n_bbb", "The user likes jazz.", {"music"}, "Music.", "2023-04-01"), 0.1, 1.0},
    };
    fresh.keywords.clear();
    for (NeighbourNote& n : neighbours) n.note.keywords.clear();
    const std::set<std::string> relations = {"related", "supports", "updates", "contradicts", "follows"};

    const std::pair<std::uint64_t, double> settings[] = {{0, 0.0}, {1, 0.8}, {2, 1.0}, {3, 1.3}, {4, 1.6}};
    std::size_t total_links = 0;
    for (const auto& [seed, temperature] : settings) {
        LlmLinkDeciderOptions options;
        options.prompt_char_budget = 400;
        options.max_tokens = 150;
        options.seed = seed;
        options.temperature = temperature;
        LlmLinkDecider decider(recording, options);
        Result<LinkPlan> plan = decider.decide(fresh, neighbours);
        ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
        total_links += plan->links.size();
        std::set<std::string> linked;
        for (const LinkDecision& link : plan->links) {
            EXPECT_TRUE(link.neighbour_id == "n_aaa" || link.neighbour_id == "n_bbb") << link.neighbour_id;
            EXPECT_TRUE(linked.insert(link.neighbour_id).second) << "two links to " << link.neighbour_id;
            EXPECT_TRUE(relations.count(link.relation)) << link.relation;
            EXPECT_GT(link.weight, 0.0);
            EXPECT_LE(link.weight, 1.0);
            EXPECT_FALSE(link.reason.empty());
        }
        std::set<std::string> rewritten;
        for (const NeighbourRewrite& rewrite : plan->rewrites) {
            EXPECT_TRUE(linked.count(rewrite.neighbour_id)) << rewrite.neighbour_id;
            EXPECT_TRUE(rewritten.insert(rewrite.neighbour_id).second);
            EXPECT_TRUE(rewrite.tags.has_value() || rewrite.context.has_value());
            if (rewrite.tags.has_value()) {
                EXPECT_FALSE(rewrite.tags->empty());
                EXPECT_LE(rewrite.tags->size(), 5u);
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
        // Both neighbours were shown: the schema admits both ids and asks for a decision on each.
        const Json decisions = Json::parse(schema_text).at("properties").at("decisions");
        EXPECT_EQ(enum_values(decisions.at("items").at("properties").at("neighbour_id")),
                  (std::vector<std::string>{"n_aaa", "n_bbb"}));
        EXPECT_EQ(decisions.at("minItems"), 2);
    }
    EXPECT_GE(total_links, 1u);
}

}  // namespace
}  // namespace kasten::memory
