#include "api/http/openai_request.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include <nlohmann/json.hpp>

namespace kasten::api {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxMessages = 1000;
constexpr std::size_t kMaxStops = 4;

Status bad(const std::string& field, const std::string& what) {
    return Status::invalid_argument("field '" + field + "': " + what);
}

// Deepest nesting of arrays/objects in a JSON text, counted without parsing (strings are skipped).
int nesting_depth(std::string_view text) {
    int depth = 0, max_depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            max_depth = std::max(max_depth, ++depth);
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return max_depth;
}

Result<json> parse_object(std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return Status::invalid_argument("the request body is empty; expected a JSON object");
    }
    if (nesting_depth(body) > kMaxDepth) {
        return Status::invalid_argument("the request body nests deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    json j;
    try {
        j = json::parse(body.begin(), body.end());
    } catch (const json::parse_error& e) {
        const std::string what = e.what();
        if (what.find("UTF-8") != std::string::npos || what.find("utf-8") != std::string::npos) {
            return Status::invalid_argument("the request body is not valid UTF-8: " + what);
        }
        return Status::invalid_argument("the request body is not valid JSON: " + what);
    }
    if (!j.is_object()) return Status::invalid_argument("the request body must be a JSON object");
    return j;
}

Status require_only(const json& obj, const std::string& prefix, std::initializer_list<const char*> allowed) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return it.key() == a; });
        if (!known) return Status::invalid_argument("unknown field '" + prefix + it.key() + "'");
    }
    return Status::ok();
}

// The member, or nullptr when absent or null.
const json* member(const json& obj, const char* name) {
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

Result<std::string> string_field(const json& value, const std::string& field) {
    if (!value.is_string()) return bad(field, "must be a string");
    std::string s = value.get<std::string>();
    if (s.find('\0') != std::string::npos) return bad(field, "must not contain NUL characters");
    return s;
}

// Fields shared by both routes; `obj` has already passed require_only.
Status parse_common(const json& obj, const CompletionLimits& limits, CompletionRequest* out) {
    if (const json* v = member(obj, "model")) {
        KASTEN_ASSIGN_OR_RETURN(out->model, string_field(*v, "model"));
    }
    out->options.max_tokens = limits.default_max_tokens;
    if (const json* v = member(obj, "max_tokens")) {
        if (!v->is_number_integer()) return bad("max_tokens", "must be an integer");
        const std::int64_t n = v->get<std::int64_t>();
        if (n < 1 || n > limits.max_tokens) {
            return bad("max_tokens", "must be between 1 and " + std::to_string(limits.max_tokens));
        }
        out->options.max_tokens = static_cast<int>(n);
    }
    out->options.temperature = 1.0;
    if (const json* v = member(obj, "temperature")) {
        if (!v->is_number()) return bad("temperature", "must be a number");
        const double t = v->get<double>();
        if (!(t >= 0.0 && t <= 2.0)) return bad("temperature", "must be between 0 and 2");
        out->options.temperature = t;
    }
    if (const json* v = member(obj, "top_p")) {
        if (!v->is_number()) return bad("top_p", "must be a number");
        const double p = v->get<double>();
        if (!(p > 0.0 && p <= 1.0)) return bad("top_p", "must be greater than 0 and at most 1");
        out->options.top_p = p;
    }
    if (const json* v = member(obj, "stream")) {
        if (!v->is_boolean()) return bad("stream", "must be a boolean");
        out->stream = v->get<bool>();
    }
    if (const json* v = member(obj, "seed")) {
        if (!v->is_number_integer()) return bad("seed", "must be an integer");
        if (v->is_number_unsigned()) {
            out->options.seed = v->get<std::uint64_t>();
        } else {
            const std::int64_t s = v->get<std::int64_t>();
            if (s < 0) return bad("seed", "must not be negative");
            out->options.seed = static_cast<std::uint64_t>(s);
        }
    }
    if (const json* v = member(obj, "stop")) {
        std::vector<std::string> stops;
        if (v->is_string()) {
            KASTEN_ASSIGN_OR_RETURN(std::string s, string_field(*v, "stop"));
            stops.push_back(std::move(s));
        } else if (v->is_array()) {
            if (v->size() > kMaxStops) return bad("stop", "at most " + std::to_string(kMaxStops) + " strings");
            for (std::size_t i = 0; i < v->size(); ++i) {
                KASTEN_ASSIGN_OR_RETURN(std::string s, string_field((*v)[i], "stop[" + std::to_string(i) + "]"));
                stops.push_back(std::move(s));
            }
        } else {
            return bad("stop", "must be a string or an array of strings");
        }
        for (std::size_t i = 0; i < stops.size(); ++i) {
            if (stops[i].empty()) return bad("stop", "stop strings must not be empty");
        }
        out->options.stop = std::move(stops);
    }
    return Status::ok();
}

}  // namespace

Result<CompletionRequest> parse_chat_completion_request(std::string_view body, const CompletionLimits& limits) {
    KASTEN_ASSIGN_OR_RETURN(json obj, parse_object(body));
    KASTEN_RETURN_IF_ERROR(
        require_only(obj, "", {"model", "messages", "max_tokens", "temperature", "top_p", "stream", "stop", "seed"}));
    CompletionRequest out;
    KASTEN_RETURN_IF_ERROR(parse_common(obj, limits, &out));
    const json* messages = member(obj, "messages");
    if (messages == nullptr) return bad("messages", "is required");
    if (!messages->is_array()) return bad("messages", "must be an array");
    if (messages->empty()) return bad("messages", "must not be empty");
    if (messages->size() > kMaxMessages)
        return bad("messages", "at most " + std::to_string(kMaxMessages) + " messages");
    for (std::size_t i = 0; i < messages->size(); ++i) {
        const std::string prefix = "messages[" + std::to_string(i) + "]";
        const json& m = (*messages)[i];
        if (!m.is_object()) return bad(prefix, "must be an object");
        KASTEN_RETURN_IF_ERROR(require_only(m, prefix + ".", {"role", "content"}));
        llm::ChatMessage message;
        const json* role = member(m, "role");
        if (role == nullptr) return bad(prefix + ".role", "is required");
        KASTEN_ASSIGN_OR_RETURN(message.role, string_field(*role, prefix + ".role"));
        if (message.role != "system" && message.role != "user" && message.role != "assistant") {
            return bad(prefix + ".role", "must be system, user or assistant");
        }
        const json* content = member(m, "content");
        if (content == nullptr) return bad(prefix + ".content", "is required");
        KASTEN_ASSIGN_OR_RETURN(message.content, string_field(*content, prefix + ".content"));
        out.messages.push_back(std::move(message));
    }
    return out;
}

Result<CompletionRequest> parse_completion_request(std::string_view body, const CompletionLimits& limits) {
    KASTEN_ASSIGN_OR_RETURN(json obj, parse_object(body));
    KASTEN_RETURN_IF_ERROR(
        require_only(obj, "", {"model", "prompt", "max_tokens", "temperature", "top_p", "stream", "stop", "seed"}));
    CompletionRequest out;
    KASTEN_RETURN_IF_ERROR(parse_common(obj, limits, &out));
    const json* prompt = member(obj, "prompt");
    if (prompt == nullptr) return bad("prompt", "is required");
    KASTEN_ASSIGN_OR_RETURN(out.prompt, string_field(*prompt, "prompt"));
    return out;
}

}  // namespace kasten::api
