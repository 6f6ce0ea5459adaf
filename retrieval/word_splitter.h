#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kasten::retrieval {

// Splits text into the words Xapian 1.4's TermGenerator indexes, lower-cased, in text order, without building a
// Xapian document (the analysis hot path: a third of ingest and of a search's CPU went to TermGenerator's
// per-word document map). The rules are TermGenerator's:
//   - a word is a run of word characters (Unicode letters, marks, numbers and connector punctuation, e.g. '_');
//   - one infix character joins two runs: an apostrophe (U+2019 and U+201B become '\''), '&', U+00B7, U+05F4 or
//     U+2027, or, between two decimal digits, ',', '.', ';' and a few other separators ("1,000", "3.14");
//     U+200B-U+200D, U+2060 and U+FEFF join runs without being kept;
//   - up to three trailing '+' or '#' are kept ("c++", "c#") unless a word character follows them;
//   - ASCII capitals separated by dots are an initialism ("U.S.A." -> "usa") unless a word character follows it.
// Returns false, leaving `words` empty, for text this splitter does not handle exactly: text that is not valid UTF-8
// (TermGenerator reads invalid bytes as Latin-1) or that holds CJK characters (n-grams): the caller then uses
// TermGenerator itself. Thread-safe. tests/retrieval/word_splitter_test.cc checks it against TermGenerator.
[[nodiscard]] bool split_index_words(std::string_view text, std::vector<std::string>& words);

}  // namespace kasten::retrieval
