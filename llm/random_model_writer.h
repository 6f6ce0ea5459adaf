#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "llm/model_config.h"
#include "llm/tensor_type.h"

namespace kasten::llm {

// Shape and storage of a synthetic llama/qwen2 model with random weights, for benchmarks and tests that need
// a model of a given size (no trained model that large is available here).
struct RandomModelSpec {
    ModelArchitecture architecture = ModelArchitecture::kLlama;
    int n_vocab = 512;
    int n_embd = 64;
    int n_layer = 2;
    int n_head = 4;
    int n_head_kv = 2;
    int n_ff = 128;
    int context_length = 2048;  // recorded in the metadata only
    bool tied_output = true;
    bool qkv_bias = false;               // Q/K/V biases (always present for qwen2)
    TensorType type = TensorType::kF32;  // 2-D weights; rows whose width does not fit its blocks fall back to F16
    float weight_scale = 0.02f;          // weights uniform with this standard deviation; norms are 1
    std::uint64_t seed = 1;

    // SmolLM2-135M's shape: 30 layers, width 576, 9 heads, 3 KV heads, FFN 1536, vocabulary 49152, tied.
    static RandomModelSpec smollm2_135m_shape(TensorType type);
};

// Writes the model as GGUF v3 with a synthetic SentencePiece-style vocabulary (<unk>, <s>, </s>, the 256
// <0xXX> byte tokens, then filler pieces), so every model-loading path accepts it. Weights are generated and
// quantized tensor by tensor while streaming, so memory use stays small. Deterministic for a seed.
// kInvalidArgument for an inconsistent spec (n_head % n_head_kv, n_vocab < 259...), kIOError on write errors.
Status write_random_model(const RandomModelSpec& spec, const std::string& path);

}  // namespace kasten::llm
