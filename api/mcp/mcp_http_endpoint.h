#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api/http/api_service.h"
#include "api/http/auth.h"
#include "api/mcp/mcp_server.h"
#include "api/mcp/mcp_session.h"

namespace kasten::api {

struct McpHttpOptions {
    McpServerOptions server;
    // Sessions beyond this evict the one idle longest; a session idle this long is dropped.
    std::size_t max_sessions = 1024;
    std::chrono::seconds idle_timeout{std::chrono::hours(1)};
};

// The MCP streamable HTTP transport (2025-06-18) on one endpoint (kasten serve: /mcp), over an McpServer.
//   POST   a JSON-RPC message (Content-Type application/json; Accept, when given, must allow application/json).
//          An `initialize` request starts a session: its answer carries the new Mcp-Session-Id. Every other POST
//          must carry that header (missing: 400; unknown, ended or another key's session: 404). Replies are
//          application/json; a POST holding no request (notifications, responses) answers 202 with no body.
//          An MCP-Protocol-Version header must name a supported version (else 400).
//   GET    405 (kasten sends no server-initiated messages, so it offers no SSE stream).
//   DELETE ends the session named by Mcp-Session-Id (204; 404 when unknown).
// Authentication is the REST API's: with API keys configured every request needs a key (401 otherwise) and a tool
// call on a cube the key may not use is a tool error. A session is bound to the key that opened it. Without API
// keys (loopback only), a request whose Origin header is not a loopback origin is refused (403), against DNS
// rebinding. Transport errors have a JSON-RPC error body with id null. Thread-safe.
class McpHttpEndpoint {
  public:
    McpHttpEndpoint(memory::MemoryManager& memory, const Authenticator& auth, McpHttpOptions options);

    HttpResponse handle(const HttpRequest& request);
    std::size_t session_count() const;

  private:
    struct SessionEntry {
        McpSession session;
        Principal owner;
        std::chrono::steady_clock::time_point last_used;  // guarded by sessions_mutex_
    };

    HttpResponse post(const HttpRequest& request, const Principal& caller);
    HttpResponse end_session(const HttpRequest& request, const Principal& caller);
    // The session named by the request's Mcp-Session-Id header, if it exists and belongs to `caller`.
    std::shared_ptr<SessionEntry> find_session(const std::string& id, const Principal& caller);
    std::string add_session(std::shared_ptr<SessionEntry> entry);

    McpServer server_;
    const Authenticator& auth_;
    McpHttpOptions options_;
    mutable std::mutex sessions_mutex_;
    std::map<std::string, std::shared_ptr<SessionEntry>> sessions_;
};

}  // namespace kasten::api
