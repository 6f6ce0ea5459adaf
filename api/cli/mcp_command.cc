#include <signal.h>

#include <cstdint>
#include <iostream>

#include "api/cli/command.h"
#include "api/cli/runtime.h"
#include "api/mcp/mcp_server.h"
#include "api/mcp/mcp_stdio.h"
#include "common/log.h"
#include "memory/input_validation.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "mcp";
constexpr std::int64_t kJobGraceMs = 1500;

int run_mcp(const ParsedArgs& args) {
    if (!args.positionals.empty()) return usage_error(kName, "unexpected argument '" + args.positionals[0] + "'");
    const std::string cube = args.get("cube").value_or("default");
    if (!memory::validate_identifier("cube", cube).is_ok()) {
        return usage_error(kName, "--cube may contain only letters, digits and . _ : - (1 to 128 characters)");
    }
    // A client that goes away mid-reply ends the loop with an error instead of killing the process.
    signal(SIGPIPE, SIG_IGN);

    OpenOptions open_options;
    open_options.notes = true;            // added turns become notes, like `kasten add` and `kasten serve`
    open_options.background_jobs = true;  // built by a background thread while the client talks
    Result<Runtime> rt = open_runtime(args, open_options);
    if (!rt.is_ok()) return failure(kName, rt.status());
    const Config& config = rt.value().config;

    McpServerOptions options;
    options.server_version = KASTEN_VERSION;
    options.tools.default_cube = cube;
    options.tools.limits = {config.max_query_chars, config.max_top_k, config.max_content_chars};
    McpServer server(*rt.value().memory, options);
    log::info("mcp: serving on stdin/stdout (data dir {}, default cube {}, notes {})", config.data_dir, cube,
              rt.value().notes.description());

    const Principal caller{"mcp", /*all_cubes=*/true, {}};
    Status served = serve_mcp_stdio(server, std::cin, std::cout, caller);
    // The client is done: give the last turns' note jobs a moment (clients wait about 2 s before SIGTERM); jobs
    // still queued after it run at the next start.
    if (Status waited = rt.value().memory->wait_for_jobs(kJobGraceMs); !waited.is_ok()) {
        log::info("mcp: note jobs still queued at exit run at the next start ({})", waited.message());
    }
    Status flushed = rt.value().memory->flush();
    rt.value().memory.reset();
    if (!served.is_ok()) return failure(kName, served);
    if (!flushed.is_ok()) return failure(kName, flushed);
    return kExitOk;
}

}  // namespace

Command mcp_command() {
    Command c;
    c.name = kName;
    c.summary = "Serve the memory to an MCP client (Claude Desktop, ...) over stdio (docs/mcp.md).";
    c.usage = "kasten mcp [--cube C] [--notes MODE] [global options]";
    c.details =
        "Speaks the Model Context Protocol (2025-06-18; 2025-03-26 and 2024-11-05 accepted) on stdin/stdout:\n"
        "one JSON-RPC message per line in, one reply per line out; logs go to stderr. The client starts it as a\n"
        "subprocess and ends it by closing stdin. Tools: add_memory, search_memories, get_context, list_memories,\n"
        "get_memory, update_memory, delete_memory, memory_history; each takes an optional 'cube', default --cube "
        "(default\n"
        "'default'). Added turns become notes in a background thread (--notes heuristic, the default, or off).\n"
        "It owns the data dir while it runs, like `kasten serve` (which offers the same tools on POST /mcp).";
    c.examples =
        "  kasten mcp --cube alice\n"
        "  kasten mcp --data-dir /srv/kasten --cube alice --embedder hashing\n";
    c.flags = {
        {"cube", "C", "the cube tools use when a call names none (default 'default')"},
        {"notes", "MODE", "heuristic | off: build notes from added turns (default heuristic)"},
    };
    c.run = run_mcp;
    return c;
}

}  // namespace kasten::api
