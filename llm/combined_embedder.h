#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "llm/embedder.h"

namespace kasten::llm {

// Two embedders as one (e.g. GloVe SIF and Universal Sentence Encoder lite: `--embedder glove+use`): the vector is
// [sqrt(w) * a(text), sqrt(1 - w) * b(text)], a's dim() floats then b's, each part the unit vector (or zeros) its
// embedder gives. So the cosine (dot product) of two combined vectors is
//     w * cos_a + (1 - w) * cos_b,
// the w-weighted mean of the two parts' cosines, whenever both texts have features in both parts. A text for which
// one part has no features (GloVe knows none of its words; the encoder: empty text) is the other part alone at
// weight 1, so that every vector has norm 1 or is zeros (the Embedder contract); the identity does not hold for it.
//
// Session keys: accumulate() keeps each part's own sum side by side and finish() finishes each part with its own
// embedder, then weighs them as above: a session key is the combination of the two parts' session keys.
//
// id(): "combined-w<w, 2 decimals>-<a's id>+<b's id>". Immutable; thread-safe when both parts are.
class CombinedEmbedder final : public Embedder {
  public:
    // REQUIRES: a and b non-null, 0 < w < 1 (programmer errors; validate user input beforehand).
    CombinedEmbedder(std::shared_ptr<const Embedder> a, std::shared_ptr<const Embedder> b, double w = kDefaultWeight);

    // The weight of the first part (the mean of the two cosines).
    static constexpr double kDefaultWeight = 0.5;

    std::string id() const override { return id_; }
    int dim() const override { return a_->dim() + b_->dim(); }
    void embed(std::string_view text, std::span<float> out) const override;
    using Embedder::embed;
    // Each part's embed_batch() (the encoder runs its texts together), then combined as embed() does.
    void embed_batch(std::span<const std::string_view> texts, std::span<float> out) const override;
    // a's accumulate() into sum[0, a.dim()), b's into the rest.
    void accumulate(std::string_view text, std::span<float> sum) const override;
    // a's finish() of sum[0, a.dim()), b's of the rest, then weighed as embed() does.
    void finish(std::span<const float> sum, std::span<float> out) const override;

    double weight() const { return w_; }
    const Embedder& first() const { return *a_; }
    const Embedder& second() const { return *b_; }

  private:
    // `v` holds the two parts' unit-or-zero vectors: scales them by sqrt(w) and sqrt(1 - w), or leaves a part alone
    // (weight 1) when the other is zero.
    void weigh(std::span<float> v) const;

    std::shared_ptr<const Embedder> a_;
    std::shared_ptr<const Embedder> b_;
    double w_;
    float scale_a_;
    float scale_b_;
    std::string id_;
};

}  // namespace kasten::llm
