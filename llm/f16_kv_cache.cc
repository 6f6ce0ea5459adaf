#include "llm/f16_kv_cache.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "llm/f16.h"
#include "llm/kv_kernels.h"
#include "llm/rope.h"

namespace kasten::llm {

F16KvCache::F16KvCache(const KvCacheShape& shape, KernelIsa isa) : rows_(shape), isa_(isa) {}

void F16KvCache::store(int layer, int cell, const float* k, const float* v) {
    const KvCacheShape& shape = rows_.shape();
    assert(cell >= 0 && cell < shape.capacity);
    const int hd = shape.head_dim;
    for (int h = 0; h < shape.n_head_kv; ++h) {
        std::uint16_t* kd = rows_.key(layer, h, cell);
        std::uint16_t* vd = rows_.value(layer, h, cell);
        for (int d = 0; d < hd; ++d) {
            kd[d] = f32_to_f16(k[h * hd + d]);
            vd[d] = f32_to_f16(v[h * hd + d]);
        }
    }
}

void F16KvCache::commit(int n) {
    rows_.commit(n);
}

void F16KvCache::attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                        float* max, float* sum, float* scratch) const {
    const KvKernels& kern = kv_kernels(isa_);
    const auto hd = static_cast<std::size_t>(rows_.shape().head_dim);
    const int n = end - begin;
    const std::uint16_t* k = rows_.key(layer, kv_head, begin);
    const std::uint16_t* v = rows_.value(layer, kv_head, begin);
    constexpr int kChunk = 128;
    for (int c0 = 0; c0 < n; c0 += kChunk) {
        const int len = std::min(kChunk, n - c0);
        for (int i = 0; i < n_q; ++i) {
            kern.dot_rows_f16(q + i * hd, k + c0 * hd, static_cast<std::size_t>(len), hd, scale,
                              scratch + static_cast<std::size_t>(i) * n + c0);
        }
    }
    for (int i = 0; i < n_q; ++i) {
        float* s = scratch + static_cast<std::size_t>(i) * n;
        max[i] = *std::max_element(s, s + n);
        sum[i] = exp_shifted_f32(s, static_cast<std::size_t>(n), max[i]);
        std::memset(out + i * hd, 0, sizeof(float) * hd);
    }
    for (int c0 = 0; c0 < n; c0 += kChunk) {
        const int len = std::min(kChunk, n - c0);
        for (int i = 0; i < n_q; ++i) {
            kern.accumulate_rows_f16(scratch + static_cast<std::size_t>(i) * n + c0, v + c0 * hd,
                                     static_cast<std::size_t>(len), hd, out + i * hd);
        }
    }
}

void F16KvCache::discard(int first, int count, const Rope& rope) {
    std::vector<float> row(static_cast<std::size_t>(rows_.shape().head_dim));
    rows_.discard(first, count, rope, [&](std::uint16_t* key, const float* cos_sin) {
        for (std::size_t d = 0; d < row.size(); ++d) row[d] = f16_to_f32(key[d]);
        rope.rotate(row.data(), 1, cos_sin);
        for (std::size_t d = 0; d < row.size(); ++d) key[d] = f32_to_f16(row[d]);
    });
}

void F16KvCache::truncate(int n) {
    rows_.truncate(n);
}

Status F16KvCache::save_state(std::string& out) const {
    rows_.save(out);
    return Status::ok();
}

Status F16KvCache::load_state(std::string_view bytes, int n) {
    return rows_.load(bytes, n, name());
}

}  // namespace kasten::llm
