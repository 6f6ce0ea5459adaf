#include "api/mcp/mcp_http_endpoint.h"

#include <algorithm>
#include <cctype>
#include <random>

#include <fmt/format.h>

#include "api/dto/json_codec.h"
#include "api/http/error_mapping.h"
#include "api/http/listen_policy.h"
#include "common/log.h"

namespace kasten::api {
namespace {

using nlohmann::json;

// Codes of transport-level errors in the JSON-RPC error body (the MCP SDKs use the same).
constexpr int kTransportError = -32000;
constexpr int kSessionNotFound = -32001;
constexpr const char* kAllow = "POST, DELETE";

std::optional<std::string> header(const HttpRequest& request, const char* name) {
    auto it = request.headers.find(name);
    if (it == request.headers.end()) return std::nullopt;
    return it->second;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

HttpResponse rpc_error(int http_status, int code, const std::string& message) {
    HttpResponse r;
    r.status = http_status;
    r.body = dump_json(McpServer::error_response(nullptr, code, message));
    return r;
}

// The media type of a Content-Type value without parameters, lower-cased ("application/json").
std::string media_type(std::string_view value) {
    std::string_view type = value.substr(0, value.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    return lower(type);
}

// Whether an Accept header allows an application/json answer.
bool accepts_json(std::string_view accept) {
    size_t start = 0;
    while (start <= accept.size()) {
        size_t end = accept.find(',', start);
        if (end == std::string_view::npos) end = accept.size();
        const std::string type = media_type(accept.substr(start, end - start));
        if (type == "application/json" || type == "application/*" || type == "*/*") return true;
        start = end + 1;
    }
    return false;
}

// The host of an Origin value ("http://localhost:3000" -> "localhost", "http://[::1]:80" -> "::1"); "" when the
// value is not a scheme://host[:port] origin (e.g. "null").
std::string origin_host(std::string_view origin) {
    const size_t scheme_end = origin.find("://");
    if (scheme_end == std::string_view::npos) return "";
    std::string_view rest = origin.substr(scheme_end + 3);
    rest = rest.substr(0, rest.find('/'));
    if (!rest.empty() && rest.front() == '[') {
        const size_t close = rest.find(']');
        return close == std::string_view::npos ? "" : lower(rest.substr(1, close - 1));
    }
    return lower(rest.substr(0, rest.find(':')));
}

// 128 bits from the system's random source, as 32 hex digits.
std::string new_session_id() {
    std::random_device rd;
    std::string out;
    for (int i = 0; i < 4; ++i) out += fmt::format("{:08x}", static_cast<std::uint32_t>(rd()));
    return out;
}

bool same_principal(const Principal& a, const Principal& b) {
    return a.actor == b.actor && a.all_cubes == b.all_cubes && a.cubes == b.cubes;
}

}  // namespace

McpHttpEndpoint::McpHttpEndpoint(memory::MemoryManager& memory, const Authenticator& auth, McpHttpOptions options)
    : server_(memory, options.server), auth_(auth), options_(std::move(options)) {}

std::size_t McpHttpEndpoint::session_count() const {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    return sessions_.size();
}

HttpResponse McpHttpEndpoint::handle(const HttpRequest& request) {
    if (request.target.find('?') != std::string::npos) {
        return rpc_error(400, kTransportError, "the MCP endpoint takes no query parameters");
    }
    if (request.method != "POST" && request.method != "DELETE") {
        HttpResponse r = rpc_error(405, kTransportError,
                                   "method " + request.method.substr(0, 16) +
                                       " is not allowed on the MCP endpoint: kasten offers no server-initiated "
                                       "stream (allowed: POST, DELETE)");
        r.headers.emplace_back("Allow", kAllow);
        return r;
    }
    if (auto origin = header(request, "origin"); origin && !auth_.enabled()) {
        if (!is_loopback_host(origin_host(*origin))) {
            return rpc_error(403, kTransportError,
                             "origin '" + origin->substr(0, 128) +
                                 "' is not allowed: without API keys the MCP endpoint only answers loopback origins");
        }
    }
    Result<Principal> caller = auth_.authenticate(header(request, "authorization"), header(request, "x-api-key"));
    if (!caller.is_ok()) {
        HttpResponse r = rpc_error(401, kTransportError, caller.status().message());
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
    }
    if (auto version = header(request, "mcp-protocol-version"); version && !is_supported_mcp_version(*version)) {
        return rpc_error(400, kTransportError,
                         "unsupported MCP-Protocol-Version '" + version->substr(0, 32) +
                             "' (supported: 2025-06-18, 2025-03-26, 2024-11-05)");
    }
    if (request.method == "DELETE") return end_session(request, caller.value());
    return post(request, caller.value());
}

HttpResponse McpHttpEndpoint::post(const HttpRequest& request, const Principal& caller) {
    auto content_type = header(request, "content-type");
    if (!content_type || media_type(*content_type) != "application/json") {
        return rpc_error(415, kTransportError, "the MCP endpoint takes Content-Type: application/json");
    }
    if (auto accept = header(request, "accept"); accept && !accepts_json(*accept)) {
        return rpc_error(406, kTransportError,
                         "the client must accept application/json (kasten answers every request with JSON)");
    }
    Result<json> message = McpServer::parse_message(request.body);
    if (!message.is_ok()) return rpc_error(400, kJsonRpcParseError, message.status().message());

    std::shared_ptr<SessionEntry> entry;
    const bool initialize = McpServer::is_initialize_request(message.value());
    if (initialize) {
        entry = std::make_shared<SessionEntry>();
        entry->owner = caller;
    } else {
        auto id = header(request, "mcp-session-id");
        if (!id || id->empty()) {
            return rpc_error(400, kTransportError,
                             "Bad Request: the Mcp-Session-Id header is required (send 'initialize' to get one)");
        }
        entry = find_session(*id, caller);
        if (entry == nullptr) {
            return rpc_error(404, kSessionNotFound, "Session not found: it ended or never existed; initialize again");
        }
    }

    std::optional<json> reply = server_.handle(message.value(), entry->session, caller);
    HttpResponse r;
    if (!reply) {
        r.status = 202;
        r.content_type.clear();
        return r;
    }
    r.body = dump_json(*reply);
    if (initialize && reply->contains("result")) {
        r.headers.emplace_back("Mcp-Session-Id", add_session(std::move(entry)));
    }
    return r;
}

HttpResponse McpHttpEndpoint::end_session(const HttpRequest& request, const Principal& caller) {
    auto id = header(request, "mcp-session-id");
    if (!id || id->empty())
        return rpc_error(400, kTransportError, "Bad Request: the Mcp-Session-Id header is required");
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    auto it = sessions_.find(*id);
    if (it == sessions_.end() || !same_principal(it->second->owner, caller)) {
        return rpc_error(404, kSessionNotFound, "Session not found: it ended or never existed");
    }
    sessions_.erase(it);
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    return r;
}

std::shared_ptr<McpHttpEndpoint::SessionEntry> McpHttpEndpoint::find_session(const std::string& id,
                                                                             const Principal& caller) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return nullptr;
    if (now - it->second->last_used > options_.idle_timeout) {
        sessions_.erase(it);
        return nullptr;
    }
    // Another key's session is reported as absent, exactly like an unknown one.
    if (!same_principal(it->second->owner, caller)) return nullptr;
    it->second->last_used = now;
    return it->second;
}

std::string McpHttpEndpoint::add_session(std::shared_ptr<SessionEntry> entry) {
    const auto now = std::chrono::steady_clock::now();
    entry->last_used = now;
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        it = now - it->second->last_used > options_.idle_timeout ? sessions_.erase(it) : std::next(it);
    }
    while (!sessions_.empty() && sessions_.size() >= std::max<std::size_t>(1, options_.max_sessions)) {
        auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
            return a.second->last_used < b.second->last_used;
        });
        log::info("mcp: {} sessions open: ending the one idle longest", sessions_.size());
        sessions_.erase(oldest);
    }
    std::string id = new_session_id();
    while (sessions_.count(id) != 0) id = new_session_id();
    sessions_.emplace(id, std::move(entry));
    return id;
}

}  // namespace kasten::api
