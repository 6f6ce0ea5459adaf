#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace kasten::llm {

class GgufReader;

// Decoder families the forward pass implements. Both are pre-norm transformers with RMSNorm, RoPE, GQA attention
// and a SwiGLU feed-forward; qwen2 adds biases to Q, K and V and rotates NeoX pairs.
enum class ModelArchitecture { kLlama, kQwen2 };

// Which dimensions RoPE pairs inside a head: kNormal rotates (x[2i], x[2i+1]) (GGUF llama, llama2.c), kNeox
// rotates (x[i], x[i + n_rot/2]) (qwen2, HF layout). REFERENCE.md §3.2.
enum class RopeStyle { kNormal, kNeox };

// Hyper-parameters of a decoder, from GGUF metadata or a llama2.c header.
struct ModelConfig {
    ModelArchitecture architecture = ModelArchitecture::kLlama;
    int n_vocab = 0;  // filled from token_embd when the metadata does not record it
    int n_embd = 0;   // model width
    int n_layer = 0;
    int n_head = 0;
    int n_head_kv = 0;  // == n_head without GQA
    int head_dim = 0;   // per-head width of Q, K and V
    int n_ff = 0;       // feed-forward hidden width
    int n_rot = 0;      // leading dims of each head that RoPE rotates (even, <= head_dim)
    RopeStyle rope_style = RopeStyle::kNormal;
    float rope_freq_base = 10000.0f;
    float rope_freq_scale = 1.0f;  // positions are multiplied by this (linear scaling = 1 / factor)
    float rms_eps = 1e-5f;
    int train_context = 0;  // recorded training context; informational, the runtime context is a setting

    // kInvalidArgument when the shapes are inconsistent (zero sizes, n_head % n_head_kv, odd n_rot...).
    Status validate() const;
    std::string describe() const;
};

std::string_view architecture_name(ModelArchitecture arch);

// Reads `<arch>.*` keys. kNotSupported for an architecture other than llama/qwen2 or unsupported RoPE scaling;
// kNotFound / kInvalidArgument for missing or mistyped required keys.
Result<ModelConfig> model_config_from_gguf(const GgufReader& gguf);

}  // namespace kasten::llm
