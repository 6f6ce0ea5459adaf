#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kasten::api {

// The items of a `sep`-separated flag value ("a, b,,c" → a, b, c): each with the spaces around it removed, empty
// items dropped.
std::vector<std::string> split_list(std::string_view text, char sep = ',');

}  // namespace kasten::api
