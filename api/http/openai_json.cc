#include "api/http/openai_json.h"

#include <algorithm>

namespace kasten::api {
namespace {

using json = nlohmann::ordered_json;

constexpr int kMaxDepth = 32;

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

}  // namespace

Status openai_field_error(const std::string& field, const std::string& what) {
    return Status::invalid_argument("field '" + field + "': " + what);
}

Result<json> parse_openai_body(std::string_view body) {
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

Status check_openai_fields(const json& obj, const std::string& prefix, std::initializer_list<const char*> allowed) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return it.key() == a; });
        if (!known) return Status::invalid_argument("unknown field '" + prefix + it.key() + "'");
    }
    return Status::ok();
}

const json* openai_member(const json& obj, const char* name) {
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

Result<std::string> openai_string(const json& value, const std::string& field) {
    if (!value.is_string()) return openai_field_error(field, "must be a string");
    std::string s = value.get<std::string>();
    if (s.find('\0') != std::string::npos) return openai_field_error(field, "must not contain NUL characters");
    return s;
}

}  // namespace kasten::api
