#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

// What a language model's reply needs before kasten trusts it: the JSON object cut out of the reply text, typed
// member access that never throws, and the normalisation of the strings inside it (whitespace, case, length in code
// points, label lists). Used by the LLM note builder and link decider; every function is pure and thread-safe.
//
// Units: "chars" are UTF-8 code points, "bytes" are bytes. Text is assumed to be valid UTF-8 (a reply parsed by
// nlohmann::json is); whitespace is the ASCII set " \t\n\r\f\v".
namespace kasten::memory {

// `s` without leading and trailing whitespace (a view into `s`).
std::string_view trim(std::string_view s);

// `s` trimmed, every inner whitespace run (newlines included) replaced by one space.
std::string one_line(std::string_view s);

// `s` with ASCII A-Z lower-cased; every other byte (UTF-8 included) unchanged.
std::string ascii_lower(std::string_view s);

// The first `max_chars` code points of `s` (all of it when max_chars < 0 or `s` is that short), cut at a code point
// boundary. When `mark` is set and something was cut, "…" (U+2026, 3 bytes) is appended: the result then has
// max_chars + 1 code points.
std::string truncate_chars(std::string_view s, int max_chars, bool mark = false);

// The JSON object of a model reply: the text between the first '{' and the last '}' (inclusive), so prose or a code
// fence around the object is tolerated. nullopt when there are no such braces, the text between them is not valid
// JSON, or it is not an object. Never throws.
std::optional<nlohmann::json> parse_reply_object(std::string_view text);

// The member `name` of `object`; null when `object` is not an object or has no such member. The pointer is valid
// while `object` is alive and unchanged.
const nlohmann::json* member(const nlohmann::json& object, const char* name);

// The member `name` of `object` when it is a string, else "" (missing, or another type).
std::string string_member(const nlohmann::json& object, const char* name);

// Labels (keywords, tags) from a JSON array of strings, in order: each one_line'd, lower-cased (ASCII) and cut to
// `max_chars` code points (no mark); empty ones, repeats and non-string items are skipped; at most `max_count` are
// kept (items after the max_count-th kept one are not read). Empty when `array` is null or not an array.
std::vector<std::string> clean_labels(const nlohmann::json* array, int max_count, int max_chars);

}  // namespace kasten::memory
