#include "llm/mixed_kv_cache.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>

#include <fmt/format.h>

#include "llm/dot_kernels.h"
#include "llm/f16.h"
#include "llm/rope.h"

namespace kasten::llm {
namespace {

int slot_count(const KvCacheShape& shape, const MixedKvOptions& o) {
    const auto salient = static_cast<long long>(std::ceil(o.salient_fraction * shape.capacity));
    return static_cast<int>(std::min<long long>(shape.capacity, o.sinks + salient));
}

std::size_t window_rows(const KvCacheShape& shape, const MixedKvOptions& o) {
    return static_cast<std::size_t>(std::min(shape.capacity, o.residual + kKvKeyGroup));
}

// Bytes of one slot: key and value codes, two f16 (scale, min) pairs, position, score and count.
std::size_t slot_bytes(std::size_t row_bytes) {
    return 2 * row_bytes + 2 * 2 * sizeof(std::uint16_t) + sizeof(int) + sizeof(float) + sizeof(int);
}

}  // namespace

MixedKvCache::MixedKvCache(const KvCacheShape& shape, const MixedKvOptions& options, KernelIsa isa)
    : shape_(shape),
      options_(options),
      isa_(isa),
      low_(shape, options.low_bits, options.residual, isa),
      slots_(slot_count(shape, options)),
      row_bytes_(kv_packed_bytes(static_cast<std::size_t>(shape.head_dim), options.high_bits)) {
    assert(options.high_bits == 4 || options.high_bits == 8);
    assert(options.salient_fraction >= 0.0 && options.salient_fraction <= 1.0 && options.sinks >= 0 &&
           options.n_q >= 1);
    heads_.resize(static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv);
    const std::size_t s = static_cast<std::size_t>(slots_);
    for (Head& h : heads_) {
        h.pos.assign(s, -1);
        h.acc.assign(s, 0.0f);
        h.seen.assign(s, 0);
        h.k_codes.assign(s * row_bytes_, 0);
        h.v_codes.assign(s * row_bytes_, 0);
        h.k_params.assign(2 * s, 0);
        h.v_params.assign(2 * s, 0);
        h.w_acc.reserve(window_rows(shape, options));
        h.w_seen.reserve(window_rows(shape, options));
    }
}

std::size_t MixedKvCache::bytes_for(const KvCacheShape& shape, const MixedKvOptions& options) {
    const std::size_t heads = static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv;
    const std::size_t row = kv_packed_bytes(static_cast<std::size_t>(shape.head_dim), options.high_bits);
    return KiviKvCache::bytes_for(shape, options.low_bits, options.residual) +
           heads * (static_cast<std::size_t>(slot_count(shape, options)) * slot_bytes(row) +
                    window_rows(shape, options) * (sizeof(float) + sizeof(int)));
}

std::size_t MixedKvCache::bytes() const {
    std::size_t n = low_.bytes();
    for (const Head& h : heads_) {
        n += h.pos.capacity() * sizeof(int) + h.acc.capacity() * sizeof(float) + h.seen.capacity() * sizeof(int) +
             h.k_codes.capacity() + h.v_codes.capacity() +
             (h.k_params.capacity() + h.v_params.capacity()) * sizeof(std::uint16_t) +
             h.w_acc.capacity() * sizeof(float) + h.w_seen.capacity() * sizeof(int);
    }
    return n;
}

std::string MixedKvCache::name() const {
    return fmt::format("mixed-q{}q{}-f{:.2f}-r{}-s{}", options_.high_bits, options_.low_bits, options_.salient_fraction,
                       options_.residual, options_.sinks);
}

std::vector<int> MixedKvCache::salient_positions(int layer, int kv_head) const {
    std::vector<int> out;
    for (int p : head(layer, kv_head).pos) {
        if (p >= 0) out.push_back(p);
    }
    return out;
}

namespace {

// Decodes a per-token run of n codes (kv_quantize_run's layout) as min + scale · code.
void decode_run(const std::uint8_t* codes, const std::uint16_t* params, std::size_t n, int bits, float* x) {
    const float scale = f16_to_f32(params[0]), min = f16_to_f32(params[1]);
    if (bits == 8) {
        for (std::size_t d = 0; d < n; ++d) x[d] = min + scale * static_cast<float>(codes[d]);
    } else if (bits == 4) {  // code i in byte i mod (n/2), low nibble for the first half
        const std::size_t m = n / 2;
        for (std::size_t d = 0; d < m; ++d) {
            x[d] = min + scale * static_cast<float>(codes[d] & 15u);
            x[m + d] = min + scale * static_cast<float>(codes[d] >> 4);
        }
    } else {
        for (std::size_t d = 0; d < n; ++d) x[d] = min + scale * static_cast<float>(kv_unpack_code(codes, n, bits, d));
    }
}

}  // namespace

void MixedKvCache::decode_slot(const Head& h, int slot, float* k, float* v) const {
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const std::size_t s = static_cast<std::size_t>(slot);
    if (k != nullptr)
        decode_run(h.k_codes.data() + s * row_bytes_, h.k_params.data() + 2 * s, hd, options_.high_bits, k);
    if (v != nullptr)
        decode_run(h.v_codes.data() + s * row_bytes_, h.v_params.data() + 2 * s, hd, options_.high_bits, v);
}

void MixedKvCache::encode_slot(Head& h, int slot, const float* k, const float* v) {
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const std::size_t s = static_cast<std::size_t>(slot);
    kv_quantize_run(k, hd, 1, options_.high_bits, h.k_codes.data() + s * row_bytes_, h.k_params.data() + 2 * s);
    kv_quantize_run(v, hd, 1, options_.high_bits, h.v_codes.data() + s * row_bytes_, h.v_params.data() + 2 * s);
}

double MixedKvCache::score(int layer, int kv_head, int cell) const {
    const Head& h = head(layer, kv_head);
    const int q0 = low_.quantized();
    if (cell >= q0 && cell < size_) {
        const auto w = static_cast<std::size_t>(cell - q0);
        return saliency(h.w_acc[w], h.w_seen[w], cell);
    }
    for (int s = 0; s < slots_; ++s) {
        const auto si = static_cast<std::size_t>(s);
        if (h.pos[si] == cell) return saliency(h.acc[si], h.seen[si], cell);
    }
    return -1.0;
}

void MixedKvCache::read(int layer, int kv_head, int cell, float* k, float* v) const {
    const Head& h = head(layer, kv_head);
    for (int s = 0; s < slots_; ++s) {
        if (h.pos[static_cast<std::size_t>(s)] == cell) {
            decode_slot(h, s, k, v);
            return;
        }
    }
    low_.read(layer, kv_head, cell, k, v);
}

void MixedKvCache::store(int layer, int cell, const float* k, const float* v) {
    assert(cell >= size_ && cell < shape_.capacity);
    low_.store(layer, cell, k, v);
    const int hd = shape_.head_dim;
    const auto w = static_cast<std::size_t>(cell - low_.quantized());
    const auto t = static_cast<std::size_t>(cell - size_);
    for (int kh = 0; kh < shape_.n_head_kv; ++kh) {
        Head& h = head(layer, kh);
        if (h.w_acc.size() <= w) {
            h.w_acc.resize(w + 1, 0.0f);
            h.w_seen.resize(w + 1, 0);
        }
        h.w_acc[w] = 0.0f;
        h.w_seen[w] = 0;
        const std::size_t need = (t + 1) * static_cast<std::size_t>(options_.n_q) * hd;
        if (h.pending_q.size() < need) h.pending_q.resize(need, 0.0f);
        if (h.pending_seen.size() <= t) h.pending_seen.resize(t + 1, 0);
        h.pending_seen[t] = kNone;
        if (t == 0) {  // room for a split decode step of this token
            h.split_ms.resize(2 * static_cast<std::size_t>(options_.n_q));
            h.split_w.resize((w + 1) * options_.n_q);
            h.split_s.resize(static_cast<std::size_t>(slots_) * options_.n_q);
        }
    }
}

void MixedKvCache::attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                          float* max, float* sum, float* scratch) const {
    low_.attend_overriding(this, layer, kv_head, q, n_q, begin, end, scale, out, max, sum, scratch);
    const Head& h = head(layer, kv_head);
    const auto row = static_cast<std::size_t>(end - 1 - size_);
    if (end - 1 < size_ || n_q != options_.n_q || row >= h.pending_seen.size()) return;
    // The query of the uncommitted token end − 1. Distinct tokens write distinct rows; every caller passes the
    // same scale.
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    std::atomic_ref<float>(scale_).store(scale, std::memory_order_relaxed);
    if (begin == 0) {
        add_scores(h, end - 1, q, scale, scratch, max, sum);
        h.pending_seen[row] = kScored;
        return;
    }
    std::memcpy(h.pending_q.data() + row * n_q * hd, q, sizeof(float) * n_q * hd);
    const int q0 = low_.quantized();
    const std::size_t w = h.split_w.size() / static_cast<std::size_t>(n_q);
    if (row != 0 || static_cast<std::size_t>(end - q0) > w) {
        h.pending_seen[row] = kQuery;
        return;
    }
    const auto n = static_cast<std::size_t>(end - begin);
    h.split_begin = begin;
    for (int i = 0; i < n_q; ++i) {
        h.split_ms[2 * i] = max[i];
        h.split_ms[2 * i + 1] = sum[i];
        for (int c = std::max(q0, begin); c < end; ++c) {
            h.split_w[i * w + static_cast<std::size_t>(c - q0)] = scratch[i * n + static_cast<std::size_t>(c - begin)];
        }
    }
    thread_local std::vector<float> k;
    k.resize(hd);
    for (int slot = 0; slot < slots_; ++slot) {
        const int c = h.pos[static_cast<std::size_t>(slot)];
        if (c < begin || c >= end) continue;
        decode_slot(h, slot, k.data(), nullptr);
        for (int i = 0; i < n_q; ++i) {
            const float dot = dot_f32(q + i * hd, k.data(), hd);
            h.split_s[static_cast<std::size_t>(i) * slots_ + slot] = std::exp(scale * dot - max[i]);
        }
    }
    h.pending_seen[row] = kSplit;
}

void MixedKvCache::add_scores(const Head& h, int t, const float* q, float scale, const float* scratch, const float* max,
                              const float* sum) const {
    const int n_q = options_.n_q;
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const auto m = static_cast<std::size_t>(t + 1);
    const int q0 = low_.quantized();
    // Tokens of one batch may be scored concurrently: the sums are atomic.
    auto& w_acc = const_cast<std::vector<float>&>(h.w_acc);
    auto& w_seen = const_cast<std::vector<int>&>(h.w_seen);
    auto& acc = const_cast<std::vector<float>&>(h.acc);
    auto& seen = const_cast<std::vector<int>&>(h.seen);
    for (int c = q0; c <= t; ++c) {
        float p = 0.0f;
        for (int i = 0; i < n_q; ++i) p += scratch[i * m + static_cast<std::size_t>(c)] / sum[i];
        std::atomic_ref<float>(w_acc[static_cast<std::size_t>(c - q0)]).fetch_add(p, std::memory_order_relaxed);
        std::atomic_ref<int>(w_seen[static_cast<std::size_t>(c - q0)]).fetch_add(1, std::memory_order_relaxed);
    }
    thread_local std::vector<float> k;
    k.resize(hd);
    for (int slot = 0; slot < slots_; ++slot) {
        const int c = h.pos[static_cast<std::size_t>(slot)];
        if (c < 0 || c > t) continue;
        decode_slot(h, slot, k.data(), nullptr);
        float p = 0.0f;
        for (int i = 0; i < n_q; ++i) {
            p += std::exp(scale * dot_f32(q + i * hd, k.data(), hd) - max[i]) / sum[i];
        }
        std::atomic_ref<float>(acc[static_cast<std::size_t>(slot)]).fetch_add(p, std::memory_order_relaxed);
        std::atomic_ref<int>(seen[static_cast<std::size_t>(slot)]).fetch_add(1, std::memory_order_relaxed);
    }
}

void MixedKvCache::override_scores(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale,
                                   float* s, std::size_t stride) const {
    const Head& h = head(layer, kv_head);
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    thread_local std::vector<float> k;
    k.resize(hd);
    for (int slot = 0; slot < slots_; ++slot) {
        const int p = h.pos[static_cast<std::size_t>(slot)];
        if (p < begin || p >= end) continue;
        decode_slot(h, slot, k.data(), nullptr);
        for (int i = 0; i < n_q; ++i) {
            s[i * stride + static_cast<std::size_t>(p - begin)] = scale * dot_f32(q + i * hd, k.data(), hd);
        }
    }
}

void MixedKvCache::override_values(int layer, int kv_head, int n_q, int begin, int end, float* p, std::size_t stride,
                                   float* out) const {
    const Head& h = head(layer, kv_head);
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    thread_local std::vector<float> v;
    v.resize(hd);
    for (int slot = 0; slot < slots_; ++slot) {
        const int c = h.pos[static_cast<std::size_t>(slot)];
        if (c < begin || c >= end) continue;
        decode_slot(h, slot, nullptr, v.data());
        for (int i = 0; i < n_q; ++i) {
            float& w = p[i * stride + static_cast<std::size_t>(c - begin)];
            axpy_f32(w, v.data(), out + i * hd, hd);
            w = 0.0f;
        }
    }
}

double MixedKvCache::saliency(float acc, int seen, int pos) const {
    if (pos < options_.sinks) return std::numeric_limits<double>::infinity();
    return seen > 0 ? static_cast<double>(acc) / seen : 0.0;
}

void MixedKvCache::score_pending(int layer, int kv_head, int n) {
    Head& h = head(layer, kv_head);
    const int n_q = options_.n_q;
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const int q0 = low_.quantized();
    std::vector<float> scratch, out(static_cast<std::size_t>(n_q) * hd), mx(n_q), sum(n_q), k(hd);
    for (int t = size_; t < n; ++t) {
        const auto row = static_cast<std::size_t>(t - size_);
        if (row >= h.pending_seen.size()) continue;
        const unsigned char what = h.pending_seen[row];
        if (what != kQuery && what != kSplit) continue;
        const float* qt = h.pending_q.data() + row * n_q * hd;
        if (what == kQuery) {  // the whole attention again
            scratch.resize(static_cast<std::size_t>(n_q) * (t + 1));
            low_.attend_overriding(this, layer, kv_head, qt, n_q, 0, t + 1, scale_, out.data(), mx.data(), sum.data(),
                                   scratch.data(), /*values=*/false);
            add_scores(h, t, qt, scale_, scratch.data(), mx.data(), sum.data());
            continue;
        }
        // The first part [0, b), merged with the recorded last part [b, t].
        const int b = h.split_begin;
        const auto nb = static_cast<std::size_t>(b);
        scratch.resize(static_cast<std::size_t>(n_q) * nb);
        low_.attend_overriding(this, layer, kv_head, qt, n_q, 0, b, scale_, out.data(), mx.data(), sum.data(),
                               scratch.data(), /*values=*/false);
        const std::size_t w = h.split_w.size() / static_cast<std::size_t>(n_q);
        std::vector<float> total(n_q), f1(n_q), f2(n_q), top(n_q);
        for (int i = 0; i < n_q; ++i) {
            const float m1 = h.split_ms[2 * i], s1 = h.split_ms[2 * i + 1];
            top[i] = std::max(m1, mx[i]);
            f1[i] = std::exp(m1 - top[i]);
            f2[i] = std::exp(mx[i] - top[i]);
            total[i] = s1 * f1[i] + sum[i] * f2[i];
        }
        for (int c = q0; c <= t; ++c) {
            float p = 0.0f;
            for (int i = 0; i < n_q; ++i) {
                const float e = c >= b ? h.split_w[i * w + static_cast<std::size_t>(c - q0)] * f1[i]
                                       : scratch[i * nb + static_cast<std::size_t>(c)] * f2[i];
                p += e / total[i];
            }
            h.w_acc[static_cast<std::size_t>(c - q0)] += p;
            ++h.w_seen[static_cast<std::size_t>(c - q0)];
        }
        for (int slot = 0; slot < slots_; ++slot) {
            const int c = h.pos[static_cast<std::size_t>(slot)];
            if (c < 0 || c > t) continue;
            float p = 0.0f;
            if (c >= b) {
                for (int i = 0; i < n_q; ++i)
                    p += h.split_s[static_cast<std::size_t>(i) * slots_ + slot] * f1[i] / total[i];
            } else {
                decode_slot(h, slot, k.data(), nullptr);
                for (int i = 0; i < n_q; ++i) {
                    p += std::exp(scale_ * dot_f32(qt + i * hd, k.data(), hd) - top[i]) / total[i];
                }
            }
            h.acc[static_cast<std::size_t>(slot)] += p;
            ++h.seen[static_cast<std::size_t>(slot)];
        }
    }
}

void MixedKvCache::select(int layer, int kv_head, int from, int to, const std::vector<float>& keys,
                          const std::vector<float>& values) {
    Head& h = head(layer, kv_head);
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    // (score, position, slot or −1 − candidate index)
    std::vector<std::tuple<double, int, int>> pool;
    for (int s = 0; s < slots_; ++s) {
        const auto si = static_cast<std::size_t>(s);
        if (h.pos[si] >= 0) pool.emplace_back(saliency(h.acc[si], h.seen[si], h.pos[si]), h.pos[si], s);
    }
    for (int c = from; c < to; ++c) {
        const auto w = static_cast<std::size_t>(c - from);
        pool.emplace_back(saliency(h.w_acc[w], h.w_seen[w], c), c, -1 - (c - from));
    }
    // Highest score first; ties to the earlier position.
    std::sort(pool.begin(), pool.end(), [](const auto& a, const auto& b) {
        if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) > std::get<0>(b);
        return std::get<1>(a) < std::get<1>(b);
    });
    const std::size_t keep = std::min(pool.size(), static_cast<std::size_t>(slots_));
    for (std::size_t i = keep; i < pool.size(); ++i) {
        if (std::get<2>(pool[i]) >= 0) h.pos[static_cast<std::size_t>(std::get<2>(pool[i]))] = -1;  // demoted
    }
    int free_slot = 0;
    for (std::size_t i = 0; i < keep; ++i) {
        if (std::get<2>(pool[i]) >= 0) continue;
        const int ci = -1 - std::get<2>(pool[i]);
        while (h.pos[static_cast<std::size_t>(free_slot)] >= 0) ++free_slot;
        const auto fs = static_cast<std::size_t>(free_slot);
        const std::size_t off = (static_cast<std::size_t>(ci) * shape_.n_head_kv + kv_head) * hd;
        encode_slot(h, free_slot, keys.data() + off, values.data() + off);
        h.pos[fs] = from + ci;
        h.acc[fs] = h.w_acc[static_cast<std::size_t>(ci)];
        h.seen[fs] = h.w_seen[static_cast<std::size_t>(ci)];
    }
    (void)layer;
    h.w_acc.erase(h.w_acc.begin(), h.w_acc.begin() + (to - from));
    h.w_seen.erase(h.w_seen.begin(), h.w_seen.begin() + (to - from));
}

void MixedKvCache::commit(int n) {
    assert(n >= size_ && n <= shape_.capacity);
    if (scale_ != 0.0f) {
        for (int l = 0; l < shape_.n_layer; ++l) {
            for (int kh = 0; kh < shape_.n_head_kv; ++kh) score_pending(l, kh, n);
        }
    }
    for (Head& h : heads_) std::fill(h.pending_seen.begin(), h.pending_seen.end(), kNone);
    // The groups KIVI quantizes in this commit (its rule), read exactly from its f16 window first.
    const int q0 = low_.quantized();
    int q1 = q0;
    while (n - q1 >= options_.residual + kKvKeyGroup && q1 / kKvKeyGroup < shape_.capacity / kKvKeyGroup) {
        q1 += kKvKeyGroup;
    }
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const std::size_t row = static_cast<std::size_t>(shape_.n_head_kv) * hd;
    std::vector<std::vector<float>> keys, values;
    if (q1 > q0) {
        keys.resize(static_cast<std::size_t>(shape_.n_layer));
        values.resize(keys.size());
        for (int l = 0; l < shape_.n_layer; ++l) {
            keys[l].resize(static_cast<std::size_t>(q1 - q0) * row);
            values[l].resize(keys[l].size());
            for (int c = q0; c < q1; ++c) {
                for (int kh = 0; kh < shape_.n_head_kv; ++kh) {
                    const std::size_t off = static_cast<std::size_t>(c - q0) * row + kh * hd;
                    low_.read(l, kh, c, keys[l].data() + off, values[l].data() + off);
                }
            }
        }
    }
    low_.commit(n);
    assert(low_.quantized() == q1);
    size_ = n;
    for (int l = 0; l < shape_.n_layer; ++l) {
        for (int kh = 0; kh < shape_.n_head_kv; ++kh) {
            if (q1 > q0) select(l, kh, q0, q1, keys[l], values[l]);
            Head& h = head(l, kh);
            h.w_acc.resize(static_cast<std::size_t>(n - q1), 0.0f);
            h.w_seen.resize(static_cast<std::size_t>(n - q1), 0);
        }
    }
}

template <typename Map>
void MixedKvCache::relayout(int old_q0, Map map) {
    const int q = low_.quantized();
    for (Head& h : heads_) {
        std::vector<float> acc(static_cast<std::size_t>(size_ - q), 0.0f);
        std::vector<int> seen(acc.size(), 0);
        const auto to_window = [&](int c, float a, int s) {
            if (c >= q && c < size_) {
                acc[static_cast<std::size_t>(c - q)] = a;
                seen[static_cast<std::size_t>(c - q)] = s;
            }
        };
        for (std::size_t i = 0; i < h.w_acc.size(); ++i) {
            to_window(map(old_q0 + static_cast<int>(i)), h.w_acc[i], h.w_seen[i]);
        }
        for (std::size_t s = 0; s < h.pos.size(); ++s) {
            if (h.pos[s] < 0) continue;
            const int c = map(h.pos[s]);
            if (c < 0 || c >= q) {  // gone, or back in the f16 window
                if (c >= 0) to_window(c, h.acc[s], h.seen[s]);
                h.pos[s] = -1;
            } else {
                h.pos[s] = c;
            }
        }
        h.w_acc.assign(acc.begin(), acc.end());
        h.w_seen.assign(seen.begin(), seen.end());
        std::fill(h.pending_seen.begin(), h.pending_seen.end(), 0);
    }
}

void MixedKvCache::truncate(int n) {
    n = std::max(0, n);
    if (n >= size_) return;
    const int q0 = low_.quantized();
    low_.truncate(n);
    size_ = n;
    relayout(q0, [n](int c) { return c < n ? c : -1; });
}

void MixedKvCache::discard(int first, int count, const Rope& rope) {
    assert(first >= 0 && count >= 0 && first + count <= size_);
    if (count == 0) return;
    const int q0 = low_.quantized();
    low_.discard(first, count, rope);
    std::vector<float> cos_sin(static_cast<std::size_t>(rope.n_rot()));
    rope.angles(-static_cast<double>(count), cos_sin.data());
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    std::vector<float> k(hd), v(hd);
    for (Head& h : heads_) {
        for (int s = 0; s < slots_; ++s) {
            if (h.pos[static_cast<std::size_t>(s)] < first + count) continue;
            decode_slot(h, s, k.data(), v.data());
            rope.rotate(k.data(), 1, cos_sin.data());
            encode_slot(h, s, k.data(), v.data());
        }
    }
    size_ -= count;
    relayout(q0, [first, count](int c) { return c < first ? c : c < first + count ? -1 : c - count; });
}

namespace {

template <typename T>
void put(std::string& out, const std::vector<T>& v, std::size_t count) {
    out.append(reinterpret_cast<const char*>(v.data()), count * sizeof(T));
}

template <typename T>
void take(std::string_view& in, std::vector<T>& v, std::size_t count) {
    std::memcpy(v.data(), in.data(), count * sizeof(T));
    in.remove_prefix(count * sizeof(T));
}

}  // namespace

Status MixedKvCache::save_state(std::string& out) const {
    std::string low;
    KASTEN_RETURN_IF_ERROR(low_.save_state(low));
    const std::uint64_t low_size = low.size();
    out.append(reinterpret_cast<const char*>(&low_size), sizeof(low_size));
    out += low;
    const auto s = static_cast<std::size_t>(slots_);
    const auto window = static_cast<std::size_t>(size_ - low_.quantized());
    for (const Head& h : heads_) {
        if (h.w_acc.size() < window) return Status::internal("mixed KV cache: window scores shorter than the window");
        put(out, h.pos, s);
        put(out, h.acc, s);
        put(out, h.seen, s);
        put(out, h.k_codes, s * row_bytes_);
        put(out, h.v_codes, s * row_bytes_);
        put(out, h.k_params, 2 * s);
        put(out, h.v_params, 2 * s);
        put(out, h.w_acc, window);
        put(out, h.w_seen, window);
    }
    return Status::ok();
}

Status MixedKvCache::load_state(std::string_view bytes, int n) {
    size_ = 0;
    for (Head& h : heads_) {
        std::fill(h.pos.begin(), h.pos.end(), -1);
        h.w_acc.clear();
        h.w_seen.clear();
        std::fill(h.pending_seen.begin(), h.pending_seen.end(), kNone);
    }
    std::uint64_t low_size = 0;
    if (bytes.size() >= sizeof(low_size)) std::memcpy(&low_size, bytes.data(), sizeof(low_size));
    if (bytes.size() < sizeof(low_size) || low_size > bytes.size() - sizeof(low_size)) {
        low_.truncate(0);
        return Status::invalid_argument(fmt::format("{} state: truncated", name()));
    }
    bytes.remove_prefix(sizeof(low_size));
    KASTEN_RETURN_IF_ERROR(low_.load_state(bytes.substr(0, low_size), n));
    bytes.remove_prefix(low_size);
    const int q = low_.quantized();
    const auto s = static_cast<std::size_t>(slots_);
    const auto window = static_cast<std::size_t>(n - q);
    const std::size_t per_head =
        s * (sizeof(int) + sizeof(float) + sizeof(int) + 2 * row_bytes_ + 4 * sizeof(std::uint16_t)) +
        window * (sizeof(float) + sizeof(int));
    if (bytes.size() != heads_.size() * per_head) {
        low_.truncate(0);
        return Status::invalid_argument(fmt::format("{} state: {} bytes after the KIVI state; {} cells take {}", name(),
                                                    bytes.size(), n, heads_.size() * per_head));
    }
    for (Head& h : heads_) {
        take(bytes, h.pos, s);
        take(bytes, h.acc, s);
        take(bytes, h.seen, s);
        take(bytes, h.k_codes, s * row_bytes_);
        take(bytes, h.v_codes, s * row_bytes_);
        take(bytes, h.k_params, 2 * s);
        take(bytes, h.v_params, 2 * s);
        h.w_acc.resize(window);
        h.w_seen.resize(window);
        take(bytes, h.w_acc, window);
        take(bytes, h.w_seen, window);
    }
    for (Head& h : heads_) {
        for (int p : h.pos) {
            if (p < -1 || p >= q) {
                for (Head& g : heads_) std::fill(g.pos.begin(), g.pos.end(), -1);
                low_.truncate(0);
                return Status::invalid_argument(fmt::format("{} state: a salient cell at {} of {}", name(), p, q));
            }
        }
    }
    size_ = n;
    return Status::ok();
}

}  // namespace kasten::llm
