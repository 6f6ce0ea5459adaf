#include "llm/full_kv_cache.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "llm/dot_kernels.h"
#include "llm/rope.h"

namespace kasten::llm {

FullKvCache::FullKvCache(const KvCacheShape& shape) : shape_(shape) {
    assert(shape.n_layer > 0 && shape.n_head_kv > 0 && shape.head_dim > 0 && shape.capacity > 0);
    const std::size_t n = static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv * shape.capacity * shape.head_dim;
    keys_.assign(n, 0.0f);
    values_.assign(n, 0.0f);
}

void FullKvCache::store(int layer, int cell, const float* k, const float* v) {
    assert(cell >= 0 && cell < shape_.capacity);
    const std::size_t hd = static_cast<std::size_t>(shape_.head_dim);
    for (int h = 0; h < shape_.n_head_kv; ++h) {
        std::memcpy(keys_.data() + offset(layer, h, cell), k + h * hd, hd * sizeof(float));
        std::memcpy(values_.data() + offset(layer, h, cell), v + h * hd, hd * sizeof(float));
    }
}

void FullKvCache::commit(int n) {
    assert(n >= size_ && n <= shape_.capacity);
    size_ = n;
}

void FullKvCache::attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                         float* max, float* sum, float* scratch) const {
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const int n = end - begin;
    const float* k = keys_.data() + offset(layer, kv_head, begin);
    const float* v = values_.data() + offset(layer, kv_head, begin);
    // Cells in chunks that stay in L1/L2 while every query head of the group uses them.
    constexpr int kChunk = 128;
    // scores: scratch[i·n + c]
    for (int c0 = 0; c0 < n; c0 += kChunk) {
        const int len = std::min(kChunk, n - c0);
        for (int i = 0; i < n_q; ++i) {
            dot_rows_f32(q + i * hd, k + c0 * hd, static_cast<std::size_t>(len), hd, scale,
                         scratch + static_cast<std::size_t>(i) * n + c0);
        }
    }
    for (int i = 0; i < n_q; ++i) {
        float* s = scratch + static_cast<std::size_t>(i) * n;
        float m = s[0];
        for (int c = 1; c < n; ++c) m = std::max(m, s[c]);
        max[i] = m;
        sum[i] = exp_shifted_f32(s, static_cast<std::size_t>(n), m);
        std::memset(out + i * hd, 0, sizeof(float) * hd);
    }
    for (int c0 = 0; c0 < n; c0 += kChunk) {
        const int len = std::min(kChunk, n - c0);
        for (int i = 0; i < n_q; ++i) {
            accumulate_rows_f32(scratch + static_cast<std::size_t>(i) * n + c0, v + c0 * hd,
                                static_cast<std::size_t>(len), hd, out + i * hd);
        }
    }
}

void FullKvCache::discard(int first, int count, const Rope& rope) {
    assert(first >= 0 && count >= 0 && first + count <= size_);
    if (count == 0) return;
    const int hd = shape_.head_dim;
    const int moved = size_ - first - count;
    std::vector<float> cos_sin(static_cast<std::size_t>(rope.n_rot()));
    rope.angles(-static_cast<double>(count), cos_sin.data());
    for (int l = 0; l < shape_.n_layer; ++l) {
        for (int h = 0; h < shape_.n_head_kv; ++h) {
            float* k = keys_.data() + offset(l, h, 0);
            float* v = values_.data() + offset(l, h, 0);
            std::memmove(k + static_cast<std::size_t>(first) * hd, k + static_cast<std::size_t>(first + count) * hd,
                         sizeof(float) * moved * hd);
            std::memmove(v + static_cast<std::size_t>(first) * hd, v + static_cast<std::size_t>(first + count) * hd,
                         sizeof(float) * moved * hd);
            for (int c = first; c < first + moved; ++c)
                rope.rotate(k + static_cast<std::size_t>(c) * hd, 1, cos_sin.data());
        }
    }
    size_ -= count;
}

void FullKvCache::truncate(int n) {
    size_ = std::min(size_, std::max(0, n));
}

Status FullKvCache::save_state(std::string& out) const {
    const std::size_t run = static_cast<std::size_t>(size_) * shape_.head_dim * sizeof(float);
    for (const auto* m : {&keys_, &values_}) {
        for (int l = 0; l < shape_.n_layer; ++l) {
            for (int h = 0; h < shape_.n_head_kv; ++h) {
                out.append(reinterpret_cast<const char*>(m->data() + offset(l, h, 0)), run);
            }
        }
    }
    return Status::ok();
}

Status FullKvCache::load_state(std::string_view bytes, int n) {
    size_ = 0;
    if (n < 0 || n > shape_.capacity) {
        return Status::invalid_argument(fmt::format("{} cells do not fit in a cache of {}", n, shape_.capacity));
    }
    const std::size_t run = static_cast<std::size_t>(n) * shape_.head_dim * sizeof(float);
    const std::size_t want = 2 * run * static_cast<std::size_t>(shape_.n_layer) * shape_.n_head_kv;
    if (bytes.size() != want) {
        return Status::invalid_argument(
            fmt::format("{} bytes of {} state; {} cells take {}", bytes.size(), name(), n, want));
    }
    const char* p = bytes.data();
    for (auto* m : {&keys_, &values_}) {
        for (int l = 0; l < shape_.n_layer; ++l) {
            for (int h = 0; h < shape_.n_head_kv; ++h) {
                std::memcpy(m->data() + offset(l, h, 0), p, run);
                p += run;
            }
        }
    }
    size_ = n;
    return Status::ok();
}

}  // namespace kasten::llm
