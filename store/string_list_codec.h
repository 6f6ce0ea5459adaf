#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kasten::store {

// Column encoding of string lists (keywords, tags, source turn ids): a JSON array of JSON strings, e.g.
// ["a","say \"hi\""]. '"' '\\' and control bytes are escaped; every other byte (UTF-8 included) is written as is,
// so any byte string round-trips exactly.

// Encodes `items` into `out` (replacing its contents).
void encode_string_list(const std::vector<std::string>& items, std::string* out);
std::string encode_string_list(const std::vector<std::string>& items);

// Decodes a JSON array of strings (any whitespace, all JSON string escapes incl. \uXXXX surrogate pairs) into `out`
// (replacing its contents). False on anything else (not an array, non-string element, bad escape, trailing text).
bool decode_string_list(std::string_view json, std::vector<std::string>* out);

}  // namespace kasten::store
