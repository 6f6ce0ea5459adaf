#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "llm/dense_kv_rows.h"
#include "llm/kv_cache.h"
#include "llm/rope.h"
#include "llm/sim_vq.h"

namespace kasten::llm {

// A quantization scheme SimKvCache simulates, parsed from "k=4,v=2,kchan=1,kg=32,...". Measurement only.
struct SimKvSpec {
    int kbits = 4, vbits = 4;  // code bits of keys and values (Gaussian levels exist for 1–4 bits)
    bool k_chan = false;       // keys per channel over kgroup tokens (KIVI) instead of per token
    int kgroup = 0;        // per token: channels per group (0: head_dim, -1: the layer's kv_dim); per channel: tokens
    int vgroup = 0;        // channels per value group (0: head_dim, -1: kv_dim)
    bool rot = false;      // randomized Walsh–Hadamard per head before quantizing keys and values
    bool vrot = false;     // ... values only
    bool sym = false;      // symmetric (one scale) instead of min/max
    int sbits = 16;        // bits of a symmetric scale (16: f16; fewer: rounded up to 3 mantissa bits)
    bool nuq = false;      // per token: Gaussian Lloyd-Max levels, symmetric
    bool clip = false;     // search the clipping ratio per group (least squared error)
    int sinks = 0;         // first cells kept exact (counted as f16)
    int window = 0;        // most recent cells kept exact (counted as f16)
    int center = 0;        // per token keys: subtract a per-head, per-channel mean of the first `center` cells
    bool kscale = false;   // ... and divide by their per-channel deviation
    bool v_chan = false;   // with k_chan: values per channel over the same token groups
    bool prerope = false;  // with k_chan: quantize keys before RoPE (KVQuant), rotate back after
    bool knuq = false;     // with k_chan: per-channel Gaussian levels from the group's mean and deviation
    // causal > 0: keys and values per channel in blocks of `causal` tokens whose (scale, min) come from the
    // previous block's range (the sinks' for the first), so a token is coded at once and no f16 tail is kept.
    int causal = 0;
    int margin = 100;     // causal: percent of the previous block's half-range that the levels span
    bool cnuq = false;    // causal: Gaussian levels from the previous block's mean and deviation
    bool sparse = false;  // causal: values outside the levels kept exact (dense-and-sparse), not counted in bytes
    // vq = 1: vector quantization with codebooks calibrated offline (CQ, KVQuant): each group of vq_kc (vq_vc)
    // adjacent channels of a head is one vq_kb- (vq_vb-) bit index into a k-means codebook trained on keys and
    // values of calibration texts (seeds 1001..); keys before RoPE with prerope=1. Bits 0: kept exact (f16).
    // No per-group parameters; cells coded at commit(), sinks and window exact. bytes() counts the codebooks.
    bool vq = false;
    int vq_kc = 2, vq_vc = 2;    // channels per group (1, 2, 4, 8 dividing head_dim)
    int vq_kb = 6, vq_vb = 6;    // code bits of the first stage (0..14)
    int vq_kb2 = 0, vq_vb2 = 0;  // code bits of a second, residual stage (0: none)
    int vq_share = 0;      // codebook per 0: layer, 1: (layer, kv head), 2: (layer, kv head, channel group), 3: model
    bool vq_norm = false;  // channels centred and scaled by calibrated per-channel mean and deviation first
    bool vq_qw = false;    // keys scaled per channel by the calibrated query RMS (logit-error metric)
    bool vq_tw = false;    // calibration cells weighted by the attention they received
    int vq_out = 0;        // dense-and-sparse (KVQuant): per-mille of numbers outside calibrated per-channel
                           // quantiles kept exact (f16 + 16-bit index: 32 bits each, counted at this rate)
    int vq_calib = 16;     // calibration texts
    int vq_seed = 1001;    // seed of the first calibration text (1: the evaluation texts, to measure overfitting)
    int vq_iters = 20;     // k-means iterations
};

// kInvalidArgument for an unknown key, a malformed item, a value outside the simulation's ranges (bits 1..8,
// Gaussian levels 1..4 bits, groups up to 4096, cells up to 2^20) or options that need another one (vchan needs kchan).
Result<SimKvSpec> parse_sim_spec(const std::string& text);
// kInvalidArgument when `spec` cannot run on `shape`: per-token groups that do not divide the layer's channels,
// rotation of a head_dim that is not a power of two. SimKvCache's constructor requires it to pass.
Status check_sim_spec(const SimKvSpec& spec, const KvCacheShape& shape);

// PROTOTYPE for measurement (kasten bench kv --sim): simulates a quantization scheme by
// quantizing and dequantizing keys and values as the scheme would (at commit(), when a cell or group is final) and
// keeping the result in f32, so schemes can be compared for quality before kernels are written. bytes() is the
// scheme's analytic size (codes, parameters, exact cells as f16), not this object's storage. discard() is not
// simulated (a no-op); not for decoding.
class SimKvCache final : public KvCache {
  public:
    // `rope` is needed for spec.prerope.
    // `codebooks` are needed for spec.vq.
    SimKvCache(const KvCacheShape& shape, const SimKvSpec& spec, std::string name,
               std::shared_ptr<const Rope> rope = nullptr, std::shared_ptr<const VqCodebooks> codebooks = nullptr);
    ~SimKvCache() override;

    const KvCacheShape& shape() const override { return rows_.shape(); }
    int size() const override { return rows_.size(); }
    void store(int layer, int cell, const float* k, const float* v) override;
    void commit(int n) override;
    void attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                float* max, float* sum, float* scratch) const override;
    void discard(int, int, const Rope&) override {}
    void truncate(int n) override { rows_.truncate(n); }
    std::size_t bytes() const override;
    std::string name() const override { return name_; }

  private:
    void quantize_tokens(int c0, int c1);
    void quantize_key_group(int c0, int c1);
    void quantize_values(int c);
    void quantize_causal(int c);

    void quantize_vq(int c);

    std::shared_ptr<const Rope> rope_;
    std::shared_ptr<const VqCodebooks> codebooks_;
    SimKvSpec spec_;
    std::string name_;
    DenseKvRows<float> rows_;
    int q_end_ = 0;
    std::vector<float> mean_, rms_;  // [layer, head, head_dim]
    bool calibrated_ = false;
    // causal: the running block's and the previous block's statistics, [layer, head, 2 (k, v), head_dim]
    std::vector<float> cur_lo_, cur_hi_, lo_, hi_;
    std::vector<double> cur_s1_, cur_s2_, mu_, sd_;
    int cur_n_ = 0;
    long long n_out_ = 0, n_all_ = 0;  // causal: values outside the levels, of all coded (vq: outliers)
};

}  // namespace kasten::llm
