#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kasten::llm {

class Rope;

// Geometry of a KV cache: per layer and KV head, `capacity` cells of head_dim keys and values.
struct KvCacheShape {
    int n_layer = 0;
    int n_head_kv = 0;
    int head_dim = 0;
    int capacity = 0;  // the runtime context size, in tokens
};

// The decoder's KV cache. Cell i holds the token at position i (positions stay contiguous: a shift re-rotates
// keys instead of leaving gaps). Keys are stored post-RoPE. Implementations differ in how they store keys and
// values (full precision here; quantized or evicting ones later) and compute attention over what they store,
// so dequantization can be fused into the dot products. The full-precision FullKvCache is the ground truth the
// others are measured against.
//
// Thread safety: store(), commit(), discard() and truncate() need exclusive access. attend() is const and may
// run concurrently from several threads, for any heads and ranges, between those calls.
class KvCache {
  public:
    virtual ~KvCache() = default;

    virtual const KvCacheShape& shape() const = 0;
    int capacity() const { return shape().capacity; }
    // Cells in use: tokens at positions [0, size()).
    virtual int size() const = 0;

    // Writes the post-RoPE key and the value of cell `cell` in `layer`; k and v are [n_head_kv, head_dim].
    // REQUIRES: size() <= cell < capacity(). The cell takes part in attend() ranges at once (the forward pass
    // stores a batch before attending within it) and counts in size() after commit().
    virtual void store(int layer, int cell, const float* k, const float* v) = 0;
    // Marks cells [0, n) as in use. REQUIRES: size() <= n <= capacity().
    virtual void commit(int n) = 0;

    // Partial attention of n_q query heads sharing `kv_head` of `layer` over cells [begin, end), as
    // flash-decoding parts that the caller merges: for query i (q + i·head_dim),
    //   s_c = scale · q_i · k_c,   max[i] = max_c s_c,   sum[i] = Σ_c exp(s_c − max[i]),
    //   out[i·head_dim ..] = Σ_c exp(s_c − max[i]) · v_c      (not normalised).
    // `scratch` holds at least n_q · (end − begin) floats. REQUIRES: 0 <= begin < end <= capacity(), cells
    // stored. Thread-safe (const).
    virtual void attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                        float* max, float* sum, float* scratch) const = 0;

    // Context shift: removes cells [first, first + count) of every layer, moves the later cells down by
    // `count` and re-rotates their keys by −count positions with `rope`, so positions stay contiguous.
    // REQUIRES: 0 <= first, count >= 0, first + count <= size().
    virtual void discard(int first, int count, const Rope& rope) = 0;
    // Forgets every cell from `n` on (no-op when n >= size()).
    virtual void truncate(int n) = 0;

    // Bytes of storage currently allocated.
    virtual std::size_t bytes() const = 0;
    // "full-f32", "q4-kivi", ...
    virtual std::string name() const = 0;

    // Appends the state of cells [0, size()) to `out` in this cache's own layout (host byte order), so that
    // load_state() into a cache of the same name() and shape restores it bit for bit. kNotSupported for caches
    // whose state is not saved (the evicting ones). KvSnapshot (llm/kv_snapshot.h) frames and checks the bytes.
    virtual Status save_state(std::string& out) const {
        (void)out;
        return Status::not_supported("the " + name() + " KV cache cannot be saved");
    }
    // Replaces the whole content by save_state() bytes of `n` cells. kInvalidArgument when n exceeds the capacity
    // or the bytes do not have the layout of n cells of this shape (the cache is then empty).
    virtual Status load_state(std::string_view bytes, int n) {
        (void)bytes;
        (void)n;
        return Status::not_supported("the " + name() + " KV cache cannot be loaded");
    }
};

}  // namespace kasten::llm
