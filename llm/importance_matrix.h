#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "llm/llama_model.h"
#include "llm/thread_pool.h"
#include "llm/tokenizer.h"

namespace kasten::llm {

// Activation statistics of a model's weight matrices for quantization (llama.cpp's "imatrix", the
// activation statistics of AWQ and GPTQ): for every matrix product y = W·x of the forward pass, the mean over
// calibration tokens of x_j² for each input column j (importance), and, when it fits the memory budget, the
// whole second moment E[x·xᵀ] (GPTQ's Hessian, up to a factor 2). A quantizer that weights the error of column
// j by its importance reproduces best the weights that meet large activations; with the second moment it can
// also compensate one column's rounding error in the columns still to be quantized. Keyed by GGUF tensor name
// ("blk.0.attn_q.weight", "output.weight"); the embedding lookup (token_embd, unless it is the tied classifier)
// is not a matrix product and has no entry. Matrices that read the same input share one set of statistics.
//
// Immutable after collect(); thread-safe to read.
class ImportanceMatrix {
  public:
    // Second moments are kept only when twice second_moment_bytes() (they are summed in double) fits this many
    // bytes (a 64-wide model needs kilobytes, a 4096-wide one gigabytes); otherwise only the per-column
    // importance is collected.
    static constexpr std::size_t kDefaultMaxSecondMomentBytes = std::size_t{256} << 20;

    // Bytes the second moments of every site of a model with this shape take (float).
    static std::size_t second_moment_bytes(const ModelConfig& config);

    // Runs `model` in its own precision over each sequence (positions from 0, a fresh cache per sequence) and
    // averages the squared inputs of every matrix product over all tokens. `pool` (may be nullptr) spreads
    // the matrix rows over threads. kInvalidArgument when there are no tokens, a token id is outside the
    // vocabulary, or a sequence is longer than 4096 tokens.
    static Result<ImportanceMatrix> collect(const LlamaModel& model, std::span<const std::vector<int>> sequences,
                                            ThreadPool* pool = nullptr,
                                            std::size_t max_second_moment_bytes = kDefaultMaxSecondMomentBytes);

    // The importance of the columns of tensor `name` (its width), or an empty span when it has none.
    std::span<const float> of(const std::string& name) const;
    // E[x·xᵀ] of the input of tensor `name`, [width × width] row-major, or an empty span when not collected.
    std::span<const float> second_moment(const std::string& name) const;
    // Calibration tokens the statistics average over.
    std::int64_t n_tokens() const { return n_tokens_; }
    // Tensors with statistics.
    std::size_t size() const { return sites_.size(); }

  private:
    struct Site {
        std::vector<float> importance;
        std::vector<float> second_moment;
    };
    std::map<std::string, std::shared_ptr<const Site>> sites_;
    std::int64_t n_tokens_ = 0;
};

// Calibration sequences written by the model itself (no data needed, and in the model's own domain): BOS +
// prompt + up to `max_generate` tokens sampled at temperature 0.8 (top-k 40, top-p 0.95), stopping early at an
// end-of-generation token; the prompts are taken in turn, each sequence with its own seed (`seed` + its index),
// until the sequences hold at least `n_tokens` tokens. Deterministic. kInvalidArgument for no prompts,
// n_tokens < 1, or a prompt that does not fit the context (the model's training context, at most 4096) with
// one generated token.
Result<std::vector<std::vector<int>>> generate_calibration(const std::shared_ptr<const LlamaModel>& model,
                                                           const Tokenizer& tokenizer,
                                                           std::span<const std::string> prompts, int n_tokens,
                                                           int max_generate, std::uint64_t seed, ThreadPool& pool);

// Built-in prompts for generate_calibration(): short, generic English openings.
std::vector<std::string> default_calibration_prompts();

// Calibration sequences from a text: its tokens (BOS first) cut into chunks of at most `chunk` tokens, each
// chunk starting with BOS. kInvalidArgument for an empty text or chunk < 2.
Result<std::vector<std::vector<int>>> calibration_from_text(const Tokenizer& tokenizer, std::string_view text,
                                                            int chunk);

}  // namespace kasten::llm
