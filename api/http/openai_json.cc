#include "api/http/openai_json.h"

#include <algorithm>

#include "api/dto/json_body.h"

namespace kasten::api {

using json = nlohmann::ordered_json;

Status openai_field_error(const std::string& field, const std::string& what) {
    return Status::invalid_argument("field '" + field + "': " + what);
}

Result<json> parse_openai_body(std::string_view body) {
    return parse_json_object<json>(body);
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
