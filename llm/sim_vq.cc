#include "llm/sim_vq.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "llm/dot_kernels.h"
#include "llm/f16.h"
#include "llm/sim_kv_cache.h"

namespace kasten::llm {
namespace {

float f16r(float x) {
    return f16_to_f32(f32_to_f16(x));
}

// Index of the centroid of `book` (k x d) nearest to y.
int nearest(const float* book, int k, int d, const float* y) {
    int best = 0;
    float best_d = std::numeric_limits<float>::max();
    for (int j = 0; j < k; ++j) {
        const float* c = book + static_cast<std::size_t>(j) * d;
        float e = 0;
        for (int i = 0; i < d; ++i) e += (y[i] - c[i]) * (y[i] - c[i]);
        if (e < best_d) best_d = e, best = j;
    }
    return best;
}

// Weighted k-means of n points (n x d) into k centroids: k-means++ init and `iters` Lloyd steps, deterministic
// for a seed. Centroids rounded to f16.
std::vector<float> kmeans(const std::vector<float>& pts, const std::vector<float>& w, int d, int k, int iters,
                          std::uint64_t seed) {
    const std::size_t n = w.size();
    std::vector<float> book(static_cast<std::size_t>(k) * d, 0.0f);
    if (n == 0) return book;
    std::mt19937_64 rng(seed);
    // k-means++
    std::vector<double> dist(n, std::numeric_limits<double>::max());
    auto pick = [&](const std::vector<double>& weight) {
        double total = 0;
        for (std::size_t i = 0; i < n; ++i) total += weight[i];
        if (total <= 0) return static_cast<std::size_t>(rng() % n);
        double r = std::uniform_real_distribution<double>(0, total)(rng);
        for (std::size_t i = 0; i < n; ++i) {
            r -= weight[i];
            if (r <= 0) return i;
        }
        return n - 1;
    };
    std::vector<double> weight(n);
    for (std::size_t i = 0; i < n; ++i) weight[i] = w[i];
    std::size_t first = pick(weight);
    for (int j = 0; j < k; ++j) {
        const std::size_t p = j == 0 ? first : pick(weight);
        std::memcpy(book.data() + static_cast<std::size_t>(j) * d, pts.data() + p * d, sizeof(float) * d);
        const float* c = book.data() + static_cast<std::size_t>(j) * d;
        for (std::size_t i = 0; i < n; ++i) {
            double e = 0;
            for (int t = 0; t < d; ++t) e += double(pts[i * d + t] - c[t]) * (pts[i * d + t] - c[t]);
            dist[i] = std::min(dist[i], e);
            weight[i] = w[i] * dist[i];
        }
    }
    std::vector<int> assign(n, 0);
    std::vector<double> acc(static_cast<std::size_t>(k) * d), mass(static_cast<std::size_t>(k));
    for (int it = 0; it < iters; ++it) {
        std::fill(acc.begin(), acc.end(), 0.0);
        std::fill(mass.begin(), mass.end(), 0.0);
        bool changed = false;
        for (std::size_t i = 0; i < n; ++i) {
            const int a = nearest(book.data(), k, d, pts.data() + i * d);
            if (a != assign[i]) changed = true;
            assign[i] = a;
            mass[a] += w[i];
            for (int t = 0; t < d; ++t) acc[static_cast<std::size_t>(a) * d + t] += double(w[i]) * pts[i * d + t];
        }
        for (int j = 0; j < k; ++j) {
            if (mass[j] <= 0) {  // empty: restart at a random point
                const std::size_t p = rng() % n;
                std::memcpy(book.data() + static_cast<std::size_t>(j) * d, pts.data() + p * d, sizeof(float) * d);
                continue;
            }
            for (int t = 0; t < d; ++t)
                book[static_cast<std::size_t>(j) * d + t] =
                    static_cast<float>(acc[static_cast<std::size_t>(j) * d + t] / mass[j]);
        }
        if (!changed && it > 0) break;
    }
    for (float& x : book) x = f16r(x);
    return book;
}

}  // namespace

RecordingKvCache::RecordingKvCache(const KvCacheShape& shape)
    : rows_(shape),
      mass_(static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv * shape.capacity, 0.0f),
      q2_(static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv * shape.head_dim, 0.0) {}

void RecordingKvCache::store(int layer, int cell, const float* k, const float* v) {
    const KvCacheShape& s = rows_.shape();
    const std::size_t hd = static_cast<std::size_t>(s.head_dim);
    for (int h = 0; h < s.n_head_kv; ++h) {
        std::memcpy(rows_.key(layer, h, cell), k + h * hd, hd * sizeof(float));
        std::memcpy(rows_.value(layer, h, cell), v + h * hd, hd * sizeof(float));
    }
}

void RecordingKvCache::attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale,
                              float* out, float* max, float* sum, float* scratch) const {
    const KvCacheShape& sh = rows_.shape();
    const auto hd = static_cast<std::size_t>(sh.head_dim);
    const int n = end - begin;
    const float* k = rows_.key(layer, kv_head, begin);
    const float* v = rows_.value(layer, kv_head, begin);
    float* m = mass_.data() + (static_cast<std::size_t>(layer) * sh.n_head_kv + kv_head) * sh.capacity;
    double* q2 = q2_.data() + (static_cast<std::size_t>(layer) * sh.n_head_kv + kv_head) * hd;
    for (int i = 0; i < n_q; ++i) {
        dot_rows_f32(q + i * hd, k, static_cast<std::size_t>(n), hd, scale, scratch + static_cast<std::size_t>(i) * n);
        float* s = scratch + static_cast<std::size_t>(i) * n;
        float mx = s[0];
        for (int c = 1; c < n; ++c) mx = std::max(mx, s[c]);
        max[i] = mx;
        sum[i] = exp_shifted_f32(s, static_cast<std::size_t>(n), mx);
        std::memset(out + i * hd, 0, sizeof(float) * hd);
        accumulate_rows_f32(s, v, static_cast<std::size_t>(n), hd, out + i * hd);
        // Recorded only for whole ranges (one thread, no split), which the benchmark's pool of 1 gives.
        if (begin == 0) {
            for (int c = 0; c < n; ++c) m[c] += s[c] / sum[i];
            for (std::size_t d = 0; d < hd; ++d) q2[d] += double(q[i * hd + d]) * q[i * hd + d];
            if (layer == 0 && kv_head == 0) ++n_queries_;
        }
    }
}

void RecordingKvCache::append_to(VqCalibration& cal) const {
    const KvCacheShape& s = rows_.shape();
    const int hd = s.head_dim;
    if (cal.n == 0) {
        cal.n_layer = s.n_layer;
        cal.n_head_kv = s.n_head_kv;
        cal.head_dim = hd;
        cal.q2.assign(q2_.size(), 0.0);
    }
    for (int c = 0; c < rows_.size(); ++c) {
        cal.pos.push_back(c);
        for (int l = 0; l < s.n_layer; ++l) {
            for (int h = 0; h < s.n_head_kv; ++h) {
                cal.keys.insert(cal.keys.end(), rows_.key(l, h, c), rows_.key(l, h, c) + hd);
                cal.values.insert(cal.values.end(), rows_.value(l, h, c), rows_.value(l, h, c) + hd);
                cal.mass.push_back(mass_[(static_cast<std::size_t>(l) * s.n_head_kv + h) * s.capacity + c]);
            }
        }
    }
    cal.n += rows_.size();
    for (std::size_t i = 0; i < q2_.size(); ++i) cal.q2[i] += q2_[i];
    cal.n_queries += n_queries_;
}

int VqCodebooks::book_of(int kind, int layer, int head, int group) const {
    const int groups = head_dim / c[kind];
    if (share == 3) return 0;
    if (share == 0) return layer;
    if (share == 1) return layer * n_head_kv + head;
    return (layer * n_head_kv + head) * groups + group;
}

std::shared_ptr<const VqCodebooks> build_vq_codebooks(const VqCalibration& cal, const SimKvSpec& spec,
                                                      const Rope& rope) {
    auto cb = std::make_shared<VqCodebooks>();
    const int L = cal.n_layer, H = cal.n_head_kv, hd = cal.head_dim;
    cb->n_layer = L;
    cb->n_head_kv = H;
    cb->head_dim = hd;
    cb->c[0] = spec.vq_kc;
    cb->c[1] = spec.vq_vc;
    cb->bits[0][0] = spec.vq_kb;
    cb->bits[0][1] = spec.vq_kb2;
    cb->bits[1][0] = spec.vq_vb;
    cb->bits[1][1] = spec.vq_vb2;
    cb->share = spec.vq_share;
    const std::size_t per = static_cast<std::size_t>(L) * H * hd;
    // Training cells: not the exact sinks.
    std::vector<int> cells;
    for (int c = 0; c < cal.n; ++c)
        if (cal.pos[c] >= spec.sinks) cells.push_back(c);
    // Pre-RoPE keys.
    std::vector<float> keys(cal.keys);
    if (spec.prerope) {
        for (int c = 0; c < cal.n; ++c) {
            for (int l = 0; l < L; ++l) {
                for (int h = 0; h < H; ++h)
                    rope.apply(keys.data() + cal.row(l, h, c) * hd, 1, -static_cast<double>(cal.pos[c]));
            }
        }
    }
    std::size_t bytes = 0;
    for (int kind = 0; kind < 2; ++kind) {
        const std::vector<float>& x = kind == 0 ? keys : cal.values;
        cb->mean[kind].assign(per, 0.0f);
        cb->mul[kind].assign(per, 1.0f);
        if (cb->bits[kind][0] == 0) continue;
        // Transform per (layer, head, channel).
        for (int l = 0; l < L; ++l) {
            for (int h = 0; h < H; ++h) {
                const std::size_t base = (static_cast<std::size_t>(l) * H + h) * hd;
                for (int d = 0; d < hd; ++d) {
                    double s1 = 0, s2 = 0;
                    for (int c : cells) {
                        const double v = x[cal.row(l, h, c) * hd + d];
                        s1 += v;
                        s2 += v * v;
                    }
                    const double mu = s1 / std::max<std::size_t>(1, cells.size());
                    const double sd = std::sqrt(std::max(1e-12, s2 / std::max<std::size_t>(1, cells.size()) - mu * mu));
                    if (spec.vq_norm) {
                        cb->mean[kind][base + d] = f16r(static_cast<float>(mu));
                        cb->mul[kind][base + d] = f16r(static_cast<float>(1.0 / sd));
                    }
                }
                if (kind == 0 && spec.vq_qw && cal.n_queries > 0) {
                    // Query second moment per channel, averaged over RoPE's pairs (x[2i], x[2i+1]).
                    for (int d = 0; d < hd; d += 2) {
                        const double m2 = (cal.q2[base + d] + cal.q2[base + d + 1]) / 2 / double(cal.n_queries);
                        const float s = f16r(static_cast<float>(std::max(1e-3, std::sqrt(m2))));
                        // with norm, y = (x - mean) * sqrt(E q^2): the logit error's metric
                        cb->mul[kind][base + d] = s;
                        cb->mul[kind][base + d + 1] = s;
                    }
                }
            }
        }
        if (spec.vq_norm)
            bytes += per * 2 * 2;
        else if (kind == 0 && spec.vq_qw)
            bytes += per * 2;
        if (spec.vq_out > 0) {  // per-channel quantiles in y space
            cb->lo[kind].assign(per, 0.0f);
            cb->hi[kind].assign(per, 0.0f);
            std::vector<float> col(cells.size());
            for (int l = 0; l < L; ++l) {
                for (int h = 0; h < H; ++h) {
                    const std::size_t base = (static_cast<std::size_t>(l) * H + h) * hd;
                    for (int d = 0; d < hd; ++d) {
                        for (std::size_t i = 0; i < cells.size(); ++i)
                            col[i] = (x[cal.row(l, h, cells[i]) * hd + d] - cb->mean[kind][base + d]) *
                                     cb->mul[kind][base + d];
                        const double tail = spec.vq_out / 2000.0;
                        const auto at = [&](double q) {
                            auto it = col.begin() + static_cast<std::ptrdiff_t>(q * double(col.size() - 1));
                            std::nth_element(col.begin(), it, col.end());
                            return f16r(*it);
                        };
                        cb->lo[kind][base + d] = at(tail);
                        cb->hi[kind][base + d] = at(1.0 - tail);
                    }
                }
            }
            bytes += per * 2 * 2;
        }
        const int c = cb->c[kind];
        const int groups = hd / c;
        const int n_books = spec.vq_share == 3   ? 1
                            : spec.vq_share == 0 ? L
                            : spec.vq_share == 1 ? L * H
                                                 : L * H * groups;
        // Training points per book, in y space.
        std::vector<std::vector<float>> pts(static_cast<std::size_t>(n_books)), wts(static_cast<std::size_t>(n_books));
        for (int cell : cells) {
            for (int l = 0; l < L; ++l) {
                for (int h = 0; h < H; ++h) {
                    const std::size_t base = (static_cast<std::size_t>(l) * H + h) * hd;
                    const float* xr = x.data() + cal.row(l, h, cell) * hd;
                    const float w = spec.vq_tw ? cal.mass[cal.row(l, h, cell)] + 0.01f : 1.0f;
                    for (int g = 0; g < groups; ++g) {
                        auto& p = pts[static_cast<std::size_t>(cb->book_of(kind, l, h, g))];
                        for (int t = 0; t < c; ++t) {
                            const int d = g * c + t;
                            float y = (xr[d] - cb->mean[kind][base + d]) * cb->mul[kind][base + d];
                            if (!cb->lo[kind].empty())
                                y = std::clamp(y, cb->lo[kind][base + d], cb->hi[kind][base + d]);
                            p.push_back(y);
                        }
                        wts[static_cast<std::size_t>(cb->book_of(kind, l, h, g))].push_back(w);
                    }
                }
            }
        }
        double err = 0, count = 0;
        for (int stage = 0; stage < 2; ++stage) {
            const int bits = cb->bits[kind][stage];
            if (bits == 0) break;
            const int k = 1 << bits;
            err = 0;
            count = 0;
            for (int b = 0; b < n_books; ++b) {
                std::vector<float>& p = pts[static_cast<std::size_t>(b)];
                cb->books[kind][stage].push_back(kmeans(p, wts[static_cast<std::size_t>(b)], c, k, spec.vq_iters,
                                                        1000003ull * (kind * 2 + stage + 1) + b));
                const std::vector<float>& book = cb->books[kind][stage].back();
                for (std::size_t i = 0; i * c < p.size(); ++i) {  // residual for the next stage
                    const int a = nearest(book.data(), k, c, p.data() + i * c);
                    for (int t = 0; t < c; ++t) {
                        p[i * c + t] -= book[static_cast<std::size_t>(a) * c + t];
                        err += double(p[i * c + t]) * p[i * c + t];
                    }
                    count += c;
                }
            }
            bytes += static_cast<std::size_t>(n_books) * k * c * 2;
        }
        cb->train_mse[kind] = count > 0 ? err / count : 0;
    }
    cb->bytes = bytes;
    return cb;
}

int vq_code(const VqCodebooks& cb, int kind, int layer, int head, float* x) {
    const int hd = cb.head_dim, c = cb.c[kind];
    if (cb.bits[kind][0] == 0) {
        for (int d = 0; d < hd; ++d) x[d] = f16r(x[d]);
        return 0;
    }
    const std::size_t base = (static_cast<std::size_t>(layer) * cb.n_head_kv + head) * hd;
    const float* mean = cb.mean[kind].data() + base;
    const float* mul = cb.mul[kind].data() + base;
    float y[64], r[64];
    bool out[64];
    int n_out = 0;
    for (int d = 0; d < hd; ++d) {
        y[d] = (x[d] - mean[d]) * mul[d], r[d] = 0;
        out[d] = !cb.lo[kind].empty() && (y[d] < cb.lo[kind][base + d] || y[d] > cb.hi[kind][base + d]);
        n_out += out[d] ? 1 : 0;
    }
    for (int g = 0; g < hd / c; ++g) {
        const int b = cb.book_of(kind, layer, head, g);
        for (int stage = 0; stage < 2; ++stage) {
            const int bits = cb.bits[kind][stage];
            if (bits == 0) break;
            const float* book = cb.books[kind][stage][static_cast<std::size_t>(b)].data();
            float res[8];
            for (int t = 0; t < c; ++t) res[t] = y[g * c + t] - r[g * c + t];
            int a = 0;
            if (n_out == 0) {
                a = nearest(book, 1 << bits, c, res);
            } else {  // outliers are exact: the code is chosen on the other channels
                float best = std::numeric_limits<float>::max();
                for (int j = 0; j < (1 << bits); ++j) {
                    float e = 0;
                    for (int t = 0; t < c; ++t) {
                        if (out[g * c + t]) continue;
                        const float dd = res[t] - book[static_cast<std::size_t>(j) * c + t];
                        e += dd * dd;
                    }
                    if (e < best) best = e, a = j;
                }
            }
            for (int t = 0; t < c; ++t) r[g * c + t] += book[static_cast<std::size_t>(a) * c + t];
        }
    }
    for (int d = 0; d < hd; ++d) x[d] = out[d] ? f16r(x[d]) : r[d] / mul[d] + mean[d];
    return n_out;
}

}  // namespace kasten::llm
