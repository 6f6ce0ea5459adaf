#pragma once

#include <vector>

#include "llm/model_config.h"

namespace kasten::llm {

// Rotary position embedding of one model: pair i of a head (i < n_rot/2) is rotated by
// angle = pos · freq_scale · base^(−2i/n_rot) / factor_i, pairing (x[2i], x[2i+1]) (normal) or
// (x[i], x[i + n_rot/2]) (NeoX); dims past n_rot are untouched. Rotations compose, so rotating by a position
// delta d moves an already-rotated key from position p to p + d (used by KV cache shifts).
// Immutable; thread-safe.
class Rope {
  public:
    // freq_factors: optional per-pair divisors (GGUF `rope_freqs.weight`, Llama 3.1), n_rot/2 values.
    explicit Rope(const ModelConfig& config, std::vector<float> freq_factors = {});

    int head_dim() const { return head_dim_; }
    int n_rot() const { return n_rot_; }

    // Fills cos_sin[2i], cos_sin[2i+1] with cos and sin of pair i's angle at `pos` (n_rot values).
    void angles(double pos, float* cos_sin) const;
    // Rotates n_heads consecutive heads of x ([n_heads, head_dim]) by precomputed angles.
    void rotate(float* x, int n_heads, const float* cos_sin) const;
    // angles() + rotate().
    void apply(float* x, int n_heads, double pos) const;

  private:
    int head_dim_;
    int n_rot_;
    RopeStyle style_;
    float freq_scale_;
    std::vector<float> inv_freq_;  // per pair
};

}  // namespace kasten::llm
