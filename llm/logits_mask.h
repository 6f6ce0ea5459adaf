#pragma once

#include <span>

namespace kasten::llm {

// Hook for constrained decoding (a JSON-schema grammar, a choice list...): before each sampling step the
// sampler lets the mask forbid tokens, and it reports every token chosen so the mask can advance its state.
// Implementations are stateful, used by one generation at a time.
class LogitsMask {
  public:
    virtual ~LogitsMask() = default;
    // Sets the logits of every token that may not come next to −infinity. logits has n_vocab entries.
    virtual void apply(std::span<float> logits) = 0;
    // The token that was chosen (always one apply() allowed).
    virtual void accept(int token) = 0;
};

}  // namespace kasten::llm
