#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/status.h"
#include "llm/kv_cache.h"
#include "llm/rope.h"

namespace kasten::llm {

// The storage and cell bookkeeping of a KV cache that keeps every cell as a row of head_dim elements of T (float,
// or f16 bits): per layer and KV head, contiguous [capacity, head_dim] key and value matrices, and the number of
// committed cells. commit(), truncate() and discard() here are the KvCache contract for such a cache; the cache
// supplies only how a stored key row is re-rotated.
template <typename T>
class DenseKvRows {
  public:
    // REQUIRES: every shape field positive. Storage (2 · n_layer · n_head_kv · capacity · head_dim elements) is
    // allocated here, zeroed.
    explicit DenseKvRows(const KvCacheShape& shape) : shape_(shape) {
        assert(shape.n_layer > 0 && shape.n_head_kv > 0 && shape.head_dim > 0 && shape.capacity > 0);
        const std::size_t n =
            static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv * shape.capacity * shape.head_dim;
        keys_.assign(n, T{});
        values_.assign(n, T{});
    }

    const KvCacheShape& shape() const { return shape_; }
    int size() const { return size_; }
    std::size_t bytes() const { return (keys_.size() + values_.size()) * sizeof(T); }

    // Row of one cell; the rows of a layer and head from `cell` on are contiguous.
    T* key(int layer, int kv_head, int cell) { return keys_.data() + offset(layer, kv_head, cell); }
    T* value(int layer, int kv_head, int cell) { return values_.data() + offset(layer, kv_head, cell); }
    const T* key(int layer, int kv_head, int cell) const { return keys_.data() + offset(layer, kv_head, cell); }
    const T* value(int layer, int kv_head, int cell) const { return values_.data() + offset(layer, kv_head, cell); }

    // KvCache::commit(). REQUIRES: size() <= n <= capacity.
    void commit(int n) {
        assert(n >= size_ && n <= shape_.capacity);
        size_ = n;
    }

    // KvCache::truncate(): keeps cells [0, min(size(), max(0, n))).
    void truncate(int n) { size_ = std::min(size_, std::max(0, n)); }

    // KvCache::discard(): drops cells [first, first + count), moves the later cells down and re-rotates their keys
    // by −count positions: rotate_key(T* row, const float* cos_sin) applies the rotation whose angles rope.angles()
    // wrote to cos_sin to one key row. REQUIRES: first >= 0, count >= 0, first + count <= size().
    template <typename RotateKey>
    void discard(int first, int count, const Rope& rope, RotateKey&& rotate_key) {
        assert(first >= 0 && count >= 0 && first + count <= size_);
        if (count == 0) return;
        const auto hd = static_cast<std::size_t>(shape_.head_dim);
        const int moved = size_ - first - count;
        std::vector<float> cos_sin(static_cast<std::size_t>(rope.n_rot()));
        rope.angles(-static_cast<double>(count), cos_sin.data());
        for (int l = 0; l < shape_.n_layer; ++l) {
            for (int h = 0; h < shape_.n_head_kv; ++h) {
                T* k = key(l, h, 0);
                T* v = value(l, h, 0);
                std::memmove(k + static_cast<std::size_t>(first) * hd, k + static_cast<std::size_t>(first + count) * hd,
                             sizeof(T) * moved * hd);
                std::memmove(v + static_cast<std::size_t>(first) * hd, v + static_cast<std::size_t>(first + count) * hd,
                             sizeof(T) * moved * hd);
                for (int c = first; c < first + moved; ++c)
                    rotate_key(k + static_cast<std::size_t>(c) * hd, cos_sin.data());
            }
        }
        size_ -= count;
    }

    // KvCache::save_state(): the committed cells' key rows of every layer and head, then their value rows, as
    // stored (host byte order).
    void save(std::string& out) const {
        const std::size_t run = static_cast<std::size_t>(size_) * shape_.head_dim * sizeof(T);
        for (const auto* m : {&keys_, &values_}) {
            for (int l = 0; l < shape_.n_layer; ++l) {
                for (int h = 0; h < shape_.n_head_kv; ++h) {
                    out.append(reinterpret_cast<const char*>(m->data() + offset(l, h, 0)), run);
                }
            }
        }
    }

    // KvCache::load_state(): what save() wrote for n cells. kInvalidArgument (and an empty cache) when n does not fit
    // or the byte count is not n cells'; `name` is the cache's, for the message.
    Status load(std::string_view bytes, int n, const std::string& name) {
        size_ = 0;
        if (n < 0 || n > shape_.capacity) {
            return Status::invalid_argument(fmt::format("{} cells do not fit in a cache of {}", n, shape_.capacity));
        }
        const std::size_t run = static_cast<std::size_t>(n) * shape_.head_dim * sizeof(T);
        const std::size_t want = 2 * run * static_cast<std::size_t>(shape_.n_layer) * shape_.n_head_kv;
        if (bytes.size() != want) {
            return Status::invalid_argument(
                fmt::format("{} bytes of {} state; {} cells take {}", bytes.size(), name, n, want));
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

  private:
    std::size_t offset(int layer, int kv_head, int cell) const {
        return ((static_cast<std::size_t>(layer) * shape_.n_head_kv + kv_head) * shape_.capacity + cell) *
               shape_.head_dim;
    }

    KvCacheShape shape_;
    int size_ = 0;
    std::vector<T> keys_;
    std::vector<T> values_;
};

}  // namespace kasten::llm
