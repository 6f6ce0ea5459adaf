#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kasten::memory {

// Splits chat text into sentences short enough to be notes.
//
// - Lines: blank lines, bullet or numbered list items ("- ", "* ", "+ ", "• ", "1. ", "2) "), Markdown headings and
//   table rows start a new block; a line that does not end in terminal punctuation or ':' is joined with a next
//   line that starts lower-case (hard-wrapped prose). Bullet markers, heading marks, table pipes, and Markdown
//   emphasis/code marks ("**", "__", "`") are removed; fenced code blocks (``` … ```) are skipped entirely.
// - Sentences end at '.', '!', '?' (runs like "?!" and closing quotes/brackets stay with the sentence) followed by
//   white space or the end. Not at: titles and common abbreviations ("Mr.", "Dr.", "e.g.", "i.e.", "vs.", "approx.",
//   "No. 5", "Jan. 5"), single-letter initials ("John F. Kennedy"), initialisms ("U.S.", "a.m.") or "etc." unless the
//   next word is capitalised, a '.' followed by a lower-case word, decimals and dotted names ("3.5", "example.com").
//   An ellipsis ("..." or U+2026) ends a sentence only before a capitalised word.
// - A sentence longer than `max_chars` bytes is cut at clause boundaries (";", ":", " - ", ", and|but|so|because|
//   which|while|although|whereas", ",", " and ", " but ", then any space; the cut is made as late as possible within
//   the limit but not before a third of it) until every piece fits; a piece with no space at all is cut at a UTF-8
//   character boundary.
// Sentences are trimmed; empty ones and ones without any letter or digit are dropped. Linear in the text; pure and
// thread-safe.
class SentenceSplitter {
  public:
    static constexpr std::size_t kDefaultMaxChars = 300;
    static std::vector<std::string> split(std::string_view text, std::size_t max_chars = kDefaultMaxChars);
};

}  // namespace kasten::memory
