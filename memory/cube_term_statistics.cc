#include "memory/cube_term_statistics.h"

#include "retrieval/lexical_index.h"

namespace kasten::memory {

CubeTermStatistics::CubeTermStatistics(const retrieval::LexicalIndex& index, std::string cube_id)
    : index_(index), cube_id_(std::move(cube_id)) {}

std::uint64_t CubeTermStatistics::documents() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!have_documents_) {
        auto counts = index_.term_counts(cube_id_, {});
        documents_ = counts.is_ok() ? counts->documents : 0;
        have_documents_ = true;
    }
    return documents_;
}

std::uint64_t CubeTermStatistics::document_frequency(const std::string& stem) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(stem);
    if (it != cache_.end()) return it->second;
    auto counts = index_.term_counts(cube_id_, {stem});
    std::uint64_t df = counts.is_ok() && !counts->frequencies.empty() ? counts->frequencies[0] : 0;
    if (counts.is_ok() && !have_documents_) {
        documents_ = counts->documents;
        have_documents_ = true;
    }
    cache_.emplace(stem, df);
    return df;
}

}  // namespace kasten::memory
