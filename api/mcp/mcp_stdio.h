#pragma once

#include <iosfwd>

#include "api/http/auth.h"
#include "api/mcp/mcp_server.h"
#include "common/status.h"

namespace kasten::api {

// The MCP stdio transport: reads newline-delimited JSON-RPC messages from `in` (one message per line, blank lines
// skipped, a trailing \r ignored) and writes each reply to `out` as one line, flushed at once; nothing else is ever
// written to `out` (logs go to stderr). One session for the whole stream, every call made as `caller`. Returns at the
// end of `in`; kIOError when `out` can no longer be written (the client went away).
Status serve_mcp_stdio(McpServer& server, std::istream& in, std::ostream& out, const Principal& caller);

}  // namespace kasten::api
