#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llm/unicode_data.h"

// Unicode operations the tokenizers need, over the generated tables of llm/unicode_data.cc: UTF-8 decoding that
// never fails, general-category flags, lower case, and canonical decomposition (NFD). Pure functions; thread-safe.
namespace kasten::llm::unicode {

inline constexpr std::uint32_t kMaxCodepoint = 0x10FFFF;
inline constexpr std::uint32_t kReplacementCharacter = 0xFFFD;

// One unit of UTF-8 text: a well-formed code point, or a single byte that does not start a well-formed sequence
// (overlong forms, surrogates, values above U+10FFFF, truncated or stray continuation bytes).
struct Utf8Unit {
    std::uint32_t codepoint;  // kReplacementCharacter when !valid
    std::uint32_t length;     // bytes consumed, 1..4
    bool valid;
};

// Decodes the unit starting at text[pos]. REQUIRES: pos < text.size().
Utf8Unit decode_utf8(std::string_view text, std::size_t pos);

// Decodes all of `text`; invalid bytes become kReplacementCharacter.
std::vector<std::uint32_t> decode_utf8(std::string_view text);

// Appends the UTF-8 encoding of `codepoint` (values above U+10FFFF and surrogates are written as U+FFFD).
void append_utf8(std::uint32_t codepoint, std::string& out);

// CodepointFlag bits of `codepoint`; kUnassigned above U+10FFFF.
std::uint16_t codepoint_flags(std::uint32_t codepoint);

inline bool is_letter(std::uint32_t cp) {
    return (codepoint_flags(cp) & kLetter) != 0;
}
inline bool is_number(std::uint32_t cp) {
    return (codepoint_flags(cp) & kNumber) != 0;
}
inline bool is_whitespace(std::uint32_t cp) {
    return (codepoint_flags(cp) & kWhitespace) != 0;
}

// Simple (one-to-one) lower case; the code point itself when it has none.
std::uint32_t to_lower(std::uint32_t codepoint);

// Full lower case (U+0130 becomes "i" + U+0307), appended to `out`.
void append_lower(std::uint32_t codepoint, std::vector<std::uint32_t>& out);

// Canonical combining class (0 for starters).
std::uint8_t combining_class(std::uint32_t codepoint);

// Canonical decomposition (Unicode normalization form D): full recursive decomposition, Hangul syllables
// decomposed algorithmically, then canonical ordering of combining marks.
std::vector<std::uint32_t> to_nfd(std::span<const std::uint32_t> codepoints);

}  // namespace kasten::llm::unicode
