#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "llm/dot_kernels.h"
#include "llm/model_config.h"
#include "llm/rope.h"
#include "llm/weight_matrix.h"

namespace kasten::llm {

class GgufReader;
class Llama2cCheckpoint;

// Weights of one transformer block. Matrices map [in] → [out] rows (shapes as in → out).
struct LayerWeights {
    std::vector<float> attn_norm;   // [n_embd]
    WeightMatrix wq;                // n_embd → n_head · head_dim
    WeightMatrix wk;                // n_embd → n_head_kv · head_dim
    WeightMatrix wv;                // n_embd → n_head_kv · head_dim
    std::vector<float> bq, bk, bv;  // Q/K/V biases (qwen2), empty when absent
    WeightMatrix wo;                // n_head · head_dim → n_embd
    std::vector<float> ffn_norm;    // [n_embd]
    WeightMatrix gate;              // n_embd → n_ff
    WeightMatrix up;                // n_embd → n_ff
    WeightMatrix down;              // n_ff → n_embd
};

// An immutable llama-family decoder (llama, qwen2) loaded from a GGUF file or a llama2.c checkpoint. Matrices
// point into the memory-mapped file (norms and biases are copied to float); the file stays mapped for the
// model's lifetime. Thread-safe: any number of LlamaContexts may share one model.
class LlamaModel {
  public:
    // Opens a GGUF file or a llama2.c checkpoint (recognised by the GGUF magic).
    static Result<std::shared_ptr<const LlamaModel>> open(const std::string& path, KernelIsa isa = best_kernel_isa());
    static Result<std::shared_ptr<const LlamaModel>> from_gguf(std::shared_ptr<const GgufReader> gguf,
                                                               KernelIsa isa = best_kernel_isa());
    static Result<std::shared_ptr<const LlamaModel>> from_llama2c(std::shared_ptr<const Llama2cCheckpoint> ckpt,
                                                                  KernelIsa isa = best_kernel_isa());

    const ModelConfig& config() const { return config_; }
    KernelIsa isa() const { return isa_; }
    const Rope& rope() const { return rope_; }
    // The GGUF file (metadata, tokenizer); nullptr for a llama2.c checkpoint.
    const GgufReader* gguf() const { return gguf_.get(); }

    const WeightMatrix& token_embedding() const { return token_embd_; }  // n_embd × n_vocab rows
    const std::vector<float>& output_norm() const { return output_norm_; }
    const WeightMatrix& output() const { return output_; }  // n_embd → n_vocab (== token_embedding when tied)
    bool tied_output() const { return tied_; }
    const LayerWeights& layer(int l) const { return layers_[static_cast<std::size_t>(l)]; }

    // Bytes of every weight tensor.
    std::uint64_t weight_bytes() const { return weight_bytes_; }
    // Weight bytes one decode step reads: every matrix and norm, the output matrix, and one embedding row.
    std::uint64_t bytes_read_per_token() const { return bytes_per_token_; }
    // "Q8_0 ×36, F32 ×11" — the matrix types, most frequent first.
    std::string weight_types() const;

  private:
    LlamaModel(const ModelConfig& config, KernelIsa isa, std::vector<float> rope_factors)
        : config_(config), isa_(isa), rope_(config, std::move(rope_factors)) {}
    using TensorLookup = std::function<const TensorView*(const std::string& name)>;
    // Binds and shape-checks every tensor; `model` has config_ and its file owner set.
    static Status bind(LlamaModel& model, const TensorLookup& lookup);

    ModelConfig config_;
    KernelIsa isa_;
    Rope rope_;
    std::shared_ptr<const GgufReader> gguf_;
    std::shared_ptr<const Llama2cCheckpoint> llama2c_;
    WeightMatrix token_embd_;
    std::vector<float> output_norm_;
    WeightMatrix output_;
    bool tied_ = false;
    std::vector<LayerWeights> layers_;
    std::uint64_t weight_bytes_ = 0;
    std::uint64_t bytes_per_token_ = 0;
};

}  // namespace kasten::llm
