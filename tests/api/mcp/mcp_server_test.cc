#include "api/mcp/mcp_server.h"

#include <set>

#include "tests/api/mcp/mcp_fixture.h"

namespace kasten::api {
namespace {

using nlohmann::json;

class McpServerTest : public McpFixture {};

TEST_F(McpServerTest, InitializeAnswersTheProtocolVersionCapabilitiesAndServerInfo) {
    json r = initialize("2025-06-18");
    ASSERT_TRUE(r.contains("result")) << r.dump();
    EXPECT_EQ(r["result"]["protocolVersion"], "2025-06-18");
    EXPECT_EQ(r["result"]["capabilities"], json({{"tools", {{"listChanged", false}}}}));
    EXPECT_EQ(r["result"]["serverInfo"]["name"], "kasten");
    EXPECT_EQ(r["result"]["serverInfo"]["version"], "test");
    EXPECT_TRUE(r["result"]["instructions"].is_string());
    EXPECT_EQ(session_.protocol_version(), "2025-06-18");
    EXPECT_EQ(session_.client_name(), "gtest");
    EXPECT_TRUE(session_.initialized());
}

TEST_F(McpServerTest, OlderSupportedVersionsAreAcceptedAndOthersGetTheLatest) {
    for (const std::string asked : {"2025-03-26", "2024-11-05", "2025-11-25", "1999-01-01"}) {
        McpSession session;
        json m = {{"jsonrpc", "2.0"},
                  {"id", "init"},
                  {"method", "initialize"},
                  {"params", {{"protocolVersion", asked}, {"capabilities", json::object()}}}};
        std::optional<json> r = server_->handle(m, session, caller_);
        ASSERT_TRUE(r) << asked;
        const std::string want = asked == "2025-03-26" || asked == "2024-11-05" ? asked : "2025-06-18";
        EXPECT_EQ((*r)["result"]["protocolVersion"], want) << asked;
        EXPECT_EQ((*r)["id"], "init");
        EXPECT_EQ(session.protocol_version(), want);
    }
}

TEST_F(McpServerTest, InitializeNeedsAProtocolVersionAndHappensOnce) {
    json r = request("initialize", {{"capabilities", json::object()}});
    EXPECT_EQ(r["error"]["code"], kJsonRpcInvalidParams) << r.dump();
    EXPECT_FALSE(session_.initialize_received());
    initialize();
    r = request("initialize", {{"protocolVersion", "2025-06-18"}});
    EXPECT_EQ(r["error"]["code"], kJsonRpcInvalidRequest) << r.dump();
    EXPECT_TRUE(contains(r["error"]["message"], "already initialized"));
}

TEST_F(McpServerTest, OnlyPingIsAnsweredBeforeInitialize) {
    json ping = request("ping");
    EXPECT_EQ(ping["result"], json::object()) << ping.dump();
    json list = request("tools/list");
    EXPECT_EQ(list["error"]["code"], kJsonRpcInvalidRequest) << list.dump();
    json call = request("tools/call", {{"name", "list_memories"}});
    EXPECT_EQ(call["error"]["code"], kJsonRpcInvalidRequest) << call.dump();
    initialize();
    EXPECT_TRUE(request("tools/list").contains("result"));
    EXPECT_EQ(request("ping")["result"], json::object());
}

TEST_F(McpServerTest, NotificationsAndResponsesAreNeverAnswered) {
    initialize();
    EXPECT_FALSE(send({{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 3}}}}));
    EXPECT_FALSE(send({{"jsonrpc", "2.0"}, {"method", "tools/list"}}));  // no id: a notification, even so
    EXPECT_FALSE(send({{"jsonrpc", "2.0"}, {"id", 7}, {"result", json::object()}}));
    EXPECT_FALSE(send({{"jsonrpc", "2.0"}, {"id", 8}, {"error", {{"code", -1}, {"message", "x"}}}}));
}

TEST_F(McpServerTest, MalformedMessagesAreJsonRpcErrors) {
    initialize();
    json parse_error = json::parse(server_->handle_text("{not json", session_, caller_));
    EXPECT_EQ(parse_error["error"]["code"], kJsonRpcParseError);
    EXPECT_TRUE(parse_error["id"].is_null());

    const std::string deep = std::string(100, '[') + std::string(100, ']');
    EXPECT_EQ(json::parse(server_->handle_text(deep, session_, caller_))["error"]["code"], kJsonRpcParseError);

    auto code_of = [&](const json& m) {
        std::optional<json> r = send(m);
        EXPECT_TRUE(r) << m.dump();
        return r ? (*r)["error"]["code"] : json();
    };
    EXPECT_EQ(code_of(json(42)), kJsonRpcInvalidRequest);
    EXPECT_EQ(code_of({{"id", 1}, {"method", "ping"}}), kJsonRpcInvalidRequest);                      // no jsonrpc
    EXPECT_EQ(code_of({{"jsonrpc", "1.0"}, {"id", 1}, {"method", "ping"}}), kJsonRpcInvalidRequest);  // wrong one
    EXPECT_EQ(code_of({{"jsonrpc", "2.0"}, {"id", nullptr}, {"method", "ping"}}), kJsonRpcInvalidRequest);
    EXPECT_EQ(code_of({{"jsonrpc", "2.0"}, {"id", 1.5}, {"method", "ping"}}), kJsonRpcInvalidRequest);
    EXPECT_EQ(code_of({{"jsonrpc", "2.0"}, {"id", 1}, {"method", 5}}), kJsonRpcInvalidRequest);
    EXPECT_EQ(code_of({{"jsonrpc", "2.0"}, {"id", 1}}), kJsonRpcInvalidRequest);
    EXPECT_EQ(code_of({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/list"}, {"params", json::array()}}),
              kJsonRpcInvalidParams);
    // The id of a readable request is echoed, a string as a string.
    std::optional<json> r = send({{"jsonrpc", "2.0"}, {"id", "abc"}, {"method", "resources/list"}});
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["id"], "abc");
    EXPECT_EQ((*r)["error"]["code"], kJsonRpcMethodNotFound);
}

TEST_F(McpServerTest, ToolsListDescribesEveryToolWithAStrictSchema) {
    initialize();
    json r = request("tools/list");
    ASSERT_TRUE(r.contains("result")) << r.dump();
    std::set<std::string> names;
    for (const json& tool : r["result"]["tools"]) {
        const std::string name = tool["name"];
        names.insert(name);
        EXPECT_TRUE(tool["description"].is_string()) << name;
        EXPECT_TRUE(tool["title"].is_string()) << name;
        EXPECT_EQ(tool["inputSchema"]["type"], "object") << name;
        EXPECT_EQ(tool["inputSchema"]["additionalProperties"], false) << name;
        EXPECT_EQ(tool["inputSchema"]["properties"]["cube"]["type"], "string") << name;
        EXPECT_TRUE(tool["annotations"]["readOnlyHint"].is_boolean()) << name;
    }
    EXPECT_EQ(names, (std::set<std::string>{"add_memory", "search_memories", "get_context", "list_memories",
                                            "get_memory", "update_memory", "delete_memory", "memory_history"}));
    for (const json& tool : r["result"]["tools"]) {
        if (tool["name"] == "search_memories") {
            EXPECT_EQ(tool["inputSchema"]["properties"]["top_k"]["maximum"], 20);  // the configured max_top_k
            EXPECT_EQ(tool["inputSchema"]["required"], json::array({"query"}));
        }
        if (tool["name"] == "delete_memory") {
            EXPECT_EQ(tool["annotations"]["destructiveHint"], true);
        }
    }
}

TEST_F(McpServerTest, ToolsCallProtocolErrors) {
    initialize();
    json r = request("tools/call", {{"name", "no_such_tool"}, {"arguments", json::object()}});
    EXPECT_EQ(r["error"]["code"], kJsonRpcInvalidParams);
    EXPECT_TRUE(contains(r["error"]["message"], "no_such_tool"));
    r = request("tools/call", {{"arguments", json::object()}});
    EXPECT_EQ(r["error"]["code"], kJsonRpcInvalidParams);
    r = request("tools/call", {{"name", "list_memories"}, {"arguments", json::array()}});
    EXPECT_EQ(r["error"]["code"], kJsonRpcInvalidParams);
    // Absent arguments are {}.
    r = request("tools/call", {{"name", "list_memories"}});
    EXPECT_EQ(r["result"]["isError"], true) << r.dump();  // the default cube does not exist yet
}

TEST_F(McpServerTest, AnAddedMemoryIsFoundBySearch) {
    initialize();
    json added = tool_ok("add_memory", {{"text", "I adopted a beagle named Biscuit"}, {"session_id", "s1"}});
    EXPECT_EQ(added["cube"], "home");
    EXPECT_EQ(added["session_id"], "s1");
    ASSERT_EQ(added["turn_ids"].size(), 1u);
    json found = tool_ok("search_memories", {{"query", "what is my beagle called"}, {"top_k", 3}});
    ASSERT_FALSE(found["hits"].empty()) << found.dump();
    EXPECT_EQ(found["hits"][0]["id"], added["turn_ids"][0]);
    EXPECT_TRUE(contains(found["hits"][0]["text"], "Biscuit"));
}

TEST_F(McpServerTest, ToolFailuresAreResultsWithIsError) {
    initialize();
    EXPECT_TRUE(contains(tool_error("add_memory", {{"text", "x"}, {"colour", "red"}}), "unknown argument 'colour'"));
    EXPECT_TRUE(contains(tool_error("search_memories", {{"query", "x"}, {"top_k", 21}}), "top_k"));
    tool_ok("add_memory", {{"text", "hello"}});
    std::string missing = tool_error("get_memory", {{"id", "n_0000000000000000"}});
    EXPECT_EQ(missing.rfind("not_found: ", 0), 0u) << missing;
}

TEST_F(McpServerTest, ACubeTheCallerMayNotUseIsAToolErrorThatRevealsNothing) {
    initialize();
    tool_ok("add_memory", {{"cube", "bob"}, {"text", "Bob's secret"}});
    caller_ = Principal{"key:alic...", false, {"alice"}};
    tool_ok("add_memory", {{"cube", "alice"}, {"text", "Alice likes tea"}});
    const std::string existing = tool_error("search_memories", {{"cube", "bob"}, {"query", "secret"}});
    const std::string absent = tool_error("search_memories", {{"cube", "carol"}, {"query", "secret"}});
    EXPECT_EQ(existing.rfind("permission_denied: ", 0), 0u) << existing;
    EXPECT_EQ(absent.rfind("permission_denied: ", 0), 0u) << absent;
    EXPECT_TRUE(contains(existing, "'bob'"));
    EXPECT_FALSE(contains(existing, "secret"));
    // No cube argument: the server's default cube, which this key may not use either.
    EXPECT_EQ(tool_error("list_memories", json::object()).rfind("permission_denied: ", 0), 0u);
    EXPECT_FALSE(tool_ok("search_memories", {{"cube", "alice"}, {"query", "tea"}})["hits"].empty());
}

TEST_F(McpServerTest, BatchesOnlyWithVersionsBefore20250618) {
    initialize("2025-06-18");
    std::optional<json> r = send(json::array({{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}}));
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["error"]["code"], kJsonRpcInvalidRequest);

    McpSession old;
    std::optional<json> init = server_->handle(
        {{"jsonrpc", "2.0"}, {"id", 0}, {"method", "initialize"}, {"params", {{"protocolVersion", "2025-03-26"}}}}, old,
        caller_);
    ASSERT_TRUE(init && init->contains("result"));
    json batch = json::array({{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}},
                              {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}},
                              {{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}}});
    r = server_->handle(batch, old, caller_);
    ASSERT_TRUE(r && r->is_array()) << (r ? r->dump() : "none");
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0]["id"], 1);
    EXPECT_EQ((*r)[1]["result"]["tools"].size(), 8u);
    EXPECT_TRUE(old.initialized());
    // Notifications only: nothing to answer. initialize may not be batched; an empty batch is invalid.
    EXPECT_FALSE(
        server_->handle(json::array({{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}}), old, caller_));
    r = server_->handle(json::array({{{"jsonrpc", "2.0"},
                                      {"id", 3},
                                      {"method", "initialize"},
                                      {"params", {{"protocolVersion", "2025-03-26"}}}}}),
                        old, caller_);
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)[0]["error"]["code"], kJsonRpcInvalidRequest);
    r = server_->handle(json::array(), old, caller_);
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["error"]["code"], kJsonRpcInvalidRequest);
}

TEST(McpProtocolVersion, Supported) {
    EXPECT_TRUE(is_supported_mcp_version("2025-06-18"));
    EXPECT_TRUE(is_supported_mcp_version("2025-03-26"));
    EXPECT_TRUE(is_supported_mcp_version("2024-11-05"));
    EXPECT_FALSE(is_supported_mcp_version("2024-10-07"));
    EXPECT_FALSE(is_supported_mcp_version(""));
}

}  // namespace
}  // namespace kasten::api
