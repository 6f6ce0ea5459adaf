#pragma once

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

    std::vector<float> embed(std::string_view text) const {
        std::vector<float> v(static_cast<size_t>(dim()));
        embed(text, v);
        return v;
    }
};

}  // namespace kasten::llm
