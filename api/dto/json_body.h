#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/json_text.h"
#include "common/result.h"

namespace kasten::api {

// The deepest array/object nesting a request body may have (every JSON route).
using kasten::json_nesting_depth;
using kasten::kMaxJsonDepth;

// A request body as one JSON object. kInvalidArgument, saying which, for an empty body, nesting deeper than
// kMaxJsonDepth, a byte order mark, a key repeated in one object, text that is not JSON or not UTF-8, or a value that
// is not an object. The JSON library's exceptions stay inside (this is the one place request bodies are parsed). Json
// is nlohmann::json or nlohmann::ordered_json.
template <class Json>
Result<Json> parse_json_object(std::string_view body);

}  // namespace kasten::api
