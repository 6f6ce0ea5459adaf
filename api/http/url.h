#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kasten::api {

// Request targets ("/v1/cubes/a%20b/search?x=1"), decoded. Decoded text must be valid UTF-8 without NUL bytes.

// Decodes %XX escapes (and '+' as space when plus_is_space). kInvalidArgument on a bad escape or invalid text.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

// "/v1/cubes/x/" -> {"v1", "cubes", "x"}: split on '/', each segment decoded; one trailing '/' is ignored.
// An empty segment in the middle ("//") is kept as "" (and matches no route).
Result<std::vector<std::string>> split_path(std::string_view raw_path);

// "a=1&b=x%20y" -> {a: "1", b: "x y"}. A repeated name is kInvalidArgument.
Result<std::map<std::string, std::string>> parse_query(std::string_view raw_query);

// Percent-encodes everything outside [A-Za-z0-9._~-] (for building URLs in clients and docs).
std::string percent_encode(std::string_view text);

}  // namespace kasten::api
