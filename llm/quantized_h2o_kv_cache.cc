#include "llm/quantized_h2o_kv_cache.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "llm/dot_kernels.h"
#include "llm/f16.h"
#include "llm/rope.h"

namespace kasten::llm {
namespace {

void decode_run(const std::uint8_t* codes, const std::uint16_t* params, std::size_t n, int bits, float* x) {
    const float scale = f16_to_f32(params[0]), min = f16_to_f32(params[1]);
    if (bits == 8) {
        for (std::size_t d = 0; d < n; ++d) x[d] = min + scale * static_cast<float>(codes[d]);
        return;
    }
    for (std::size_t d = 0; d < n; ++d) x[d] = min + scale * static_cast<float>(kv_unpack_code(codes, n, bits, d));
}

}  // namespace

QuantizedH2oKvCache::QuantizedH2oKvCache(const KvCacheShape& shape, const QuantizedH2oOptions& options)
    : shape_(shape),
      options_(options),
      k_row_bytes_(static_cast<std::size_t>(shape.head_dim)),
      row_bytes_(kv_packed_bytes(static_cast<std::size_t>(shape.head_dim), options.bits)) {
    assert(shape.n_layer > 0 && shape.n_head_kv > 0 && shape.head_dim > 0 && shape.capacity > 0);
    assert((options.bits == 4 || options.bits == 8) && shape.head_dim * options.bits % 8 == 0);
    assert(options.window >= 1 && options.sinks >= 0 && options.budget >= options.sinks + options.window &&
           options.n_q >= 1);
    heads_.resize(static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv);
    const std::size_t slots =
        static_cast<std::size_t>(std::min(shape.capacity, options.budget + std::max(1, options.batch_slots)));
    for (Head& h : heads_) {
        h.k_codes.reserve(slots * k_row_bytes_);
        h.v_codes.reserve(slots * row_bytes_);
        h.k_params.reserve(2 * slots);
        h.v_params.reserve(2 * slots);
        h.pos.reserve(slots);
        h.score.reserve(slots);
    }
}

std::size_t QuantizedH2oKvCache::bytes_per_cell(const KvCacheShape& shape, int bits) {
    return static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv *
           (static_cast<std::size_t>(shape.head_dim) + kv_packed_bytes(static_cast<std::size_t>(shape.head_dim), bits) +
            4 * sizeof(std::uint16_t) + sizeof(int) + sizeof(float));
}

std::size_t QuantizedH2oKvCache::bytes() const {
    std::size_t n = 0;
    for (const Head& h : heads_) {
        n += h.k_codes.capacity() + h.v_codes.capacity() +
             (h.k_params.capacity() + h.v_params.capacity()) * sizeof(std::uint16_t) + h.pos.capacity() * sizeof(int) +
             h.score.capacity() * sizeof(float);
    }
    return n;
}

std::string QuantizedH2oKvCache::name() const {
    return fmt::format("h2o-k8v{}-b{}-s{}-w{}", options_.bits, options_.budget, options_.sinks, options_.window);
}

std::vector<int> QuantizedH2oKvCache::kept_positions(int layer, int kv_head) const {
    std::vector<int> out;
    for (int p : head(layer, kv_head).pos) {
        if (p >= 0) out.push_back(p);
    }
    return out;
}

void QuantizedH2oKvCache::decode(const Head& h, int slot, float* k, float* v) const {
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const auto s = static_cast<std::size_t>(slot);
    if (k != nullptr) decode_run(h.k_codes.data() + s * k_row_bytes_, h.k_params.data() + 2 * s, hd, 8, k);
    if (v != nullptr) decode_run(h.v_codes.data() + s * row_bytes_, h.v_params.data() + 2 * s, hd, options_.bits, v);
}

void QuantizedH2oKvCache::encode(Head& h, int slot, const float* k, const float* v) {
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const auto s = static_cast<std::size_t>(slot);
    kv_quantize_run(k, hd, 1, 8, h.k_codes.data() + s * k_row_bytes_, h.k_params.data() + 2 * s);
    kv_quantize_run(v, hd, 1, options_.bits, h.v_codes.data() + s * row_bytes_, h.v_params.data() + 2 * s);
}

bool QuantizedH2oKvCache::read(int layer, int kv_head, int cell, float* k, float* v) const {
    const Head& h = head(layer, kv_head);
    for (std::size_t s = 0; s < h.pos.size(); ++s) {
        if (h.pos[s] == cell) {
            decode(h, static_cast<int>(s), k, v);
            return true;
        }
    }
    return false;
}

void QuantizedH2oKvCache::store(int layer, int cell, const float* k, const float* v) {
    assert(cell >= size_ && cell < shape_.capacity);
    const int hd = shape_.head_dim;
    for (int kh = 0; kh < shape_.n_head_kv; ++kh) {
        Head& h = head(layer, kh);
        int slot;
        if (!h.free.empty()) {
            slot = h.free.back();
            h.free.pop_back();
        } else {
            slot = static_cast<int>(h.pos.size());
            h.pos.push_back(-1);
            h.score.push_back(0.0f);
            h.k_codes.resize(h.k_codes.size() + k_row_bytes_);
            h.v_codes.resize(h.v_codes.size() + row_bytes_);
            h.k_params.resize(h.k_params.size() + 2);
            h.v_params.resize(h.v_params.size() + 2);
        }
        h.pos[static_cast<std::size_t>(slot)] = cell;
        h.score[static_cast<std::size_t>(slot)] = 0.0f;
        ++h.used;
        encode(h, slot, k + kh * hd, v + kh * hd);
        const auto t = static_cast<std::size_t>(cell - size_);
        const std::size_t need = (t + 1) * static_cast<std::size_t>(options_.n_q) * hd;
        if (h.pending_q.size() < need) h.pending_q.resize(need, 0.0f);
        if (h.pending_seen.size() <= t) h.pending_seen.resize(t + 1, 0);
        h.pending_seen[t] = 0;
    }
}

void QuantizedH2oKvCache::attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale,
                                 float* out, float* max, float* sum, float* scratch) const {
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const Head& h = head(layer, kv_head);
    if (end - 1 >= size_ && n_q == options_.n_q && static_cast<std::size_t>(end - 1 - size_) < h.pending_seen.size()) {
        // Distinct tokens write distinct rows; every caller passes the same scale.
        std::memcpy(h.pending_q.data() + static_cast<std::size_t>(end - 1 - size_) * n_q * hd, q,
                    sizeof(float) * n_q * hd);
        h.pending_seen[static_cast<std::size_t>(end - 1 - size_)] = 1;
        std::atomic_ref<float>(scale_).store(scale, std::memory_order_relaxed);
    }
    thread_local std::vector<int> slots;
    thread_local std::vector<float> rows;  // decoded keys, then values, of the slots in range
    slots.clear();
    for (int s = 0; s < static_cast<int>(h.pos.size()); ++s) {
        if (h.pos[static_cast<std::size_t>(s)] >= begin && h.pos[static_cast<std::size_t>(s)] < end) slots.push_back(s);
    }
    const std::size_t m = slots.size();
    rows.resize(m * hd);
    for (std::size_t j = 0; j < m; ++j) decode(h, slots[j], rows.data() + j * hd, nullptr);
    for (int i = 0; i < n_q; ++i) {
        float* s = scratch + static_cast<std::size_t>(i) * m;
        if (m > 0) dot_rows_f32(q + i * hd, rows.data(), m, hd, scale, s);
    }
    for (std::size_t j = 0; j < m; ++j) decode(h, slots[j], nullptr, rows.data() + j * hd);
    for (int i = 0; i < n_q; ++i) {
        float* o = out + i * hd;
        std::fill(o, o + hd, 0.0f);
        if (m == 0) {
            max[i] = -std::numeric_limits<float>::infinity();
            sum[i] = 0.0f;
            continue;
        }
        float* s = scratch + static_cast<std::size_t>(i) * m;
        max[i] = *std::max_element(s, s + m);
        sum[i] = exp_shifted_f32(s, m, max[i]);
        accumulate_rows_f32(s, rows.data(), m, hd, o);
    }
}

void QuantizedH2oKvCache::score_pending(Head& h, int n) {
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const int n_q = options_.n_q;
    std::vector<int> slots;
    std::vector<float> keys, s;
    // Keys of the kept cells, decoded once.
    for (int slot = 0; slot < static_cast<int>(h.pos.size()); ++slot) {
        if (h.pos[static_cast<std::size_t>(slot)] >= 0) slots.push_back(slot);
    }
    keys.resize(slots.size() * hd);
    for (std::size_t j = 0; j < slots.size(); ++j) decode(h, slots[j], keys.data() + j * hd, nullptr);
    std::vector<std::size_t> seen;
    for (int t = size_; t < n; ++t) {
        const auto row = static_cast<std::size_t>(t - size_);
        if (row >= h.pending_seen.size() || !h.pending_seen[row]) continue;
        const float* qt = h.pending_q.data() + row * n_q * hd;
        seen.clear();
        for (std::size_t j = 0; j < slots.size(); ++j) {
            if (h.pos[static_cast<std::size_t>(slots[j])] <= t) seen.push_back(j);
        }
        if (seen.empty()) continue;
        s.resize(seen.size());
        for (int i = 0; i < n_q; ++i) {
            for (std::size_t j = 0; j < seen.size(); ++j)
                s[j] = scale_ * dot_f32(qt + i * hd, keys.data() + seen[j] * hd, hd);
            const float total = exp_shifted_f32(s.data(), s.size(), *std::max_element(s.begin(), s.end()));
            for (std::size_t j = 0; j < seen.size(); ++j)
                h.score[static_cast<std::size_t>(slots[seen[j]])] += s[j] / total;
        }
    }
}

void QuantizedH2oKvCache::evict(Head& h, int n) {
    const int excess = h.used - options_.budget;
    if (excess <= 0) return;
    std::vector<int> candidates;
    for (int s = 0; s < static_cast<int>(h.pos.size()); ++s) {
        const int p = h.pos[static_cast<std::size_t>(s)];
        if (p >= options_.sinks && p < n - options_.window) candidates.push_back(s);
    }
    // budget >= sinks + window, so there are at least `excess` candidates.
    const auto worse = [&](int a, int b) {
        if (h.score[static_cast<std::size_t>(a)] != h.score[static_cast<std::size_t>(b)]) {
            return h.score[static_cast<std::size_t>(a)] < h.score[static_cast<std::size_t>(b)];
        }
        return h.pos[static_cast<std::size_t>(a)] < h.pos[static_cast<std::size_t>(b)];
    };
    std::nth_element(candidates.begin(), candidates.begin() + (excess - 1), candidates.end(), worse);
    for (int i = 0; i < excess; ++i) {
        h.pos[static_cast<std::size_t>(candidates[static_cast<std::size_t>(i)])] = -1;
        h.free.push_back(candidates[static_cast<std::size_t>(i)]);
    }
    h.used -= excess;
}

void QuantizedH2oKvCache::commit(int n) {
    assert(n >= size_ && n <= shape_.capacity);
    for (Head& h : heads_) {
        if (scale_ != 0.0f) score_pending(h, n);
        std::fill(h.pending_seen.begin(), h.pending_seen.end(), 0);
        evict(h, n);
    }
    size_ = n;
}

void QuantizedH2oKvCache::discard(int first, int count, const Rope& rope) {
    assert(first >= 0 && count >= 0 && first + count <= size_);
    if (count == 0) return;
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    std::vector<float> cos_sin(static_cast<std::size_t>(rope.n_rot()));
    rope.angles(-static_cast<double>(count), cos_sin.data());
    std::vector<float> k(hd), v(hd);
    for (Head& h : heads_) {
        for (std::size_t s = 0; s < h.pos.size(); ++s) {
            int& p = h.pos[s];
            if (p < first) continue;
            if (p < first + count) {
                p = -1;
                h.free.push_back(static_cast<int>(s));
                --h.used;
                continue;
            }
            p -= count;
            decode(h, static_cast<int>(s), k.data(), v.data());
            rope.rotate(k.data(), 1, cos_sin.data());
            encode(h, static_cast<int>(s), k.data(), v.data());
        }
    }
    size_ -= count;
}

void QuantizedH2oKvCache::truncate(int n) {
    n = std::max(0, n);
    if (n >= size_) return;
    for (Head& h : heads_) {
        for (std::size_t s = 0; s < h.pos.size(); ++s) {
            if (h.pos[s] >= n) {
                h.pos[s] = -1;
                h.free.push_back(static_cast<int>(s));
                --h.used;
            }
        }
    }
    size_ = n;
}

}  // namespace kasten::llm
