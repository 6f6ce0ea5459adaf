#pragma once

#include <cstdint>
#include <vector>

#include "llm/kv_cache.h"
#include "llm/kv_kernels.h"

namespace kasten::llm {

struct QuantizedH2oOptions {
    int bits = 8;          // per-token quantization of every kept value: 4 or 8 (keys: always 8)
    int budget = 0;        // cells kept per layer and KV head after every commit()
    int sinks = 4;         // the first tokens, always kept
    int window = 0;        // the most recent tokens, always kept
    int n_q = 1;           // query heads per KV head (their attention is summed)
    int batch_slots = 64;  // cells reserved beyond the budget for a batch stored before commit() evicts
};

// Eviction combined with quantization: H2O (Zhang et al. 2023) over cells stored at 8 (keys) and 8 or 4 (values)
// bits instead of f16. Per layer and KV head at most `budget` cells are kept after commit(): the sinks, the recent
// window and the cells with the most attention accumulated over every query so far (heavy hitters). Each kept key
// and value is quantized per token (asymmetric min/max, f16 scale and min, kv_quantize_run's layout); keys stay at
// 8 bits because per-token 4-bit keys lose the outlier channels (KIVI's reason for per-channel keys, which a set
// of scattered kept cells cannot share). A cell costs head_dim·(1 + bits/8) + 8 bytes plus 8 of position and
// score, against 4·head_dim + 8 for EvictingKvCache's f16 cells.
//
// Positions and scores follow EvictingKvCache: cells keep their positions (evicted ones act as masked), attend()
// records the query of each uncommitted token (a call whose range ends at it) and commit() scores it exactly over the
// kept cells before evicting; discard() drops positions and re-rotates the moved keys (decoded, rotated and
// quantized again). The state is not saved (kNotSupported: it depends on the attention history).
class QuantizedH2oKvCache final : public KvCache {
  public:
    // REQUIRES: every shape field positive; head_dim even and head_dim · bits a multiple of 8; bits ∈ {4, 8};
    // window >= 1; sinks >= 0; budget >= sinks + window; n_q >= 1.
    QuantizedH2oKvCache(const KvCacheShape& shape, const QuantizedH2oOptions& options);

    const KvCacheShape& shape() const override { return shape_; }
    int size() const override { return size_; }
    void store(int layer, int cell, const float* k, const float* v) override;
    void commit(int n) override;
    void attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                float* max, float* sum, float* scratch) const override;
    void discard(int first, int count, const Rope& rope) override;
    void truncate(int n) override;
    std::size_t bytes() const override;
    // "h2o-k8v4-b128-s4-w64": key and value bits, budget, sinks, window
    std::string name() const override;

    const QuantizedH2oOptions& options() const { return options_; }
    std::vector<int> kept_positions(int layer, int kv_head) const;
    // The stored (dequantized) key and value of a kept cell; false when the cell is not kept.
    bool read(int layer, int kv_head, int cell, float* k, float* v) const;
    // Bytes one kept cell costs, per layer and head summed.
    static std::size_t bytes_per_cell(const KvCacheShape& shape, int bits);

  private:
    struct Head {
        std::vector<std::uint8_t> k_codes, v_codes;     // [slot, row_bytes]
        std::vector<std::uint16_t> k_params, v_params;  // [slot, 2]
        std::vector<int> pos;                           // −1 when free
        std::vector<float> score;
        std::vector<int> free;
        int used = 0;
        mutable std::vector<float> pending_q;  // [token − size_, n_q, head_dim]
        mutable std::vector<unsigned char> pending_seen;
    };
    Head& head(int layer, int kv_head) { return heads_[static_cast<std::size_t>(layer) * shape_.n_head_kv + kv_head]; }
    const Head& head(int layer, int kv_head) const {
        return heads_[static_cast<std::size_t>(layer) * shape_.n_head_kv + kv_head];
    }
    void decode(const Head& h, int slot, float* k, float* v) const;
    void encode(Head& h, int slot, const float* k, const float* v);
    void score_pending(Head& h, int n);
    void evict(Head& h, int n);

    KvCacheShape shape_;
    QuantizedH2oOptions options_;
    std::size_t k_row_bytes_;  // keys: 8 bits
    std::size_t row_bytes_;    // values: `bits`
    int size_ = 0;
    mutable float scale_ = 0.0f;
    std::vector<Head> heads_;
};

}  // namespace kasten::llm
