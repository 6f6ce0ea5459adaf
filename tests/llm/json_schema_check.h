#pragma once

#include <string>
#include <string_view>

#include "llm/json_schema.h"

namespace kasten::llm::testing {

// Independent check for tests: parses `text` as JSON (nlohmann) and validates it against `schema`.
// Returns an empty string when valid, else what is wrong.
std::string check_json(const JsonSchema& schema, std::string_view text);

}  // namespace kasten::llm::testing
