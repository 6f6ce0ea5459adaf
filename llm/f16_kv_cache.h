#pragma once

#include <cstdint>
#include <vector>

#include "llm/kv_cache.h"
#include "llm/kv_kernels.h"

namespace kasten::llm {

// Half-precision KV cache, the everyday baseline: FullKvCache's layout (per layer and KV head, contiguous
// [capacity, head_dim] key and value matrices) in IEEE f16, half its bytes; attention converts on the fly.
// Storage is allocated up front: 2 · n_layer · n_head_kv · capacity · head_dim · 2 bytes.
class F16KvCache final : public KvCache {
  public:
    // REQUIRES: every shape field positive; isa a level the CPU runs (kv_kernels.h).
    explicit F16KvCache(const KvCacheShape& shape, KvIsa isa = best_kv_isa());

    const KvCacheShape& shape() const override { return shape_; }
    int size() const override { return size_; }
    void store(int layer, int cell, const float* k, const float* v) override;
    void commit(int n) override;
    void attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                float* max, float* sum, float* scratch) const override;
    void discard(int first, int count, const Rope& rope) override;
    void truncate(int n) override;
    std::size_t bytes() const override { return (keys_.size() + values_.size()) * sizeof(std::uint16_t); }
    Status save_state(std::string& out) const override;
    Status load_state(std::string_view bytes, int n) override;
    std::string name() const override { return "f16"; }

  private:
    std::size_t offset(int layer, int kv_head, int cell) const {
        return ((static_cast<std::size_t>(layer) * shape_.n_head_kv + kv_head) * shape_.capacity + cell) *
               shape_.head_dim;
    }

    KvCacheShape shape_;
    KvIsa isa_;
    int size_ = 0;
    std::vector<std::uint16_t> keys_;
    std::vector<std::uint16_t> values_;
};

}  // namespace kasten::llm
