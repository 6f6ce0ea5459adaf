#pragma once

#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "llm/kv_cache.h"
#include "llm/llama_model.h"
#include "llm/thread_pool.h"
#include "llm/weight_matrix.h"

namespace kasten::llm {

// One decoding session over a shared LlamaModel: the forward pass, its KV cache and scratch buffers.
// eval() runs a batch of tokens (prefill, processed in chunks of n_batch) or a single token (decode) at the
// next positions, appending their keys and values to the cache; the runtime context size is the cache's
// capacity, independent of the model's recorded training context.
//
// Thread safety: one thread at a time; the forward pass itself fans out over `pool`.
class LlamaContext {
  public:
    // REQUIRES: model, cache non-null; cache shaped for the model (make_full_cache()); pool outlives this.
    LlamaContext(std::shared_ptr<const LlamaModel> model, std::unique_ptr<KvCache> cache, ThreadPool* pool,
                 int n_batch = 64);

    // A FullKvCache of n_ctx cells for `config`.
    static std::unique_ptr<KvCache> make_full_cache(const ModelConfig& config, int n_ctx);

    const LlamaModel& model() const { return *model_; }
    const KvCache& cache() const { return *cache_; }
    KvCache& cache() { return *cache_; }
    ThreadPool& pool() { return *pool_; }
    int n_ctx() const { return cache_->capacity(); }
    int n_past() const { return cache_->size(); }

    // Runs `tokens` at positions n_past() .. n_past() + size − 1. With all_logits every token's logits are
    // kept, else only the last one's. kInvalidArgument for an empty batch or an id outside the vocabulary;
    // kResourceExhausted when the tokens do not fit in the context (shift() first). On error nothing changes.
    Status eval(std::span<const int> tokens, bool all_logits = false);

    // Logits [n_vocab] of token i of the last eval (all_logits), or of its last token for i = −1.
    std::span<const float> logits(int i = -1) const;

    // Context shift (llama.cpp `main`): keeps the first n_keep tokens, drops half of the rest and re-rotates
    // the keys that move. Returns the number of tokens dropped.
    int shift(int n_keep);
    // Forgets the tokens from position n on (to reuse a shared prompt prefix).
    void truncate(int n) { cache_->truncate(n); }

  private:
    struct MatmulJob {
        const WeightMatrix* w;
        float* y;  // [n_tokens, w->rows()]
    };
    void forward_batch(const int* tokens, int n, bool want_logits, bool all_logits, float* logits_out);
    void run_matmuls(std::initializer_list<MatmulJob> jobs, int n_tokens);
    void attention(int layer, int n_tokens, int p0);

    std::shared_ptr<const LlamaModel> model_;
    std::unique_ptr<KvCache> cache_;
    ThreadPool* pool_;
    int n_batch_;

    // Scratch, sized for n_batch tokens. Shapes are [tokens, width].
    std::vector<float> x_;         // [B, n_embd] residual stream
    std::vector<float> xn_;        // [B, max(n_embd, n_head·head_dim)] normed input of a projection
    std::vector<float> q_;         // [B, n_head·head_dim]
    std::vector<float> k_;         // [B, n_head_kv·head_dim]
    std::vector<float> v_;         // [B, n_head_kv·head_dim]
    std::vector<float> attn_;      // [B, n_head·head_dim]
    std::vector<float> proj_;      // [B, n_embd] output of attn_output / ffn_down
    std::vector<float> gate_;      // [B, n_ff]
    std::vector<float> up_;        // [B, n_ff]
    std::vector<float> cos_sin_;   // [B, n_rot]
    std::vector<float> part_out_;  // [B, n_head_kv, splits, group, head_dim] attention parts
    std::vector<float> part_max_;  // [B, n_head_kv, splits, group]
    std::vector<float> part_sum_;
    std::vector<std::vector<float>> thread_scratch_;  // per thread: [group, n_ctx]
    ActivationBuffer act_;
    std::vector<float> logits_;  // [tokens kept, n_vocab]
    int n_logits_ = 0;
};

}  // namespace kasten::llm
