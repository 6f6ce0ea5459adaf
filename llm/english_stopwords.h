#pragma once

#include <string_view>

namespace kasten::llm {

// True for the ~120 most common English function words ("the", "and", "of", "is"…), given lower-case
// tokens as WordTokenizer produces them. "not" and "no" are not stopwords. The list is fixed: it is part
// of the hashing embedder's id.
bool is_english_stopword(std::string_view lower_word);

}  // namespace kasten::llm
