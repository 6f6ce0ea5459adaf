#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "llm/chat_template.h"
#include "llm/kv_cache_factory.h"
#include "llm/language_model.h"
#include "llm/llama_context.h"
#include "llm/llama_model.h"
#include "llm/logits_mask.h"
#include "llm/thread_pool.h"
#include "llm/tokenizer.h"

namespace kasten::llm {

struct EmbeddedModelOptions {
    std::string model_path;      // a GGUF file, or a llama2.c checkpoint together with tokenizer_path
    std::string tokenizer_path;  // llama2.c tokenizer.bin (llama2.c checkpoints only)
    int n_ctx = 2048;            // runtime context in tokens (KV cache cells), whatever the file records
    int n_threads = 2;
    int n_batch = 64;           // prompt tokens per forward pass
    std::string chat_template;  // "chatml" | "llama3" | "llama2"; empty: chosen from tokenizer.chat_template
    KvCacheOptions kv_cache;    // KV cache policy and byte budget (default: full precision)
};

// Builds the mask that constrains decoding to JSON of `schema` for `tokenizer`'s vocabulary. By default the model
// uses JsonLogitsMask (llm/json_logits_mask.h) with max_tokens as its token budget; see set_json_mask_factory().
using JsonMaskFactory =
    std::function<Result<std::unique_ptr<LogitsMask>>(const std::string& schema, const Tokenizer& tokenizer)>;

// The in-process decoder behind the LanguageModel interface: a LlamaModel, its tokenizer, one LlamaContext with
// a full-precision KV cache and a thread pool. A prompt sharing a prefix with the previous call reuses the
// cached keys and values of that prefix. When the context fills during generation it is shifted (the prompt is
// kept when it takes at most half the context, else only the first token; half of the rest is dropped).
//
// Generation: the sampler chain of GenerationOptions (temperature 0 = greedy), until an end-of-generation
// token (finish "stop"), a stop string (cut from the text, "stop"), the callback returning false ("stop") or
// max_tokens ("length"). Streaming hands the callback whole UTF-8 characters and never text that could still
// turn out to be part of a stop string; the pieces concatenate to Generation::text.
//
// Thread-safe: calls are serialised (one generation at a time per model instance).
class EmbeddedLanguageModel final : public LanguageModel {
  public:
    // Errors of loading the model or tokenizer; kInvalidArgument for n_ctx < 2 or an unknown template name.
    static Result<std::unique_ptr<EmbeddedLanguageModel>> open(const EmbeddedModelOptions& options);

    // "gguf:<file name without extension>" or "llama2c:<...>".
    std::string id() const override { return id_; }
    Result<Generation> chat(const std::vector<ChatMessage>& messages, const GenerationOptions& options,
                            const TokenCallback& on_token = {}) override;
    Result<Generation> complete(std::string_view prompt, const GenerationOptions& options,
                                const TokenCallback& on_token = {}) override;
    // Generation from token ids (the prompt exactly as given: no BOS added).
    Result<Generation> generate(const std::vector<TokenId>& prompt, const GenerationOptions& options,
                                const TokenCallback& on_token = {});

    // The token ids chat() evaluates for `messages`.
    std::vector<TokenId> chat_prompt(const std::vector<ChatMessage>& messages) const;
    // The first tokens of chat_prompt(messages) that encode the rendered prompt up to the end of the first
    // occurrence of `pinned` in it (and no further: a token straddling that end is left out). Empty when `pinned`
    // is empty or does not occur.
    std::vector<TokenId> chat_prompt_prefix(const std::vector<ChatMessage>& messages, std::string_view pinned) const;

    // Activation memory (docs/kv-cache.md). prefix_model_id() is what a saved prefix is valid for: the model id,
    // the file's size and CRC-32C (computed on first use), and the KV cache's name (policy and parameters).
    // Errors of reading the model file.
    Result<std::string> prefix_model_id();
    // Evaluates `tokens` (reusing what the cache already holds of them) and returns their keys and values as a
    // KvSnapshot (llm/kv_snapshot.h); the cache then holds exactly them, so a following prompt that starts with
    // them prefills only the rest. kInvalidArgument for no tokens, kResourceExhausted when they do not fit,
    // kNotSupported for a cache that cannot be saved (the evicting policies).
    Result<std::string> save_prefix(std::span<const TokenId> tokens);
    // Makes a saved prefix the cache's content, as if its tokens had just been evaluated. The snapshot's errors
    // (kCorruption for damaged bytes, kFailedPrecondition for another model, policy or shape); on error no
    // prefix is reused by the next call.
    Status load_prefix(std::string_view snapshot);
    // How many leading tokens of `tokens` the cache holds now (reused by the next call without recomputing).
    std::size_t cached_prefix_length(std::span<const TokenId> tokens);

    // Replaces the built-in JSON mask; an empty factory turns constrained decoding off (requests with a
    // json_schema then fail with kNotSupported).
    void set_json_mask_factory(JsonMaskFactory factory);

    const LlamaModel& model() const { return *model_; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }
    const ChatTemplate& chat_template() const { return template_; }
    int n_ctx() const { return context_->n_ctx(); }
    // The KV cache in use (its name() says which policy was chosen).
    const KvCache& kv_cache() const { return context_->cache(); }
    // Tokens of context the KV cache holds within its budget (kv_tokens_that_fit(): n_ctx unless it evicts).
    int kv_tokens() const { return kv_tokens_; }

  private:
    EmbeddedLanguageModel(std::string id, std::shared_ptr<const LlamaModel> model, std::unique_ptr<Tokenizer> tokenizer,
                          ChatTemplate chat_template, std::unique_ptr<KvCache> cache,
                          const EmbeddedModelOptions& options);
    Result<std::string> prefix_model_id_locked();
    Result<Generation> generate_locked(const std::vector<TokenId>& prompt, const GenerationOptions& options,
                                       const TokenCallback& on_token);

    std::mutex mutex_;
    std::string id_;
    std::string model_path_;
    std::string tokenizer_path_;
    std::optional<std::string> file_identity_;  // "<size>:<crc32c>" of the model file, once computed
    std::shared_ptr<const LlamaModel> model_;
    std::unique_ptr<Tokenizer> tokenizer_;
    ChatTemplate template_;
    ThreadPool pool_;
    std::unique_ptr<LlamaContext> context_;
    // Tokens whose keys and values in the cache equal a fresh evaluation, in cell order (reusable prefix).
    std::vector<TokenId> cached_;
    JsonMaskFactory json_mask_factory_;
    bool builtin_json_mask_ = true;  // until set_json_mask_factory()
    int kv_tokens_ = 0;
};

}  // namespace kasten::llm
