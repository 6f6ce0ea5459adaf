#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "llm/json_grammar.h"
#include "llm/logits_mask.h"
#include "llm/tokenizer.h"

namespace kasten::llm {

// Constrains sampling to JSON valid against a schema (see JsonGrammar for the exact language): a token is
// allowed iff all its bytes are accepted from the current grammar state; end-of-generation tokens are allowed
// iff the text so far is a complete value, and once the value is closed they are the only choice.
//
// With a token budget (the generation's max_tokens) a token is also refused when the value could no longer be
// completed within the budget, counting one token per remaining byte; so a generation that is not stopped early
// ends with a complete value. That bound holds for vocabularies with a token for every single byte (SentencePiece
// byte fallback, byte-level BPE); otherwise the mask falls back to the tokens that leave the fewest bytes.
//
// Per grammar state the allowed tokens (and the bytes each leaves to complete) are computed once by walking a
// byte trie of the vocabulary and cached, so masking a large vocabulary costs one pass over the logits.
// Stateful and not thread-safe: one generation at a time. Keeps a reference to nothing after create().
class JsonLogitsMask final : public LogitsMask {
  public:
    // Errors of JsonSchema::parse; kFailedPrecondition when the vocabulary has no end-of-generation token.
    // token_budget < 0: unbounded.
    static Result<std::unique_ptr<JsonLogitsMask>> create(std::string_view schema_json, const Tokenizer& tokenizer,
                                                          int token_budget = -1);

    void apply(std::span<float> logits) override;
    void accept(int token) override;

    const JsonGrammar& grammar() const { return grammar_; }
    int tokens_accepted() const { return used_; }

  private:
    struct TrieNode {
        std::vector<std::pair<std::uint8_t, int>> children;  // byte, node index
        std::vector<int> tokens;                             // tokens whose bytes end here
    };
    // Tokens allowed from one grammar state, each with the bytes it leaves to complete the value.
    struct Entry {
        std::vector<std::pair<int, int>> tokens;  // token id, min_bytes_to_complete() after it
    };

    JsonLogitsMask(JsonGrammar grammar, const Tokenizer& tokenizer, int token_budget);
    const Entry& entry_for_state();
    void collect(int node, const JsonGrammar& grammar, Entry& entry) const;

    JsonGrammar grammar_;
    int budget_;
    int used_ = 0;
    std::vector<TrieNode> trie_;
    std::vector<std::string> pieces_;  // bytes of each token; empty for control and end-of-generation tokens
    std::vector<int> eog_;
    std::unordered_map<std::string, Entry> cache_;
    std::string key_;
    std::vector<std::uint8_t> allowed_;
};

}  // namespace kasten::llm
