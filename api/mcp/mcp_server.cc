#include "api/mcp/mcp_server.h"

#include <algorithm>
#include <exception>

#include "api/dto/json_body.h"
#include "api/dto/json_codec.h"
#include "common/json_text.h"
#include "common/log.h"

namespace kasten::api {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 64;
constexpr const char* kSupportedVersions[] = {"2025-06-18", "2025-03-26", "2024-11-05"};
constexpr const char* kInstructions =
    "kasten is the user's long-term memory. Store what is worth remembering from the conversation with add_memory; "
    "before answering questions about the user's past, preferences or plans, call get_context (the relevant "
    "memories packed under a token budget, ready to read) or search_memories (granularity 'note' for distilled "
    "facts, 'turn' for what was said). Notes are built from added turns in the "
    "background; correct them with update_memory (every version is kept, see memory_history) and remove them with "
    "delete_memory.";

json success(const json& id, json result) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

// The params of a request: an object, or absent/null (= {}). nullopt for anything else.
std::optional<json> params_of(const json& message) {
    auto it = message.find("params");
    if (it == message.end() || it->is_null()) return json::object();
    if (!it->is_object()) return std::nullopt;
    return *it;
}

}  // namespace

bool is_supported_mcp_version(std::string_view version) {
    return std::any_of(std::begin(kSupportedVersions), std::end(kSupportedVersions),
                       [&](const char* v) { return version == v; });
}

McpServer::McpServer(memory::MemoryManager& memory, McpServerOptions options)
    : options_(std::move(options)), tools_(memory, options_.tools) {}

Result<json> McpServer::parse_message(std::string_view text) {
    return parse_json_text<json>(text, "the message", kMaxDepth);
}

bool McpServer::is_initialize_request(const json& message) {
    if (!message.is_object()) return false;
    auto method = message.find("method");
    return method != message.end() && method->is_string() && *method == "initialize" && message.contains("id");
}

json McpServer::error_response(const json& id, int code, const std::string& message) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

std::string McpServer::handle_text(std::string_view text, McpSession& session, const Principal& caller) {
    Result<json> message = parse_message(text);
    if (!message.is_ok()) return dump_json(error_response(nullptr, kJsonRpcParseError, message.status().message()));
    std::optional<json> reply = handle(message.value(), session, caller);
    return reply ? dump_json(*reply) : std::string();
}

std::optional<json> McpServer::handle(const json& message, McpSession& session, const Principal& caller) {
    try {
        if (!message.is_array()) return handle_one(message, session, caller, /*in_batch=*/false);
        if (message.empty()) return error_response(nullptr, kJsonRpcInvalidRequest, "the batch is empty");
        const std::string version = session.protocol_version();
        if (version.empty() || version >= kMcpProtocolVersion) {
            return error_response(nullptr, kJsonRpcInvalidRequest,
                                  std::string("JSON-RPC batches are not supported in protocol version ") +
                                      kMcpProtocolVersion + "; send one message at a time");
        }
        json replies = json::array();
        for (const json& m : message) {
            if (std::optional<json> r = handle_one(m, session, caller, /*in_batch=*/true)) replies.push_back(*r);
        }
        if (replies.empty()) return std::nullopt;
        return replies;
    } catch (const std::exception& e) {
        log::error("mcp: unexpected exception: {}", e.what());
        return error_response(nullptr, kJsonRpcInternalError, "internal error while handling the message");
    }
}

std::optional<json> McpServer::handle_one(const json& message, McpSession& session, const Principal& caller,
                                          bool in_batch) {
    if (!message.is_object()) {
        return error_response(nullptr, kJsonRpcInvalidRequest, "a JSON-RPC message must be an object");
    }
    const bool has_id = message.contains("id");
    json id = nullptr;
    if (has_id) {
        const json& raw = message["id"];
        if (!raw.is_string() && !raw.is_number_integer()) {
            return error_response(nullptr, kJsonRpcInvalidRequest, "'id' must be a string or an integer");
        }
        id = raw;
    }
    auto jsonrpc = message.find("jsonrpc");
    if (jsonrpc == message.end() || *jsonrpc != "2.0") {
        return error_response(id, kJsonRpcInvalidRequest, "'jsonrpc' must be \"2.0\"");
    }
    auto method_it = message.find("method");
    if (method_it == message.end()) {
        // A response to a request of ours: kasten sends none, so there is nothing to match it with.
        if (has_id && (message.contains("result") || message.contains("error"))) return std::nullopt;
        return error_response(id, kJsonRpcInvalidRequest, "the message has no 'method'");
    }
    if (!method_it->is_string()) return error_response(id, kJsonRpcInvalidRequest, "'method' must be a string");
    const std::string method = method_it->get<std::string>();

    if (!has_id) {  // a notification: never answered
        if (method == "notifications/initialized") session.mark_initialized();
        return std::nullopt;
    }
    std::optional<json> params = params_of(message);
    if (!params) return error_response(id, kJsonRpcInvalidParams, "'params' must be an object");

    if (method == "initialize") return initialize(id, *params, session, in_batch);
    if (method == "ping") return success(id, json::object());
    if (!session.initialize_received()) {
        return error_response(id, kJsonRpcInvalidRequest,
                              "the session is not initialized: send 'initialize' first (only 'ping' is answered "
                              "before it)");
    }
    if (method == "tools/list") return success(id, {{"tools", tools_.definitions()}});
    if (method == "tools/call") return call_tool(id, *params, caller);
    return error_response(
        id, kJsonRpcMethodNotFound,
        "method '" + method.substr(0, 64) + "' not found (kasten offers tools: tools/list, tools/call; and ping)");
}

json McpServer::initialize(const json& id, const json& params, McpSession& session, bool in_batch) {
    if (in_batch) return error_response(id, kJsonRpcInvalidRequest, "'initialize' must not be part of a batch");
    auto requested = params.find("protocolVersion");
    if (requested == params.end() || !requested->is_string()) {
        return error_response(id, kJsonRpcInvalidParams, "'params.protocolVersion' is required (a string)");
    }
    const std::string version =
        is_supported_mcp_version(requested->get<std::string>()) ? requested->get<std::string>() : kMcpProtocolVersion;
    std::string client_name;
    if (auto info = params.find("clientInfo"); info != params.end() && info->is_object()) {
        if (auto name = info->find("name"); name != info->end() && name->is_string()) client_name = *name;
    }
    if (!session.begin(version, client_name)) {
        return error_response(id, kJsonRpcInvalidRequest, "the session is already initialized");
    }
    log::info("mcp: client '{}' initialized (protocol {}, asked for {})", client_name.substr(0, 64), version,
              requested->get<std::string>().substr(0, 32));
    return success(id,
                   {{"protocolVersion", version},
                    {"capabilities", {{"tools", {{"listChanged", false}}}}},
                    {"serverInfo",
                     {{"name", "kasten"}, {"title", "kasten long-term memory"}, {"version", options_.server_version}}},
                    {"instructions", kInstructions}});
}

json McpServer::call_tool(const json& id, const json& params, const Principal& caller) {
    auto name = params.find("name");
    if (name == params.end() || !name->is_string()) {
        return error_response(id, kJsonRpcInvalidParams, "'params.name' is required (the tool's name)");
    }
    json arguments = json::object();
    if (auto args = params.find("arguments"); args != params.end() && !args->is_null()) {
        if (!args->is_object())
            return error_response(id, kJsonRpcInvalidParams, "'params.arguments' must be an object");
        arguments = *args;
    }
    const std::string tool = name->get<std::string>();
    if (!tools_.has(tool)) {
        return error_response(id, kJsonRpcInvalidParams, "unknown tool '" + tool.substr(0, 64) + "'");
    }
    Result<McpToolResult> result = tools_.call(tool, arguments, caller);
    if (result.is_ok()) {
        return success(id, {{"content", json::array({{{"type", "text"}, {"text", result.value().text}}})},
                            {"structuredContent", result.value().structured},
                            {"isError", false}});
    }
    const Status& st = result.status();
    const std::string type(status_code_name(st.code()));
    if (st.code() == StatusCode::kInternal || st.code() == StatusCode::kIOError ||
        st.code() == StatusCode::kCorruption) {
        log::error("mcp: tool {} failed: {}", tool, st.to_string());
    } else {
        log::debug("mcp: tool {} answered an error: {}", tool, st.to_string());
    }
    return success(id, {{"content", json::array({{{"type", "text"}, {"text", type + ": " + st.message()}}})},
                        {"structuredContent", {{"error", {{"type", type}, {"message", st.message()}}}}},
                        {"isError", true}});
}

}  // namespace kasten::api
