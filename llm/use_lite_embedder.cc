#include "llm/use_lite_embedder.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <Eigen/Core>

namespace kasten::llm {
namespace {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
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

// out = (x - mean) / sqrt(var + eps) * scale + bias, per row.
void layer_norm(const Matrix& x, const ConstRowMap& scale, const ConstRowMap& shift, Matrix& out) {
    out.resize(x.rows(), x.cols());
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
        const float mean = x.row(r).mean();
        const auto centered = (x.row(r).array() - mean).matrix();
        const float var = centered.squaredNorm() / static_cast<float>(x.cols());
        const float inv = 1.0f / std::sqrt(var + kUseLiteNormEpsilon);
        out.row(r) = (centered.array() * inv * scale.array() + shift.array()).matrix();
    }
}

// Multi-head self-attention of each sentence (rows [offsets[s], offsets[s + 1])) over the packed q|k|v columns.
void attention(const Matrix& qkv, int width, int heads, float scale, const std::vector<Eigen::Index>& offsets,
               Matrix& out) {
    const int dh = width / heads;
    out.resize(qkv.rows(), width);
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
void feed_forward(const UseLiteModel& m, UseLiteTensor norm_scale, UseLiteTensor norm_bias, UseLiteTensor w1,
                  UseLiteTensor b1, UseLiteTensor w2, UseLiteTensor b2, Matrix& x, Matrix& normed, Matrix& hidden) {
    layer_norm(x, bias(m, norm_scale), bias(m, norm_bias), normed);
    hidden.noalias() = normed * weight(m, w1);
    hidden.rowwise() += bias(m, b1);
    hidden = hidden.cwiseMax(0.0f);
    x.noalias() += hidden * weight(m, w2);
    x.rowwise() += bias(m, b2);
}

}  // namespace

UseLiteEmbedder::UseLiteEmbedder(std::unique_ptr<UseLiteModel> model) : model_(std::move(model)), tokenizer_(*model_) {
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

Result<std::unique_ptr<UseLiteEmbedder>> UseLiteEmbedder::load(const std::string& path) {
    KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<UseLiteModel> model, UseLiteModel::load(path));
    return std::unique_ptr<UseLiteEmbedder>(new UseLiteEmbedder(std::move(model)));
}

void UseLiteEmbedder::forward(const std::vector<const std::vector<int>*>& batch, const std::vector<float*>& out) const {
    const UseLiteModel& m = *model_;
    std::vector<Eigen::Index> offsets(1, 0);
    for (const std::vector<int>* ids : batch)
        offsets.push_back(offsets.back() + static_cast<Eigen::Index>(ids->size()));
    const Eigen::Index total = offsets.back();

    Matrix x0(total, kE);
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

    Matrix normed, qkv, context, hidden;
    // Layer 0.
    layer_norm(x0, bias(m, UseLiteTensor::kL0AttnNormScale), bias(m, UseLiteTensor::kL0AttnNormBias), normed);
    qkv.noalias() = normed * weight(m, UseLiteTensor::kL0Qkv);
    qkv.rowwise() += bias(m, UseLiteTensor::kL0QkvBias);
    attention(qkv, kE, kUseLiteHeads, kUseLiteL0QueryScale, offsets, context);
    Matrix x(total, kM);
    x.noalias() = context * weight(m, UseLiteTensor::kL0Out);
    x.noalias() += x0 * weight(m, UseLiteTensor::kL0Residual);
    x.rowwise() += bias(m, UseLiteTensor::kL0OutBias) + bias(m, UseLiteTensor::kL0ResidualBias);
    feed_forward(m, UseLiteTensor::kL0FfnNormScale, UseLiteTensor::kL0FfnNormBias, UseLiteTensor::kL0Ffn1,
                 UseLiteTensor::kL0Ffn1Bias, UseLiteTensor::kL0Ffn2, UseLiteTensor::kL0Ffn2Bias, x, normed, hidden);
    // Layer 1.
    layer_norm(x, bias(m, UseLiteTensor::kL1AttnNormScale), bias(m, UseLiteTensor::kL1AttnNormBias), normed);
    qkv.noalias() = normed * weight(m, UseLiteTensor::kL1Qkv);
    qkv.rowwise() += bias(m, UseLiteTensor::kL1QkvBias);
    attention(qkv, kM, kUseLiteHeads, kUseLiteL1QueryScale, offsets, context);
    x.noalias() += context * weight(m, UseLiteTensor::kL1Out);
    x.rowwise() += bias(m, UseLiteTensor::kL1OutBias);
    // Layer 1's FFN feeds only the mean over tokens, and its second matmul is linear: the mean of
    // x + relu(LN(x) W1 + b1) W2 + b2 is mean(x) + mean(relu(LN(x) W1 + b1)) W2 + b2, one row per sentence.
    layer_norm(x, bias(m, UseLiteTensor::kL1FfnNormScale), bias(m, UseLiteTensor::kL1FfnNormBias), normed);
    hidden.noalias() = normed * weight(m, UseLiteTensor::kL1Ffn1);
    hidden.rowwise() += bias(m, UseLiteTensor::kL1Ffn1Bias);
    hidden = hidden.cwiseMax(0.0f);
    const auto sentences = static_cast<Eigen::Index>(batch.size());
    Matrix pooled(sentences, kM);
    Matrix pooled_hidden(sentences, kUseLiteFfnDim);
    for (Eigen::Index s = 0; s < sentences; ++s) {
        const Eigen::Index begin = offsets[static_cast<std::size_t>(s)];
        const Eigen::Index n = offsets[static_cast<std::size_t>(s) + 1] - begin;
        const float inv_n = 1.0f / static_cast<float>(std::max<Eigen::Index>(n, 1));
        pooled.row(s) = x.middleRows(begin, n).colwise().sum() * inv_n;
        pooled_hidden.row(s) = hidden.middleRows(begin, n).colwise().sum() * inv_n;
    }
    pooled.noalias() += pooled_hidden * weight(m, UseLiteTensor::kL1Ffn2);
    pooled.rowwise() += bias(m, UseLiteTensor::kL1Ffn2Bias);

    // tanh layer, L2 normalisation.
    Matrix hidden_out(sentences, kM);
    hidden_out.noalias() = pooled * weight(m, UseLiteTensor::kHidden);
    hidden_out.rowwise() += bias(m, UseLiteTensor::kHiddenBias);
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
        if (!batch.empty() && tokens + ids[i].size() > static_cast<std::size_t>(std::max(max_batch_tokens, 1))) flush();
        batch.push_back(&ids[i]);
        rows.push_back(out.data() + i * kM);
        tokens += ids[i].size();
    }
    flush();
}

}  // namespace kasten::llm
