#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "llm/embedded_language_model.h"
#include "llm/language_model.h"

namespace kasten::memory {

class MemoryManager;

// What became of an exchange's pinned prefix.
enum class PinnedPrefixOutcome {
    kNone,      // nothing to pin: no pinned text, too few tokens, a cache that cannot be saved, no cube yet, an error
    kInMemory,  // the model's cache already held it and the cube has its segment
    kLoaded,    // loaded from the cube's segment instead of being recomputed
    kStored,    // computed (or taken from the model's cache) and stored as the cube's segment
};

struct ActivationMemoryOptions {
    int min_tokens = 32;  // shorter prefixes cost less to recompute than to store
};

// Activation memory (MemOS; docs/kv-cache.md): the keys and values of a cube's pinned prefix (the system text of its
// chat that does not change between exchanges) kept in the cube's kv_segments and loaded into the embedded model
// instead of being recomputed. A segment is keyed by (cube, EmbeddedLanguageModel::prefix_model_id() — model file
// and KV cache policy —, SHA-256 of the prefix's token ids). Storing a prefix deletes the cube's segments of the same
// model for other texts (invalidation: the text changed). A segment that does not decode or does not fit is logged
// and replaced by a recomputed one. Thread-safe; the caller gives prepare() the model to itself.
class ActivationMemory {
  public:
    explicit ActivationMemory(MemoryManager& memory, ActivationMemoryOptions options = {},
                              const Clock* clock = nullptr);

    // Makes `model` hold the tokens of `messages` up to the end of `pinned` (see
    // EmbeddedLanguageModel::chat_prompt_prefix), from the cube's segment when there is one, so the exchange
    // prefills only the rest. Never fails the exchange: errors are logged and give kNone.
    PinnedPrefixOutcome prepare(const std::string& cube_id, llm::EmbeddedLanguageModel& model,
                                const std::vector<llm::ChatMessage>& messages, const std::string& pinned);

    struct Stats {
        std::int64_t loaded = 0;
        std::int64_t stored = 0;
        std::int64_t in_memory = 0;
        std::int64_t invalidated = 0;  // segments deleted because their cube's pinned text changed
        std::int64_t unusable = 0;     // segments that did not decode or fit (then recomputed)
    };
    Stats stats() const;

    // Lower-case hex SHA-256 of the token ids (little-endian int32): a segment's text hash.
    static std::string token_hash(const std::vector<llm::TokenId>& tokens);

  private:
    MemoryManager& memory_;
    ActivationMemoryOptions options_;
    const Clock* clock_;
    std::atomic<std::int64_t> loaded_{0}, stored_{0}, in_memory_{0}, invalidated_{0}, unusable_{0};
};

}  // namespace kasten::memory
