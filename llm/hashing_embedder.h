#pragma once

#include <span>
#include <string>
#include <string_view>

#include "llm/embedder.h"

namespace kasten::llm {

// A data-free embedder: signed feature hashing of the text's words (WordTokenizer).
//
// Features, each hashed with FNV-1a 64 + splitmix64 (llm/stable_hash.h) over a family tag byte and
// the feature's bytes:
//   - word unigrams          tag 'u', weight 1.0 (0.2 for English stopwords)
//   - word bigrams           tag 'b', "prev\x1Fword", weight 0.5 (skipped when both words are stopwords)
//   - character trigrams     tag 'c', of "<word>" ('<' and '>' mark the boundaries), weight 0.35
//                            (not for stopwords)
// With h the mixed hash: bucket = ((h >> 32) * dim) >> 32, sign = bit 2 of h (1 -> negative). Each
// distinct feature adds sign * weight * (1 + ln tf) to its bucket, tf = its count in the text.
// The result is L2-normalised; no features (empty text, only separators) gives zeros.
// These rules are frozen under the id "hashing-v1-<dim>".
//
// Thread-safe; embed() allocates nothing once the calling thread's scratch buffer has grown.
class HashingEmbedder final : public Embedder {
  public:
    static constexpr int kDefaultDim = 256;
    static constexpr int kMaxDim = 1 << 16;

    // dim must be in [1, kMaxDim] (a programmer error otherwise; validate user input beforehand).
    explicit HashingEmbedder(int dim = kDefaultDim);

    std::string id() const override;
    int dim() const override { return dim_; }
    void embed(std::string_view text, std::span<float> out) const override;
    // Adds the text's unnormalised feature vector to `sum` (embed() = normalize of this from zeros). A sequence of
    // texts counts term frequencies per text (1 + ln tf within each), and no bigram spans two texts.
    void accumulate(std::string_view text, std::span<float> sum) const override;
    using Embedder::embed;

  private:
    int dim_;
};

}  // namespace kasten::llm
