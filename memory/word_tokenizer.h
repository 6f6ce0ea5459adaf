#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kasten::memory {

// One word of a text, as the note builder and the date resolver see it.
struct WordToken {
    std::size_t begin = 0;     // byte offset of the first byte in the text
    std::size_t end = 0;       // byte offset one past the last byte
    std::string lower;         // lower-cased (ASCII and Latin-1 letters), typographic apostrophes as '\''
    bool capitalized = false;  // the first letter is upper-case (ASCII or Latin-1)
    bool all_caps = false;     // two or more letters, all upper-case ("NASA", "USA")
    bool numeric = false;      // digits only, with optional inner ',' or '.' between digits ("3", "1,000", "3.5")
    bool has_digit = false;    // at least one digit ("5pm", "16th", "2023")
};

// Splits text into words: runs of ASCII letters and digits and of non-ASCII letters (any UTF-8 sequence outside the
// General Punctuation block U+2000-U+206F, Latin-1 punctuation U+00A0-U+00BF and U+00D7/U+00F7). An apostrophe
// (' or U+2019) between two word characters stays inside the word ("don't", "Sarah's"); so do '.' and ',' between
// two digits ("3.5", "1,000"). Everything else separates words (hyphens included: "well-known" is two words).
// Linear in the text; pure and thread-safe. Invalid UTF-8 bytes are treated as letters (never read past the end).
class WordTokenizer {
  public:
    static std::vector<WordToken> tokenize(std::string_view text);
};

}  // namespace kasten::memory
