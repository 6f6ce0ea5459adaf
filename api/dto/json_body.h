#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace kasten::api {

// The deepest array/object nesting a request body may have (every JSON route).
inline constexpr int kMaxJsonDepth = 32;

// Deepest nesting of arrays/objects in a JSON text, counted without parsing (strings are skipped), so a hostile body
// is refused before the parser builds it.
int json_nesting_depth(std::string_view text);

// A request body as one JSON object. kInvalidArgument, saying which, for an empty body, nesting deeper than
// kMaxJsonDepth, text that is not JSON or not UTF-8, or a value that is not an object. The JSON library's
// exceptions stay inside (this is the one place request bodies are parsed). Json is nlohmann::json or
// nlohmann::ordered_json.
template <class Json>
Result<Json> parse_json_object(std::string_view body);

}  // namespace kasten::api
