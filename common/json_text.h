#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace kasten {

// The deepest array/object nesting kasten accepts in any JSON text from outside (request bodies, JSON-RPC messages,
// archive lines, the config file).
inline constexpr int kMaxJsonDepth = 32;

// Deepest nesting of arrays/objects in a JSON text, counted without parsing (strings are skipped), so a hostile text
// is refused before a parser builds it.
int json_nesting_depth(std::string_view text);

// Parses one JSON text strictly: RFC 8259 with no byte order mark, no object with the same key twice, well-formed
// UTF-8 and at most `max_depth` levels of nesting. kInvalidArgument otherwise; the message starts with `what`
// ("the request body", "line 3") and says which rule failed (for a repeated key, the key). The JSON library's
// exceptions stay inside. Json is nlohmann::json or nlohmann::ordered_json.
template <class Json>
Result<Json> parse_json_text(std::string_view text, std::string_view what, int max_depth = kMaxJsonDepth);

}  // namespace kasten
