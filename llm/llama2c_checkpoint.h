#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "llm/mapped_file.h"
#include "llm/model_config.h"
#include "llm/tensor_view.h"

namespace kasten::llm {

// A llama2.c checkpoint (karpathy/llama2.c `run.c` format), memory-mapped:
//   7 × int32: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//   float32 weights: token_embedding [vocab, dim], rms_att [L, dim], wq [L, dim(out), dim(in)],
//   wk/wv [L, kv_dim, dim], wo [L, dim, dim], rms_ffn [L, dim], w1 [L, hidden, dim], w2 [L, dim, hidden],
//   w3 [L, hidden, dim], rms_final [dim], freq_cis_real/imag [seq_len, head_size/2] (unused), and, when
//   vocab_size is negative, an untied classifier wcls [|vocab|, dim].
// The weights are exposed as F32 TensorViews under their GGUF names (token_embd.weight, blk.N.attn_q.weight...,
// output.weight only when untied) so the model loader treats both formats alike. llama2.c rotates adjacent
// pairs, i.e. RopeStyle::kNormal over the whole head. Immutable; views live as long as this object.
class Llama2cCheckpoint {
  public:
    // kNotFound / kIOError for the file; kCorruption for bad header values or a size that does not match.
    static Result<Llama2cCheckpoint> open(const std::string& path);

    const ModelConfig& config() const { return config_; }
    bool tied_classifier() const { return tied_; }
    const std::vector<TensorView>& tensors() const { return tensors_; }

  private:
    Llama2cCheckpoint() = default;

    MappedFile file_;
    ModelConfig config_;
    bool tied_ = true;
    std::vector<TensorView> tensors_;
};

// The llama2.c tokenizer file (`tokenizer.bin`, `tok512.bin`): int32 max_token_length, then per token a float32
// score, an int32 byte length and the bytes. Pieces use ' ' (not "▁") for spaces and "<0xXX>" for byte tokens.
struct Llama2cVocab {
    int max_token_length = 0;
    std::vector<std::string> pieces;
    std::vector<float> scores;
};

// Reads `vocab_size` entries (the checkpoint's |vocab_size|). kCorruption when truncated or malformed.
Result<Llama2cVocab> read_llama2c_vocab(const std::string& path, int vocab_size);

}  // namespace kasten::llm
