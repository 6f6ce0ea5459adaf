#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/dto/request_parser.h"
#include "api/http/auth.h"
#include "common/result.h"
#include "memory/memory_manager.h"
#include "memory/token_counter.h"

namespace kasten::api {

struct McpToolsOptions {
    // The cube a tool call works on when its arguments name none.
    std::string default_cube = "default";
    RequestLimits limits;
    // Counts the tokens of get_context's packed text: the served model's tokenizer when there is one; null = the
    // estimate (memory/token_counter.h).
    std::shared_ptr<const memory::TokenCounter> context_counter;
};

// What a tool call gives: its result object (structuredContent) and the text for the model (the object serialised,
// except get_context, whose text is the packed context itself).
struct McpToolResult {
    nlohmann::json structured;
    std::string text;
};

// The MCP tools kasten offers (docs/mcp.md), each a MemoryManager call mirroring a REST route: add_memory (turns of
// a session), search_memories, get_context, list_memories, get_memory, update_memory, delete_memory, memory_history.
// "Memories"
// are what the REST API calls them: notes (ids n_…) and conversation turns (ids t_…). Every tool takes an optional
// `cube` (default McpToolsOptions::default_cube) that the caller must be allowed to use.
// Arguments are checked strictly: unknown arguments, wrong types and bad values are kInvalidArgument naming the
// argument. Thread-safe (the MemoryManager is).
class McpTools {
  public:
    McpTools(memory::MemoryManager& memory, McpToolsOptions options);

    // The tool definitions for tools/list: [{name, title, description, inputSchema, annotations}], the input schemas
    // being JSON Schema objects that list every argument (additionalProperties: false).
    const nlohmann::json& definitions() const { return definitions_; }
    bool has(std::string_view name) const;

    // Runs a tool with `arguments` (a JSON object) for `caller`. Errors: kInvalidArgument (bad arguments, naming the
    // one at fault), kPermissionDenied (the caller may not use the cube, whether or not it exists), the MemoryManager's
    // errors (kNotFound for an absent cube, note or turn, ...), kNotFound for an unknown tool.
    Result<McpToolResult> call(std::string_view name, const nlohmann::json& arguments, const Principal& caller);

  private:
    using Handler = Result<nlohmann::json> (McpTools::*)(const std::string& cube, const nlohmann::json& arguments,
                                                         const Principal& caller);
    struct Tool {
        std::string name;
        Handler handler;
        std::vector<std::string> arguments;  // the names the input schema allows
    };

    Result<nlohmann::json> add_memory(const std::string& cube, const nlohmann::json& args, const Principal& caller);
    Result<nlohmann::json> search_memories(const std::string& cube, const nlohmann::json& args,
                                           const Principal& caller);
    Result<nlohmann::json> get_context(const std::string& cube, const nlohmann::json& args, const Principal& caller);
    Result<nlohmann::json> list_memories(const std::string& cube, const nlohmann::json& args, const Principal& caller);
    Result<nlohmann::json> get_memory(const std::string& cube, const nlohmann::json& args, const Principal& caller);
    Result<nlohmann::json> update_memory(const std::string& cube, const nlohmann::json& args, const Principal& caller);
    Result<nlohmann::json> delete_memory(const std::string& cube, const nlohmann::json& args, const Principal& caller);
    Result<nlohmann::json> memory_history(const std::string& cube, const nlohmann::json& args, const Principal& caller);

    memory::MemoryManager& memory_;
    McpToolsOptions options_;
    std::vector<Tool> tools_;
    nlohmann::json definitions_;
};

}  // namespace kasten::api
