#include "llm/rope.h"

#include <cmath>

namespace kasten::llm {

Rope::Rope(const ModelConfig& config, std::vector<float> freq_factors)
    : head_dim_(config.head_dim), n_rot_(config.n_rot), style_(config.rope_style), freq_scale_(config.rope_freq_scale) {
    inv_freq_.resize(static_cast<std::size_t>(n_rot_ / 2));
    for (int i = 0; i < n_rot_ / 2; ++i) {
        // Float math as in llama2.c's run.c: freq = 1 / base^(2i / n_rot).
        float f = 1.0f / std::pow(config.rope_freq_base, static_cast<float>(2 * i) / static_cast<float>(n_rot_));
        if (static_cast<std::size_t>(i) < freq_factors.size() && freq_factors[i] > 0.0f) f /= freq_factors[i];
        inv_freq_[static_cast<std::size_t>(i)] = f;
    }
}

void Rope::angles(double pos, float* cos_sin) const {
    const float p = static_cast<float>(pos) * freq_scale_;
    for (int i = 0; i < n_rot_ / 2; ++i) {
        const float a = p * inv_freq_[static_cast<std::size_t>(i)];
        cos_sin[2 * i] = std::cos(a);
        cos_sin[2 * i + 1] = std::sin(a);
    }
}

void Rope::rotate(float* x, int n_heads, const float* cos_sin) const {
    const int half = n_rot_ / 2;
    for (int h = 0; h < n_heads; ++h) {
        float* v = x + static_cast<std::ptrdiff_t>(h) * head_dim_;
        for (int i = 0; i < half; ++i) {
            const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
            float* a = style_ == RopeStyle::kNormal ? v + 2 * i : v + i;
            float* b = style_ == RopeStyle::kNormal ? v + 2 * i + 1 : v + i + half;
            const float x0 = *a, x1 = *b;
            *a = x0 * c - x1 * s;
            *b = x0 * s + x1 * c;
        }
    }
}

void Rope::apply(float* x, int n_heads, double pos) const {
    float cs[512];
    std::vector<float> big;
    float* cos_sin = cs;
    if (n_rot_ > 512) {
        big.resize(static_cast<std::size_t>(n_rot_));
        cos_sin = big.data();
    }
    angles(pos, cos_sin);
    rotate(x, n_heads, cos_sin);
}

}  // namespace kasten::llm
