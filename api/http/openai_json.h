#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace kasten::api {

// Strict JSON reading shared by the OpenAI-compatible routes, with the rules of api/dto/request_parser.h: one JSON
// object per body, at most 32 levels deep, null = absent, exact types, unknown fields rejected by name. Objects keep
// their members in the order sent (a JSON schema keeps its property order).
// Thread-safe (pure functions).

// kInvalidArgument "field 'FIELD': WHAT".
Status openai_field_error(const std::string& field, const std::string& what);

// The body as a JSON object; kInvalidArgument for an empty body, invalid JSON or UTF-8, too deep nesting or a
// value that is not an object.
Result<nlohmann::ordered_json> parse_openai_body(std::string_view body);

// kInvalidArgument "unknown field 'PREFIX<name>'" for the first member of `obj` not in `allowed`.
Status check_openai_fields(const nlohmann::ordered_json& obj, const std::string& prefix,
                           std::initializer_list<const char*> allowed);

// The member, or nullptr when absent or null.
const nlohmann::ordered_json* openai_member(const nlohmann::ordered_json& obj, const char* name);

// A string without NUL characters.
Result<std::string> openai_string(const nlohmann::ordered_json& value, const std::string& field);

}  // namespace kasten::api
