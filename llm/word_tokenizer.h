#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kasten::llm {

// Splits text into lower-cased word tokens compatible with the GloVe 6B vocabulary, for the embedders.
//
// Rules (part of the embedders' ids: changing them changes every vector):
//  - A word is a maximal run of ASCII letters/digits and non-ASCII UTF-8 bytes. ASCII is lower-cased;
//    other scripts are kept byte for byte (no Unicode case folding).
//  - Everything else separates words: ASCII punctuation and whitespace (so "long-distance" and "u.s."
//    split into parts), Latin-1 punctuation U+0080..U+00BF (NBSP, «, », ¿…), General Punctuation
//    U+2000..U+207F (typographic spaces, dashes, quotes, ellipsis), CJK punctuation U+3000..U+303F and
//    the byte-order mark.
//  - Apostrophes (' U+2018 U+2019) inside a word: "n't" yields the stem and then "not" ("don't" ->
//    "do" "not"; "can't" -> "can", "won't" -> "will", "shan't" -> "shall"); the clitics 's 're 've 'll
//    'd 'm are dropped ("it's" -> "it"); any other apostrophe separates words ("o'brien" -> "o" "brien").
//
// Usage: WordTokenizer t(text); std::string_view w; while (t.next(&w)) { ... }
// Not thread-safe (one per call); allocates only when a word exceeds the small-string capacity.
class WordTokenizer {
  public:
    explicit WordTokenizer(std::string_view text) : text_(text) {}

    // Sets *word to the next token and returns true, or returns false at the end of the text.
    // The view stays valid until the next call or the tokenizer's destruction.
    bool next(std::string_view* word);

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
    std::string buffer_;
    bool pending_not_ = false;
};

}  // namespace kasten::llm
