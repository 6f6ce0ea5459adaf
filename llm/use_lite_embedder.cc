#include "llm/use_lite_embedder.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <numeric>

#include <Eigen/Core>

#include "llm/dot_kernels.h"

namespace kasten::llm {
namespace {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;
using ConstRowMap = Eigen::Map<const Eigen::RowVectorXf>;

constexpr int kE = kUseLiteEmbedDim;
constexpr int kM = kUseLiteModelDim;

ConstMatrixMap weight(const UseLiteModel& m, UseLiteTensor t) {
    const UseLiteTensorSpec& spec = kUseLiteTensors[static_cast<std::size_t>(t)];
    return ConstMatrixMap(m.tensor(t), spec.rows, spec.cols);
}

ConstRowMap bias(const UseLiteModel& m, UseLiteTensor t) {
    const UseLiteTensorSpec& spec = kUseLiteTensors[static_cast<std::size_t>(t)];
    return ConstRowMap(m.tensor(t), spec.cols);
}

using Bf16Weights = std::array<Bf16Matrix, kUseLiteTensors.size()>;

// The forward pass's matrices, one buffer per role, kept per thread between passes and grown as needed: fresh
// allocations of a batch's matrices (up to kMaxForwardTokens x 1,536 floats) page-faulted on first touch in every
// pass (15% of the profile at 2,048 tokens per pass).
class Workspace {
  public:
    enum Slot { kX0, kNormed, kQkv, kContext, kX, kHidden, kPooled, kPooledHidden, kHiddenOut, kSlots };
    // Sizes every buffer for a pass over `tokens` rows in `sentences` sentences at its widest use.
    void reserve(Eigen::Index tokens, Eigen::Index sentences) {
        constexpr std::array<Eigen::Index, kSlots> kWidths = {kE, kM, 3 * kM, kM, kM, kUseLiteFfnDim, 0, 0, 0};
        constexpr std::array<Eigen::Index, kSlots> kPerSentence = {0, 0, 0, 0, 0, 0, kM, kUseLiteFfnDim, kM};
        for (std::size_t i = 0; i < buffers_.size(); ++i) {
            const auto size = static_cast<std::size_t>(tokens * kWidths[i] + sentences * kPerSentence[i]);
            if (buffers_[i].size() < size) buffers_[i].resize(size);
        }
    }
    // A rows x cols view of a slot's buffer (within what reserve() sized; views of one slot share it).
    MatrixMap take(Slot slot, Eigen::Index rows, Eigen::Index cols) {
        Buffer& b = buffers_[slot];
        assert(b.size() >= static_cast<std::size_t>(rows * cols));
        return MatrixMap(b.data(), rows, cols);
    }

  private:
    // Aligned as Eigen's own matrices: Eigen's vectorised reductions (means, norms, sums) peel to alignment, so a
    // buffer's address alignment would otherwise change their summation order, and a pass's result with the thread.
    using Buffer = std::vector<float, Eigen::aligned_allocator<float>>;
    std::array<Buffer, kSlots> buffers_;
};

// y = op(x W + b) for the weight tensor w and its bias b: Eigen in float32, or the bfloat16 kernel. y has x.rows()
// rows and W's columns.
void product(const UseLiteModel& m, const UseLiteMatmul& matmul, const Bf16Weights& bf16, UseLiteTensor w,
             UseLiteTensor b, const MatrixMap& x, Bf16Output op, MatrixMap& y) {
    const ConstMatrixMap wm = weight(m, w);
    if (matmul.has_value()) {
        bf16[static_cast<std::size_t>(w)].multiply(x.data(), static_cast<int>(x.rows()), static_cast<int>(x.cols()),
                                                   y.data(), static_cast<int>(y.cols()), m.tensor(b), op, *matmul);
        return;
    }
    if (op == Bf16Output::kAdd) {
        y.noalias() += x * wm;
    } else {
        y.noalias() = x * wm;
    }
    y.rowwise() += bias(m, b);
    if (op == Bf16Output::kSetRelu) y = y.cwiseMax(0.0f);
}

// out = (x - mean) / sqrt(var + eps) * scale + bias, per row.
void layer_norm(const MatrixMap& x, const ConstRowMap& scale, const ConstRowMap& shift, MatrixMap& out) {
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
        const float mean = x.row(r).mean();
        const auto centered = (x.row(r).array() - mean).matrix();
        const float var = centered.squaredNorm() / static_cast<float>(x.cols());
        const float inv = 1.0f / std::sqrt(var + kUseLiteNormEpsilon);
        out.row(r) = (centered.array() * inv * scale.array() + shift.array()).matrix();
    }
}

// Multi-head self-attention of each sentence (rows [offsets[s], offsets[s + 1])) over the packed q|k|v columns.
void attention(const MatrixMap& qkv, int width, int heads, float scale, const std::vector<Eigen::Index>& offsets,
               MatrixMap& out) {
    const int dh = width / heads;
    Matrix scores;
    for (std::size_t s = 0; s + 1 < offsets.size(); ++s) {
        const Eigen::Index begin = offsets[s];
        const Eigen::Index n = offsets[s + 1] - begin;
        for (int h = 0; h < heads; ++h) {
            const auto q = qkv.block(begin, h * dh, n, dh);
            const auto k = qkv.block(begin, width + h * dh, n, dh);
            const auto v = qkv.block(begin, 2 * width + h * dh, n, dh);
            scores.noalias() = (q * scale) * k.transpose();
            for (Eigen::Index r = 0; r < n; ++r) {
                const float top = scores.row(r).maxCoeff();
                scores.row(r) = (scores.row(r).array() - top).exp().matrix();
                scores.row(r) /= scores.row(r).sum();
            }
            out.block(begin, h * dh, n, dh).noalias() = scores * v;
        }
    }
}

// x += relu(LN(x) W1 + b1) W2 + b2.
void feed_forward(const UseLiteModel& m, const UseLiteMatmul& matmul, const Bf16Weights& bf16, UseLiteTensor norm_scale,
                  UseLiteTensor norm_bias, UseLiteTensor w1, UseLiteTensor b1, UseLiteTensor w2, UseLiteTensor b2,
                  MatrixMap& x, MatrixMap& normed, MatrixMap& hidden) {
    layer_norm(x, bias(m, norm_scale), bias(m, norm_bias), normed);
    product(m, matmul, bf16, w1, b1, normed, Bf16Output::kSetRelu, hidden);
    product(m, matmul, bf16, w2, b2, hidden, Bf16Output::kAdd, x);
}

}  // namespace

UseLiteMatmul default_use_lite_matmul() {
    static const UseLiteMatmul best = []() -> UseLiteMatmul {
        UseLiteMatmul m;
        if (amx_bf16_supported()) {
            m = Bf16Isa::kAmx;
        } else if (avx512_bf16_supported()) {
            m = Bf16Isa::kAvx512;
        }
        const char* env = std::getenv("KASTEN_KERNEL_ISA");
        KernelIsa wanted = KernelIsa::kScalar;
        if (env == nullptr || !parse_kernel_isa(env, &wanted)) return m;
        switch (wanted) {
            case KernelIsa::kScalar:
            case KernelIsa::kAvx2:
                return std::nullopt;
            case KernelIsa::kAvx512Vnni:
                return avx512_bf16_supported() ? UseLiteMatmul(Bf16Isa::kAvx512) : m;
            case KernelIsa::kAvx512Amx:
                return m;
        }
        return m;
    }();
    return best;
}

const char* use_lite_matmul_name(const UseLiteMatmul& matmul) {
    return matmul.has_value() ? bf16_isa_name(*matmul) : "f32";
}

UseLiteEmbedder::UseLiteEmbedder(std::unique_ptr<UseLiteModel> model, UseLiteMatmul matmul)
    : model_(std::move(model)), matmul_(matmul), tokenizer_(*model_) {
    if (matmul_.has_value()) {
        for (UseLiteTensor t :
             {UseLiteTensor::kL0Qkv, UseLiteTensor::kL0Out, UseLiteTensor::kL0Residual, UseLiteTensor::kL0Ffn1,
              UseLiteTensor::kL0Ffn2, UseLiteTensor::kL1Qkv, UseLiteTensor::kL1Out, UseLiteTensor::kL1Ffn1,
              UseLiteTensor::kL1Ffn2, UseLiteTensor::kHidden}) {
            const UseLiteTensorSpec& spec = kUseLiteTensors[static_cast<std::size_t>(t)];
            bf16_weights_[static_cast<std::size_t>(t)] =
                Bf16Matrix(model_->tensor(t), static_cast<int>(spec.rows), static_cast<int>(spec.cols));
        }
    }
    timing_.resize(static_cast<std::size_t>(kUseLiteMaxTokens) * kE);
    const float* inv = model_->tensor(UseLiteTensor::kTimingInvTimescales);
    for (int p = 0; p < kUseLiteMaxTokens; ++p) {
        float* row = timing_.data() + static_cast<std::size_t>(p) * kE;
        for (int i = 0; i < kUseLiteTimescales; ++i) {
            const float angle = static_cast<float>(p) * inv[i];
            row[i] = std::sin(angle);
            row[kUseLiteTimescales + i] = std::cos(angle);
        }
    }
}

Result<std::unique_ptr<UseLiteEmbedder>> UseLiteEmbedder::load(const std::string& path, UseLiteMatmul matmul) {
    KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<UseLiteModel> model, UseLiteModel::load(path));
    return std::unique_ptr<UseLiteEmbedder>(new UseLiteEmbedder(std::move(model), matmul));
}

void UseLiteEmbedder::forward(const std::vector<const std::vector<int>*>& batch, const std::vector<float*>& out) const {
    const UseLiteModel& m = *model_;
    std::vector<Eigen::Index> offsets(1, 0);
    for (const std::vector<int>* ids : batch)
        offsets.push_back(offsets.back() + static_cast<Eigen::Index>(ids->size()));
    const Eigen::Index total = offsets.back();

    thread_local Workspace ws;
    ws.reserve(total, static_cast<Eigen::Index>(batch.size()));
    MatrixMap x0 = ws.take(Workspace::kX0, total, kE);
    const float* table = m.tensor(UseLiteTensor::kEmbeddings);
    for (std::size_t s = 0; s < batch.size(); ++s) {
        const std::vector<int>& ids = *batch[s];
        for (std::size_t p = 0; p < ids.size(); ++p) {
            const int id = std::clamp(ids[p], 0, kUseLiteEmbeddingRows - 1);
            const float* e = table + static_cast<std::size_t>(id) * kE;
            const float* t = timing_.data() + p * kE;
            float* row = x0.row(offsets[s] + static_cast<Eigen::Index>(p)).data();
            for (int d = 0; d < kE; ++d) row[d] = 2.0f * e[d] + t[d];
        }
    }

    const UseLiteMatmul& mm = matmul_;
    const Bf16Weights& bw = bf16_weights_;
    // Layer 0 (width kE until the lift to kM).
    MatrixMap normed = ws.take(Workspace::kNormed, total, kE);
    MatrixMap qkv = ws.take(Workspace::kQkv, total, 3 * kE);
    MatrixMap context = ws.take(Workspace::kContext, total, kE);
    layer_norm(x0, bias(m, UseLiteTensor::kL0AttnNormScale), bias(m, UseLiteTensor::kL0AttnNormBias), normed);
    product(m, mm, bw, UseLiteTensor::kL0Qkv, UseLiteTensor::kL0QkvBias, normed, Bf16Output::kSet, qkv);
    attention(qkv, kE, kUseLiteHeads, kUseLiteL0QueryScale, offsets, context);
    MatrixMap x = ws.take(Workspace::kX, total, kM);
    MatrixMap hidden = ws.take(Workspace::kHidden, total, kUseLiteFfnDim);
    product(m, mm, bw, UseLiteTensor::kL0Out, UseLiteTensor::kL0OutBias, context, Bf16Output::kSet, x);
    product(m, mm, bw, UseLiteTensor::kL0Residual, UseLiteTensor::kL0ResidualBias, x0, Bf16Output::kAdd, x);
    // Layer 0's FFN and layer 1: the same buffers at width kM.
    MatrixMap normed_m = ws.take(Workspace::kNormed, total, kM);
    MatrixMap qkv_m = ws.take(Workspace::kQkv, total, 3 * kM);
    MatrixMap context_m = ws.take(Workspace::kContext, total, kM);
    feed_forward(m, mm, bw, UseLiteTensor::kL0FfnNormScale, UseLiteTensor::kL0FfnNormBias, UseLiteTensor::kL0Ffn1,
                 UseLiteTensor::kL0Ffn1Bias, UseLiteTensor::kL0Ffn2, UseLiteTensor::kL0Ffn2Bias, x, normed_m, hidden);
    // Layer 1.
    layer_norm(x, bias(m, UseLiteTensor::kL1AttnNormScale), bias(m, UseLiteTensor::kL1AttnNormBias), normed_m);
    product(m, mm, bw, UseLiteTensor::kL1Qkv, UseLiteTensor::kL1QkvBias, normed_m, Bf16Output::kSet, qkv_m);
    attention(qkv_m, kM, kUseLiteHeads, kUseLiteL1QueryScale, offsets, context_m);
    product(m, mm, bw, UseLiteTensor::kL1Out, UseLiteTensor::kL1OutBias, context_m, Bf16Output::kAdd, x);
    // Layer 1's FFN feeds only the mean over tokens, and its second matmul is linear: the mean of
    // x + relu(LN(x) W1 + b1) W2 + b2 is mean(x) + mean(relu(LN(x) W1 + b1)) W2 + b2, one row per sentence.
    layer_norm(x, bias(m, UseLiteTensor::kL1FfnNormScale), bias(m, UseLiteTensor::kL1FfnNormBias), normed_m);
    product(m, mm, bw, UseLiteTensor::kL1Ffn1, UseLiteTensor::kL1Ffn1Bias, normed_m, Bf16Output::kSetRelu, hidden);
    const auto sentences = static_cast<Eigen::Index>(batch.size());
    MatrixMap pooled = ws.take(Workspace::kPooled, sentences, kM);
    MatrixMap pooled_hidden = ws.take(Workspace::kPooledHidden, sentences, kUseLiteFfnDim);
    for (Eigen::Index s = 0; s < sentences; ++s) {
        const Eigen::Index begin = offsets[static_cast<std::size_t>(s)];
        const Eigen::Index n = offsets[static_cast<std::size_t>(s) + 1] - begin;
        const float inv_n = 1.0f / static_cast<float>(std::max<Eigen::Index>(n, 1));
        pooled.row(s) = x.middleRows(begin, n).colwise().sum() * inv_n;
        pooled_hidden.row(s) = hidden.middleRows(begin, n).colwise().sum() * inv_n;
    }
    product(m, mm, bw, UseLiteTensor::kL1Ffn2, UseLiteTensor::kL1Ffn2Bias, pooled_hidden, Bf16Output::kAdd, pooled);

    // tanh layer, L2 normalisation.
    MatrixMap hidden_out = ws.take(Workspace::kHiddenOut, sentences, kM);
    product(m, mm, bw, UseLiteTensor::kHidden, UseLiteTensor::kHiddenBias, pooled, Bf16Output::kSet, hidden_out);
    hidden_out = hidden_out.array().tanh().matrix();
    for (std::size_t s = 0; s < batch.size(); ++s) {
        const auto row = hidden_out.row(static_cast<Eigen::Index>(s));
        const float inv = 1.0f / std::sqrt(std::max(row.squaredNorm(), kUseLiteL2Epsilon));
        Eigen::Map<Eigen::RowVectorXf>(out[s], kM) = row * inv;
    }
}

bool UseLiteEmbedder::recall(std::string_view text, std::span<float> out) const {
    if (text.size() > kRecentTextBytes) return false;
    MutexLock lock(recent_mu_);
    auto it = recent_.find(std::string(text));
    if (it == recent_.end()) return false;
    std::copy(it->second.begin(), it->second.end(), out.begin());
    return true;
}

void UseLiteEmbedder::remember(std::string_view text, std::span<const float> out) const {
    if (text.size() > kRecentTextBytes) return;
    MutexLock lock(recent_mu_);
    if (recent_.emplace(std::string(text), std::vector<float>(out.begin(), out.begin() + kM)).second) {
        recent_order_.emplace_back(text);
        if (recent_order_.size() > kRecentTexts) {
            recent_.erase(recent_order_.front());
            recent_order_.pop_front();
        }
    }
}

void UseLiteEmbedder::embed(std::string_view text, std::span<float> out) const {
    if (out.size() < static_cast<std::size_t>(kM)) return;
    if (recall(text, out)) return;
    std::vector<int> ids = tokenizer_.encode(text);
    if (ids.size() > static_cast<std::size_t>(kUseLiteMaxTokens)) ids.resize(kUseLiteMaxTokens);
    if (ids.empty()) {
        std::fill(out.begin(), out.end(), 0.0f);
        return;
    }
    forward({&ids}, {out.data()});
    remember(text, out);
}

void UseLiteEmbedder::embed_batch(std::span<const std::string_view> texts, std::span<float> out) const {
    const auto m = static_cast<std::size_t>(kM);
    if (out.size() < texts.size() * m) return;
    std::vector<std::string_view> missing;
    std::vector<std::size_t> missing_at;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        if (!recall(texts[i], out.subspan(i * m, m))) {
            missing.push_back(texts[i]);
            missing_at.push_back(i);
        }
    }
    if (missing.empty()) return;
    std::vector<float> computed(missing.size() * m);
    embed_batch(missing, computed, kBatchTokens);
    for (std::size_t j = 0; j < missing.size(); ++j) {
        const std::span<const float> row(computed.data() + j * m, m);
        std::copy(row.begin(), row.end(), out.begin() + static_cast<std::ptrdiff_t>(missing_at[j] * m));
        remember(missing[j], row);
    }
}

void UseLiteEmbedder::embed_batch(std::span<const std::string_view> texts, std::span<float> out,
                                  int max_batch_tokens) const {
    if (out.size() < texts.size() * static_cast<std::size_t>(kM)) return;
    std::vector<std::vector<int>> ids(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        ids[i] = tokenizer_.encode(texts[i]);
        if (ids[i].size() > static_cast<std::size_t>(kUseLiteMaxTokens)) ids[i].resize(kUseLiteMaxTokens);
        if (ids[i].empty()) std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(i * kM), kM, 0.0f);
    }
    std::vector<std::size_t> order(texts.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return ids[a].size() < ids[b].size(); });
    const auto limit = static_cast<std::size_t>(std::clamp(max_batch_tokens, 1, kMaxForwardTokens));
    std::vector<const std::vector<int>*> batch;
    std::vector<float*> rows;
    std::size_t tokens = 0;
    auto flush = [&] {
        if (!batch.empty()) forward(batch, rows);
        batch.clear();
        rows.clear();
        tokens = 0;
    };
    for (std::size_t i : order) {
        if (ids[i].empty()) continue;
        if (!batch.empty() && tokens + ids[i].size() > limit) flush();
        batch.push_back(&ids[i]);
        rows.push_back(out.data() + i * kM);
        tokens += ids[i].size();
    }
    flush();
}

}  // namespace kasten::llm
