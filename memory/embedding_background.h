#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "llm/embedder.h"

namespace kasten::memory {

// How similar an embedder rates a query to text about something else: the query's highest cosine to a fixed set of
// reference sentences on unrelated topics. It is the embedder's floor for that query, not the cube's: a few
// hundredths for the hashing embedder; for GloVe SIF about 0.75-0.9 for a conversational question (its sentence
// vectors share a common direction) and lower for rare technical words. A unit must be more similar to the query
// than that before its similarity counts as evidence (ScoreCalibrator).
//
// The references are embedded once, at the first call. Thread-safe.
class EmbeddingBackground {
  public:
    explicit EmbeddingBackground(std::shared_ptr<const llm::Embedder> embedder) : embedder_(std::move(embedder)) {}

    // In [-1, 1]; 0 for a zero query vector. `query_vector` has the embedder's dimension.
    double of(std::span<const float> query_vector) const;

    // The reference sentences (tests).
    static const std::vector<const char*>& references();

  private:
    std::shared_ptr<const llm::Embedder> embedder_;
    mutable std::once_flag once_;
    mutable std::vector<std::vector<float>> vectors_;  // normalised; written once under once_
};

}  // namespace kasten::memory
