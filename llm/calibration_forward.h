#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "llm/llama_model.h"
#include "llm/thread_pool.h"
#include "llm/weight_matrix.h"

namespace kasten::llm {

// The forward pass of a LlamaModel over one whole token sequence (positions from 0, plain causal attention, no
// cache), computing what LlamaContext computes, that reports the input of every matrix product and can run with
// some matrices replaced: the calibration pass of quantization (ImportanceMatrix, quantize_sequentially(),
// plan_mixed_precision()). It runs whole, or one block at a time on a kept residual stream, so that a
// quantizer can advance many sequences through the model layer by layer.
//
// Not thread-safe (one run at a time); the matrix products fan out over `pool`.
class CalibrationForward {
  public:
    // The matrices that read one input ("site"): per layer {"blk.L.attn_q.weight", "blk.L.attn_k.weight",
    // "blk.L.attn_v.weight"}, {"blk.L.attn_output.weight"}, {"blk.L.ffn_gate.weight", "blk.L.ffn_up.weight"},
    // {"blk.L.ffn_down.weight"}, then the classifier ({"output.weight"}, or {"token_embd.weight"} when tied) —
    // in the order the forward pass reaches them. Block b (2·L attention, 2·L + 1 feed-forward) holds sites 2b
    // and 2b + 1.
    static std::vector<std::vector<std::string>> sites(const LlamaModel& model);
    // Every matrix of the model by GGUF name (token_embd, output unless tied, and the blk.L.* matrices).
    static std::map<std::string, const WeightMatrix*> matrices(const LlamaModel& model);

    // Called with a site's input x [n_tokens × width] (row-major) before its products are computed. Returning
    // false stops the block there (run_block() then leaves the sequence as it was).
    using Hook = std::function<bool(std::span<const std::string> names, const float* x, int n_tokens, int width)>;

    // A sequence in flight: its tokens and residual stream x [n_tokens × n_embd] after `blocks_done` blocks.
    struct Sequence {
        std::vector<int> tokens;
        std::vector<float> x;
        int blocks_done = 0;
    };

    // REQUIRES: model outlives this; pool (may be nullptr) too.
    CalibrationForward(const LlamaModel& model, ThreadPool* pool) : m_(model), c_(model.config()), pool_(pool) {}

    int n_blocks() const { return 2 * c_.n_layer; }

    // Uses `matrix` (not owned; REQUIRES: the shape of tensor `name`, alive while runs use it) in place of the
    // model's tensor `name`; nullptr restores the model's. Replacing token_embd.weight changes the embedding
    // lookup too.
    void substitute(const std::string& name, const WeightMatrix* matrix);

    // The embedding lookup of `tokens` (valid ids, at least one).
    Sequence start(std::vector<int> tokens) const;
    // Runs block s.blocks_done on s, calling `hook` at its two sites; unless the hook stops it, adds the
    // block's output to s.x and counts it done. Returns whether the block completed.
    bool run_block(Sequence& s, const Hook& hook);
    // After every block: the classifier's input to `hook`, and when `logits` is non-null the logits of every
    // token [n_tokens × n_vocab]. REQUIRES: s.blocks_done == n_blocks().
    void finish(const Sequence& s, const Hook& hook, std::vector<float>* logits);
    // start + every block + finish.
    void run(std::span<const int> tokens, const Hook& hook, std::vector<float>* logits = nullptr);

  private:
    const WeightMatrix& matrix(const std::string& name, const WeightMatrix& own) const;
    // y[t, r] = row r · x_t for every row of w, spread over the pool.
    void multiply(const WeightMatrix& w, const float* x, int n, float* y);
    bool attention_block(Sequence& s, int layer, const Hook& hook);
    bool feed_forward_block(Sequence& s, int layer, const Hook& hook);

    const LlamaModel& m_;
    const ModelConfig& c_;
    ThreadPool* pool_;
    std::map<std::string, const WeightMatrix*> substitutes_;
    ActivationBuffer act_;
};

}  // namespace kasten::llm
