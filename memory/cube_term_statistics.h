#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "memory/term_statistics.h"

namespace kasten::retrieval {
class LexicalIndex;
}

namespace kasten::memory {

// TermStatistics of one cube read from its lexical index (all of the cube's indexed units), looked up lazily and
// cached for the object's lifetime (one note job). A failed lookup counts as frequency 0 (the term is treated as
// rare), never as an error. Thread-safe. The index must outlive it.
class CubeTermStatistics final : public TermStatistics {
  public:
    CubeTermStatistics(const retrieval::LexicalIndex& index, std::string cube_id);

    std::uint64_t documents() const override;
    std::uint64_t document_frequency(const std::string& stem) const override;

  private:
    const retrieval::LexicalIndex& index_;
    std::string cube_id_;
    mutable std::mutex mu_;
    mutable std::uint64_t documents_ = 0;
    mutable bool have_documents_ = false;
    mutable std::unordered_map<std::string, std::uint64_t> cache_;
};

}  // namespace kasten::memory
