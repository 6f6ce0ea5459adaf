#pragma once

#include <cmath>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kasten::llm {

// Maps text to a fixed-size dense vector. Implementations are immutable after construction and
// thread-safe: embed() may be called concurrently.
class Embedder {
  public:
    virtual ~Embedder() = default;
    // Stable identifier of the model and its parameters, e.g. "hashing-v1-256", "glove-6b-100d-sif-v1".
    // Vectors with different ids are never compared.
    virtual std::string id() const = 0;
    virtual int dim() const = 0;
    // Writes dim() floats into out. The vector has L2 norm 1, or is all zeros when the text has no usable
    // features (empty text, only unknown words).
    virtual void embed(std::string_view text, std::span<float> out) const = 0;

    // The unnormalised form of embed(), for keys that grow one text at a time (a session's turns): adds the text's
    // vector to `sum` (dim() floats), so that finish(Σ accumulate(text_i)) embeds the sequence without reading
    // earlier texts again. For GloVe SIF this is bit-for-bit embed() of the texts joined by newlines (the same
    // word-by-word float sum); the default adds embed(text), i.e. the key is the mean direction of the texts.
    virtual void accumulate(std::string_view text, std::span<float> sum) const {
        std::vector<float> v = embed(text);
        for (std::size_t d = 0; d < v.size() && d < sum.size(); ++d) sum[d] += v[d];
    }

    // Turns a sum of accumulate() results into the key's vector in `out` (dim() floats each): embed() of a text is
    // finish(accumulate(text) from zeros), up to float rounding. The default is normalize(); an embedder whose
    // vector is made of parts normalised apart (CombinedEmbedder) finishes each part.
    virtual void finish(std::span<const float> sum, std::span<float> out) const { normalize(sum, out); }

    // Writes `sum` scaled to L2 norm 1 into `out` (same size), or zeros when its norm is 0.
    static void normalize(std::span<const float> sum, std::span<float> out) {
        double norm2 = 0.0;
        for (float x : sum) norm2 += static_cast<double>(x) * x;
        if (norm2 <= 0.0) {
            for (float& x : out) x = 0.0f;
            return;
        }
        const auto inv = static_cast<float>(1.0 / std::sqrt(norm2));
        for (std::size_t d = 0; d < out.size(); ++d) out[d] = sum[d] * inv;
    }

    // Embeds texts[i] into out[i · dim() .. (i + 1) · dim()): the vectors embed() gives each text. REQUIRES:
    // out.size() >= texts.size() · dim(). The default calls embed() per text; an embedder that runs texts together
    // (the sentence encoder) overrides it.
    virtual void embed_batch(std::span<const std::string_view> texts, std::span<float> out) const {
        const auto d = static_cast<std::size_t>(dim());
        for (std::size_t i = 0; i < texts.size() && (i + 1) * d <= out.size(); ++i)
            embed(texts[i], out.subspan(i * d, d));
    }
    std::vector<float> embed(std::string_view text) const {
        std::vector<float> v(static_cast<size_t>(dim()));
        embed(text, v);
        return v;
    }
};

}  // namespace kasten::llm
