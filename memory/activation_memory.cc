#include "memory/activation_memory.h"

#include <algorithm>

#include "common/log.h"
#include "common/sha256.h"
#include "memory/memory_manager.h"

namespace kasten::memory {

ActivationMemory::ActivationMemory(MemoryManager& memory, ActivationMemoryOptions options, const Clock* clock)
    : memory_(memory), options_(options), clock_(clock ? clock : &SystemClock::instance()) {}

std::string ActivationMemory::token_hash(const std::vector<llm::TokenId>& tokens) {
    Sha256 h;
    for (llm::TokenId t : tokens) {
        const auto v = static_cast<std::uint32_t>(t);
        const unsigned char b[4] = {static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8),
                                    static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 24)};
        h.update(b, sizeof(b));
    }
    return h.hex_digest();
}

PinnedPrefixOutcome ActivationMemory::prepare(const std::string& cube_id, llm::EmbeddedLanguageModel& model,
                                              const std::vector<llm::ChatMessage>& messages,
                                              const std::string& pinned) {
    const std::vector<llm::TokenId> tokens = model.chat_prompt_prefix(messages, pinned);
    if (tokens.empty() || static_cast<int>(tokens.size()) < options_.min_tokens) return PinnedPrefixOutcome::kNone;
    if (static_cast<int>(tokens.size()) >= model.n_ctx()) return PinnedPrefixOutcome::kNone;
    Result<std::string> model_id = model.prefix_model_id();
    if (!model_id.is_ok()) {
        log::warn("activation memory: {}", model_id.status().to_string());
        return PinnedPrefixOutcome::kNone;
    }
    const std::string hash = token_hash(tokens);
    Result<std::vector<store::KvSegmentRecord>> listed = memory_.list_kv_segments(cube_id);
    if (!listed.is_ok()) {  // no cube yet (it is created when the exchange is stored): nothing to keep it in
        if (listed.status().code() != StatusCode::kNotFound) {
            log::warn("activation memory of cube '{}': {}", cube_id, listed.status().to_string());
        }
        return PinnedPrefixOutcome::kNone;
    }
    const bool stored = std::any_of(listed.value().begin(), listed.value().end(), [&](const store::KvSegmentRecord& k) {
        return k.model_id == model_id.value() && k.text_hash == hash;
    });
    const bool in_memory = model.cached_prefix_length(tokens) == tokens.size();
    if (stored && in_memory) {
        in_memory_++;
        return PinnedPrefixOutcome::kInMemory;
    }
    if (stored) {
        Result<store::KvSegmentRecord> segment = memory_.get_kv_segment(cube_id, model_id.value(), hash);
        Status s = segment.is_ok() ? model.load_prefix(segment.value().data) : segment.status();
        if (s.is_ok()) {
            loaded_++;
            return PinnedPrefixOutcome::kLoaded;
        }
        unusable_++;
        log::warn("activation memory of cube '{}': segment {} not used, recomputing: {}", cube_id, hash.substr(0, 12),
                  s.to_string());
    }
    Result<std::string> data = model.save_prefix(tokens);
    if (!data.is_ok()) {
        if (data.status().code() != StatusCode::kNotSupported) {
            log::warn("activation memory of cube '{}': {}", cube_id, data.status().to_string());
        }
        return PinnedPrefixOutcome::kNone;
    }
    store::KvSegmentRecord record;
    record.cube_id = cube_id;
    record.model_id = model_id.value();
    record.text_hash = hash;
    record.n_tokens = static_cast<int>(tokens.size());
    record.codec = model.kv_cache().name();
    record.data = std::move(data).value();
    record.created_at = clock_->now_ms();
    Result<int> removed = memory_.put_kv_segment(record);
    if (!removed.is_ok()) {
        log::warn("activation memory of cube '{}': segment not stored: {}", cube_id, removed.status().to_string());
        return PinnedPrefixOutcome::kNone;
    }
    stored_++;
    invalidated_ += removed.value();
    return PinnedPrefixOutcome::kStored;
}

ActivationMemory::Stats ActivationMemory::stats() const {
    return {loaded_.load(), stored_.load(), in_memory_.load(), invalidated_.load(), unusable_.load()};
}

}  // namespace kasten::memory
