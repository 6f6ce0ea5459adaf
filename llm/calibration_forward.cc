#include "llm/calibration_forward.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace kasten::llm {
namespace {

void rms_norm(const float* x, const float* w, int n, float eps, float* out) {
    float ss = 0.0f;
    for (int i = 0; i < n; ++i) ss += x[i] * x[i];
    const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
    for (int i = 0; i < n; ++i) out[i] = w[i] * (scale * x[i]);
}

std::size_t at(int t, int width) {
    return static_cast<std::size_t>(t) * static_cast<std::size_t>(width);
}

}  // namespace

std::vector<std::vector<std::string>> CalibrationForward::sites(const LlamaModel& model) {
    std::vector<std::vector<std::string>> out;
    for (int l = 0; l < model.config().n_layer; ++l) {
        const std::string blk = fmt::format("blk.{}.", l);
        out.push_back({blk + "attn_q.weight", blk + "attn_k.weight", blk + "attn_v.weight"});
        out.push_back({blk + "attn_output.weight"});
        out.push_back({blk + "ffn_gate.weight", blk + "ffn_up.weight"});
        out.push_back({blk + "ffn_down.weight"});
    }
    out.push_back({model.tied_output() ? "token_embd.weight" : "output.weight"});
    return out;
}

std::map<std::string, const WeightMatrix*> CalibrationForward::matrices(const LlamaModel& model) {
    std::map<std::string, const WeightMatrix*> out;
    out["token_embd.weight"] = &model.token_embedding();
    if (!model.tied_output()) out["output.weight"] = &model.output();
    for (int l = 0; l < model.config().n_layer; ++l) {
        const LayerWeights& w = model.layer(l);
        const std::string blk = fmt::format("blk.{}.", l);
        out[blk + "attn_q.weight"] = &w.wq;
        out[blk + "attn_k.weight"] = &w.wk;
        out[blk + "attn_v.weight"] = &w.wv;
        out[blk + "attn_output.weight"] = &w.wo;
        out[blk + "ffn_gate.weight"] = &w.gate;
        out[blk + "ffn_up.weight"] = &w.up;
        out[blk + "ffn_down.weight"] = &w.down;
    }
    return out;
}

const WeightMatrix& CalibrationForward::matrix(const std::string& name, const WeightMatrix& own) const {
    auto it = substitutes_.find(name);
    return it == substitutes_.end() ? own : *it->second;
}

void CalibrationForward::multiply(const WeightMatrix& w, const float* x, int n, float* y) {
    act_.prepare(x, n, w.cols(), w.activation_mask(), m_.isa());
    const int rows = w.rows();
    const int n_tasks = pool_ == nullptr ? 1 : std::clamp(rows / 16, 1, pool_->size() * 4);
    auto task = [&](int i, int) {
        const int r0 = static_cast<int>(static_cast<long long>(rows) * i / n_tasks);
        const int r1 = static_cast<int>(static_cast<long long>(rows) * (i + 1) / n_tasks);
        w.multiply(act_, n, y, rows, r0, r1);
    };
    if (pool_ == nullptr) {
        task(0, 0);
    } else {
        pool_->run(n_tasks, task);
    }
}

void CalibrationForward::substitute(const std::string& name, const WeightMatrix* matrix) {
    if (matrix == nullptr) {
        substitutes_.erase(name);
    } else {
        substitutes_[name] = matrix;
    }
}

CalibrationForward::Sequence CalibrationForward::start(std::vector<int> tokens) const {
    Sequence s;
    const int n = static_cast<int>(tokens.size());
    s.x.resize(at(n, c_.n_embd));
    const WeightMatrix& embd = matrix("token_embd.weight", m_.token_embedding());
    for (int t = 0; t < n; ++t) embd.row_to_float(tokens[t], &s.x[at(t, c_.n_embd)]);
    s.tokens = std::move(tokens);
    return s;
}

bool CalibrationForward::run_block(Sequence& s, const Hook& hook) {
    const int b = s.blocks_done;
    const bool done = b % 2 == 0 ? attention_block(s, b / 2, hook) : feed_forward_block(s, b / 2, hook);
    if (done) ++s.blocks_done;
    return done;
}

bool CalibrationForward::attention_block(Sequence& s, int layer, const Hook& hook) {
    // q, k, v = norm(x)·Wq, Wk, Wv (+ bias); RoPE; causal softmax attention; x += attn·Wo.
    const int n = static_cast<int>(s.tokens.size());
    const int e = c_.n_embd, hd = c_.head_dim;
    const int q_dim = c_.n_head * hd, kv_dim = c_.n_head_kv * hd;
    const LayerWeights& w = m_.layer(layer);
    const std::string blk = "blk." + std::to_string(layer) + ".";
    const std::string site0[] = {blk + "attn_q.weight", blk + "attn_k.weight", blk + "attn_v.weight"};
    const std::string site1[] = {blk + "attn_output.weight"};
    std::vector<float> xn(s.x.size());
    for (int t = 0; t < n; ++t) rms_norm(&s.x[at(t, e)], w.attn_norm.data(), e, c_.rms_eps, &xn[at(t, e)]);
    if (!hook(site0, xn.data(), n, e)) return false;
    std::vector<float> q(at(n, q_dim)), attn(q.size()), k(at(n, kv_dim)), v(k.size());
    multiply(matrix(site0[0], w.wq), xn.data(), n, q.data());
    multiply(matrix(site0[1], w.wk), xn.data(), n, k.data());
    multiply(matrix(site0[2], w.wv), xn.data(), n, v.data());
    std::vector<float> cs(static_cast<std::size_t>(c_.n_rot));
    for (int t = 0; t < n; ++t) {
        for (int i = 0; i < q_dim && !w.bq.empty(); ++i) q[at(t, q_dim) + i] += w.bq[i];
        for (int i = 0; i < kv_dim && !w.bk.empty(); ++i) k[at(t, kv_dim) + i] += w.bk[i];
        for (int i = 0; i < kv_dim && !w.bv.empty(); ++i) v[at(t, kv_dim) + i] += w.bv[i];
        m_.rope().angles(t, cs.data());
        m_.rope().rotate(&q[at(t, q_dim)], c_.n_head, cs.data());
        m_.rope().rotate(&k[at(t, kv_dim)], c_.n_head_kv, cs.data());
    }
    // Keys and values per KV head, contiguous [n_tokens × head_dim], for the row kernels.
    std::vector<float> kh(at(n, kv_dim)), vh(kh.size());
    for (int g = 0; g < c_.n_head_kv; ++g) {
        for (int t = 0; t < n; ++t) {
            std::copy_n(&k[at(t, kv_dim) + at(g, hd)], hd, &kh[at(g, n * hd) + at(t, hd)]);
            std::copy_n(&v[at(t, kv_dim) + at(g, hd)], hd, &vh[at(g, n * hd) + at(t, hd)]);
        }
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    const int group = c_.n_head / c_.n_head_kv;
    std::vector<float> scores(static_cast<std::size_t>(n));
    for (int t = 0; t < n; ++t) {
        const auto cells = static_cast<std::size_t>(t + 1);
        for (int h = 0; h < c_.n_head; ++h) {
            const float* keys = &kh[at(h / group, n * hd)];
            const float* values = &vh[at(h / group, n * hd)];
            dot_rows_f32(&q[at(t, q_dim) + at(h, hd)], keys, cells, static_cast<std::size_t>(hd), scale, scores.data());
            const float max = *std::max_element(scores.begin(), scores.begin() + t + 1);
            const float total = exp_shifted_f32(scores.data(), cells, max);
            float* out = &attn[at(t, q_dim) + at(h, hd)];
            std::fill(out, out + hd, 0.0f);
            accumulate_rows_f32(scores.data(), values, cells, static_cast<std::size_t>(hd), out);
            const float inv = 1.0f / total;
            for (int d = 0; d < hd; ++d) out[d] *= inv;
        }
    }
    if (!hook(site1, attn.data(), n, q_dim)) return false;
    std::vector<float> proj(s.x.size());
    multiply(matrix(site1[0], w.wo), attn.data(), n, proj.data());
    for (std::size_t i = 0; i < s.x.size(); ++i) s.x[i] += proj[i];
    return true;
}

bool CalibrationForward::feed_forward_block(Sequence& s, int layer, const Hook& hook) {
    // x += (silu(xn·Wgate) ⊙ xn·Wup)·Wdown with xn = norm(x).
    const int n = static_cast<int>(s.tokens.size());
    const int e = c_.n_embd;
    const LayerWeights& w = m_.layer(layer);
    const std::string blk = "blk." + std::to_string(layer) + ".";
    const std::string site0[] = {blk + "ffn_gate.weight", blk + "ffn_up.weight"};
    const std::string site1[] = {blk + "ffn_down.weight"};
    std::vector<float> xn(s.x.size());
    for (int t = 0; t < n; ++t) rms_norm(&s.x[at(t, e)], w.ffn_norm.data(), e, c_.rms_eps, &xn[at(t, e)]);
    if (!hook(site0, xn.data(), n, e)) return false;
    std::vector<float> gate(at(n, c_.n_ff)), up(gate.size());
    multiply(matrix(site0[0], w.gate), xn.data(), n, gate.data());
    multiply(matrix(site0[1], w.up), xn.data(), n, up.data());
    for (std::size_t i = 0; i < gate.size(); ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
    if (!hook(site1, gate.data(), n, c_.n_ff)) return false;
    std::vector<float> proj(s.x.size());
    multiply(matrix(site1[0], w.down), gate.data(), n, proj.data());
    for (std::size_t i = 0; i < s.x.size(); ++i) s.x[i] += proj[i];
    return true;
}

void CalibrationForward::finish(const Sequence& s, const Hook& hook, std::vector<float>* logits) {
    const int n = static_cast<int>(s.tokens.size());
    const int e = c_.n_embd;
    std::vector<float> xn(s.x.size());
    for (int t = 0; t < n; ++t) rms_norm(&s.x[at(t, e)], m_.output_norm().data(), e, c_.rms_eps, &xn[at(t, e)]);
    const std::string name = m_.tied_output() ? "token_embd.weight" : "output.weight";
    hook(std::span<const std::string>(&name, 1), xn.data(), n, e);
    if (logits == nullptr) return;
    logits->resize(at(n, c_.n_vocab));
    multiply(matrix(name, m_.output()), xn.data(), n, logits->data());
}

void CalibrationForward::run(std::span<const int> tokens, const Hook& hook, std::vector<float>* logits) {
    Sequence s = start(std::vector<int>(tokens.begin(), tokens.end()));
    while (s.blocks_done < n_blocks()) {
        if (!run_block(s, hook)) return;
    }
    finish(s, hook, logits);
}

}  // namespace kasten::llm
