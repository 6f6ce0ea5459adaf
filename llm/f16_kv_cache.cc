#include "llm/f16_kv_cache.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include <fmt/format.h>

#include "llm/f16.h"
#include "llm/kv_kernels.h"
#include "llm/rope.h"

namespace kasten::llm {

F16KvCache::F16KvCache(const KvCacheShape& shape, KvIsa isa) : shape_(shape), isa_(isa) {
    assert(shape.n_layer > 0 && shape.n_head_kv > 0 && shape.head_dim > 0 && shape.capacity > 0);
    const std::size_t n = static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv * shape.capacity * shape.head_dim;
    keys_.assign(n, 0);
    values_.assign(n, 0);
}

void F16KvCache::store(int layer, int cell, const float* k, const float* v) {
    assert(cell >= 0 && cell < shape_.capacity);
    const int hd = shape_.head_dim;
    for (int h = 0; h < shape_.n_head_kv; ++h) {
        std::uint16_t* kd = keys_.data() + offset(layer, h, cell);
        std::uint16_t* vd = values_.data() + offset(layer, h, cell);
        for (int d = 0; d < hd; ++d) {
            kd[d] = f32_to_f16(k[h * hd + d]);
            vd[d] = f32_to_f16(v[h * hd + d]);
        }
    }
}

void F16KvCache::commit(int n) {
    assert(n >= size_ && n <= shape_.capacity);
    size_ = n;
}

void F16KvCache::attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                        float* max, float* sum, float* scratch) const {
    const KvKernels& kern = kv_kernels(isa_);
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const int n = end - begin;
    const std::uint16_t* k = keys_.data() + offset(layer, kv_head, begin);
    const std::uint16_t* v = values_.data() + offset(layer, kv_head, begin);
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
    assert(first >= 0 && count >= 0 && first + count <= size_);
    if (count == 0) return;
    const int hd = shape_.head_dim;
    const int moved = size_ - first - count;
    std::vector<float> cos_sin(static_cast<std::size_t>(rope.n_rot()));
    rope.angles(-static_cast<double>(count), cos_sin.data());
    std::vector<float> row(static_cast<std::size_t>(hd));
    for (int l = 0; l < shape_.n_layer; ++l) {
        for (int h = 0; h < shape_.n_head_kv; ++h) {
            std::uint16_t* k = keys_.data() + offset(l, h, 0);
            std::uint16_t* v = values_.data() + offset(l, h, 0);
            std::memmove(k + static_cast<std::size_t>(first) * hd, k + static_cast<std::size_t>(first + count) * hd,
                         sizeof(std::uint16_t) * moved * hd);
            std::memmove(v + static_cast<std::size_t>(first) * hd, v + static_cast<std::size_t>(first + count) * hd,
                         sizeof(std::uint16_t) * moved * hd);
            for (int c = first; c < first + moved; ++c) {
                std::uint16_t* kc = k + static_cast<std::size_t>(c) * hd;
                for (int d = 0; d < hd; ++d) row[d] = f16_to_f32(kc[d]);
                rope.rotate(row.data(), 1, cos_sin.data());
                for (int d = 0; d < hd; ++d) kc[d] = f32_to_f16(row[d]);
            }
        }
    }
    size_ -= count;
}

void F16KvCache::truncate(int n) {
    size_ = std::min(size_, std::max(0, n));
}

Status F16KvCache::save_state(std::string& out) const {
    const std::size_t run = static_cast<std::size_t>(size_) * shape_.head_dim * sizeof(std::uint16_t);
    for (const auto* m : {&keys_, &values_}) {
        for (int l = 0; l < shape_.n_layer; ++l) {
            for (int h = 0; h < shape_.n_head_kv; ++h) {
                out.append(reinterpret_cast<const char*>(m->data() + offset(l, h, 0)), run);
            }
        }
    }
    return Status::ok();
}

Status F16KvCache::load_state(std::string_view bytes, int n) {
    size_ = 0;
    if (n < 0 || n > shape_.capacity) {
        return Status::invalid_argument(fmt::format("{} cells do not fit in a cache of {}", n, shape_.capacity));
    }
    const std::size_t run = static_cast<std::size_t>(n) * shape_.head_dim * sizeof(std::uint16_t);
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
