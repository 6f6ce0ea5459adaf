#pragma once

#include <cstdint>
#include <string>

namespace kasten::memory {

// Document statistics of one cube's corpus (its turns), for keyword weighting by corpus statistics.
// Terms are index terms as retrieval::LexicalIndex::analyze() yields them (lower-cased Snowball stems).
// Implementations are read-only views and thread-safe.
class TermStatistics {
  public:
    virtual ~TermStatistics() = default;
    // Number of documents in the corpus, >= 0.
    virtual std::uint64_t documents() const = 0;
    // Number of documents containing `stem`, in [0, documents()] (a term may be new to the corpus: 0).
    virtual std::uint64_t document_frequency(const std::string& stem) const = 0;
};

}  // namespace kasten::memory
