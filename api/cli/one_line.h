#pragma once

#include <cstddef>
#include <string>

namespace kasten::api {

// `text` for one table cell: newlines and tabs become spaces, and text longer than `max_bytes` is cut (at a UTF-8
// character boundary) and ends with "…".
std::string one_line(const std::string& text, std::size_t max_bytes);

}  // namespace kasten::api
