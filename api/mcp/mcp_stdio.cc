#include "api/mcp/mcp_stdio.h"

#include <istream>
#include <ostream>
#include <string>

#include "api/mcp/mcp_session.h"

namespace kasten::api {

Status serve_mcp_stdio(McpServer& server, std::istream& in, std::ostream& out, const Principal& caller) {
    McpSession session;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const std::string reply = server.handle_text(line, session, caller);
        if (reply.empty()) continue;
        out << reply << '\n';
        out.flush();
        if (!out) return Status::io_error("cannot write to the MCP client (stdout closed)");
    }
    return Status::ok();
}

}  // namespace kasten::api
