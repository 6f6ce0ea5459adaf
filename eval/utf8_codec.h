#pragma once

#include <string>
#include <string_view>

namespace kasten::eval {

// UTF-8 ↔ code points for the evaluation text rules that the official Python code applies per character. An invalid
// or truncated sequence decodes to U+FFFD per offending byte; surrogates and values above U+10FFFF encode as U+FFFD.
// Pure.
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);

}  // namespace kasten::eval
