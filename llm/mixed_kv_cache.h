#pragma once

#include <cstdint>
#include <vector>

#include "llm/kivi_kv_cache.h"
#include "llm/kv_cache.h"
#include "llm/kv_kernels.h"

namespace kasten::llm {

struct MixedKvOptions {
    int high_bits = 8;              // salient cells: 4 or 8
    int low_bits = 2;               // every quantized cell: 2, 4 or 8 (KIVI)
    double salient_fraction = 0.1;  // salient cells per layer and KV head, as a fraction of the capacity
    int residual = 32;              // KIVI's f16 window of recent tokens
    int sinks = 4;                  // the first tokens, always salient
    int n_q = 1;                    // query heads per KV head (their attention is summed)
};

// Mixed-precision KV cache (ZipCache, He et al. 2024; MiKV, Yang et al. 2024): every token is kept, the salient
// ones at high precision and the rest at low precision, instead of evicting the rest.
//
// Design. All cells live in a KiviKvCache at `low_bits` (keys per channel in groups of 32 tokens, values per token,
// the f16 window of recent tokens), so its layout and fused kernels are reused unchanged. Beside it, per layer and
// KV head, an 8-bit (or 4-bit) side store of `slots()` = sinks + ⌈salient_fraction · capacity⌉ cells, each key and
// value quantized per token (asymmetric min/max, f16 scale and min). attend() runs KIVI's attention with the side
// store's cells overriding their low-bit scores and values (KiviKvCache::attend_overriding). So a salient cell costs
// its low-bit codes plus its side entry; demoting it only frees its slot.
//
// Saliency is ZipCache's normalised attention: the attention a cell received, summed over the query heads of its
// KV head and over every query scored after it, divided by the number of such queries (so old cells, which more
// queries could see, are not favoured). As in H2O, attend() records the query of each uncommitted token (a call
// whose range ends at an uncommitted cell c carries the query of the token at c); commit() computes each recorded
// query's exact softmax over cells [0, c] (one attention of the cache's own precision) and adds the probabilities
// of the cells still undecided (the f16 window) and of the side store's cells. A call over the whole range [0, c]
// (a prefill batch, or an unsplit decode step) adds the scores at once from its own softmax; a decode step split
// across threads keeps its last part's statistics and commit() computes only the first part. When KIVI quantizes a
// group leaving the window, the group's cells compete with the side store's by score: the best `slots()` are kept at
// high precision (sinks always), the others are only in the low-bit blocks. A demoted cell never comes back (its
// high-precision copy is gone). Without recorded queries (e.g. a cache filled directly) scores are 0 and only sinks
// and the earliest cells are kept.
//
// Costs: the side store and the scores (bytes() counts them: (2·head_dim·high_bits/8 + 8 + 12) bytes per slot, 8
// per window cell; not the transient copies of the uncommitted tokens' queries and of a split step's statistics,
// n_q · (window + slots) floats per head), and a split decode step computes the first part of its attention again
// at commit(). discard() re-rotates the side store's keys (a second 8-bit rounding); cells that KIVI requantizes
// while shifting (window cells moving across a group boundary) join the low-bit blocks without a saliency decision.
// save_state() writes the KIVI state, the side store and the scores as they are, so a loaded cache continues exactly
// as the saved one would.
class MixedKvCache final : public KvCache, private KiviCellOverride {
  public:
    // REQUIRES: every shape field positive; head_dim a multiple of 4; high_bits ∈ {4, 8}; low_bits ∈ {2, 4, 8};
    // 0 <= salient_fraction <= 1; residual >= 0; sinks >= 0; n_q >= 1; isa a level the CPU runs.
    MixedKvCache(const KvCacheShape& shape, const MixedKvOptions& options, KernelIsa isa = best_kernel_isa());

    const KvCacheShape& shape() const override { return shape_; }
    int size() const override { return size_; }
    void store(int layer, int cell, const float* k, const float* v) override;
    void commit(int n) override;
    void attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                float* max, float* sum, float* scratch) const override;
    void discard(int first, int count, const Rope& rope) override;
    void truncate(int n) override;
    std::size_t bytes() const override;
    // "mixed-q8q2-f0.10-r32-s4": high and low bits, salient fraction, window, sinks.
    std::string name() const override;
    Status save_state(std::string& out) const override;
    Status load_state(std::string_view bytes, int n) override;

    const MixedKvOptions& options() const { return options_; }
    // High-precision slots per layer and KV head.
    int slots() const { return slots_; }
    // Bytes a cache of `shape` allocates when constructed.
    static std::size_t bytes_for(const KvCacheShape& shape, const MixedKvOptions& options);
    // Positions held at high precision by one layer and KV head (unordered).
    std::vector<int> salient_positions(int layer, int kv_head) const;
    // The normalised attention score of a cell still in the window or held at high precision; −1 for the others.
    double score(int layer, int kv_head, int cell) const;
    // The low-bit KIVI store (every cell).
    const KiviKvCache& low() const { return low_; }
    // The stored key and value of one cell as attention sees them (side store, f16 window or low-bit blocks).
    void read(int layer, int kv_head, int cell, float* k, float* v) const;

  private:
    struct Head {
        // Side store, per slot.
        std::vector<int> pos;  // −1 when free
        std::vector<float> acc;
        std::vector<int> seen;
        std::vector<std::uint8_t> k_codes, v_codes;     // [slot, row_bytes]
        std::vector<std::uint16_t> k_params, v_params;  // [slot, 2]
        // Scores of the window cells [low_.quantized(), ...).
        std::vector<float> w_acc;
        std::vector<int> w_seen;
        // Queries recorded by attend() for the uncommitted tokens: [token − size_, n_q, head_dim], and per token
        // what attend() saw (PendingScore).
        mutable std::vector<float> pending_q;
        mutable std::vector<unsigned char> pending_seen;
        // A decode step's last flash-decoding part [split_begin, t] of the one uncommitted token: per query head
        // its max and sum, and e^(s − max) of the window cells (from the window start) and of the slots.
        mutable int split_begin = 0;
        mutable std::vector<float> split_ms;  // [n_q, 2]
        mutable std::vector<float> split_w;   // [n_q, window cells]
        mutable std::vector<float> split_s;   // [n_q, slots]
    };
    // What attend() recorded for an uncommitted token.
    enum PendingScore : unsigned char {
        kNone = 0,
        kQuery = 1,   // its query: commit() computes its attention again
        kScored = 2,  // attend() saw its whole range [0, t] and added the scores already
        kSplit = 3,   // its query and the last part's statistics: commit() computes the first part and merges
    };
    Head& head(int layer, int kv_head) { return heads_[static_cast<std::size_t>(layer) * shape_.n_head_kv + kv_head]; }
    const Head& head(int layer, int kv_head) const {
        return heads_[static_cast<std::size_t>(layer) * shape_.n_head_kv + kv_head];
    }
    void override_scores(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* s,
                         std::size_t stride) const override;
    void override_values(int layer, int kv_head, int n_q, int begin, int end, float* p, std::size_t stride,
                         float* out) const override;
    void decode_slot(const Head& h, int slot, float* k, float* v) const;
    void encode_slot(Head& h, int slot, const float* k, const float* v);
    void score_pending(int layer, int kv_head, int n);
    // Adds the scores of token t's attention over [0, t] (scratch as attend() left it) to the window and slots.
    void add_scores(const Head& h, int t, const float* q, float scale, const float* scratch, const float* max,
                    const float* sum) const;
    // Scores of the cells [from, to) that KIVI has just quantized compete for the slots.
    void select(int layer, int kv_head, int from, int to, const std::vector<float>& keys,
                const std::vector<float>& values);
    double saliency(float acc, int seen, int pos) const;
    // After truncate/discard: cell c of the old layout is now at map(c) (−1: gone); rebuilds slots and window scores.
    template <typename Map>
    void relayout(int old_q0, Map map);

    KvCacheShape shape_;
    MixedKvOptions options_;
    KernelIsa isa_;
    KiviKvCache low_;
    int slots_;
    std::size_t row_bytes_;  // packed bytes of one head's keys (or values) at high_bits
    int size_ = 0;
    mutable float scale_ = 0.0f;  // attention scale seen by attend()
    std::vector<Head> heads_;
};

}  // namespace kasten::llm
