#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "llm/tokenizer.h"

namespace kasten::memory {

// Counts the tokens a text costs in a language model's prompt: the unit of a context budget.
// Implementations are thread-safe (const, no shared mutable state).
class TokenCounter {
  public:
    virtual ~TokenCounter() = default;
    // Tokens of `text` alone (no BOS/EOS). Counting is close to additive: count(a + b) is within a token or two of
    // count(a) + count(b) (a token can span the join), which is why packers check the final text once more.
    virtual int count(std::string_view text) const = 0;
    // "estimate" or "tokenizer:<kind>", for reports.
    virtual std::string name() const = 0;
};

// The documented estimate for models whose tokenizer kasten does not have (remote models): the larger of
// ceil(UTF-8 bytes / 4) and the number of words + punctuation marks. English prose with Llama, GPT and Qwen
// tokenizers runs 3.5–4.5 bytes per token; code, digits and non-Latin scripts run denser, and the word count keeps
// those from being underestimated badly. Never 0 for a non-empty text.
class EstimatedTokenCounter final : public TokenCounter {
  public:
    int count(std::string_view text) const override;
    std::string name() const override { return "estimate"; }
};

// Exact counts with a model's own tokenizer (encode without special tokens). The tokenizer is shared, not copied.
class TokenizerTokenCounter final : public TokenCounter {
  public:
    explicit TokenizerTokenCounter(std::shared_ptr<const llm::Tokenizer> tokenizer);
    int count(std::string_view text) const override;
    std::string name() const override;

  private:
    std::shared_ptr<const llm::Tokenizer> tokenizer_;
};

}  // namespace kasten::memory
