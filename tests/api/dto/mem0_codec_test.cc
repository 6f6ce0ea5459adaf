// Mem0 compatibility, the pure parts: entity -> cube mapping and note tags (mem0_scope), filters (mem0_filter),
// request bodies and memory JSON (mem0_codec).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/dto/mem0_codec.h"
#include "api/dto/mem0_filter.h"
#include "api/dto/mem0_scope.h"
#include "common/timestamp.h"

namespace kasten::api::mem0 {
namespace {

using nlohmann::json;

TEST(Mem0ScopeTest, EscapedIdsFitTheCubeAlphabetAndRoundTrip) {
    for (const std::string id : {"alice", "alice@example.com", "Zoë", "a_b:c/d e", "x-1.2"}) {
        const std::string e = escape_id(id);
        EXPECT_EQ(e.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"),
                  std::string::npos)
            << e;
        ASSERT_TRUE(unescape_id(e).has_value()) << e;
        EXPECT_EQ(*unescape_id(e), id);
    }
    EXPECT_EQ(escape_id("alice@example.com"), "alice_40example.com");
    EXPECT_FALSE(unescape_id("a_4").has_value());
    EXPECT_FALSE(unescape_id("a_zz").has_value());
    EXPECT_FALSE(unescape_id("a_41").has_value());  // 'A' is never escaped
    EXPECT_FALSE(unescape_id("a:b").has_value());
}

TEST(Mem0ScopeTest, TheCubeIsTheFirstEntityGiven) {
    Entities e;
    EXPECT_EQ(cube_for(e).status().code(), StatusCode::kInvalidArgument);
    e.run_id = "r1";
    EXPECT_EQ(cube_for(e).value(), "run:r1");
    e.agent_id = "bot";
    EXPECT_EQ(cube_for(e).value(), "agent:bot");
    e.user_id = "alice@example.com";
    EXPECT_EQ(cube_for(e).value(), "user:alice_40example.com");
    e.user_id = std::string(200, 'a');
    Result<std::string> long_id = cube_for(e);
    ASSERT_FALSE(long_id.is_ok());
    EXPECT_NE(long_id.status().message().find("user_id"), std::string::npos);
    e.user_id = "";
    EXPECT_EQ(cube_for(e).status().code(), StatusCode::kInvalidArgument);

    ASSERT_TRUE(entity_of_cube("user:alice_40example.com").has_value());
    EXPECT_EQ(entity_of_cube("user:alice_40example.com")->name, "alice@example.com");
    EXPECT_EQ(entity_of_cube("agent:bot")->type, "agent");
    EXPECT_FALSE(entity_of_cube("demo").has_value());
    EXPECT_FALSE(entity_of_cube("team:x").has_value());
}

TEST(Mem0ScopeTest, NoteTagsCarryTheOtherEntitiesAndMetadata) {
    Entities e;
    e.user_id = "alice";
    e.agent_id = "bot";
    e.run_id = "r 1";
    store::NoteRecord note;
    note.cube_id = "user:alice";
    note.tags = tags_with_scope({"travel", "mem0.agent_id:old"}, e, note.cube_id, json{{"k", 1}});
    EXPECT_EQ(note.tags,
              (std::vector<std::string>{"travel", "mem0.agent_id:bot", "mem0.run_id:r 1", "mem0.metadata:{\"k\":1}"}));
    NoteScope scope = scope_of(note);
    EXPECT_EQ(scope.entities.user_id, "alice");
    EXPECT_EQ(scope.entities.agent_id, "bot");
    EXPECT_EQ(scope.entities.run_id, "r 1");
    EXPECT_FALSE(scope.entities.app_id.has_value());
    EXPECT_EQ(scope.metadata, (json{{"k", 1}}));
    EXPECT_EQ(scope.categories, std::vector<std::string>{"travel"});

    note.tags = tags_with_metadata(note.tags, nullptr);
    EXPECT_TRUE(scope_of(note).metadata.is_null());
    EXPECT_EQ(scope_of(note).entities.agent_id, "bot");
}

FilterSubject subject(const std::string& user, std::optional<std::string> agent, json metadata,
                      std::vector<std::string> categories, TimeMs created) {
    FilterSubject s;
    s.id = "n_1";
    s.memory = "I love Hiking in the Alps";
    s.scope.entities.user_id = user;
    s.scope.entities.agent_id = std::move(agent);
    s.scope.metadata = std::move(metadata);
    s.scope.categories = std::move(categories);
    s.created_at = created;
    s.updated_at = created;
    return s;
}

TEST(Mem0FilterTest, PlainAndV2ShapesMatchAsMem0Defines) {
    const TimeMs t = parse_timestamp("2024-05-01T10:00:00Z").value();
    const FilterSubject alice_bot = subject("alice", "bot", json{{"topic", "travel"}}, {"hobbies"}, t);
    const FilterSubject alice = subject("alice", std::nullopt, nullptr, {}, t);

    auto match = [](const json& f, const FilterSubject& s) {
        Result<Mem0Filter> parsed = Mem0Filter::parse(f);
        EXPECT_TRUE(parsed.is_ok()) << f.dump() << ": " << parsed.status().to_string();
        return parsed.is_ok() && parsed->matches(s);
    };
    EXPECT_TRUE(match(json::object(), alice));
    EXPECT_TRUE(match({{"user_id", "alice"}}, alice));
    EXPECT_FALSE(match({{"user_id", "bob"}}, alice));
    EXPECT_TRUE(match({{"AND", {{{"user_id", "alice"}}, {{"agent_id", "bot"}}}}}, alice_bot));
    EXPECT_FALSE(match({{"AND", {{{"user_id", "alice"}}, {{"agent_id", "bot"}}}}}, alice));
    EXPECT_TRUE(match({{"OR", {{{"agent_id", "x"}}, {{"agent_id", "bot"}}}}}, alice_bot));
    EXPECT_TRUE(match({{"NOT", {{{"agent_id", "bot"}}}}}, alice));
    EXPECT_FALSE(match({{"NOT", {{{"agent_id", "bot"}}}}}, alice_bot));
    EXPECT_TRUE(match({{"agent_id", "*"}}, alice_bot));
    EXPECT_FALSE(match({{"agent_id", "*"}}, alice));
    EXPECT_TRUE(match({{"agent_id", {{"in", {"a", "bot"}}}}}, alice_bot));
    EXPECT_TRUE(match({{"agent_id", {{"ne", "bot"}}}}, alice));
    EXPECT_TRUE(match({{"created_at", {{"gte", "2024-05-01"}, {"lt", "2024-05-02"}}}}, alice));
    EXPECT_FALSE(match({{"created_at", {{"gt", "2024-05-01T10:00:00Z"}}}}, alice));
    EXPECT_TRUE(match({{"categories", {{"in", {"hobbies", "food"}}}}}, alice_bot));
    EXPECT_FALSE(match({{"categories", {{"in", {"food"}}}}}, alice_bot));
    EXPECT_TRUE(match({{"metadata", {{"topic", "travel"}}}}, alice_bot));
    EXPECT_FALSE(match({{"metadata", {{"topic", "food"}}}}, alice_bot));
    EXPECT_FALSE(match({{"metadata", {{"topic", "travel"}}}}, alice));
    EXPECT_TRUE(match({{"keywords", {{"icontains", "hiking"}}}}, alice));
    EXPECT_FALSE(match({{"keywords", {{"contains", "hiking"}}}}, alice));

    EXPECT_EQ(Mem0Filter::parse({{"colour", "red"}}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(Mem0Filter::parse({{"colour", "red"}}).status().message().find("filters.colour"), std::string::npos);
    EXPECT_EQ(Mem0Filter::parse({{"user_id", {{"gte", "a"}}}}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Mem0Filter::parse({{"AND", "x"}}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Mem0Filter::parse({{"created_at", {{"gte", "yesterday-ish"}}}}).status().code(),
              StatusCode::kInvalidArgument);
}

TEST(Mem0FilterTest, RequiredEntitiesComeFromTopLevelAndAndOnly) {
    Entities e = Mem0Filter::parse({{"AND", {{{"user_id", "alice"}}, {{"AND", {{{"run_id", "r"}}}}}}}})
                     .value()
                     .required_entities();
    EXPECT_EQ(e.user_id, "alice");
    EXPECT_EQ(e.run_id, "r");
    EXPECT_FALSE(
        Mem0Filter::parse({{"OR", {{{"user_id", "a"}}, {{"user_id", "b"}}}}}).value().required_entities().any());
    EXPECT_FALSE(Mem0Filter::parse({{"user_id", "*"}}).value().required_entities().any());
}

TEST(Mem0CodecTest, AddAcceptsTheClientsFieldsAndRejectsUnknownOnes) {
    RequestLimits limits;
    Result<AddRequest> r = mem0::parse_add(
        R"({"messages":[{"role":"user","content":"I like tea"}],"user_id":"alice","run_id":"r1","metadata":{"a":1},)"
        R"("infer":false,"timestamp":1700000000,"output_format":"v1.1","custom_categories":[{"x":"y"}]})",
        limits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->messages.size(), 1u);
    EXPECT_EQ(r->entities.user_id, "alice");
    EXPECT_EQ(r->entities.run_id, "r1");
    EXPECT_FALSE(r->infer);
    EXPECT_EQ(r->time, 1700000000000);
    EXPECT_EQ(r->metadata, (json{{"a", 1}}));

    Result<AddRequest> text = mem0::parse_add(R"({"messages":"I like tea","user_id":"alice"})", limits);
    ASSERT_TRUE(text.is_ok()) << text.status().to_string();
    EXPECT_EQ(text->messages.at(0).role, "user");
    EXPECT_TRUE(text->infer);

    EXPECT_NE(mem0::parse_add(R"({"messages":[{"role":"user","content":"x"}],"user":"a"})", limits)
                  .status()
                  .message()
                  .find("'user'"),
              std::string::npos);
    EXPECT_FALSE(mem0::parse_add(R"({"messages":[],"user_id":"a"})", limits).is_ok());
    EXPECT_FALSE(mem0::parse_add(R"({"messages":[{"role":"robot","content":"x"}],"user_id":"a"})", limits).is_ok());
    EXPECT_FALSE(
        parse_add(R"({"messages":[{"role":"user","content":{"type":"image_url"}}],"user_id":"a"})", limits).is_ok());
    EXPECT_FALSE(mem0::parse_add(R"({"messages":[{"role":"user","content":"x"}],"metadata":[1]})", limits).is_ok());
}

TEST(Mem0CodecTest, SearchFoldsEntitiesCategoriesAndMetadataIntoTheFilter) {
    RequestLimits limits;
    Result<SearchRequest> r = mem0::parse_search(
        R"({"query":"tea","filters":{"user_id":"alice"},"top_k":3,"output_format":"v1.1","metadata":{"m":true},)"
        R"("categories":["food"],"threshold":0.1})",
        limits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->top_k, 3);
    EXPECT_EQ(r->filter.required_entities().user_id, "alice");
    FilterSubject s;
    s.scope.entities.user_id = "alice";
    s.scope.metadata = json{{"m", true}};
    s.scope.categories = {"food"};
    EXPECT_TRUE(r->filter.matches(s));
    s.scope.categories = {"travel"};
    EXPECT_FALSE(r->filter.matches(s));
    EXPECT_FALSE(mem0::parse_search(R"({"filters":{"user_id":"a"}})", limits).is_ok());
    EXPECT_FALSE(mem0::parse_search(R"({"query":"x","top_k":0})", limits).is_ok());
    EXPECT_FALSE(mem0::parse_search(R"({"query":"x","top_k":100000})", limits).is_ok());
}

TEST(Mem0CodecTest, UpdateNeedsOneFieldAndMemoriesLookLikeMem0s) {
    RequestLimits limits;
    EXPECT_FALSE(mem0::parse_update("{}", limits).is_ok());
    EXPECT_FALSE(mem0::parse_update(R"({"text":"x","memory":"y"})", limits).is_ok());
    Result<UpdateRequest> u = mem0::parse_update(R"({"metadata":null})", limits);
    ASSERT_TRUE(u.is_ok());
    ASSERT_TRUE(u->metadata.has_value());
    EXPECT_TRUE(u->metadata->is_null());

    store::NoteRecord note;
    note.id = "n_1";
    note.cube_id = "agent:bot";
    note.content = "Likes tea";
    note.tags = {"food", "mem0.run_id:r1"};
    note.recorded_at = parse_timestamp("2024-05-01T10:00:00Z").value();
    const json m = memory_to_json(note);
    EXPECT_EQ(m["id"], "n_1");
    EXPECT_EQ(m["memory"], "Likes tea");
    EXPECT_TRUE(m["user_id"].is_null());
    EXPECT_EQ(m["agent_id"], "bot");
    EXPECT_EQ(m["run_id"], "r1");
    EXPECT_EQ(m["categories"], json::array({"food"}));
    EXPECT_EQ(m["created_at"], "2024-05-01T10:00:00Z");
}

TEST(Mem0CodecTest, HistoryListsContentChangesOnly) {
    store::NoteRecord note;
    note.id = "n_1";
    note.cube_id = "user:alice";
    std::vector<store::NoteVersionRecord> versions(3);
    versions[0].version = 1;
    versions[0].content = "a";
    versions[1].version = 2;
    versions[1].content = "a";  // a tag change
    versions[1].tags = {"mem0.agent_id:x"};
    versions[2].version = 3;
    versions[2].content = "b";
    const json h = history_to_json(note, versions);
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0]["event"], "ADD");
    EXPECT_TRUE(h[0]["old_memory"].is_null());
    EXPECT_EQ(h[1]["event"], "UPDATE");
    EXPECT_EQ(h[1]["old_memory"], "a");
    EXPECT_EQ(h[1]["new_memory"], "b");
    EXPECT_EQ(h[1]["user_id"], "alice");
}

// Found by tests/fuzz/mem0_fuzz: a number too large for a double escaped the parser as an exception (a 500).
TEST(Mem0CodecTest, NumbersOutOfRangeAreInvalidArguments) {
    RequestLimits limits;
    Result<AddRequest> add = mem0::parse_add(R"({"messages":"hi","user_id":"alice","timestamp":1e400})", limits);
    ASSERT_FALSE(add.is_ok());
    EXPECT_EQ(add.status().code(), StatusCode::kInvalidArgument);
    Result<UpdateRequest> update = mem0::parse_update(R"({"text":"x","metadata":{"n":-4e66666}})", limits);
    ASSERT_FALSE(update.is_ok());
    EXPECT_EQ(update.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::api::mem0
