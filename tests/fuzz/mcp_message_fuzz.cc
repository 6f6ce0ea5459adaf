// MCP JSON-RPC messages as the stdio and HTTP transports receive them (api/mcp/mcp_server.h: parse_message and the
// checks done before a message reaches the memory), and the error reply built for them.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "api/dto/json_codec.h"
#include "api/mcp/mcp_server.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::api;
    auto message = McpServer::parse_message(kasten::fuzz::as_text(data, size));
    if (!message.is_ok()) return 0;
    const nlohmann::json& m = message.value();
    (void)McpServer::is_initialize_request(m);
    if (m.is_object() && m.contains("params") && m["params"].is_object()) {
        const auto& params = m["params"];
        if (params.contains("protocolVersion") && params["protocolVersion"].is_string()) {
            (void)is_supported_mcp_version(params["protocolVersion"].get<std::string>());
        }
    }
    nlohmann::json id = m.is_object() && m.contains("id") ? m["id"] : nlohmann::json();
    nlohmann::json reply = McpServer::error_response(id, kJsonRpcInvalidRequest, "invalid request");
    KASTEN_FUZZ_CHECK(!dump_json(reply).empty());
    (void)dump_json(m);
    return 0;
}
