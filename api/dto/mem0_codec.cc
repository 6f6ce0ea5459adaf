#include "api/dto/mem0_codec.h"

#include <algorithm>
#include <cmath>

#include "api/dto/json_body.h"
#include "common/timestamp.h"
#include "memory/input_validation.h"

namespace kasten::api::mem0 {
namespace {

using nlohmann::json;

constexpr size_t kMaxMessages = 1000;

Status bad(const std::string& field, const std::string& what) {
    return Status::invalid_argument("field '" + field + "': " + what);
}

// The body as one JSON object; an empty body is {} when `empty_ok`.
Result<json> parse_object(std::string_view body, bool empty_ok) {
    if (empty_ok && body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
    return parse_json_object<json>(body);
}

Status require_only(const json& obj, std::initializer_list<const char*> allowed) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return it.key() == a; })) {
            return Status::invalid_argument("unknown field '" + it.key() + "'");
        }
    }
    return Status::ok();
}

// The value of `key` unless absent or null.
const json* field(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

Result<std::optional<std::string>> opt_string(const json& obj, const char* key) {
    const json* v = field(obj, key);
    if (v == nullptr) return std::optional<std::string>();
    if (!v->is_string()) return bad(key, "expected a string");
    KASTEN_RETURN_IF_ERROR(memory::validate_text(key, v->get_ref<const std::string&>(), false));
    return std::optional<std::string>(v->get<std::string>());
}

Result<std::optional<bool>> opt_bool(const json& obj, const char* key) {
    const json* v = field(obj, key);
    if (v == nullptr) return std::optional<bool>();
    if (!v->is_boolean()) return bad(key, "expected true or false");
    return std::optional<bool>(v->get<bool>());
}

Status check_chars(const std::string& name, const std::string& text, int max_chars) {
    size_t code_points = 0;
    for (unsigned char c : text) code_points += (c & 0xC0) != 0x80 ? 1 : 0;
    if (code_points > static_cast<size_t>(max_chars)) {
        return bad(name, "longer than " + std::to_string(max_chars) + " characters");
    }
    return Status::ok();
}

Result<Entities> parse_entities(const json& obj) {
    Entities e;
    for (const char* name : kEntityFields) {
        KASTEN_ASSIGN_OR_RETURN(*entity_slot(e, name), opt_string(obj, name));
    }
    return e;
}

// Unix seconds (integer or fraction) or an ISO-8601 string.
Result<TimeMs> time_field(const json& v, const std::string& name) {
    if (v.is_number()) {
        const double seconds = v.get<double>();
        if (!std::isfinite(seconds) || std::fabs(seconds) > 1e13) return bad(name, "not a Unix time in seconds");
        return static_cast<TimeMs>(std::llround(seconds * 1000.0));
    }
    if (v.is_string()) {
        Result<TimeMs> t = parse_timestamp(v.get<std::string>());
        if (!t.is_ok()) return bad(name, t.status().message());
        return t;
    }
    return bad(name, "expected Unix seconds or an ISO-8601 time");
}

Result<json> metadata_field(const json& obj) {
    const json* v = field(obj, "metadata");
    if (v == nullptr) return json();
    if (!v->is_object()) return bad("metadata", "expected an object");
    return *v;
}

// Adds the entity ids given beside the filters (older request shapes) and "categories" to `filter`.
Status add_common_filters(const json& obj, Mem0Filter* filter) {
    KASTEN_ASSIGN_OR_RETURN(Entities entities, parse_entities(obj));
    json extra = json::object();
    for (const char* name : kEntityFields) {
        if (const auto& v = *entity_slot(entities, name)) extra[name] = *v;
    }
    if (const json* categories = field(obj, "categories")) {
        if (!categories->is_array()) return bad("categories", "expected an array of strings");
        extra["categories"] = {{"in", *categories}};
    }
    KASTEN_ASSIGN_OR_RETURN(Mem0Filter more, Mem0Filter::parse(extra));
    filter->require(std::move(more));
    return Status::ok();
}

Result<Mem0Filter> filters_field(const json& obj) {
    const json* v = field(obj, "filters");
    if (v == nullptr) return Mem0Filter();
    if (!v->is_object()) return bad("filters", "expected an object");
    return Mem0Filter::parse(*v);
}

json time_or_null(const std::optional<TimeMs>& t) {
    return t ? json(format_timestamp(*t)) : json(nullptr);
}

json entity_or_null(const std::optional<std::string>& v) {
    return v ? json(*v) : json(nullptr);
}

}  // namespace

Result<AddRequest> parse_add(std::string_view body, const RequestLimits& limits) {
    KASTEN_ASSIGN_OR_RETURN(json j, parse_object(body, false));
    KASTEN_RETURN_IF_ERROR(require_only(j, {"messages",
                                            "user_id",
                                            "agent_id",
                                            "app_id",
                                            "run_id",
                                            "metadata",
                                            "infer",
                                            "async_mode",
                                            "timestamp",
                                            "output_format",
                                            "version",
                                            "custom_categories",
                                            "custom_instructions",
                                            "agent_custom_instructions",
                                            "includes",
                                            "excludes",
                                            "expiration_date",
                                            "immutable",
                                            "structured_data_schema",
                                            "enable_graph",
                                            "org_id",
                                            "project_id",
                                            "source"}));
    AddRequest r;
    const json* messages = field(j, "messages");
    if (messages == nullptr) return bad("messages", "required");
    if (messages->is_string()) {
        json copy = j;
        copy["messages"] = json::array({{{"role", "user"}, {"content", *messages}}});
        return parse_add(copy.dump(), limits);
    }
    if (!messages->is_array() || messages->empty()) return bad("messages", "expected a non-empty array");
    if (messages->size() > kMaxMessages) return bad("messages", "more than 1000 messages");
    for (size_t i = 0; i < messages->size(); ++i) {
        const std::string name = "messages[" + std::to_string(i) + "]";
        const json& m = (*messages)[i];
        if (!m.is_object()) return bad(name, "expected an object with role and content");
        for (auto it = m.begin(); it != m.end(); ++it) {
            if (it.key() != "role" && it.key() != "content" && it.key() != "name") {
                return Status::invalid_argument("unknown field '" + name + "." + it.key() + "'");
            }
        }
        const json* role = field(m, "role");
        const json* content = field(m, "content");
        if (role == nullptr || !role->is_string()) return bad(name + ".role", "expected a string");
        if (content == nullptr) return bad(name + ".content", "required");
        if (!content->is_string()) {
            return bad(name + ".content", "only text content is supported (no multimodal messages)");
        }
        memory::MessageInput in;
        in.role = role->get<std::string>();
        in.content = content->get<std::string>();
        KASTEN_RETURN_IF_ERROR(memory::validate_role(in.role).with_context(name + ".role"));
        KASTEN_RETURN_IF_ERROR(memory::validate_text(name + ".content", in.content, false));
        KASTEN_RETURN_IF_ERROR(check_chars(name + ".content", in.content, limits.max_content_chars));
        r.messages.push_back(std::move(in));
    }
    KASTEN_ASSIGN_OR_RETURN(r.entities, parse_entities(j));
    KASTEN_ASSIGN_OR_RETURN(r.metadata, metadata_field(j));
    KASTEN_ASSIGN_OR_RETURN(std::optional<bool> infer, opt_bool(j, "infer"));
    r.infer = infer.value_or(true);
    KASTEN_ASSIGN_OR_RETURN(std::optional<bool> async_mode, opt_bool(j, "async_mode"));
    r.async_mode = async_mode.value_or(false);
    if (const json* t = field(j, "timestamp")) {
        KASTEN_ASSIGN_OR_RETURN(TimeMs time, time_field(*t, "timestamp"));
        r.time = time;
    }
    return r;
}

Result<SearchRequest> parse_search(std::string_view body, const RequestLimits& limits) {
    KASTEN_ASSIGN_OR_RETURN(json j, parse_object(body, false));
    KASTEN_RETURN_IF_ERROR(require_only(
        j, {"query",   "filters",        "top_k",      "threshold",       "metadata",      "categories",
            "user_id", "agent_id",       "app_id",     "run_id",          "output_format", "version",
            "rerank",  "keyword_search", "fields",     "latest_only",     "show_expired",  "reference_date",
            "source",  "org_id",         "project_id", "filter_memories", "limit"}));
    SearchRequest r;
    KASTEN_ASSIGN_OR_RETURN(std::optional<std::string> query, opt_string(j, "query"));
    if (!query) return bad("query", "required (a non-empty string)");
    KASTEN_RETURN_IF_ERROR(check_chars("query", *query, limits.max_query_chars));
    r.query = std::move(*query);
    KASTEN_ASSIGN_OR_RETURN(r.filter, filters_field(j));
    KASTEN_RETURN_IF_ERROR(add_common_filters(j, &r.filter));
    KASTEN_ASSIGN_OR_RETURN(json metadata, metadata_field(j));
    if (!metadata.is_null()) {
        KASTEN_ASSIGN_OR_RETURN(Mem0Filter m, Mem0Filter::parse(json{{"metadata", metadata}}));
        r.filter.require(std::move(m));
    }
    for (const char* key : {"top_k", "limit"}) {
        if (const json* v = field(j, key)) {
            if (!v->is_number_integer() || v->get<std::int64_t>() < 1 || v->get<std::int64_t>() > limits.max_top_k) {
                return bad(key, "expected an integer in 1.." + std::to_string(limits.max_top_k));
            }
            r.top_k = v->get<int>();
        }
    }
    if (const json* v = field(j, "threshold")) {
        if (!v->is_number()) return bad("threshold", "expected a number");
        r.threshold = v->get<double>();
    }
    if (const json* v = field(j, "reference_date")) {
        KASTEN_ASSIGN_OR_RETURN(TimeMs t, time_field(*v, "reference_date"));
        r.query_time = t;
    }
    return r;
}

Result<Mem0Filter> parse_get_all(std::string_view body) {
    KASTEN_ASSIGN_OR_RETURN(json j, parse_object(body, true));
    KASTEN_RETURN_IF_ERROR(require_only(
        j, {"filters", "categories", "start_date", "end_date", "latest_only", "show_expired", "output_format",
            "version", "org_id", "project_id", "user_id", "agent_id", "app_id", "run_id", "fields", "keywords"}));
    KASTEN_ASSIGN_OR_RETURN(Mem0Filter filter, filters_field(j));
    KASTEN_RETURN_IF_ERROR(add_common_filters(j, &filter));
    json window = json::object();
    if (const json* v = field(j, "start_date")) {
        KASTEN_ASSIGN_OR_RETURN(TimeMs t, time_field(*v, "start_date"));
        window["gte"] = t;
    }
    if (const json* v = field(j, "end_date")) {
        KASTEN_ASSIGN_OR_RETURN(TimeMs t, time_field(*v, "end_date"));
        window["lte"] = t;
    }
    if (!window.empty()) {
        KASTEN_ASSIGN_OR_RETURN(Mem0Filter w, Mem0Filter::parse(json{{"created_at", window}}));
        filter.require(std::move(w));
    }
    if (const json* v = field(j, "keywords")) {
        if (!v->is_string()) return bad("keywords", "expected a string");
        KASTEN_ASSIGN_OR_RETURN(Mem0Filter k, Mem0Filter::parse(json{{"memory", {{"icontains", *v}}}}));
        filter.require(std::move(k));
    }
    return filter;
}

Result<UpdateRequest> parse_update(std::string_view body, const RequestLimits& limits) {
    KASTEN_ASSIGN_OR_RETURN(json j, parse_object(body, false));
    KASTEN_RETURN_IF_ERROR(require_only(j, {"text", "metadata", "timestamp", "expiration_date"}));
    UpdateRequest r;
    KASTEN_ASSIGN_OR_RETURN(r.text, opt_string(j, "text"));
    if (r.text) KASTEN_RETURN_IF_ERROR(check_chars("text", *r.text, limits.max_content_chars));
    if (j.contains("metadata")) {
        const json& m = j["metadata"];
        if (!m.is_null() && !m.is_object()) return bad("metadata", "expected an object or null");
        r.metadata = m;
    }
    if (const json* v = field(j, "timestamp")) {
        KASTEN_ASSIGN_OR_RETURN(TimeMs t, time_field(*v, "timestamp"));
        r.timestamp = t;
    }
    if (j.contains("expiration_date")) {
        const json& v = j["expiration_date"];
        if (v.is_null()) return bad("expiration_date", "removing an expiration date is not supported");
        KASTEN_ASSIGN_OR_RETURN(TimeMs t, time_field(v, "expiration_date"));
        r.expiration_date = t;
    }
    if (!r.text && !r.metadata && !r.timestamp && !r.expiration_date) {
        return Status::invalid_argument("nothing to update: give text, metadata, timestamp or expiration_date");
    }
    return r;
}

FilterSubject filter_subject(const store::NoteRecord& note) {
    FilterSubject s;
    s.id = note.id;
    s.memory = note.content;
    s.scope = scope_of(note);
    s.created_at = note.recorded_at;
    s.updated_at = note.updated_at != 0 ? note.updated_at : note.recorded_at;
    return s;
}

json memory_to_json(const store::NoteRecord& note) {
    const NoteScope scope = scope_of(note);
    json out = {{"id", note.id},
                {"memory", note.content},
                {"user_id", entity_or_null(scope.entities.user_id)},
                {"agent_id", entity_or_null(scope.entities.agent_id)},
                {"app_id", entity_or_null(scope.entities.app_id)},
                {"run_id", entity_or_null(scope.entities.run_id)},
                {"metadata", scope.metadata},
                {"categories", scope.categories},
                {"created_at", format_timestamp(note.recorded_at)},
                {"updated_at", format_timestamp(note.updated_at != 0 ? note.updated_at : note.recorded_at)},
                {"expiration_date", time_or_null(note.valid_to)},
                {"hash", note.content_hash},
                {"immutable", false},
                {"status", store::note_status_name(note.status)}};
    return out;
}

json history_to_json(const store::NoteRecord& note, const std::vector<store::NoteVersionRecord>& versions) {
    const NoteScope scope = scope_of(note);
    json out = json::array();
    const store::NoteVersionRecord* previous = nullptr;
    for (const auto& v : versions) {
        const bool first = previous == nullptr;
        if (first || v.content != previous->content) {
            std::vector<std::string> categories;
            for (const auto& t : v.tags) {
                if (t.rfind("mem0.", 0) != 0) categories.push_back(t);
            }
            out.push_back({{"id", note.id + "-v" + std::to_string(v.version)},
                           {"memory_id", note.id},
                           {"input", json::array()},
                           {"old_memory", first ? json(nullptr) : json(previous->content)},
                           {"new_memory", v.content},
                           {"user_id", entity_or_null(scope.entities.user_id)},
                           {"categories", categories},
                           {"event", first ? "ADD" : "UPDATE"},
                           {"created_at", format_timestamp(v.created_at)},
                           {"updated_at", format_timestamp(v.created_at)}});
        }
        previous = &v;
    }
    return out;
}

}  // namespace kasten::api::mem0
