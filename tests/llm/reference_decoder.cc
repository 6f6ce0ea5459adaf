#include "reference_decoder.h"

#include <cmath>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "llm/quantization.h"

namespace kasten::llm::testing {
namespace {

using Matrix = std::vector<std::vector<double>>;  // [rows][cols]

Matrix load(const GgufReader& g, const std::string& name) {
    const TensorView* t = g.find_tensor(name);
    if (t == nullptr) return {};
    const std::size_t cols = t->dims[0];
    const std::size_t rows = t->rows();
    Matrix m(rows, std::vector<double>(cols));
    std::vector<float> row(cols);
    for (std::size_t r = 0; r < rows; ++r) {
        dequantize_row(t->type, t->data + r * t->row_stride(), cols, row.data());
        for (std::size_t c = 0; c < cols; ++c) m[r][c] = row[c];
    }
    return m;
}

std::vector<double> load_vector(const GgufReader& g, const std::string& name) {
    Matrix m = load(g, name);
    return m.empty() ? std::vector<double>{} : m[0];
}

std::vector<double> matvec(const Matrix& w, const std::vector<double>& x) {
    std::vector<double> y(w.size(), 0.0);
    for (std::size_t r = 0; r < w.size(); ++r) {
        for (std::size_t c = 0; c < x.size(); ++c) y[r] += w[r][c] * x[c];
    }
    return y;
}

std::vector<double> rms_norm(const std::vector<double>& x, const std::vector<double>& w, double eps) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double scale = 1.0 / std::sqrt(ss / x.size() + eps);
    std::vector<double> out(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) out[i] = w[i] * x[i] * scale;
    return out;
}

void add(std::vector<double>& x, const std::vector<double>& y) {
    if (y.empty()) return;
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += y[i];
}

}  // namespace

std::vector<std::vector<double>> reference_logits(const GgufReader& g, const std::vector<int>& tokens) {
    const std::string arch = g.get_string("general.architecture").value();
    const bool neox = arch == "qwen2";
    auto key = [&](const char* k) { return static_cast<int>(g.get_uint(arch + "." + k).value()); };
    const int n_embd = key("embedding_length"), n_layer = key("block_count"), n_head = key("attention.head_count");
    const int n_head_kv = key("attention.head_count_kv"), n_rot = key("rope.dimension_count");
    const int hd = n_embd / n_head;
    const double eps = g.get_float(arch + ".attention.layer_norm_rms_epsilon").value();
    const double base = g.find(arch + ".rope.freq_base") ? g.get_float(arch + ".rope.freq_base").value() : 10000.0;
    const int group = n_head / n_head_kv;
    const std::size_t n = tokens.size();

    Matrix embd = load(g, "token_embd.weight");
    std::vector<std::vector<double>> x(n);
    for (std::size_t t = 0; t < n; ++t) x[t] = embd[static_cast<std::size_t>(tokens[t])];

    auto rope = [&](std::vector<double>& v, int heads, int pos) {
        for (int h = 0; h < heads; ++h) {
            for (int i = 0; i < n_rot / 2; ++i) {
                const double theta = pos * std::pow(base, -2.0 * i / n_rot);
                const int a = h * hd + (neox ? i : 2 * i);
                const int b = h * hd + (neox ? i + n_rot / 2 : 2 * i + 1);
                const double x0 = v[a], x1 = v[b];
                v[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
                v[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
            }
        }
    };

    for (int l = 0; l < n_layer; ++l) {
        const std::string p = fmt::format("blk.{}.", l);
        Matrix wq = load(g, p + "attn_q.weight"), wk = load(g, p + "attn_k.weight"), wv = load(g, p + "attn_v.weight");
        Matrix wo = load(g, p + "attn_output.weight");
        Matrix wg = load(g, p + "ffn_gate.weight"), wu = load(g, p + "ffn_up.weight"),
               wd = load(g, p + "ffn_down.weight");
        std::vector<double> an = load_vector(g, p + "attn_norm.weight"), fn = load_vector(g, p + "ffn_norm.weight");
        std::vector<double> bq = load_vector(g, p + "attn_q.bias"), bk = load_vector(g, p + "attn_k.bias"),
                            bv = load_vector(g, p + "attn_v.bias");
        std::vector<std::vector<double>> q(n), k(n), v(n);
        for (std::size_t t = 0; t < n; ++t) {
            std::vector<double> xn = rms_norm(x[t], an, eps);
            q[t] = matvec(wq, xn);
            k[t] = matvec(wk, xn);
            v[t] = matvec(wv, xn);
            add(q[t], bq);
            add(k[t], bk);
            add(v[t], bv);
            rope(q[t], n_head, static_cast<int>(t));
            rope(k[t], n_head_kv, static_cast<int>(t));
        }
        for (std::size_t t = 0; t < n; ++t) {
            std::vector<double> out(static_cast<std::size_t>(n_head * hd), 0.0);
            for (int h = 0; h < n_head; ++h) {
                const int kvh = h / group;
                std::vector<double> s(t + 1);
                double m = -1e300;
                for (std::size_t j = 0; j <= t; ++j) {
                    double dot = 0;
                    for (int d = 0; d < hd; ++d) dot += q[t][h * hd + d] * k[j][kvh * hd + d];
                    s[j] = dot / std::sqrt(static_cast<double>(hd));
                    m = std::max(m, s[j]);
                }
                double total = 0;
                for (double& e : s) total += (e = std::exp(e - m));
                for (std::size_t j = 0; j <= t; ++j) {
                    for (int d = 0; d < hd; ++d) out[h * hd + d] += s[j] / total * v[j][kvh * hd + d];
                }
            }
            add(x[t], matvec(wo, out));
            std::vector<double> xn = rms_norm(x[t], fn, eps);
            std::vector<double> gate = matvec(wg, xn), up = matvec(wu, xn);
            for (std::size_t i = 0; i < gate.size(); ++i) gate[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
            add(x[t], matvec(wd, gate));
        }
    }
    Matrix out = g.find_tensor("output.weight") ? load(g, "output.weight") : embd;
    std::vector<double> on = load_vector(g, "output_norm.weight");
    std::vector<std::vector<double>> logits(n);
    for (std::size_t t = 0; t < n; ++t) logits[t] = matvec(out, rms_norm(x[t], on, eps));
    return logits;
}

}  // namespace kasten::llm::testing
