#include "api/mcp/mcp_http_endpoint.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/http/api_service.h"
#include "llm/hashing_embedder.h"

namespace kasten::api {
namespace {

using nlohmann::json;

// /mcp through ApiService::handle, as kasten serve's HTTP transport calls it.
class McpHttpEndpointTest : public ::testing::Test {
  protected:
    void open(std::map<std::string, std::vector<std::string>> keys = {}) {
        memory::MemoryOptions options;
        options.in_memory = true;
        options.embedder = std::make_shared<llm::HashingEmbedder>(64);
        options.clock = &clock_;
        auto m = memory::MemoryManager::open(std::move(options));
        ASSERT_TRUE(m.is_ok()) << m.status().to_string();
        memory_ = std::move(m).value();
        ApiServiceOptions o;
        o.version = "test";
        o.api_keys = api_keys_from_map(keys);
        o.mcp_default_cube = "alice";
        service_ = std::make_unique<ApiService>(*memory_, o);
    }

    HttpRequest post(const json& message, const std::string& session = "", const std::string& key = "") {
        HttpRequest r;
        r.method = "POST";
        r.target = "/mcp";
        r.body = message.dump();
        r.headers["content-type"] = "application/json";
        r.headers["accept"] = "application/json, text/event-stream";
        if (!session.empty()) {
            r.headers["mcp-session-id"] = session;
            r.headers["mcp-protocol-version"] = "2025-06-18";
        }
        if (!key.empty()) r.headers["authorization"] = "Bearer " + key;
        return r;
    }

    static json rpc(int id, const std::string& method, const json& params = json::object()) {
        return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
    }
    static json init_message() {
        return rpc(0, "initialize",
                   {{"protocolVersion", "2025-06-18"},
                    {"capabilities", json::object()},
                    {"clientInfo", {{"name", "gtest"}, {"version", "1"}}}});
    }

    static std::string header(const HttpResponse& r, const std::string& name) {
        for (const auto& [n, v] : r.headers) {
            if (n == name) return v;
        }
        return "";
    }

    // initialize + notifications/initialized; the session id.
    std::string start_session(const std::string& key = "") {
        HttpResponse r = service_->handle(post(init_message(), "", key));
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(r.content_type, "application/json");
        const std::string id = header(r, "Mcp-Session-Id");
        EXPECT_EQ(id.size(), 32u);
        HttpResponse note =
            service_->handle(post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, id, key));
        EXPECT_EQ(note.status, 202) << note.body;
        EXPECT_TRUE(note.body.empty());
        return id;
    }

    // A POST that must answer 200; its JSON-RPC reply.
    json call(const json& message, const std::string& session, const std::string& key = "") {
        HttpResponse r = service_->handle(post(message, session, key));
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(r.route, "/mcp");
        return json::parse(r.body, nullptr, false);
    }

    // A transport error: its HTTP status and a JSON-RPC error body with id null.
    static void expect_transport_error(const HttpResponse& r, int status) {
        EXPECT_EQ(r.status, status) << r.body;
        json j = json::parse(r.body, nullptr, false);
        ASSERT_TRUE(j.is_object()) << r.body;
        EXPECT_EQ(j["jsonrpc"], "2.0");
        EXPECT_TRUE(j["id"].is_null());
        EXPECT_TRUE(j["error"]["code"].is_number_integer());
        EXPECT_TRUE(j["error"]["message"].is_string());
    }

    FakeClock clock_{1717000000000};
    std::unique_ptr<memory::MemoryManager> memory_;
    std::unique_ptr<ApiService> service_;
};

TEST_F(McpHttpEndpointTest, InitializeIssuesASessionThatLaterRequestsUse) {
    open();
    HttpResponse r = service_->handle(post(init_message()));
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string session = header(r, "Mcp-Session-Id");
    ASSERT_FALSE(session.empty());
    for (char c : session) EXPECT_TRUE(c >= 0x21 && c <= 0x7e);  // visible ASCII, as the spec requires
    json init = json::parse(r.body);
    EXPECT_EQ(init["result"]["protocolVersion"], "2025-06-18");
    EXPECT_EQ(init["id"], 0);
    // Each initialize opens its own session.
    EXPECT_NE(header(service_->handle(post(init_message())), "Mcp-Session-Id"), session);

    json tools = call(rpc(1, "tools/list"), session);
    EXPECT_EQ(tools["result"]["tools"].size(), 8u);
    json added =
        call(rpc(2, "tools/call", {{"name", "add_memory"}, {"arguments", {{"text", "I live in Porto"}}}}), session);
    EXPECT_EQ(added["result"]["structuredContent"]["cube"], "alice");  // --mcp-cube
    json found = call(
        rpc(3, "tools/call", {{"name", "search_memories"}, {"arguments", {{"query", "where do I live"}}}}), session);
    EXPECT_EQ(found["result"]["structuredContent"]["hits"][0]["text"], "I live in Porto") << found.dump();
}

TEST_F(McpHttpEndpointTest, SessionHeaderRules) {
    open();
    expect_transport_error(service_->handle(post(rpc(1, "tools/list"))), 400);  // no Mcp-Session-Id
    expect_transport_error(service_->handle(post(rpc(1, "tools/list"), "0123456789abcdef0123456789abcdef")), 404);
    const std::string session = start_session();
    HttpRequest bad_version = post(rpc(1, "tools/list"), session);
    bad_version.headers["mcp-protocol-version"] = "1999-01-01";
    expect_transport_error(service_->handle(bad_version), 400);
    HttpRequest older = post(rpc(1, "tools/list"), session);
    older.headers["mcp-protocol-version"] = "2025-03-26";
    EXPECT_EQ(service_->handle(older).status, 200);
    HttpRequest no_version = post(rpc(1, "tools/list"), session);
    no_version.headers.erase("mcp-protocol-version");
    EXPECT_EQ(service_->handle(no_version).status, 200);
}

TEST_F(McpHttpEndpointTest, DeleteEndsTheSession) {
    open();
    const std::string session = start_session();
    HttpRequest del;
    del.method = "DELETE";
    del.target = "/mcp";
    del.headers["mcp-session-id"] = session;
    HttpResponse r = service_->handle(del);
    EXPECT_EQ(r.status, 204) << r.body;
    expect_transport_error(service_->handle(post(rpc(1, "ping"), session)), 404);
    expect_transport_error(service_->handle(del), 404);
    del.headers.erase("mcp-session-id");
    expect_transport_error(service_->handle(del), 400);
}

TEST_F(McpHttpEndpointTest, GetAndOtherMethodsAre405) {
    open();
    for (const char* method : {"GET", "PUT", "PATCH", "OPTIONS"}) {
        HttpRequest r;
        r.method = method;
        r.target = "/mcp";
        HttpResponse res = service_->handle(r);
        expect_transport_error(res, 405);
        EXPECT_EQ(header(res, "Allow"), "POST, DELETE") << method;
        EXPECT_EQ(res.route, "/mcp");
    }
}

TEST_F(McpHttpEndpointTest, ContentNegotiationAndBodies) {
    open();
    HttpRequest text = post(init_message());
    text.headers["content-type"] = "text/plain";
    expect_transport_error(service_->handle(text), 415);
    HttpRequest charset = post(init_message());
    charset.headers["content-type"] = "Application/JSON; charset=utf-8";
    EXPECT_EQ(service_->handle(charset).status, 200);
    HttpRequest sse_only = post(init_message());
    sse_only.headers["accept"] = "text/event-stream";
    expect_transport_error(service_->handle(sse_only), 406);
    HttpRequest any = post(init_message());
    any.headers["accept"] = "*/*";
    EXPECT_EQ(service_->handle(any).status, 200);
    HttpRequest broken = post(init_message());
    broken.body = "{\"jsonrpc\":";
    HttpResponse r = service_->handle(broken);
    expect_transport_error(r, 400);
    EXPECT_EQ(json::parse(r.body)["error"]["code"], kJsonRpcParseError);
    HttpRequest query = post(init_message());
    query.target = "/mcp?x=1";
    expect_transport_error(service_->handle(query), 400);
    // A failed initialize opens no session.
    HttpResponse failed = service_->handle(post(rpc(0, "initialize", {{"capabilities", json::object()}})));
    EXPECT_EQ(failed.status, 200);
    EXPECT_EQ(json::parse(failed.body)["error"]["code"], kJsonRpcInvalidParams);
    EXPECT_EQ(header(failed, "Mcp-Session-Id"), "");
}

TEST_F(McpHttpEndpointTest, WithoutKeysOnlyLoopbackOriginsAreServed) {
    open();
    HttpRequest evil = post(init_message());
    evil.headers["origin"] = "http://evil.example:8420";
    expect_transport_error(service_->handle(evil), 403);
    HttpRequest null_origin = post(init_message());
    null_origin.headers["origin"] = "null";
    expect_transport_error(service_->handle(null_origin), 403);
    for (const char* ok : {"http://localhost:6274", "http://127.0.0.1", "http://[::1]:3000"}) {
        HttpRequest local = post(init_message());
        local.headers["origin"] = ok;
        EXPECT_EQ(service_->handle(local).status, 200) << ok;
    }
}

TEST_F(McpHttpEndpointTest, WithKeysAKeyIsRequiredAndCubesAreAuthorised) {
    open({{"key-for-alice", {"alice"}}, {"key-for-admin", {"*"}}});
    HttpResponse no_key = service_->handle(post(init_message()));
    expect_transport_error(no_key, 401);
    EXPECT_EQ(header(no_key, "WWW-Authenticate"), "Bearer");
    expect_transport_error(service_->handle(post(init_message(), "", "wrong-key-123")), 401);

    const std::string admin = start_session("key-for-admin");
    json bob = call(
        rpc(1, "tools/call", {{"name", "add_memory"}, {"arguments", {{"cube", "bob"}, {"text", "Bob's PIN is 4321"}}}}),
        admin, "key-for-admin");
    EXPECT_EQ(bob["result"]["isError"], false);

    const std::string alice = start_session("key-for-alice");
    json denied =
        call(rpc(2, "tools/call", {{"name", "search_memories"}, {"arguments", {{"cube", "bob"}, {"query", "PIN"}}}}),
             alice, "key-for-alice");
    EXPECT_EQ(denied["result"]["isError"], true) << denied.dump();
    EXPECT_EQ(denied["result"]["structuredContent"]["error"]["type"], "permission_denied");
    EXPECT_EQ(denied["result"]["content"][0]["text"].get<std::string>().find("4321"), std::string::npos);
    json own = call(rpc(3, "tools/call", {{"name", "add_memory"}, {"arguments", {{"text", "Alice likes tea"}}}}), alice,
                    "key-for-alice");
    EXPECT_EQ(own["result"]["isError"], false) << own.dump();

    // A session belongs to the key that opened it: another key (or none) does not find it.
    expect_transport_error(service_->handle(post(rpc(4, "tools/list"), alice, "key-for-admin")), 404);
    expect_transport_error(service_->handle(post(rpc(4, "tools/list"), alice)), 401);
    HttpRequest del;
    del.method = "DELETE";
    del.target = "/mcp";
    del.headers["mcp-session-id"] = alice;
    del.headers["authorization"] = "Bearer key-for-admin";
    expect_transport_error(service_->handle(del), 404);
    // With keys, any Origin is served (the key is the guard).
    HttpRequest remote = post(init_message(), "", "key-for-alice");
    remote.headers["origin"] = "https://app.example.com";
    EXPECT_EQ(service_->handle(remote).status, 200);
}

TEST_F(McpHttpEndpointTest, RequestsAreCountedUnderTheMcpRoute) {
    open();
    start_session();
    HttpRequest metrics;
    metrics.method = "GET";
    metrics.target = "/metrics";
    HttpResponse r = service_->handle(metrics);
    EXPECT_NE(r.body.find("route=\"/mcp\",code=\"200\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("route=\"/mcp\",code=\"202\""), std::string::npos) << r.body;
}

TEST_F(McpHttpEndpointTest, ConcurrentRequestsOfOneSessionAndOfSeveral) {
    open();
    const std::string shared = start_session();
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            const std::string own = t % 2 == 0 ? shared : start_session();
            for (int i = 0; i < 10; ++i) {
                json args = {{"text", "message " + std::to_string(t) + "-" + std::to_string(i)}, {"session_id", "s"}};
                HttpResponse r =
                    service_->handle(post(rpc(i, "tools/call", {{"name", "add_memory"}, {"arguments", args}}), own));
                json j = json::parse(r.body, nullptr, false);
                if (r.status != 200 || !j.is_object() || j["result"]["isError"] != false) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    auto session = memory_->get_session("alice", "s");
    ASSERT_TRUE(session.is_ok());
    EXPECT_EQ(session.value().turns.size(), 40u);
}

TEST(McpHttpEndpointSessions, TheSessionIdleLongestIsEvictedAtTheLimit) {
    memory::MemoryOptions options;
    options.in_memory = true;
    options.embedder = std::make_shared<llm::HashingEmbedder>(64);
    auto memory = memory::MemoryManager::open(std::move(options));
    ASSERT_TRUE(memory.is_ok());
    Authenticator auth({});
    McpHttpOptions o;
    o.max_sessions = 2;
    McpHttpEndpoint endpoint(*memory.value(), auth, o);
    auto init = [&] {
        HttpRequest r;
        r.method = "POST";
        r.target = "/mcp";
        r.headers["content-type"] = "application/json";
        r.body = json({{"jsonrpc", "2.0"},
                       {"id", 1},
                       {"method", "initialize"},
                       {"params", {{"protocolVersion", "2025-06-18"}}}})
                     .dump();
        HttpResponse res = endpoint.handle(r);
        for (const auto& [n, v] : res.headers) {
            if (n == "Mcp-Session-Id") return v;
        }
        return std::string();
    };
    auto ping = [&](const std::string& session) {
        HttpRequest r;
        r.method = "POST";
        r.target = "/mcp";
        r.headers["content-type"] = "application/json";
        r.headers["mcp-session-id"] = session;
        r.body = R"({"jsonrpc":"2.0","id":2,"method":"ping"})";
        return endpoint.handle(r).status;
    };
    const std::string first = init();
    const std::string second = init();
    EXPECT_EQ(ping(first), 200);  // first is now the most recently used
    const std::string third = init();
    EXPECT_EQ(endpoint.session_count(), 2u);
    EXPECT_EQ(ping(first), 200);
    EXPECT_EQ(ping(second), 404);
    EXPECT_EQ(ping(third), 200);
}

}  // namespace
}  // namespace kasten::api
