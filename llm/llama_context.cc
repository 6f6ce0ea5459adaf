#include "llm/llama_context.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "llm/full_kv_cache.h"

namespace kasten::llm {
namespace {

// out = w ⊙ x / sqrt(mean(x²) + eps), as llama2.c computes it.
void rms_norm(const float* x, const float* w, int n, float eps, float* out) {
    rms_norm_f32(x, w, static_cast<std::size_t>(n), eps, out);
}

void add_in_place(float* x, const float* y, std::size_t n) {
    add_f32(x, y, n);
}

}  // namespace

LlamaContext::LlamaContext(std::shared_ptr<const LlamaModel> model, std::unique_ptr<KvCache> cache, ThreadPool* pool,
                           int n_batch)
    : model_(std::move(model)), cache_(std::move(cache)), pool_(pool), n_batch_(std::max(1, n_batch)) {
    assert(model_ && cache_ && pool_);
    const ModelConfig& c = model_->config();
    const auto b = static_cast<std::size_t>(n_batch_);
    const auto q_dim = static_cast<std::size_t>(c.n_head * c.head_dim);
    const auto kv_dim = static_cast<std::size_t>(c.n_head_kv * c.head_dim);
    x_.resize(b * c.n_embd);
    xn_.resize(b * std::max<std::size_t>(c.n_embd, q_dim));
    q_.resize(b * q_dim);
    k_.resize(b * kv_dim);
    v_.resize(b * kv_dim);
    attn_.resize(b * q_dim);
    proj_.resize(b * c.n_embd);
    gate_.resize(b * c.n_ff);
    up_.resize(b * c.n_ff);
    cos_sin_.resize(b * c.n_rot);
    const int group = c.n_head / c.n_head_kv;
    thread_scratch_.resize(static_cast<std::size_t>(pool_->size()));
    for (auto& s : thread_scratch_) s.resize(static_cast<std::size_t>(group) * cache_->capacity());
}

std::unique_ptr<KvCache> LlamaContext::make_full_cache(const ModelConfig& config, int n_ctx) {
    return std::make_unique<FullKvCache>(KvCacheShape{config.n_layer, config.n_head_kv, config.head_dim, n_ctx});
}

Status LlamaContext::eval(std::span<const int> tokens, bool all_logits) {
    const ModelConfig& c = model_->config();
    if (tokens.empty()) return Status::invalid_argument("eval of an empty batch");
    for (int t : tokens) {
        if (t < 0 || t >= c.n_vocab) {
            return Status::invalid_argument(fmt::format("token id {} is outside the vocabulary of {}", t, c.n_vocab));
        }
    }
    const int n = static_cast<int>(tokens.size());
    if (n > cache_->capacity() - cache_->size()) {
        return Status::resource_exhausted(
            fmt::format("{} tokens do not fit: {} of {} context cells in use", n, cache_->size(), cache_->capacity()));
    }
    n_logits_ = all_logits ? n : 1;
    logits_.resize(static_cast<std::size_t>(n_logits_) * c.n_vocab);
    for (int start = 0; start < n; start += n_batch_) {
        const int b = std::min(n_batch_, n - start);
        const bool last_chunk = start + b == n;
        float* out = all_logits ? logits_.data() + static_cast<std::size_t>(start) * c.n_vocab : logits_.data();
        forward_batch(tokens.data() + start, b, all_logits || last_chunk, all_logits, out);
    }
    return Status::ok();
}

std::span<const float> LlamaContext::logits(int i) const {
    const auto v = static_cast<std::size_t>(model_->config().n_vocab);
    const int row = i < 0 ? n_logits_ - 1 : i;
    assert(row >= 0 && row < n_logits_);
    return {logits_.data() + static_cast<std::size_t>(row) * v, v};
}

int LlamaContext::shift(int n_keep) {
    const int n_past = cache_->size();
    n_keep = std::clamp(n_keep, 0, n_past);
    const int n_discard = (n_past - n_keep) / 2;
    cache_->discard(n_keep, n_discard, model_->rope());
    return n_discard;
}

void LlamaContext::run_matmuls(std::initializer_list<MatmulJob> jobs, int n_tokens) {
    int total = 0;
    for (const MatmulJob& j : jobs) total += j.w->rows();
    const int threads = pool_->size();
    const int n_tasks = threads == 1 ? 1 : std::clamp(total / 16, 1, threads * 4);
    // Task boundaries fall on multiples of kRepackRows, so repacked row groups are never split.
    auto boundary = [&](int task) {
        if (task == n_tasks) return total;
        return static_cast<int>(static_cast<long long>(total) * task / n_tasks) / kRepackRows * kRepackRows;
    };
    pool_->run(n_tasks, [&](int task, int) {
        const int r0 = boundary(task);
        const int r1 = boundary(task + 1);
        int base = 0;
        for (const MatmulJob& j : jobs) {
            const int rows = j.w->rows();
            const int b = std::max(r0 - base, 0), e = std::min(r1 - base, rows);
            if (b < e) j.w->multiply(act_, n_tokens, j.y, rows, b, e);
            base += rows;
        }
    });
}

void LlamaContext::attention(int layer, int n_tokens, int p0) {
    const ModelConfig& c = model_->config();
    const int hd = c.head_dim;
    const int group = c.n_head / c.n_head_kv;
    const int q_dim = c.n_head * hd;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    // Split long single-token attention across cells so every thread has work (flash-decoding).
    const int n_cells_last = p0 + n_tokens;
    int splits = 1;
    if (n_tokens == 1 && n_cells_last >= 256 && pool_->size() > 1) {
        splits = std::clamp((2 * pool_->size() + c.n_head_kv - 1) / c.n_head_kv, 1, n_cells_last / 128);
    }
    const std::size_t parts = static_cast<std::size_t>(n_tokens) * c.n_head_kv * splits * group;
    if (part_max_.size() < parts) {
        part_max_.resize(parts);
        part_sum_.resize(parts);
        part_out_.resize(parts * hd);
    }
    const int n_tasks = n_tokens * c.n_head_kv * splits;
    pool_->run(n_tasks, [&](int task, int thread) {
        const int s = task % splits;
        const int g = (task / splits) % c.n_head_kv;
        const int t = task / (splits * c.n_head_kv);
        const int n_cells = p0 + t + 1;  // causal: token t sees cells [0, p0 + t]
        const int begin = static_cast<int>(static_cast<long long>(n_cells) * s / splits);
        const int end = static_cast<int>(static_cast<long long>(n_cells) * (s + 1) / splits);
        const std::size_t part = static_cast<std::size_t>(task) * group;
        if (begin >= end) {
            for (int i = 0; i < group; ++i) {
                part_max_[part + i] = -std::numeric_limits<float>::infinity();
                part_sum_[part + i] = 0.0f;
            }
            return;
        }
        const float* q = q_.data() + static_cast<std::size_t>(t) * q_dim + static_cast<std::size_t>(g) * group * hd;
        cache_->attend(layer, g, q, group, begin, end, scale, part_out_.data() + part * hd, part_max_.data() + part,
                       part_sum_.data() + part, thread_scratch_[static_cast<std::size_t>(thread)].data());
    });
    // Merge the parts: out = Σ_s e^(m_s − M) out_s / Σ_s e^(m_s − M) sum_s.
    for (int t = 0; t < n_tokens; ++t) {
        for (int g = 0; g < c.n_head_kv; ++g) {
            for (int i = 0; i < group; ++i) {
                float* out =
                    attn_.data() + static_cast<std::size_t>(t) * q_dim + static_cast<std::size_t>(g * group + i) * hd;
                const std::size_t first = (static_cast<std::size_t>(t * c.n_head_kv + g) * splits) * group + i;
                float m = -std::numeric_limits<float>::infinity();
                for (int s = 0; s < splits; ++s)
                    m = std::max(m, part_max_[first + static_cast<std::size_t>(s) * group]);
                float total = 0.0f;
                std::fill(out, out + hd, 0.0f);
                for (int s = 0; s < splits; ++s) {
                    const std::size_t p = first + static_cast<std::size_t>(s) * group;
                    if (part_sum_[p] == 0.0f) continue;
                    const float w = std::exp(part_max_[p] - m);
                    total += w * part_sum_[p];
                    const float* po = part_out_.data() + p * hd;
                    for (int d = 0; d < hd; ++d) out[d] += w * po[d];
                }
                const float inv = 1.0f / total;
                for (int d = 0; d < hd; ++d) out[d] *= inv;
            }
        }
    }
}

void LlamaContext::forward_batch(const int* tokens, int n, bool want_logits, bool all_logits, float* logits_out) {
    const LlamaModel& m = *model_;
    const ModelConfig& c = m.config();
    const KernelIsa isa = m.isa();
    const int e = c.n_embd;
    const int q_dim = c.n_head * c.head_dim;
    const int kv_dim = c.n_head_kv * c.head_dim;
    const int p0 = cache_->size();
    const auto ue = static_cast<std::size_t>(e);

    for (int t = 0; t < n; ++t) m.token_embedding().row_to_float(tokens[t], x_.data() + t * ue);
    for (int t = 0; t < n; ++t) m.rope().angles(p0 + t, cos_sin_.data() + static_cast<std::size_t>(t) * c.n_rot);

    for (int l = 0; l < c.n_layer; ++l) {
        const LayerWeights& w = m.layer(l);
        // Attention block: xn = norm(x); q, k, v = xn·Wq, xn·Wk, xn·Wv (+ bias); RoPE; cache; attend; x += attn·Wo.
        for (int t = 0; t < n; ++t) rms_norm(x_.data() + t * ue, w.attn_norm.data(), e, c.rms_eps, xn_.data() + t * ue);
        act_.prepare(xn_.data(), n, e, w.wq.activation_mask() | w.wk.activation_mask() | w.wv.activation_mask(), isa);
        run_matmuls({{&w.wq, q_.data()}, {&w.wk, k_.data()}, {&w.wv, v_.data()}}, n);
        for (int t = 0; t < n; ++t) {
            float* q = q_.data() + static_cast<std::size_t>(t) * q_dim;
            float* k = k_.data() + static_cast<std::size_t>(t) * kv_dim;
            float* v = v_.data() + static_cast<std::size_t>(t) * kv_dim;
            if (!w.bq.empty()) add_in_place(q, w.bq.data(), static_cast<std::size_t>(q_dim));
            if (!w.bk.empty()) add_in_place(k, w.bk.data(), static_cast<std::size_t>(kv_dim));
            if (!w.bv.empty()) add_in_place(v, w.bv.data(), static_cast<std::size_t>(kv_dim));
            const float* cs = cos_sin_.data() + static_cast<std::size_t>(t) * c.n_rot;
            m.rope().rotate(q, c.n_head, cs);
            m.rope().rotate(k, c.n_head_kv, cs);
            cache_->store(l, p0 + t, k, v);
        }
        attention(l, n, p0);
        act_.prepare(attn_.data(), n, q_dim, w.wo.activation_mask(), isa);
        run_matmuls({{&w.wo, proj_.data()}}, n);
        add_in_place(x_.data(), proj_.data(), static_cast<std::size_t>(n) * ue);

        // Feed-forward block: x += (silu(xn·Wgate) ⊙ xn·Wup)·Wdown with xn = norm(x).
        for (int t = 0; t < n; ++t) rms_norm(x_.data() + t * ue, w.ffn_norm.data(), e, c.rms_eps, xn_.data() + t * ue);
        act_.prepare(xn_.data(), n, e, w.gate.activation_mask() | w.up.activation_mask(), isa);
        run_matmuls({{&w.gate, gate_.data()}, {&w.up, up_.data()}}, n);
        silu_mul_f32(gate_.data(), up_.data(), static_cast<std::size_t>(n) * c.n_ff);
        act_.prepare(gate_.data(), n, c.n_ff, w.down.activation_mask(), isa);
        run_matmuls({{&w.down, proj_.data()}}, n);
        add_in_place(x_.data(), proj_.data(), static_cast<std::size_t>(n) * ue);
    }

    if (want_logits) {
        // logits = norm(x)·Wout for every token (all_logits) or the last one.
        const int first = all_logits ? 0 : n - 1;
        const int count = n - first;
        for (int t = 0; t < count; ++t) {
            rms_norm(x_.data() + static_cast<std::size_t>(first + t) * ue, m.output_norm().data(), e, c.rms_eps,
                     xn_.data() + t * ue);
        }
        act_.prepare(xn_.data(), count, e, m.output().activation_mask(), isa);
        run_matmuls({{&m.output(), logits_out}}, count);
    }
    cache_->commit(p0 + n);
}

}  // namespace kasten::llm
