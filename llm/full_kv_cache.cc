#include "llm/full_kv_cache.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "llm/dot_kernels.h"
#include "llm/rope.h"

namespace kasten::llm {

FullKvCache::FullKvCache(const KvCacheShape& shape) : rows_(shape) {}

void FullKvCache::store(int layer, int cell, const float* k, const float* v) {
    const KvCacheShape& shape = rows_.shape();
    assert(cell >= 0 && cell < shape.capacity);
    const std::size_t hd = static_cast<std::size_t>(shape.head_dim);
    for (int h = 0; h < shape.n_head_kv; ++h) {
        std::memcpy(rows_.key(layer, h, cell), k + h * hd, hd * sizeof(float));
        std::memcpy(rows_.value(layer, h, cell), v + h * hd, hd * sizeof(float));
    }
}

void FullKvCache::commit(int n) {
    rows_.commit(n);
}

void FullKvCache::attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                         float* max, float* sum, float* scratch) const {
    const auto hd = static_cast<std::size_t>(rows_.shape().head_dim);
    const int n = end - begin;
    const float* k = rows_.key(layer, kv_head, begin);
    const float* v = rows_.value(layer, kv_head, begin);
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
    rows_.discard(first, count, rope, [&](float* key, const float* cos_sin) { rope.rotate(key, 1, cos_sin); });
}

void FullKvCache::truncate(int n) {
    rows_.truncate(n);
}

Status FullKvCache::save_state(std::string& out) const {
    rows_.save(out);
    return Status::ok();
}

Status FullKvCache::load_state(std::string_view bytes, int n) {
    return rows_.load(bytes, n, name());
}

}  // namespace kasten::llm
