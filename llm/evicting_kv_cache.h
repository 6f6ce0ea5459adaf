#pragma once

#include <cstdint>
#include <vector>

#include "llm/kv_cache.h"
#include "llm/kv_kernels.h"

namespace kasten::llm {

enum class EvictionPolicy {
    kStreaming,  // StreamingLLM (Xiao et al. 2023): the first `sinks` tokens and the most recent ones
    kH2o,        // H2O (Zhang et al. 2023): sinks, the recent window and the heavy hitters by accumulated attention
    kSnapKv,     // SnapKV (Li et al. 2024): sinks, the recent window and the cells a prompt's last queries vote for
};

struct EvictionOptions {
    EvictionPolicy policy = EvictionPolicy::kStreaming;
    int budget = 0;        // cells kept per layer and KV head after every commit()
    int sinks = 4;         // the first tokens, always kept
    int window = 0;        // the most recent tokens, always kept
    int n_q = 1;           // query heads per KV head (H2O sums their attention)
    int batch_slots = 64;  // cells reserved beyond the budget for a batch stored before commit() evicts
    // SnapKV: the observation window (the last `observation` queries of a prefill batch vote) and the max-pool
    // kernel along positions applied to the votes (1: none).
    int observation = 32;
    int pool = 7;
    // PyramidKV (Cai et al. 2024): per-layer budgets decreasing arithmetically from the first layer to the last,
    // averaging `budget`. Every layer keeps sinks + window; of the selected cells (budget − sinks − window on
    // average, S) the last layer keeps S / pyramid_beta and the first 2·S − S / pyramid_beta (1: uniform). The
    // paper's 20 starves the top layers of a shallow model; 2 measured best of {2, 5, 20} on stories260K
    // (docs/kv-cache.md).
    bool pyramid = false;
    int pyramid_beta = 2;
    // Ada-KV (Feng et al. 2024): a layer's budget (n_head_kv × its per-head budget) is shared by its KV heads: the
    // cells outside every head's sinks and window compete layer-wide by score, so heads whose attention is
    // concentrated keep fewer cells and diffuse ones more.
    bool adaptive_heads = false;
};

// A KV cache that keeps at most `budget` cells (f16) per layer and KV head and evicts the rest at commit().
// (With `pyramid` the budget is per layer, layer_budget(); with `adaptive_heads` it bounds the layer's total,
// n_head_kv × layer_budget(), and one head may hold more than layer_budget() cells.)
// Storage: each layer has one slot pool shared by its KV heads, n_head_kv × min(capacity, layer_budget() +
// batch_slots) slots allocated at construction; a head takes a free slot of its own share first, then any other
// head's. After commit() a layer holds at most n_head_kv × layer_budget() cells, so a batch of up to batch_slots
// tokens always fits and bytes() stays at the constructed value (per-head or layer-wide budgets alike). A larger
// batch appends overflow slots, which stay allocated and which bytes() reports.
// Cells keep their positions: size() counts every position seen, each kept key stays rotated for its own
// position, and attend() over [begin, end) covers the kept cells whose positions lie in it, so relative
// positions seen by RoPE are exactly those of the full cache (evicted cells act as masked). Sinks
// (positions < sinks) and the window (the last `window` positions) are never evicted; H2O evicts, per head, the
// cell with the least attention accumulated over every query so far, StreamingLLM the oldest.
//
// H2O learns a query's attention from attend(): a call whose range ends at an uncommitted cell c carries the
// query of the token at c (causal attention); commit() scores those queries exactly over the kept cells.
// SnapKV uses the same recorded queries: when commit() ends a batch of two or more tokens (a prefill), the queries
// of its last `observation` tokens vote. Per KV head, each such query (every query head of the GQA group) gives
// its softmax attention over the kept cells it sees; the votes are summed, max-pooled along positions (kernel
// `pool`, over the kept cells in position order) and REPLACE every kept cell's score; the lowest-scoring cells
// outside the sinks and the window are evicted (ties: the oldest). A single-token commit (decode) scores as H2O
// does: the token's attention over the kept cells is added to their scores (unpooled), and the lowest-scoring cell
// outside the sinks and the window is evicted, so the cache keeps a fixed budget of sinks + the recent window +
// the highest-scoring others, until the next prefill batch re-scores every kept cell.
//
// discard() drops positions and moves later ones down, re-rotating their keys (so positions stay contiguous).
class EvictingKvCache final : public KvCache {
  public:
    // REQUIRES: every shape field positive; head_dim even; window >= 1; sinks >= 0; budget >= sinks + window;
    // n_q >= 1; observation, pool, pyramid_beta >= 1; isa a level the CPU runs (kv_kernels.h).
    EvictingKvCache(const KvCacheShape& shape, const EvictionOptions& options, KernelIsa isa = best_kernel_isa());

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

    const EvictionOptions& options() const { return options_; }
    // Cells per KV head `layer` keeps after commit() (the budget, or PyramidKV's schedule); with adaptive_heads the
    // layer keeps at most n_head_kv times this, in total.
    int layer_budget(int layer) const { return layer_budget_[static_cast<std::size_t>(layer)]; }
    // Cells kept by one layer and KV head, and their positions (unordered).
    int kept(int layer, int kv_head) const;
    std::vector<int> kept_positions(int layer, int kv_head) const;
    // Bytes one slot costs (key, value, position and score, per layer and head summed).
    static std::size_t bytes_per_cell(const KvCacheShape& shape);

  private:
    // One layer's slot pool: `regions` shares of `region` slots (head kh's share first), then overflow slots.
    struct Layer {
        std::vector<std::uint16_t> keys;  // [slot, head_dim]
        std::vector<std::uint16_t> values;
        std::vector<int> pos;                // per slot; −1 when free
        std::vector<float> score;            // per slot: accumulated attention (H2O) or SnapKV's votes
        std::vector<std::vector<int>> free;  // free slots per share (n_head_kv) and of the overflow (last)
        int region = 0;
    };
    struct Head {
        std::vector<int> slots;  // the layer's slots holding this head's kept cells, ascending
        // Queries recorded by attend() for the uncommitted tokens: [token − size_, n_q, head_dim].
        mutable std::vector<float> pending_q;
        mutable std::vector<unsigned char> pending_seen;  // per uncommitted token: its query was recorded
    };
    Head& head(int layer, int kv_head) { return heads_[static_cast<std::size_t>(layer) * shape_.n_head_kv + kv_head]; }
    const Head& head(int layer, int kv_head) const {
        return heads_[static_cast<std::size_t>(layer) * shape_.n_head_kv + kv_head];
    }
    bool records_queries() const {
        return options_.policy == EvictionPolicy::kH2o || options_.policy == EvictionPolicy::kSnapKv;
    }
    int take_slot(Layer& layer, int kv_head);
    void free_slot(Layer& layer, int slot);
    // Adds the softmax attention of the recorded queries of tokens [from, n) over the kept cells to their scores;
    // returns how many tokens had a recorded query.
    int accumulate_attention(Layer& layer, const Head& h, int from, int n);
    void snap_vote(Layer& layer, const Head& h, int n);
    void evict(Layer& layer, Head& h, int budget, int n);
    void evict_layer_adaptive(int layer, int n);
    // Removes slots freed by discard() or truncate() from every head's list.
    void drop_freed_slots();

    KvCacheShape shape_;
    EvictionOptions options_;
    KernelIsa isa_;
    int size_ = 0;
    mutable float scale_ = 0.0f;  // attention scale seen by attend() (H2O)
    std::vector<Layer> layers_;
    std::vector<Head> heads_;
    std::vector<int> layer_budget_;
};

}  // namespace kasten::llm
