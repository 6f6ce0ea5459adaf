#pragma once

#include "llm/dense_kv_rows.h"
#include "llm/kv_cache.h"

namespace kasten::llm {

// Full-precision (float32) KV cache: the ground truth for compressed caches. Per layer and KV head, keys and
// values are each a contiguous [capacity, head_dim] matrix, so attention streams one head's cells linearly.
// Storage is allocated up front: 2 · n_layer · n_head_kv · capacity · head_dim · 4 bytes.
class FullKvCache final : public KvCache {
  public:
    // REQUIRES: every shape field positive.
    explicit FullKvCache(const KvCacheShape& shape);

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
    std::string name() const override { return "full-f32"; }

    // Row of one cell, for tests and for measuring compressed caches against this one.
    const float* key(int layer, int kv_head, int cell) const { return rows_.key(layer, kv_head, cell); }
    const float* value(int layer, int kv_head, int cell) const { return rows_.value(layer, kv_head, cell); }

  private:
    DenseKvRows<float> rows_;
};

}  // namespace kasten::llm
