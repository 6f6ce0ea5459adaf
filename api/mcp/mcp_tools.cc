#include "api/mcp/mcp_tools.h"

#include <algorithm>
#include <limits>

#include "api/dto/json_codec.h"
#include "memory/input_validation.h"

namespace kasten::api {
namespace {

using nlohmann::json;

// The tool catalogue: name, title, description, input schema and annotations (MCP 2025-06-18 Tool).
constexpr const char* kDefinitions = R"json([
{
  "name": "add_memory",
  "title": "Add memory",
  "description": "Store conversation messages in long-term memory, as the turns of a session. Give either 'text' (one message, role 'user' unless 'role' says otherwise) or 'messages' (several, in order). Without 'session_id' a new session is started; with one, the turns are appended to that session. kasten then distils the turns into notes (facts, preferences, plans) in the background.",
  "inputSchema": {
    "type": "object",
    "properties": {
      "cube": {"type": "string", "description": "The memory cube (one user's memory). Default: the server's default cube."},
      "text": {"type": "string", "description": "A single message to store."},
      "role": {"type": "string", "enum": ["user", "assistant", "system", "tool"], "description": "The role of 'text' (default user)."},
      "messages": {
        "type": "array",
        "minItems": 1,
        "description": "Messages to store, in conversation order.",
        "items": {
          "type": "object",
          "properties": {
            "role": {"type": "string", "enum": ["user", "assistant", "system", "tool"]},
            "content": {"type": "string"},
            "time": {"type": "string", "description": "ISO-8601 time of the message, e.g. 2024-05-30T14:00:00Z."}
          },
          "required": ["role", "content"],
          "additionalProperties": false
        }
      },
      "session_id": {"type": "string", "description": "The session to add to (created when new). Default: a new session."},
      "time": {"type": "string", "description": "ISO-8601 time for messages that carry none. Default: now."}
    },
    "additionalProperties": false
  },
  "annotations": {"readOnlyHint": false, "destructiveHint": false, "idempotentHint": false, "openWorldHint": false}
},
{
  "name": "search_memories",
  "title": "Search memories",
  "description": "Search long-term memory (hybrid BM25 + vector search). granularity 'turn' returns single conversation turns, 'session' whole sessions (as transcripts), 'note' the distilled notes (facts, preferences, plans). Hits come best first, with their score, text and time.",
  "inputSchema": {
    "type": "object",
    "properties": {
      "cube": {"type": "string", "description": "The memory cube. Default: the server's default cube."},
      "query": {"type": "string", "minLength": 1, "description": "What to look for, in natural language."},
      "granularity": {"type": "string", "enum": ["turn", "session", "note"], "description": "What a hit is (default turn)."},
      "top_k": {"type": "integer", "minimum": 1, "description": "How many hits to return (default 10)."},
      "retriever": {"type": "string", "enum": ["hybrid", "lexical", "vector"], "description": "Default hybrid."},
      "as_of": {"type": "string", "description": "Notes: the facts as they stood at this ISO-8601 time (superseded notes included)."},
      "filters": {
        "type": "object",
        "properties": {
          "time_from": {"type": "string", "description": "ISO-8601, inclusive."},
          "time_to": {"type": "string", "description": "ISO-8601, inclusive."},
          "role": {"type": "string", "enum": ["user", "assistant", "system", "tool"]},
          "session_id": {"type": "string"}
        },
        "additionalProperties": false
      },
      "note_keys": {"type": "boolean", "description": "Turn and session granularity: also match notes and credit their sources (default true)."},
      "expand_links": {"type": "boolean", "description": "Note granularity: add linked notes (default true)."},
      "min_score": {"type": "number", "minimum": 0, "maximum": 1, "description": "List only hits whose calibrated score (0..1) is at least this (default 0.1): a query unrelated to the cube finds nothing."}
    },
    "required": ["query"],
    "additionalProperties": false
  },
  "annotations": {"readOnlyHint": true, "openWorldHint": false}
},
{
  "name": "get_context",
  "title": "Get memory context",
  "description": "What you should know from long-term memory to answer a query, packed under a token budget: the whole history when it fits, else the most relevant turns, sessions and notes, grouped by session in time order and dated. The text result is ready to read; call this before answering a question that may depend on earlier conversations. Give 'query', or 'conversation' (the chat so far; its last user message is the query).",
  "inputSchema": {
    "type": "object",
    "properties": {
      "cube": {"type": "string", "description": "The memory cube. Default: the server's default cube."},
      "query": {"type": "string", "minLength": 1, "description": "What the context is for."},
      "conversation": {
        "type": "array",
        "description": "The chat so far, oldest first; its last user message is the query when 'query' is absent.",
        "items": {
          "type": "object",
          "properties": {
            "role": {"type": "string", "enum": ["user", "assistant", "system", "tool"]},
            "content": {"type": "string"},
            "time": {"type": "string"}
          },
          "required": ["role", "content"],
          "additionalProperties": false
        }
      },
      "exclude_session_id": {"type": "string", "description": "The current chat's session: its turns are in the prompt already, so they are left out."},
      "token_budget": {"type": "integer", "minimum": 1, "description": "Tokens the context may use (default 4096)."},
      "strategy": {"type": "string", "enum": ["auto", "turn", "session", "note"], "description": "Which granularities to draw from (default auto: weighed per query)."},
      "full_history": {"type": "boolean", "description": "Give the whole history when it fits the budget (default true)."},
      "query_time": {"type": "string", "description": "ISO-8601 time relative dates in the query resolve against (default now)."},
      "min_score": {"type": "number", "minimum": 0, "maximum": 1, "description": "Leave out hits scoring below this (default 0)."}
    },
    "additionalProperties": false
  },
  "annotations": {"readOnlyHint": true, "openWorldHint": false}
},
{
  "name": "list_memories",
  "title": "List memories",
  "description": "List what a cube holds, newest first: its notes (default), its conversation turns or its sessions. Pages with 'limit' and 'offset'.",
  "inputSchema": {
    "type": "object",
    "properties": {
      "cube": {"type": "string", "description": "The memory cube. Default: the server's default cube."},
      "what": {"type": "string", "enum": ["notes", "turns", "sessions"], "description": "What to list (default notes)."},
      "status": {"type": "string", "enum": ["active", "superseded", "archived", "deleted"], "description": "Notes only: just the notes with this status (default: every status)."},
      "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "Default 50."},
      "offset": {"type": "integer", "minimum": 0, "description": "Default 0."}
    },
    "additionalProperties": false
  },
  "annotations": {"readOnlyHint": true, "openWorldHint": false}
},
{
  "name": "get_memory",
  "title": "Get memory",
  "description": "Read one memory by id: a note (id n_...) with its status, validity times, keywords and strength, or a conversation turn (id t_...).",
  "inputSchema": {
    "type": "object",
    "properties": {
      "cube": {"type": "string", "description": "The memory cube. Default: the server's default cube."},
      "id": {"type": "string", "description": "A note id (n_...) or a turn id (t_...)."}
    },
    "required": ["id"],
    "additionalProperties": false
  },
  "annotations": {"readOnlyHint": true, "openWorldHint": false}
},
{
  "name": "update_memory",
  "title": "Update memory",
  "description": "Change a note (id n_...): its content or other fields. Every change is kept as a new version (see memory_history); 'reason' is recorded with it. Turns cannot be changed.",
  "inputSchema": {
    "type": "object",
    "properties": {
      "cube": {"type": "string", "description": "The memory cube. Default: the server's default cube."},
      "id": {"type": "string", "description": "The note id (n_...)."},
      "content": {"type": "string", "minLength": 1},
      "kind": {"type": "string", "description": "fact, preference, plan, event, ..."},
      "keywords": {"type": "array", "items": {"type": "string"}},
      "tags": {"type": "array", "items": {"type": "string"}},
      "context": {"type": "string"},
      "valid_from": {"type": "string", "description": "ISO-8601 world time the note holds from."},
      "valid_to": {"type": "string", "description": "ISO-8601 world time the note stops holding."},
      "importance": {"type": "number", "minimum": 0, "maximum": 1},
      "status": {"type": "string", "enum": ["active", "superseded", "archived", "deleted"]},
      "reason": {"type": "string", "description": "Why it changed (default user_edit)."}
    },
    "required": ["id"],
    "additionalProperties": false
  },
  "annotations": {"readOnlyHint": false, "destructiveHint": false, "idempotentHint": false, "openWorldHint": false}
},
{
  "name": "delete_memory",
  "title": "Delete memory",
  "description": "Delete one memory for good: a note (id n_...) with its versions and links, or a conversation turn (id t_...).",
  "inputSchema": {
    "type": "object",
    "properties": {
      "cube": {"type": "string", "description": "The memory cube. Default: the server's default cube."},
      "id": {"type": "string", "description": "A note id (n_...) or a turn id (t_...)."}
    },
    "required": ["id"],
    "additionalProperties": false
  },
  "annotations": {"readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": false}
},
{
  "name": "memory_history",
  "title": "Memory history",
  "description": "Every version of a note (id n_...), oldest first, each with its content, status, reason and actor.",
  "inputSchema": {
    "type": "object",
    "properties": {
      "cube": {"type": "string", "description": "The memory cube. Default: the server's default cube."},
      "id": {"type": "string", "description": "The note id (n_...)."}
    },
    "required": ["id"],
    "additionalProperties": false
  },
  "annotations": {"readOnlyHint": true, "openWorldHint": false}
}
])json";

Status bad(const std::string& argument, const std::string& what) {
    return Status::invalid_argument("argument '" + argument + "': " + what);
}

// The member, or nullptr when absent or null (null counts as absent, as in the REST bodies).
const json* member(const json& args, const char* name) {
    auto it = args.find(name);
    if (it == args.end() || it->is_null()) return nullptr;
    return &*it;
}

Result<std::optional<std::string>> optional_string(const json& args, const char* name) {
    const json* v = member(args, name);
    if (v == nullptr) return std::optional<std::string>();
    if (!v->is_string()) return bad(name, "expected a string");
    return std::optional<std::string>(v->get<std::string>());
}

Result<std::string> required_id(const json& args) {
    KASTEN_ASSIGN_OR_RETURN(std::optional<std::string> id, optional_string(args, "id"));
    if (!id) return bad("id", "is required");
    if (Status st = memory::validate_text("id", *id, /*allow_empty=*/false); !st.is_ok()) {
        return bad("id", "must be a non-empty id such as n_… or t_…");
    }
    if (id->size() > 256) return bad("id", "longer than 256 bytes");
    return *id;
}

Result<std::optional<int>> optional_int(const json& args, const char* name, std::int64_t lo, std::int64_t hi) {
    const json* v = member(args, name);
    if (v == nullptr) return std::optional<int>();
    const std::string range = "must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi);
    if (!v->is_number_integer()) return bad(name, range);
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) return bad(name, range);
    const std::int64_t x = v->get<std::int64_t>();
    if (x < lo || x > hi) return bad(name, range);
    return std::optional<int>(static_cast<int>(x));
}

bool is_turn_id(const std::string& id) {
    return id.rfind("t_", 0) == 0;
}

// `args` without the named members: the rest is parsed by the REST body parsers, whose errors name the field.
std::string body_without(const json& args, std::initializer_list<const char*> names) {
    json body = args;
    for (const char* n : names) body.erase(n);
    return dump_json(body);
}

}  // namespace

McpTools::McpTools(memory::MemoryManager& memory, McpToolsOptions options)
    : memory_(memory), options_(std::move(options)), definitions_(json::parse(kDefinitions)) {
    for (json& d : definitions_) {
        if (d["name"] == "search_memories") {
            d["inputSchema"]["properties"]["top_k"]["maximum"] = options_.limits.max_top_k;
        }
        if (d["name"] == "get_context") {
            d["inputSchema"]["properties"]["token_budget"]["maximum"] = options_.limits.max_context_tokens;
        }
    }
    const std::vector<std::pair<std::string, Handler>> handlers = {
        {"add_memory", &McpTools::add_memory},       {"search_memories", &McpTools::search_memories},
        {"get_context", &McpTools::get_context},     {"list_memories", &McpTools::list_memories},
        {"get_memory", &McpTools::get_memory},       {"update_memory", &McpTools::update_memory},
        {"delete_memory", &McpTools::delete_memory}, {"memory_history", &McpTools::memory_history},
    };
    for (const auto& [name, handler] : handlers) {
        Tool tool{name, handler, {}};
        for (const json& d : definitions_) {
            if (d["name"] != name) continue;
            for (auto it = d["inputSchema"]["properties"].begin(); it != d["inputSchema"]["properties"].end(); ++it) {
                tool.arguments.push_back(it.key());
            }
        }
        tools_.push_back(std::move(tool));
    }
}

bool McpTools::has(std::string_view name) const {
    return std::any_of(tools_.begin(), tools_.end(), [&](const Tool& t) { return t.name == name; });
}

Result<McpToolResult> McpTools::call(std::string_view name, const json& arguments, const Principal& caller) {
    auto tool = std::find_if(tools_.begin(), tools_.end(), [&](const Tool& t) { return t.name == name; });
    if (tool == tools_.end()) return Status::not_found("unknown tool '" + std::string(name.substr(0, 64)) + "'");
    if (!arguments.is_object()) return Status::invalid_argument("the tool arguments must be a JSON object");
    for (auto it = arguments.begin(); it != arguments.end(); ++it) {
        if (std::find(tool->arguments.begin(), tool->arguments.end(), it.key()) == tool->arguments.end()) {
            std::string expected;
            for (const auto& a : tool->arguments) expected += (expected.empty() ? "" : ", ") + a;
            return Status::invalid_argument("unknown argument '" + it.key().substr(0, 64) + "' (" + tool->name +
                                            " takes " + expected + ")");
        }
    }
    KASTEN_ASSIGN_OR_RETURN(std::optional<std::string> cube, optional_string(arguments, "cube"));
    const std::string cube_id = cube.value_or(options_.default_cube);
    if (Status st = memory::validate_identifier("cube", cube_id); !st.is_ok()) {
        return bad("cube", "may contain only letters, digits and . _ : - (1 to 128 characters)");
    }
    KASTEN_RETURN_IF_ERROR(Authenticator::authorize_cube(caller, cube_id));
    Result<json> structured = Status::internal("the tool did not run");
    try {
        structured = (this->*(tool->handler))(cube_id, arguments, caller);
    } catch (const json::exception& e) {
        return Status::invalid_argument(std::string("the tool arguments could not be read: ") + e.what());
    }
    if (!structured.is_ok()) return structured.status();
    McpToolResult result;
    result.structured = std::move(structured).value();
    if (tool->name == "get_context") {
        const std::string& text = result.structured["text"].get_ref<const std::string&>();
        result.text = text.empty() ? "(kasten has no memories for this query in cube '" + cube_id + "')" : text;
    } else {
        result.text = dump_json(result.structured);
    }
    return result;
}

Result<json> McpTools::add_memory(const std::string& cube, const json& args, const Principal& caller) {
    const json* text = member(args, "text");
    const json* messages = member(args, "messages");
    if (text != nullptr && messages != nullptr) {
        return Status::invalid_argument("give either 'text' (one message) or 'messages', not both");
    }
    if (text == nullptr && messages == nullptr) {
        return Status::invalid_argument("nothing to add: give 'text' (one message) or 'messages'");
    }
    KASTEN_ASSIGN_OR_RETURN(std::optional<std::string> role, optional_string(args, "role"));
    json body = json::object();
    if (text != nullptr) {
        if (!text->is_string()) return bad("text", "expected a string");
        body["messages"] = json::array({{{"role", role.value_or("user")}, {"content", *text}}});
    } else {
        if (role) return bad("role", "goes with 'text'; give each of 'messages' its own role");
        body["messages"] = *messages;
    }
    if (const json* s = member(args, "session_id")) body["session_id"] = *s;
    if (const json* t = member(args, "time")) body["time"] = *t;
    Result<AddMemoriesBody> parsed = parse_add_memories(dump_json(body), options_.limits);
    if (!parsed.is_ok()) {
        // The body is ours; for 'text' the parser's field is messages[0].*, which the caller knows as text/role.
        std::string message = parsed.status().message();
        if (text != nullptr) {
            for (const auto& [from, to] : {std::pair<std::string, std::string>{"messages[0].content", "text"},
                                           std::pair<std::string, std::string>{"messages[0].role", "role"}}) {
                if (size_t pos = message.find(from); pos != std::string::npos) message.replace(pos, from.size(), to);
            }
        }
        return Status::invalid_argument(message);
    }
    memory::AddMessagesRequest request = std::move(*parsed.value().messages);
    request.cube_id = cube;
    request.actor = caller.actor;
    KASTEN_ASSIGN_OR_RETURN(memory::AddMessagesResult added,
                            memory_.add_messages(request, /*create_cube_if_missing=*/true));
    json out = add_messages_result_to_json(added);
    out["cube"] = cube;
    return out;
}

Result<json> McpTools::search_memories(const std::string& cube, const json& args, const Principal& /*caller*/) {
    KASTEN_ASSIGN_OR_RETURN(memory::SearchRequest request, parse_search(body_without(args, {"cube"}), options_.limits));
    request.cube_id = cube;
    KASTEN_ASSIGN_OR_RETURN(std::vector<memory::SearchHit> hits, memory_.search(request));
    json out = {
        {"cube", cube}, {"query", request.query}, {"granularity", memory::granularity_name(request.granularity)}};
    out["hits"] = json::array();
    for (const auto& h : hits) out["hits"].push_back(hit_to_json(h));
    return out;
}

Result<json> McpTools::get_context(const std::string& cube, const json& args, const Principal& /*caller*/) {
    KASTEN_ASSIGN_OR_RETURN(memory::ContextRequest request,
                            parse_context(body_without(args, {"cube"}), options_.limits));
    request.cube_id = cube;
    request.counter = options_.context_counter;
    KASTEN_ASSIGN_OR_RETURN(memory::PackedContext packed, memory_.build_context(request));
    json out = context_to_json(packed);
    out["cube"] = cube;
    return out;
}

Result<json> McpTools::list_memories(const std::string& cube, const json& args, const Principal& /*caller*/) {
    KASTEN_ASSIGN_OR_RETURN(std::optional<std::string> what_arg, optional_string(args, "what"));
    const std::string what = what_arg.value_or("notes");
    if (what != "notes" && what != "turns" && what != "sessions") {
        return bad("what", "must be one of notes, turns, sessions");
    }
    KASTEN_ASSIGN_OR_RETURN(std::optional<std::string> status_arg, optional_string(args, "status"));
    std::optional<store::NoteStatus> status;
    if (status_arg) {
        if (what != "notes") return bad("status", "applies to notes only");
        store::NoteStatus s;
        if (!store::parse_note_status(*status_arg, &s)) {
            return bad("status", "must be one of active, superseded, archived, deleted");
        }
        status = s;
    }
    KASTEN_ASSIGN_OR_RETURN(std::optional<int> limit, optional_int(args, "limit", 1, 1000));
    KASTEN_ASSIGN_OR_RETURN(std::optional<int> offset,
                            optional_int(args, "offset", 0, std::numeric_limits<int>::max()));
    const Paging paging{limit.value_or(50), offset.value_or(0)};
    json items = json::array();
    std::string key;
    if (what == "notes") {
        key = "memories";
        KASTEN_ASSIGN_OR_RETURN(std::vector<store::NoteRecord> notes,
                                memory_.list_notes(cube, status, paging.limit, paging.offset));
        for (const auto& n : notes) items.push_back(note_to_json(n));
    } else if (what == "turns") {
        key = "turns";
        KASTEN_ASSIGN_OR_RETURN(std::vector<store::TurnRecord> turns,
                                memory_.list_turns(cube, paging.limit, paging.offset));
        for (const auto& t : turns) items.push_back(turn_to_json(t));
    } else {
        key = "sessions";
        KASTEN_ASSIGN_OR_RETURN(std::vector<store::SessionRecord> sessions,
                                memory_.list_sessions(cube, paging.limit, paging.offset));
        for (const auto& s : sessions) items.push_back(session_to_json(s));
    }
    json out = {{"cube", cube}, {"what", what}, {"limit", paging.limit}, {"offset", paging.offset}};
    out[key] = std::move(items);
    return out;
}

Result<json> McpTools::get_memory(const std::string& cube, const json& args, const Principal& /*caller*/) {
    KASTEN_ASSIGN_OR_RETURN(std::string id, required_id(args));
    if (is_turn_id(id)) {
        KASTEN_ASSIGN_OR_RETURN(store::TurnRecord turn, memory_.get_turn(cube, id));
        return json{{"cube", cube}, {"type", "turn"}, {"turn", turn_to_json(turn)}};
    }
    KASTEN_ASSIGN_OR_RETURN(store::NoteRecord note, memory_.get_note(cube, id));
    return json{{"cube", cube}, {"type", "note"}, {"note", note_to_json(note)}};
}

Result<json> McpTools::update_memory(const std::string& cube, const json& args, const Principal& caller) {
    KASTEN_ASSIGN_OR_RETURN(std::string id, required_id(args));
    if (is_turn_id(id)) {
        return bad("id", "'" + id + "' is a conversation turn; turns cannot be changed (delete it or add a new one)");
    }
    KASTEN_ASSIGN_OR_RETURN(memory::NotePatch patch,
                            parse_note_patch(body_without(args, {"cube", "id"}), options_.limits));
    patch.actor = caller.actor;
    KASTEN_ASSIGN_OR_RETURN(store::NoteRecord note, memory_.patch_note(cube, id, patch));
    return json{{"cube", cube}, {"type", "note"}, {"note", note_to_json(note)}};
}

Result<json> McpTools::delete_memory(const std::string& cube, const json& args, const Principal& caller) {
    KASTEN_ASSIGN_OR_RETURN(std::string id, required_id(args));
    const bool turn = is_turn_id(id);
    KASTEN_RETURN_IF_ERROR(turn ? memory_.delete_turn(cube, id, caller.actor)
                                : memory_.delete_note(cube, id, caller.actor));
    return json{{"cube", cube}, {"type", turn ? "turn" : "note"}, {"id", id}, {"deleted", true}};
}

Result<json> McpTools::memory_history(const std::string& cube, const json& args, const Principal& /*caller*/) {
    KASTEN_ASSIGN_OR_RETURN(std::string id, required_id(args));
    if (is_turn_id(id)) return bad("id", "'" + id + "' is a conversation turn; only notes have versions");
    KASTEN_ASSIGN_OR_RETURN(std::vector<store::NoteVersionRecord> versions, memory_.note_history(cube, id));
    json out = {{"cube", cube}, {"note_id", id}, {"versions", json::array()}};
    for (const auto& v : versions) out["versions"].push_back(note_version_to_json(v));
    return out;
}

}  // namespace kasten::api
