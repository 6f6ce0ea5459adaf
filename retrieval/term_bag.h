#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "retrieval/lexical_index.h"

namespace kasten::retrieval {

// A text's analysis (LexicalIndex::Analysis: index terms with their within-text frequencies) packed for keeping beside
// the text, so that which query terms a unit holds is read from memory instead of analysing its text again on every
// search: `TermBag::of(LexicalIndex::analyze_text(t)).among(terms)` equals `LexicalIndex::analyze_text_among(t,
// terms)`. About 5 bytes per distinct term plus the terms' bytes. Immutable; copyable.
class TermBag {
  public:
    TermBag() = default;
    // `analysis` as LexicalIndex yields it: terms ascending and distinct, none empty or holding a NUL byte (analysis
    // never yields one: NUL is not a word character).
    static TermBag of(const LexicalIndex::Analysis& analysis);

    // The entries of `terms` (any order; duplicates and "" count once) that the bag holds, ascending by term.
    LexicalIndex::Analysis among(const std::vector<std::string>& terms) const;

    bool empty() const { return wdf_.empty(); }
    // Heap bytes held.
    std::size_t bytes() const { return packed_.capacity() + wdf_.capacity() * sizeof(std::uint32_t); }

  private:
    std::string packed_;              // the terms in ascending order, each followed by '\0'
    std::vector<std::uint32_t> wdf_;  // parallel to the terms
};

}  // namespace kasten::retrieval
