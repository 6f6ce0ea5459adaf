#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "memory/memory_manager.h"
#include "store/records.h"

namespace kasten::api {

// Limits applied while parsing requests (from Config).
struct RequestLimits {
    int max_query_chars = 4096;  // search query, in Unicode code points
    int max_top_k = 200;
    int max_content_chars = 100000;  // one message or note, in code points
    int max_context_tokens = 1 << 20;  // largest token_budget of a context request
};

// Strict parsing of REST request bodies and query strings into MemoryManager requests. Every error is
// kInvalidArgument and names the field at fault ("messages[2].role: ..."). Rules, for every body:
//   - the body is one JSON object (nesting at most 32 deep), valid UTF-8; strings have no NUL characters;
//   - unknown fields are rejected; a field set to null counts as absent;
//   - types are exact: integers must be JSON integers, times ISO-8601 strings (common/timestamp.h).
// The cube id comes from the URL and is left empty in the results. Thread-safe (pure functions).

struct CreateCubeBody {
    std::string id;
    std::string name;
};

// POST /v1/cubes/{cube}/memories: exactly one of the two is set.
struct AddMemoriesBody {
    std::optional<memory::AddMessagesRequest> messages;  // {"messages": [...], "session_id"?, "time"?}
    std::optional<memory::NoteInput> note;               // {"content": ..., "kind"?, ...}
};

struct Paging {
    int limit = 50;  // 1..1000
    int offset = 0;  // >= 0
};

Result<CreateCubeBody> parse_create_cube(std::string_view body);
Result<AddMemoriesBody> parse_add_memories(std::string_view body, const RequestLimits& limits);
// At least one field must be given. "reason" (default user_edit) is recorded with the version.
Result<memory::NotePatch> parse_note_patch(std::string_view body, const RequestLimits& limits);
// {"query", "granularity"?, "retriever"?, "top_k"?, "filters"?, "as_of"? (world time), "note_keys"? (bool, default
// true), "expand_links"? (bool, default true), "min_score"? (0..1, default memory::kDefaultMinScore)}.
Result<memory::SearchRequest> parse_search(std::string_view body, const RequestLimits& limits);

// POST /v1/cubes/{cube}/context: {query?, conversation?: [{role, content, time?}], exclude_session_id?,
// token_budget? (1..limits.max_context_tokens, default 4096), strategy? (auto|turn|session|note), full_history?,
// query_time?, min_score? ([0, 1])}. A query or a conversation with a user message is required.
Result<memory::ContextRequest> parse_context(std::string_view body, const RequestLimits& limits);

// Rejects query parameters not in `allowed`, naming the first one.
Status check_query_names(const std::map<std::string, std::string>& query, const std::vector<std::string>& allowed);
// "limit" and "offset" (both optional).
Result<Paging> parse_paging(const std::map<std::string, std::string>& query);
// "status" (optional; absent or empty = every status).
Result<std::optional<store::NoteStatus>> parse_status_filter(const std::map<std::string, std::string>& query);

}  // namespace kasten::api
