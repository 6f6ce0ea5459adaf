#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/http/auth.h"
#include "api/mcp/mcp_session.h"
#include "api/mcp/mcp_tools.h"
#include "memory/memory_manager.h"

namespace kasten::api {

// The protocol version kasten speaks, and the older ones it accepts from clients that ask for them.
inline constexpr const char* kMcpProtocolVersion = "2025-06-18";
bool is_supported_mcp_version(std::string_view version);

// JSON-RPC 2.0 error codes.
inline constexpr int kJsonRpcParseError = -32700;
inline constexpr int kJsonRpcInvalidRequest = -32600;
inline constexpr int kJsonRpcMethodNotFound = -32601;
inline constexpr int kJsonRpcInvalidParams = -32602;
inline constexpr int kJsonRpcInternalError = -32603;

struct McpServerOptions {
    std::string server_version;  // serverInfo.version
    McpToolsOptions tools;
};

// The Model Context Protocol (2025-06-18) over kasten's memory, independent of the transport: one JSON-RPC message
// in, the reply out. It answers `initialize` (version negotiation: a client asking for a supported version gets it,
// any other gets 2025-06-18; capabilities: tools), `ping`, `tools/list` and `tools/call` (McpTools), takes the
// `notifications/initialized` and ignores other notifications and responses. Before `initialize` only `ping` is
// answered; unknown methods are -32601; malformed messages -32600; bad params and unknown tools -32602. A tool that
// fails answers a result with isError: true and the error as text (so the model sees it), not a JSON-RPC error —
// including a cube the caller may not use. Batches (JSON arrays) are accepted only in sessions that negotiated a
// version before 2025-06-18, which removed them. Thread-safe; never throws.
class McpServer {
  public:
    McpServer(memory::MemoryManager& memory, McpServerOptions options);

    // `message` is one parsed JSON-RPC message or batch. Returns the response (an array for a batch), or nullopt
    // when nothing is to be answered (notifications and responses only).
    std::optional<nlohmann::json> handle(const nlohmann::json& message, McpSession& session, const Principal& caller);
    // The same on text: invalid JSON answers a -32700 error. Returns "" when nothing is to be answered.
    std::string handle_text(std::string_view text, McpSession& session, const Principal& caller);

    // Parses one message's text: kInvalidArgument for invalid JSON (or JSON nested deeper than 64 levels).
    static Result<nlohmann::json> parse_message(std::string_view text);
    // True for a JSON-RPC request object whose method is "initialize".
    static bool is_initialize_request(const nlohmann::json& message);
    // {"jsonrpc": "2.0", "id": id, "error": {"code", "message"}}.
    static nlohmann::json error_response(const nlohmann::json& id, int code, const std::string& message);

    McpTools& tools() { return tools_; }

  private:
    std::optional<nlohmann::json> handle_one(const nlohmann::json& message, McpSession& session,
                                             const Principal& caller, bool in_batch);
    nlohmann::json initialize(const nlohmann::json& id, const nlohmann::json& params, McpSession& session,
                              bool in_batch);
    nlohmann::json call_tool(const nlohmann::json& id, const nlohmann::json& params, const Principal& caller);

    McpServerOptions options_;
    McpTools tools_;
};

}  // namespace kasten::api
