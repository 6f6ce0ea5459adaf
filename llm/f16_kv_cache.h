#pragma once

#include <cstdint>

#include "llm/dense_kv_rows.h"
#include "llm/kv_cache.h"
#include "llm/kv_kernels.h"

namespace kasten::llm {

// Half-precision KV cache, the everyday baseline: FullKvCache's layout (per layer and KV head, contiguous
// [capacity, head_dim] key and value matrices) in IEEE f16, half its bytes; attention converts on the fly.
// Storage is allocated up front: 2 · n_layer · n_head_kv · capacity · head_dim · 2 bytes.
class F16KvCache final : public KvCache {
  public:
    // REQUIRES: every shape field positive; isa a level the CPU runs (kv_kernels.h).
    explicit F16KvCache(const KvCacheShape& shape, KernelIsa isa = best_kernel_isa());

    const KvCacheShape& shape() const override { return rows_.shape(); }
    int size() const override { return rows_.size(); }
    void store(int layer, int cell, const float* k, const float* v) override;
    void commit(int n) override;
    void attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                float* max, float* sum, float* scratch) const override;
    void discard(int first, int count, const Rope& rope) override;
    void truncate(int n) override;
    std::size_t bytes() const override { return rows_.bytes(); }
    Status save_state(std::string& out) const override;
    Status load_state(std::string_view bytes, int n) override;
    std::string name() const override { return "f16"; }

  private:
    DenseKvRows<std::uint16_t> rows_;
    KernelIsa isa_;
};

}  // namespace kasten::llm
