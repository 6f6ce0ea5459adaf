#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "llm/dense_kv_rows.h"
#include "llm/kv_cache.h"
#include "llm/rope.h"

namespace kasten::llm {

struct SimKvSpec;

// PROTOTYPE for measurement (kasten bench kv --sim "vq=1,..."): vector quantization of keys and values with
// codebooks calibrated offline (Coupled Quantization, KVQuant's calibrated levels).

// Keys, values, attention and queries recorded from calibration texts through an exact cache.
struct VqCalibration {
    int n_layer = 0, n_head_kv = 0, head_dim = 0;
    int n = 0;                  // cells recorded (all texts)
    std::vector<float> keys;    // [n][layer][head][head_dim], post-RoPE as stored
    std::vector<float> values;  // [n][layer][head][head_dim]
    std::vector<int> pos;       // [n] position of each cell in its text
    std::vector<float> mass;    // [n][layer][head] attention the cell received (summed over queries)
    std::vector<double> q2;     // [layer][head][head_dim] sum of squared (post-RoPE) queries
    long long n_queries = 0;    // per (layer, head): queries counted in q2

    std::size_t row(int l, int h, int c) const { return (static_cast<std::size_t>(c) * n_layer + l) * n_head_kv + h; }
    const float* key(int l, int h, int c) const { return keys.data() + row(l, h, c) * head_dim; }
    const float* value(int l, int h, int c) const { return values.data() + row(l, h, c) * head_dim; }
};

// An exact f32 cache that records what VqCalibration needs. Single-threaded attend() only (it accumulates).
class RecordingKvCache final : public KvCache {
  public:
    explicit RecordingKvCache(const KvCacheShape& shape);
    const KvCacheShape& shape() const override { return rows_.shape(); }
    int size() const override { return rows_.size(); }
    void store(int layer, int cell, const float* k, const float* v) override;
    void commit(int n) override { rows_.commit(n); }
    void attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                float* max, float* sum, float* scratch) const override;
    void discard(int, int, const Rope&) override {}
    void truncate(int n) override { rows_.truncate(n); }
    std::size_t bytes() const override { return rows_.bytes(); }
    std::string name() const override { return "recording-f32"; }
    // Appends cells [0, size()) to `cal`.
    void append_to(VqCalibration& cal) const;

  private:
    DenseKvRows<float> rows_;
    mutable std::vector<float> mass_;  // [layer][head][capacity]
    mutable std::vector<double> q2_;   // [layer][head][head_dim]
    mutable long long n_queries_ = 0;  // over all (layer, head)
};

// Codebooks of one VQ spec, trained on a calibration by k-means (k-means++ init, fixed seed).
struct VqCodebooks {
    int n_layer = 0, n_head_kv = 0, head_dim = 0;
    // [kind 0 k, 1 v] transform per (layer, head, channel): y = (x - mean) * mul (x pre-RoPE for keys)
    std::vector<float> mean[2], mul[2];
    // [kind] dense-and-sparse thresholds per (layer, head, channel) in y space (empty: none)
    std::vector<float> lo[2], hi[2];
    // [kind][stage] books; book_of(kind, layer, head, group) indexes them; each book is 2^bits x c floats.
    std::vector<std::vector<float>> books[2][2];
    int c[2] = {2, 2}, bits[2][2] = {{0, 0}, {0, 0}}, share = 0;
    std::size_t bytes = 0;         // codebook entries and transform parameters as f16, once per sequence
    double train_mse[2] = {0, 0};  // mean squared error per channel in y space on the calibration set

    int book_of(int kind, int layer, int head, int group) const;
};

// Trains the codebooks of `spec` (spec.vq) on `cal`. `rope` un-rotates keys when spec.prerope.
std::shared_ptr<const VqCodebooks> build_vq_codebooks(const VqCalibration& cal, const SimKvSpec& spec,
                                                      const Rope& rope);

// Replaces the head_dim key (kind 0, pre-RoPE) or value (kind 1) x of (layer, head) by its VQ reconstruction;
// returns the numbers kept exact as outliers.
int vq_code(const VqCodebooks& cb, int kind, int layer, int head, float* x);

}  // namespace kasten::llm
