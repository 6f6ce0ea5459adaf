#pragma once

#include <cstdint>
#include <vector>

#include "llm/kv_cache.h"
#include "llm/kv_kernels.h"

namespace kasten::llm {

// Quantized cells whose attention another store supplies in KiviKvCache::attend_overriding() (MixedKvCache keeps
// its salient cells at higher precision beside the KIVI blocks). Both calls see only cells [begin, end) that are
// quantized in the KIVI cache, and must be thread-safe (attend() is).
class KiviCellOverride {
  public:
    virtual ~KiviCellOverride() = default;
    // For the cells it holds: s[i · stride + (c − begin)] = scale · q_i · k_c, replacing the KIVI score.
    virtual void override_scores(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale,
                                 float* s, std::size_t stride) const = 0;
    // For the cells it holds: out[i · head_dim ..] += p[i · stride + (c − begin)] · v_c, then that p = 0, so the
    // KIVI values of those cells add nothing.
    virtual void override_values(int layer, int kv_head, int n_q, int begin, int end, float* p, std::size_t stride,
                                 float* out) const = 0;
};

// KIVI-style quantized KV cache (Liu et al. 2024), 8, 4 or 2 bits. Keys are quantized per channel in groups of
// kKvKeyGroup tokens along the token axis (outlier channels get their own range); values per token in groups
// of value_group() channels (a group may span KV heads when head_dim is small). Both asymmetric min/max with f16
// (scale, min). The most recent tokens stay in f16 (the residual window): at least `residual` of them, and the
// tail that does not fill a key group yet; when the window holds residual + kKvKeyGroup tokens the oldest group
// is quantized at commit(). attend() computes scores and value sums on the packed codes directly
// (kv_kernels.h): keys as scale · (q·min + Σ_d q_d·s_d·code), values as Σ p·(min + s·code).
//
// Storage: quantized blocks are allocated up front for the whole capacity; the f16 window grows with the
// largest batch stored before a commit. discard() and truncate() inside quantized groups decode the cells they
// keep back to f32 and quantize them again (a second rounding of those cells).
class KiviKvCache final : public KvCache {
  public:
    // REQUIRES: every shape field positive; head_dim a multiple of 4; bits ∈ {2, 4, 8}; residual >= 0;
    // isa a level the CPU runs (kv_kernels.h).
    KiviKvCache(const KvCacheShape& shape, int bits, int residual, KernelIsa isa = best_kernel_isa());

    const KvCacheShape& shape() const override { return shape_; }
    int size() const override { return size_; }
    void store(int layer, int cell, const float* k, const float* v) override;
    void commit(int n) override;
    void attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                float* max, float* sum, float* scratch) const override;
    void discard(int first, int count, const Rope& rope) override;
    void truncate(int n) override;
    std::size_t bytes() const override;
    std::string name() const override;
    // The quantized blocks of cells [0, quantized()) and the f16 window, exactly as held.
    Status save_state(std::string& out) const override;
    Status load_state(std::string_view bytes, int n) override;

    // attend() with the cells `cells` holds taken from it instead of from the quantized blocks.
    // With values = false only max, sum and scratch (e^(s − max) of every cell) are computed, not out.
    void attend_overriding(const KiviCellOverride* cells, int layer, int kv_head, const float* q, int n_q, int begin,
                           int end, float scale, float* out, float* max, float* sum, float* scratch,
                           bool values = true) const;
    // Bytes a cache of `shape` allocates when constructed (bytes() before any batch larger than the window).
    static std::size_t bytes_for(const KvCacheShape& shape, int bits, int residual);

    int bits() const { return bits_; }
    int value_group() const { return value_group_; }
    // Cells [0, quantized()) are quantized, the rest are in the f16 window.
    int quantized() const { return q_end_; }
    // The stored (dequantized) key and value of one cell, head_dim floats each, for tests and measurements.
    void read(int layer, int kv_head, int cell, float* k, float* v) const;

  private:
    std::size_t head_index(int layer, int kv_head) const {
        return static_cast<std::size_t>(layer) * shape_.n_head_kv + kv_head;
    }
    void quantize_oldest_group();
    // Row of `cell` in the value block holding `kv_head`, and the head's first channel in that block.
    std::size_t value_cell(int layer, int kv_head, int cell) const {
        const int block = kv_head * shape_.head_dim / value_block_;
        return (static_cast<std::size_t>(layer) * (kv_dim_ / value_block_) + block) * n_key_groups_ * kKvKeyGroup +
               cell;
    }
    std::size_t value_ch0(int kv_head) const {
        return static_cast<std::size_t>(kv_head * shape_.head_dim % value_block_);
    }

    KvCacheShape shape_;
    int bits_;
    int residual_;
    KernelIsa isa_;
    int kv_dim_;
    int value_group_;
    int n_key_groups_;       // quantized key groups that fit in the capacity
    std::size_t key_run_;    // packed bytes of one channel of a key group
    int value_block_;        // channels per value block: one head, or the heads sharing a value group
    std::size_t value_row_;  // packed bytes of one token's values in one block
    int value_stride_;       // f16 values of (scale, min) pairs per token row of a block
    int size_ = 0;
    int q_end_ = 0;
    std::vector<std::uint8_t> key_codes_;      // [layer, head, group, head_dim, key_run_]
    std::vector<std::uint16_t> key_params_;    // [layer, head, group, head_dim, 2]
    std::vector<std::uint8_t> value_codes_;    // [layer, block, capacity, value_row_]
    std::vector<std::uint16_t> value_params_;  // [layer, block, capacity, value_stride_]
    // f16 window per (layer, head): row r is cell q_end_ + r, head_dim values.
    std::vector<std::vector<std::uint16_t>> window_k_;
    std::vector<std::vector<std::uint16_t>> window_v_;
};

}  // namespace kasten::llm
