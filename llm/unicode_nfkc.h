#pragma once

#include <string>
#include <string_view>

namespace kasten::llm {

// Unicode Normalization Form KC of UTF-8 text (ICU's normalizer; JavaScript's String.prototype.normalize("NFKC")
// gives the same for the Unicode version both know). Invalid UTF-8 sequences become U+FFFD first.
std::string to_nfkc(std::string_view utf8);

}  // namespace kasten::llm
