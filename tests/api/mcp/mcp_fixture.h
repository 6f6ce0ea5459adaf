#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/http/auth.h"
#include "api/mcp/mcp_server.h"
#include "common/clock.h"
#include "llm/hashing_embedder.h"
#include "memory/memory_manager.h"

namespace kasten::api {

// An in-memory MemoryManager (hashing embedder, no note builder) with an McpServer over it, and helpers that send
// JSON-RPC messages through one session.
class McpFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        memory::MemoryOptions options;
        options.in_memory = true;
        options.embedder = std::make_shared<llm::HashingEmbedder>(64);
        options.clock = &clock_;
        auto m = memory::MemoryManager::open(std::move(options));
        ASSERT_TRUE(m.is_ok()) << m.status().to_string();
        memory_ = std::move(m).value();
        McpServerOptions o;
        o.server_version = "test";
        o.tools.default_cube = "home";
        o.tools.limits = {/*max_query_chars=*/200, /*max_top_k=*/20, /*max_content_chars=*/1000};
        server_ = std::make_unique<McpServer>(*memory_, o);
    }

    std::optional<nlohmann::json> send(const nlohmann::json& message) {
        return server_->handle(message, session_, caller_);
    }

    nlohmann::json request(const std::string& method, const nlohmann::json& params = nlohmann::json::object()) {
        nlohmann::json m = {{"jsonrpc", "2.0"}, {"id", ++next_id_}, {"method", method}, {"params", params}};
        std::optional<nlohmann::json> reply = send(m);
        EXPECT_TRUE(reply.has_value()) << m.dump();
        if (!reply) return nullptr;
        EXPECT_EQ((*reply)["id"], next_id_) << reply->dump();
        EXPECT_EQ((*reply)["jsonrpc"], "2.0");
        return *reply;
    }

    nlohmann::json initialize(const std::string& version = "2025-06-18") {
        nlohmann::json r = request("initialize", {{"protocolVersion", version},
                                                  {"capabilities", nlohmann::json::object()},
                                                  {"clientInfo", {{"name", "gtest"}, {"version", "1"}}}});
        EXPECT_FALSE(send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}).has_value());
        return r;
    }

    // tools/call; the JSON-RPC result (which must not be a JSON-RPC error).
    nlohmann::json call_tool(const std::string& name, const nlohmann::json& arguments) {
        nlohmann::json r = request("tools/call", {{"name", name}, {"arguments", arguments}});
        EXPECT_TRUE(r.contains("result")) << r.dump();
        return r.contains("result") ? r["result"] : nlohmann::json();
    }

    // A successful tool call's structuredContent (checked against its text content).
    nlohmann::json tool_ok(const std::string& name, const nlohmann::json& arguments) {
        nlohmann::json result = call_tool(name, arguments);
        EXPECT_EQ(result["isError"], false) << name << " " << arguments.dump() << " -> " << result.dump();
        EXPECT_EQ(result["content"][0]["type"], "text");
        if (result["isError"] != false) return nlohmann::json::object();
        if (name == "get_context") {  // the text is the packed context itself
            if (!result["structuredContent"]["text"].get<std::string>().empty()) {
                EXPECT_EQ(result["content"][0]["text"], result["structuredContent"]["text"]);
            }
        } else {
            EXPECT_EQ(nlohmann::json::parse(result["content"][0]["text"].get<std::string>()),
                      result["structuredContent"]);
        }
        return result["structuredContent"];
    }

    // A failed tool call's error text ("<type>: <message>"); the structured error has the same type.
    std::string tool_error(const std::string& name, const nlohmann::json& arguments) {
        nlohmann::json result = call_tool(name, arguments);
        EXPECT_EQ(result["isError"], true) << name << " " << arguments.dump() << " -> " << result.dump();
        if (result["isError"] != true) return "";
        const std::string text = result["content"][0]["text"];
        EXPECT_EQ(text.rfind(result["structuredContent"]["error"]["type"].get<std::string>() + ": ", 0), 0u) << text;
        return text;
    }

    FakeClock clock_{1717000000000};
    std::unique_ptr<memory::MemoryManager> memory_;
    std::unique_ptr<McpServer> server_;
    McpSession session_;
    Principal caller_{"mcp-test", true, {}};
    int next_id_ = 0;
};

inline bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace kasten::api
