#include "api/mcp/mcp_tools.h"

#include "tests/api/mcp/mcp_fixture.h"

namespace kasten::api {
namespace {

using nlohmann::json;

class McpToolsTest : public McpFixture {
  protected:
    void SetUp() override {
        McpFixture::SetUp();
        initialize();
    }

    // A note added directly (the fixture's manager builds none from turns).
    std::string add_note(const std::string& cube, const std::string& content) {
        if (!memory_->get_cube(cube).is_ok()) {
            EXPECT_TRUE(memory_->create_cube(cube, "", "test").is_ok());
        }
        memory::NoteInput in;
        in.content = content;
        in.kind = "preference";
        auto note = memory_->add_note(cube, in, "test");
        EXPECT_TRUE(note.is_ok()) << note.status().to_string();
        return note.is_ok() ? note.value().id : "";
    }
};

TEST_F(McpToolsTest, AddMemoryStoresTextOrMessagesAsTurnsOfASession) {
    json one = tool_ok("add_memory", {{"text", "Noted, a beagle."}, {"role", "assistant"}, {"session_id", "pets"}});
    json two = tool_ok(
        "add_memory",
        {{"messages",
          {{{"role", "user"}, {"content", "Biscuit turns three in May"}},
           {{"role", "assistant"}, {"content", "Happy early birthday, Biscuit!"}, {"time", "2024-05-01T10:00:00Z"}}}},
         {"session_id", "pets"},
         {"time", "2024-04-30T09:00:00Z"}});
    EXPECT_EQ(two["session_id"], "pets");
    EXPECT_EQ(two["turn_ids"].size(), 2u);
    EXPECT_TRUE(two["job_id"].is_null());  // no note builder in this fixture
    auto session = memory_->get_session("home", "pets");
    ASSERT_TRUE(session.is_ok()) << session.status().to_string();
    ASSERT_EQ(session.value().turns.size(), 3u);
    EXPECT_EQ(session.value().turns[0].role, "assistant");
    EXPECT_EQ(session.value().turns[0].id, one["turn_ids"][0]);
    EXPECT_EQ(session.value().turns[1].conv_time, 1714467600000);  // the call's time
    EXPECT_EQ(session.value().turns[2].conv_time, 1714557600000);  // the message's own

    // Without a session id: a new session each time.
    json fresh = tool_ok("add_memory", {{"text", "Another day"}});
    EXPECT_NE(fresh["session_id"], "pets");
    EXPECT_EQ(tool_ok("list_memories", {{"what", "sessions"}})["sessions"].size(), 2u);
}

TEST_F(McpToolsTest, AddMemoryArgumentErrorsNameTheArgument) {
    EXPECT_TRUE(contains(tool_error("add_memory", json::object()), "nothing to add"));
    EXPECT_TRUE(contains(tool_error("add_memory", {{"text", "a"}, {"messages", json::array()}}), "not both"));
    EXPECT_TRUE(contains(tool_error("add_memory", {{"text", 5}}), "argument 'text'"));
    EXPECT_TRUE(contains(tool_error("add_memory", {{"text", ""}}), "'text'"));
    EXPECT_TRUE(contains(tool_error("add_memory", {{"text", "a"}, {"role", "narrator"}}), "'role'"));
    EXPECT_TRUE(contains(
        tool_error("add_memory", {{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"role", "user"}}), "'role'"));
    EXPECT_TRUE(contains(tool_error("add_memory", {{"messages", json::array()}}), "'messages'"));
    EXPECT_TRUE(
        contains(tool_error("add_memory", {{"messages", {{{"role", "user"}, {"content", "x"}, {"time", "noon"}}}}}),
                 "messages[0].time"));
    EXPECT_TRUE(contains(tool_error("add_memory", {{"text", "a"}, {"time", "noon"}}), "'time'"));
    EXPECT_TRUE(contains(tool_error("add_memory", {{"text", "a"}, {"cube", "no spaces"}}), "argument 'cube'"));
    EXPECT_TRUE(contains(tool_error("add_memory", {{"text", std::string(1001, 'x')}}), "longer than 1000"));
    // Nothing was stored by any of them.
    EXPECT_FALSE(memory_->get_cube("home").is_ok());
}

TEST_F(McpToolsTest, SearchMemoriesAtEveryGranularity) {
    tool_ok("add_memory", {{"text", "My sister lives in Lisbon"}, {"session_id", "family"}});
    tool_ok("add_memory", {{"text", "I bought a red bicycle"}, {"session_id", "sport"}});
    const std::string note = add_note("home", "The user's sister lives in Lisbon");

    json turns = tool_ok("search_memories", {{"query", "where does my sister live"}, {"top_k", 1}});
    ASSERT_EQ(turns["hits"].size(), 1u);
    EXPECT_EQ(turns["granularity"], "turn");
    EXPECT_TRUE(contains(turns["hits"][0]["text"], "Lisbon"));
    json sessions =
        tool_ok("search_memories", {{"query", "bicycle"}, {"granularity", "session"}, {"retriever", "lexical"}});
    ASSERT_FALSE(sessions["hits"].empty());
    EXPECT_EQ(sessions["hits"][0]["id"], "sport");
    json notes = tool_ok("search_memories", {{"query", "sister Lisbon"}, {"granularity", "note"}});
    ASSERT_FALSE(notes["hits"].empty());
    EXPECT_EQ(notes["hits"][0]["id"], note);
    json filtered = tool_ok("search_memories", {{"query", "Lisbon"}, {"filters", {{"session_id", "sport"}}}});
    for (const json& h : filtered["hits"]) EXPECT_EQ(h["session_id"], "sport");

    EXPECT_TRUE(contains(tool_error("search_memories", json::object()), "'query'"));
    EXPECT_TRUE(contains(tool_error("search_memories", {{"query", "x"}, {"granularity", "page"}}), "granularity"));
    EXPECT_TRUE(
        contains(tool_error("search_memories", {{"query", "x"}, {"filters", {{"colour", "red"}}}}), "filters.colour"));
    EXPECT_EQ(tool_error("search_memories", {{"cube", "nobody"}, {"query", "x"}}).rfind("not_found: ", 0), 0u);
}

TEST_F(McpToolsTest, ListMemoriesPagesNotesTurnsAndSessions) {
    tool_ok("add_memory", {{"messages",
                            {{{"role", "user"}, {"content", "one"}},
                             {{"role", "assistant"}, {"content", "two"}},
                             {{"role", "user"}, {"content", "three"}}}}});
    add_note("home", "first note");
    add_note("home", "second note");
    json notes = tool_ok("list_memories", json::object());
    EXPECT_EQ(notes["what"], "notes");
    EXPECT_EQ(notes["memories"].size(), 2u);
    EXPECT_EQ(notes["limit"], 50);
    json page = tool_ok("list_memories", {{"what", "turns"}, {"limit", 2}, {"offset", 1}});
    EXPECT_EQ(page["turns"].size(), 2u);
    EXPECT_EQ(page["offset"], 1);
    EXPECT_EQ(tool_ok("list_memories", {{"status", "active"}})["memories"].size(), 2u);
    EXPECT_EQ(tool_ok("list_memories", {{"status", "archived"}})["memories"].size(), 0u);

    EXPECT_TRUE(contains(tool_error("list_memories", {{"what", "cubes"}}), "argument 'what'"));
    EXPECT_TRUE(contains(tool_error("list_memories", {{"what", "turns"}, {"status", "active"}}), "'status'"));
    EXPECT_TRUE(contains(tool_error("list_memories", {{"limit", 0}}), "argument 'limit'"));
    EXPECT_TRUE(contains(tool_error("list_memories", {{"limit", 5.5}}), "argument 'limit'"));
    EXPECT_TRUE(contains(tool_error("list_memories", {{"offset", -1}}), "argument 'offset'"));
}

TEST_F(McpToolsTest, GetUpdateHistoryAndDeleteANote) {
    const std::string id = add_note("home", "The user drinks green tea");
    json got = tool_ok("get_memory", {{"id", id}});
    EXPECT_EQ(got["type"], "note");
    EXPECT_EQ(got["note"]["content"], "The user drinks green tea");

    json updated =
        tool_ok("update_memory", {{"id", id}, {"content", "The user drinks black coffee"}, {"reason", "corrected"}});
    EXPECT_EQ(updated["note"]["content"], "The user drinks black coffee");
    EXPECT_EQ(updated["note"]["version"], 2);
    json history = tool_ok("memory_history", {{"id", id}});
    ASSERT_EQ(history["versions"].size(), 2u);
    EXPECT_EQ(history["versions"][0]["content"], "The user drinks green tea");
    EXPECT_EQ(history["versions"][1]["content"], "The user drinks black coffee");
    EXPECT_EQ(history["versions"][1]["reason"], "corrected");
    EXPECT_EQ(history["versions"][1]["actor"], "mcp-test");
    EXPECT_TRUE(contains(tool_ok("search_memories", {{"query", "coffee"}, {"granularity", "note"}})["hits"][0]["text"],
                         "coffee"));

    EXPECT_TRUE(contains(tool_error("update_memory", {{"id", id}}), "changes nothing"));
    EXPECT_TRUE(contains(tool_error("update_memory", {{"id", id}, {"importance", 2}}), "'importance'"));
    EXPECT_TRUE(contains(tool_error("update_memory", {{"content", "x"}}), "argument 'id'"));

    json deleted = tool_ok("delete_memory", {{"id", id}});
    EXPECT_EQ(deleted, json({{"cube", "home"}, {"type", "note"}, {"id", id}, {"deleted", true}}));
    EXPECT_EQ(tool_error("get_memory", {{"id", id}}).rfind("not_found: ", 0), 0u);
    EXPECT_EQ(tool_error("memory_history", {{"id", id}}).rfind("not_found: ", 0), 0u);
    EXPECT_TRUE(tool_ok("search_memories", {{"query", "coffee"}, {"granularity", "note"}})["hits"].empty());
}

TEST_F(McpToolsTest, TurnsCanBeReadAndDeletedButNotChanged) {
    json added = tool_ok("add_memory", {{"text", "I parked on level four"}});
    const std::string turn = added["turn_ids"][0];
    json got = tool_ok("get_memory", {{"id", turn}});
    EXPECT_EQ(got["type"], "turn");
    EXPECT_EQ(got["turn"]["content"], "I parked on level four");
    EXPECT_TRUE(contains(tool_error("update_memory", {{"id", turn}, {"content", "x"}}), "cannot be changed"));
    EXPECT_TRUE(contains(tool_error("memory_history", {{"id", turn}}), "only notes"));
    EXPECT_FALSE(tool_ok("search_memories", {{"query", "where did I park"}})["hits"].empty());
    EXPECT_EQ(tool_ok("delete_memory", {{"id", turn}})["type"], "turn");
    EXPECT_TRUE(tool_ok("search_memories", {{"query", "where did I park"}})["hits"].empty());
    EXPECT_EQ(tool_error("get_memory", {{"id", turn}}).rfind("not_found: ", 0), 0u);
}

TEST_F(McpToolsTest, GetContextPacksTheMemoryUnderATokenBudget) {
    tool_ok("add_memory", {{"text", "My sister lives in Lisbon"}, {"session_id", "family"}});
    tool_ok("add_memory", {{"text", "I bought a red bicycle last week"}, {"session_id", "sport"}});
    // Small history: all of it, whatever the query.
    json full = tool_ok("get_context", {{"query", "where does my sister live"}});
    EXPECT_EQ(full["mode"], "full");
    EXPECT_EQ(full["cube"], "home");
    EXPECT_TRUE(contains(full["text"], "Lisbon"));
    EXPECT_TRUE(contains(full["text"], "bicycle"));
    // Retrieval under a budget: the relevant turn, within the budget.
    json packed = tool_ok(
        "get_context",
        {{"query", "where does my sister live"}, {"full_history", false}, {"token_budget", 60}, {"strategy", "turn"}});
    EXPECT_EQ(packed["mode"], "packed");
    EXPECT_LE(packed["tokens"].get<int>(), 60);
    EXPECT_EQ(packed["budget"], 60);
    EXPECT_TRUE(contains(packed["text"], "Lisbon"));
    EXPECT_FALSE(contains(packed["text"], "bicycle"));
    ASSERT_FALSE(packed["items"].empty());
    EXPECT_EQ(packed["items"][0]["session_id"], "family");
    // The query from a conversation; the current session left out.
    json from_chat =
        tool_ok("get_context", {{"conversation", {{{"role", "user"}, {"content", "what bike did I buy?"}}}},
                                {"exclude_session_id", "family"}});
    EXPECT_FALSE(contains(from_chat["text"], "Lisbon"));
    EXPECT_TRUE(contains(from_chat["text"], "bicycle"));

    // Nothing fits: an empty context, said so in the text the model reads.
    json none = call_tool("get_context",
                          {{"query", "where does my sister live"}, {"full_history", false}, {"token_budget", 5}});
    EXPECT_EQ(none["isError"], false);
    EXPECT_EQ(none["structuredContent"]["mode"], "empty");
    EXPECT_TRUE(contains(none["content"][0]["text"], "no memories")) << none.dump();

    EXPECT_TRUE(contains(tool_error("get_context", json::object()), "'query'"));
    EXPECT_TRUE(contains(tool_error("get_context", {{"query", "x"}, {"token_budget", 0}}), "token_budget"));
    EXPECT_TRUE(contains(tool_error("get_context", {{"query", "x"}, {"strategy", "all"}}), "strategy"));
    EXPECT_EQ(tool_error("get_context", {{"cube", "nobody"}, {"query", "x"}}).rfind("not_found: ", 0), 0u);
}

TEST_F(McpToolsTest, TheCubeArgumentOverridesTheDefault) {
    tool_ok("add_memory", {{"cube", "work"}, {"text", "The deadline is Friday"}});
    EXPECT_TRUE(memory_->get_cube("work").is_ok());
    EXPECT_FALSE(memory_->get_cube("home").is_ok());
    EXPECT_FALSE(tool_ok("search_memories", {{"cube", "work"}, {"query", "deadline"}})["hits"].empty());
    EXPECT_EQ(tool_error("search_memories", {{"query", "deadline"}}).rfind("not_found: ", 0), 0u);
    // null counts as absent: the default cube.
    tool_ok("add_memory", {{"cube", nullptr}, {"text", "at home"}});
    EXPECT_TRUE(memory_->get_cube("home").is_ok());
}

}  // namespace
}  // namespace kasten::api
