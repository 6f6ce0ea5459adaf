#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
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

    // Replaces the built-in JSON mask; an empty factory turns constrained decoding off (requests with a
    // json_schema then fail with kNotSupported).
    void set_json_mask_factory(JsonMaskFactory factory);

    const LlamaModel& model() const { return *model_; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }
    const ChatTemplate& chat_template() const { return template_; }
    int n_ctx() const { return context_->n_ctx(); }
    // The KV cache in use (its name() says which policy was chosen).
    const KvCache& kv_cache() const { return context_->cache(); }

  private:
    EmbeddedLanguageModel(std::string id, std::shared_ptr<const LlamaModel> model, std::unique_ptr<Tokenizer> tokenizer,
                          ChatTemplate chat_template, std::unique_ptr<KvCache> cache,
                          const EmbeddedModelOptions& options);
    Result<Generation> generate_locked(const std::vector<TokenId>& prompt, const GenerationOptions& options,
                                       const TokenCallback& on_token);

    std::mutex mutex_;
    std::string id_;
    std::shared_ptr<const LlamaModel> model_;
    std::unique_ptr<Tokenizer> tokenizer_;
    ChatTemplate template_;
    ThreadPool pool_;
    std::unique_ptr<LlamaContext> context_;
    // Tokens whose keys and values in the cache equal a fresh evaluation, in cell order (reusable prefix).
    std::vector<TokenId> cached_;
    JsonMaskFactory json_mask_factory_;
    bool builtin_json_mask_ = true;  // until set_json_mask_factory()
};

}  // namespace kasten::llm
