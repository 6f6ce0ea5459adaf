#include "api/dto/request_parser.h"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "api/dto/json_body.h"
#include "common/timestamp.h"
#include "memory/input_validation.h"
#include "memory/score_calibrator.h"

namespace kasten::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxMessages = 1000;
constexpr size_t kMaxListItems = 1000;
constexpr size_t kMaxShortField = 1024;  // ids, kinds, roles, keywords, tags, reasons (bytes)

Status bad(const std::string& field, const std::string& what) {
    return Status::invalid_argument("field '" + field + "': " + what);
}

Status require_only(const json& obj, const std::string& prefix, std::initializer_list<const char*> allowed,
                    const char* hint = nullptr) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return it.key() == a; });
        if (!known) {
            std::string msg = "unknown field '" + prefix + it.key() + "'";
            if (hint != nullptr) msg += std::string(" ") + hint;
            return Status::invalid_argument(msg);
        }
    }
    return Status::ok();
}

// The member, or nullptr when absent or null.
const json* member(const json& obj, const char* name) {
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

size_t code_points(std::string_view s) {
    return static_cast<size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// A string field. max_chars counts code points; 0 = kMaxShortField bytes.
Result<std::string> string_value(const json& v, const std::string& field, bool allow_empty, size_t max_chars) {
    if (!v.is_string()) return bad(field, "expected a string");
    std::string s = v.get<std::string>();
    Status st = memory::validate_text(field, s, allow_empty);
    if (!st.is_ok())
        return bad(field,
                   allow_empty || !s.empty() ? "must be valid UTF-8 without NUL characters" : "must not be empty");
    if (max_chars == 0) {
        if (s.size() > kMaxShortField) return bad(field, "longer than " + std::to_string(kMaxShortField) + " bytes");
    } else if (code_points(s) > max_chars) {
        return bad(field, "longer than " + std::to_string(max_chars) + " characters");
    }
    return s;
}

Result<std::optional<std::string>> optional_string(const json& obj, const std::string& prefix, const char* name,
                                                   bool allow_empty, size_t max_chars = 0) {
    const json* v = member(obj, name);
    if (v == nullptr) return std::optional<std::string>();
    KASTEN_ASSIGN_OR_RETURN(std::string s, string_value(*v, prefix + name, allow_empty, max_chars));
    return std::optional<std::string>(std::move(s));
}

// An id field (session, turn, note, cube): [A-Za-z0-9._:-]{1,128}, so "../x" or a 200-character id is refused
// here, not looked up.
Result<std::optional<std::string>> optional_identifier(const json& obj, const std::string& prefix, const char* name) {
    KASTEN_ASSIGN_OR_RETURN(auto s, optional_string(obj, prefix, name, false));
    if (s && !memory::validate_identifier(prefix + name, *s).is_ok()) {
        return bad(prefix + name, "must be 1-128 of A-Z a-z 0-9 . _ : -");
    }
    return s;
}

Result<std::optional<TimeMs>> optional_time(const json& obj, const std::string& prefix, const char* name) {
    const json* v = member(obj, name);
    if (v == nullptr) return std::optional<TimeMs>();
    const std::string field = prefix + name;
    if (!v->is_string()) return bad(field, "expected an ISO-8601 time string such as \"2024-05-30T14:00:00Z\"");
    Result<TimeMs> t = parse_timestamp(v->get<std::string>());
    if (!t.is_ok()) return bad(field, t.status().message());
    return std::optional<TimeMs>(t.value());
}

Result<std::optional<std::vector<std::string>>> optional_string_list(const json& obj, const std::string& prefix,
                                                                     const char* name) {
    const json* v = member(obj, name);
    if (v == nullptr) return std::optional<std::vector<std::string>>();
    const std::string field = prefix + name;
    if (!v->is_array()) return bad(field, "expected an array of strings");
    if (v->size() > kMaxListItems) return bad(field, "more than " + std::to_string(kMaxListItems) + " items");
    std::vector<std::string> out;
    for (size_t i = 0; i < v->size(); ++i) {
        KASTEN_ASSIGN_OR_RETURN(std::string s, string_value((*v)[i], field + "[" + std::to_string(i) + "]", false, 0));
        out.push_back(std::move(s));
    }
    return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<std::int64_t>> optional_int(const json& obj, const std::string& prefix, const char* name,
                                                 std::int64_t lo, std::int64_t hi) {
    const json* v = member(obj, name);
    if (v == nullptr) return std::optional<std::int64_t>();
    const std::string field = prefix + name;
    if (!v->is_number_integer()) return bad(field, "expected an integer");
    std::int64_t x;
    if (v->is_number_unsigned()) {
        std::uint64_t u = v->get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return bad(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
        }
        x = static_cast<std::int64_t>(u);
    } else {
        x = v->get<std::int64_t>();
    }
    if (x < lo || x > hi) return bad(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return std::optional<std::int64_t>(x);
}

Result<std::optional<bool>> optional_bool(const json& obj, const std::string& prefix, const char* name) {
    const json* v = member(obj, name);
    if (v == nullptr) return std::optional<bool>();
    if (!v->is_boolean()) return bad(prefix + name, "expected true or false");
    return std::optional<bool>(v->get<bool>());
}

Result<std::optional<double>> optional_unit_interval(const json& obj, const std::string& prefix, const char* name) {
    const json* v = member(obj, name);
    if (v == nullptr) return std::optional<double>();
    const std::string field = prefix + name;
    if (!v->is_number()) return bad(field, "expected a number");
    double d = v->get<double>();
    if (!(d >= 0.0 && d <= 1.0)) return bad(field, "must be between 0 and 1");
    return std::optional<double>(d);
}

Result<std::string> required_string(const json& obj, const std::string& prefix, const char* name, bool allow_empty,
                                    size_t max_chars = 0) {
    const json* v = member(obj, name);
    if (v == nullptr) return bad(prefix + name, "is required");
    return string_value(*v, prefix + name, allow_empty, max_chars);
}

Result<memory::AddMessagesRequest> parse_messages(const json& j, const RequestLimits& limits) {
    KASTEN_RETURN_IF_ERROR(require_only(j, "", {"messages", "session_id", "time", "background"},
                                        "(a body with 'messages' adds conversation turns; notes use 'content')"));
    memory::AddMessagesRequest req;
    const json& msgs = j.at("messages");
    if (!msgs.is_array()) return bad("messages", "expected an array of {\"role\", \"content\", \"time\"?} objects");
    if (msgs.empty()) return bad("messages", "must hold at least one message");
    if (msgs.size() > kMaxMessages) return bad("messages", "more than " + std::to_string(kMaxMessages) + " messages");
    for (size_t i = 0; i < msgs.size(); ++i) {
        const std::string prefix = "messages[" + std::to_string(i) + "].";
        const json& m = msgs[i];
        if (!m.is_object()) return bad("messages[" + std::to_string(i) + "]", "expected an object");
        KASTEN_RETURN_IF_ERROR(require_only(m, prefix, {"role", "content", "time"}));
        memory::MessageInput in;
        KASTEN_ASSIGN_OR_RETURN(in.role, required_string(m, prefix, "role", false));
        Status role_ok = memory::validate_role(in.role);
        if (!role_ok.is_ok()) return bad(prefix + "role", "must be one of user, assistant, system, tool");
        KASTEN_ASSIGN_OR_RETURN(
            in.content, required_string(m, prefix, "content", false, static_cast<size_t>(limits.max_content_chars)));
        KASTEN_ASSIGN_OR_RETURN(in.time, optional_time(m, prefix, "time"));
        req.messages.push_back(std::move(in));
    }
    KASTEN_ASSIGN_OR_RETURN(auto session, optional_identifier(j, "", "session_id"));
    req.session_id = session.value_or("");
    KASTEN_ASSIGN_OR_RETURN(req.time, optional_time(j, "", "time"));
    KASTEN_ASSIGN_OR_RETURN(auto background, optional_bool(j, "", "background"));
    req.background = background.value_or(false);
    return req;
}

Result<memory::NoteInput> parse_note(const json& j, const RequestLimits& limits) {
    KASTEN_RETURN_IF_ERROR(require_only(
        j, "",
        {"content", "kind", "keywords", "tags", "context", "valid_from", "valid_to", "importance", "source_turn_ids"},
        "(a body with 'content' adds a note; conversation turns use 'messages')"));
    memory::NoteInput note;
    KASTEN_ASSIGN_OR_RETURN(note.content,
                            required_string(j, "", "content", false, static_cast<size_t>(limits.max_content_chars)));
    KASTEN_ASSIGN_OR_RETURN(auto kind, optional_string(j, "", "kind", false));
    if (kind) note.kind = *kind;
    KASTEN_ASSIGN_OR_RETURN(auto keywords, optional_string_list(j, "", "keywords"));
    if (keywords) note.keywords = std::move(*keywords);
    KASTEN_ASSIGN_OR_RETURN(auto tags, optional_string_list(j, "", "tags"));
    if (tags) note.tags = std::move(*tags);
    KASTEN_ASSIGN_OR_RETURN(auto context,
                            optional_string(j, "", "context", true, static_cast<size_t>(limits.max_content_chars)));
    if (context) note.context = *context;
    KASTEN_ASSIGN_OR_RETURN(note.valid_from, optional_time(j, "", "valid_from"));
    KASTEN_ASSIGN_OR_RETURN(note.valid_to, optional_time(j, "", "valid_to"));
    if (note.valid_from && note.valid_to && *note.valid_to < *note.valid_from) {
        return bad("valid_to", "is before valid_from");
    }
    KASTEN_ASSIGN_OR_RETURN(auto importance, optional_unit_interval(j, "", "importance"));
    if (importance) note.importance = *importance;
    KASTEN_ASSIGN_OR_RETURN(auto sources, optional_string_list(j, "", "source_turn_ids"));
    if (sources) {
        for (size_t i = 0; i < sources->size(); ++i) {
            if (!memory::validate_identifier("source_turn_ids", (*sources)[i]).is_ok()) {
                return bad("source_turn_ids[" + std::to_string(i) + "]", "must be 1-128 of A-Z a-z 0-9 . _ : -");
            }
        }
        note.source_turn_ids = std::move(*sources);
    }
    return note;
}

Result<int> query_int(const std::map<std::string, std::string>& query, const char* name, int fallback, int lo, int hi) {
    auto it = query.find(name);
    if (it == query.end()) return fallback;
    const std::string& text = it->second;
    const std::string range = "must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi);
    if (text.empty() || text.size() > 10)
        return Status::invalid_argument("query parameter '" + std::string(name) + "' " + range);
    long long v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return Status::invalid_argument("query parameter '" + std::string(name) + "' " + range);
        }
        v = v * 10 + (c - '0');
    }
    if (v < lo || v > hi) return Status::invalid_argument("query parameter '" + std::string(name) + "' " + range);
    return static_cast<int>(v);
}

template <typename Fn>
auto guarded(Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const nlohmann::json::exception& e) {
        return Status::invalid_argument(std::string("the request body could not be read: ") + e.what());
    }
}

}  // namespace

Result<CreateCubeBody> parse_create_cube(std::string_view body) {
    return guarded([&]() -> Result<CreateCubeBody> {
        KASTEN_ASSIGN_OR_RETURN(json j, parse_json_object<json>(body));
        KASTEN_RETURN_IF_ERROR(require_only(j, "", {"id", "name"}));
        CreateCubeBody out;
        KASTEN_ASSIGN_OR_RETURN(out.id, required_string(j, "", "id", false));
        Status id_ok = memory::validate_identifier("id", out.id);
        if (!id_ok.is_ok()) return bad("id", "may contain only letters, digits and . _ : - (1 to 128 characters)");
        KASTEN_ASSIGN_OR_RETURN(auto name, optional_string(j, "", "name", true));
        out.name = name.value_or("");
        return out;
    });
}

Result<AddMemoriesBody> parse_add_memories(std::string_view body, const RequestLimits& limits) {
    return guarded([&]() -> Result<AddMemoriesBody> {
        KASTEN_ASSIGN_OR_RETURN(json j, parse_json_object<json>(body));
        const bool has_messages = j.contains("messages");
        const bool has_content = j.contains("content");
        if (has_messages && has_content) {
            return Status::invalid_argument(
                "give either 'messages' (conversation turns) or 'content' (a note), not both");
        }
        AddMemoriesBody out;
        if (has_messages) {
            KASTEN_ASSIGN_OR_RETURN(auto req, parse_messages(j, limits));
            out.messages = std::move(req);
        } else if (has_content) {
            KASTEN_ASSIGN_OR_RETURN(auto note, parse_note(j, limits));
            out.note = std::move(note);
        } else {
            return Status::invalid_argument("the body needs 'messages' (conversation turns) or 'content' (a note)");
        }
        return out;
    });
}

Result<memory::NotePatch> parse_note_patch(std::string_view body, const RequestLimits& limits) {
    return guarded([&]() -> Result<memory::NotePatch> {
        KASTEN_ASSIGN_OR_RETURN(json j, parse_json_object<json>(body));
        KASTEN_RETURN_IF_ERROR(require_only(j, "",
                                            {"content", "kind", "keywords", "tags", "context", "valid_from", "valid_to",
                                             "importance", "status", "reason"}));
        memory::NotePatch patch;
        const auto max_content = static_cast<size_t>(limits.max_content_chars);
        KASTEN_ASSIGN_OR_RETURN(patch.content, optional_string(j, "", "content", false, max_content));
        KASTEN_ASSIGN_OR_RETURN(patch.kind, optional_string(j, "", "kind", false));
        KASTEN_ASSIGN_OR_RETURN(patch.keywords, optional_string_list(j, "", "keywords"));
        KASTEN_ASSIGN_OR_RETURN(patch.tags, optional_string_list(j, "", "tags"));
        KASTEN_ASSIGN_OR_RETURN(patch.context, optional_string(j, "", "context", true, max_content));
        KASTEN_ASSIGN_OR_RETURN(patch.valid_from, optional_time(j, "", "valid_from"));
        KASTEN_ASSIGN_OR_RETURN(patch.valid_to, optional_time(j, "", "valid_to"));
        if (patch.valid_from && patch.valid_to && *patch.valid_to < *patch.valid_from) {
            return bad("valid_to", "is before valid_from");
        }
        KASTEN_ASSIGN_OR_RETURN(patch.importance, optional_unit_interval(j, "", "importance"));
        KASTEN_ASSIGN_OR_RETURN(auto status, optional_string(j, "", "status", false));
        if (status) {
            store::NoteStatus s;
            if (!store::parse_note_status(*status, &s)) {
                return bad("status", "must be one of active, superseded, archived, deleted");
            }
            patch.status = s;
        }
        KASTEN_ASSIGN_OR_RETURN(auto reason, optional_string(j, "", "reason", false));
        if (reason) patch.reason = *reason;
        const bool any = patch.content || patch.kind || patch.keywords || patch.tags || patch.context ||
                         patch.valid_from || patch.valid_to || patch.importance || patch.status;
        if (!any) return Status::invalid_argument("the patch changes nothing: give at least one field to change");
        return patch;
    });
}

Result<memory::SearchRequest> parse_search(std::string_view body, const RequestLimits& limits) {
    return guarded([&]() -> Result<memory::SearchRequest> {
        KASTEN_ASSIGN_OR_RETURN(json j, parse_json_object<json>(body));
        KASTEN_RETURN_IF_ERROR(require_only(j, "",
                                            {"query", "granularity", "top_k", "retriever", "filters", "as_of",
                                             "note_keys", "expand_links", "min_score"}));
        memory::SearchRequest req;
        const json* q = member(j, "query");
        if (q == nullptr) return bad("query", "is required");
        if (!q->is_string()) return bad("query", "expected a string");
        KASTEN_ASSIGN_OR_RETURN(req.query,
                                string_value(*q, "query", false, static_cast<size_t>(limits.max_query_chars)));
        if (req.query.find_first_not_of(" \t\r\n") == std::string::npos) return bad("query", "must not be blank");
        KASTEN_ASSIGN_OR_RETURN(auto granularity, optional_string(j, "", "granularity", false));
        if (granularity && !memory::parse_granularity(*granularity, &req.granularity)) {
            return bad("granularity", "must be one of turn, session, note");
        }
        KASTEN_ASSIGN_OR_RETURN(auto retriever, optional_string(j, "", "retriever", false));
        if (retriever && !memory::parse_retriever(*retriever, &req.retriever)) {
            return bad("retriever", "must be one of lexical, vector, hybrid");
        }
        KASTEN_ASSIGN_OR_RETURN(auto top_k, optional_int(j, "", "top_k", 1, limits.max_top_k));
        if (top_k) req.top_k = static_cast<int>(*top_k);
        if (const json* f = member(j, "filters")) {
            if (!f->is_object()) return bad("filters", "expected an object");
            KASTEN_RETURN_IF_ERROR(require_only(*f, "filters.", {"time_from", "time_to", "role", "session_id"}));
            KASTEN_ASSIGN_OR_RETURN(req.time_from, optional_time(*f, "filters.", "time_from"));
            KASTEN_ASSIGN_OR_RETURN(req.time_to, optional_time(*f, "filters.", "time_to"));
            if (req.time_from && req.time_to && *req.time_to < *req.time_from) {
                return bad("filters.time_to", "is before filters.time_from");
            }
            KASTEN_ASSIGN_OR_RETURN(req.role, optional_string(*f, "filters.", "role", false));
            if (req.role && !memory::validate_role(*req.role).is_ok()) {
                return bad("filters.role", "must be one of user, assistant, system, tool");
            }
            KASTEN_ASSIGN_OR_RETURN(req.session_id, optional_identifier(*f, "filters.", "session_id"));
        }
        KASTEN_ASSIGN_OR_RETURN(req.as_of, optional_time(j, "", "as_of"));
        KASTEN_ASSIGN_OR_RETURN(auto note_keys, optional_bool(j, "", "note_keys"));
        if (note_keys) req.note_keys = *note_keys;
        KASTEN_ASSIGN_OR_RETURN(auto expand_links, optional_bool(j, "", "expand_links"));
        if (expand_links) req.expand_links = *expand_links;
        KASTEN_ASSIGN_OR_RETURN(auto min_score, optional_unit_interval(j, "", "min_score"));
        req.min_score = min_score.value_or(memory::kDefaultMinScore);
        return req;
    });
}

Result<memory::ContextRequest> parse_context(std::string_view body, const RequestLimits& limits) {
    return guarded([&]() -> Result<memory::ContextRequest> {
        KASTEN_ASSIGN_OR_RETURN(json j, parse_json_object<json>(body));
        KASTEN_RETURN_IF_ERROR(require_only(j, "",
                                            {"query", "conversation", "exclude_session_id", "token_budget", "strategy",
                                             "full_history", "query_time", "min_score"}));
        memory::ContextRequest req;
        KASTEN_ASSIGN_OR_RETURN(auto query, optional_string(j, "", "query", false));
        if (query) {
            if (code_points(*query) > static_cast<size_t>(limits.max_query_chars)) {
                return bad("query", "longer than " + std::to_string(limits.max_query_chars) + " characters");
            }
            if (query->find_first_not_of(" \t\r\n") == std::string::npos) return bad("query", "must not be blank");
            req.query = *query;
        }
        if (const json* c = member(j, "conversation")) {
            json wrapped = json::object({{"messages", *c}});
            auto parsed = parse_messages(wrapped, limits);
            if (!parsed.is_ok()) {
                std::string msg = parsed.status().message();
                // The shared message parser names its fields "messages…"; here they are "conversation…".
                if (const size_t at = msg.find("messages"); at != std::string::npos) msg.replace(at, 8, "conversation");
                return Status::invalid_argument(msg);
            }
            req.conversation = std::move(parsed).value().messages;
        }
        if (req.query.empty()) {
            bool has_user = false;
            for (const auto& m : req.conversation) has_user = has_user || m.role == "user";
            if (!has_user) return bad("query", "is required (or a conversation with a user message)");
        }
        KASTEN_ASSIGN_OR_RETURN(req.exclude_session_id, optional_identifier(j, "", "exclude_session_id"));
        KASTEN_ASSIGN_OR_RETURN(auto budget, optional_int(j, "", "token_budget", 1, limits.max_context_tokens));
        if (budget) req.token_budget = static_cast<int>(*budget);
        KASTEN_ASSIGN_OR_RETURN(auto strategy, optional_string(j, "", "strategy", false));
        if (strategy && !memory::parse_context_strategy(*strategy, &req.strategy)) {
            return bad("strategy", "must be one of auto, turn, session, note");
        }
        KASTEN_ASSIGN_OR_RETURN(auto full, optional_bool(j, "", "full_history"));
        if (full) req.full_history = *full;
        KASTEN_ASSIGN_OR_RETURN(req.query_time, optional_time(j, "", "query_time"));
        KASTEN_ASSIGN_OR_RETURN(auto min_score, optional_unit_interval(j, "", "min_score"));
        if (min_score) req.min_score = *min_score;
        return req;
    });
}

Status check_query_names(const std::map<std::string, std::string>& query, const std::vector<std::string>& allowed) {
    for (const auto& [name, value] : query) {
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            std::string msg = "unknown query parameter '" + name.substr(0, 64) + "'";
            if (allowed.empty()) {
                msg += " (this route takes none)";
            } else {
                msg += " (expected";
                for (size_t i = 0; i < allowed.size(); ++i) msg += (i == 0 ? " " : ", ") + allowed[i];
                msg += ")";
            }
            return Status::invalid_argument(msg);
        }
    }
    return Status::ok();
}

Result<Paging> parse_paging(const std::map<std::string, std::string>& query) {
    Paging p;
    KASTEN_ASSIGN_OR_RETURN(p.limit, query_int(query, "limit", 50, 1, 1000));
    KASTEN_ASSIGN_OR_RETURN(p.offset, query_int(query, "offset", 0, 0, std::numeric_limits<int>::max()));
    return p;
}

Result<std::optional<store::NoteStatus>> parse_status_filter(const std::map<std::string, std::string>& query) {
    auto it = query.find("status");
    if (it == query.end() || it->second.empty()) return std::optional<store::NoteStatus>();
    store::NoteStatus s;
    if (!store::parse_note_status(it->second, &s)) {
        return Status::invalid_argument(
            "query parameter 'status' must be one of active, superseded, archived, deleted");
    }
    return std::optional<store::NoteStatus>(s);
}

}  // namespace kasten::api
