#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kasten::memory {

// Cube and session ids: [A-Za-z0-9._:-]{1,128}. `field` names the input in the error message.
Status validate_identifier(std::string_view field, std::string_view value);
// Well-formed UTF-8 without NUL bytes.
Status validate_text(std::string_view field, std::string_view value, bool allow_empty);
bool is_valid_utf8(std::string_view text);
// user | assistant | system | tool
Status validate_role(std::string_view role);

}  // namespace kasten::memory
