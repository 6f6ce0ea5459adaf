#include "api/mcp/mcp_stdio.h"

#include <sstream>
#include <vector>

#include "tests/api/mcp/mcp_fixture.h"

namespace kasten::api {
namespace {

using nlohmann::json;

class McpStdioTest : public McpFixture {};

std::vector<json> lines_of(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) out.push_back(json::parse(line));
    return out;
}

TEST_F(McpStdioTest, OneReplyLinePerRequestLine) {
    std::istringstream in(
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})"
        "\n"
        R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
        "\r\n"
        "\n"
        "   \n"
        R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_memory","arguments":{"text":"line one\nline two"}}})"
        "\n"
        "{broken\n"
        R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search_memories","arguments":{"query":"line two"}}})");
    std::ostringstream out;
    ASSERT_TRUE(serve_mcp_stdio(*server_, in, out, caller_).is_ok());
    const std::string text = out.str();
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    std::vector<json> replies = lines_of(text);
    ASSERT_EQ(replies.size(), 4u) << text;
    EXPECT_EQ(replies[0]["id"], 1);
    EXPECT_EQ(replies[0]["result"]["protocolVersion"], "2025-06-18");
    EXPECT_EQ(replies[1]["id"], 2);
    EXPECT_EQ(replies[1]["result"]["isError"], false);
    EXPECT_EQ(replies[2]["error"]["code"], kJsonRpcParseError);
    EXPECT_TRUE(replies[2]["id"].is_null());
    EXPECT_EQ(replies[3]["id"], 3);
    EXPECT_EQ(replies[3]["result"]["structuredContent"]["hits"][0]["text"], "line one\nline two");
}

TEST_F(McpStdioTest, AClosedOutputEndsTheLoop) {
    std::istringstream in(R"({"jsonrpc":"2.0","id":1,"method":"ping"})"
                          "\n");
    std::ostringstream out;
    out.setstate(std::ios::badbit);
    EXPECT_EQ(serve_mcp_stdio(*server_, in, out, caller_).code(), StatusCode::kIOError);
}

TEST_F(McpStdioTest, EmptyInputEndsCleanly) {
    std::istringstream in("");
    std::ostringstream out;
    EXPECT_TRUE(serve_mcp_stdio(*server_, in, out, caller_).is_ok());
    EXPECT_TRUE(out.str().empty());
}

}  // namespace
}  // namespace kasten::api
