#include <cmath>
#include <cstring>

#include "llm/dot_kernels.h"
#include "llm/f16.h"
#include "llm/quantization.h"

namespace kasten::llm::scalar {

float dot_f32(const float* a, const float* b, std::size_t n) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; ++i) sum += a[i] * b[i];
    return sum;
}

void axpy_f32(float a, const float* x, float* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void dot_rows_f32(const float* q, const float* rows, std::size_t n_rows, std::size_t dim, float scale, float* out) {
    for (std::size_t c = 0; c < n_rows; ++c) out[c] = scale * dot_f32(q, rows + c * dim, dim);
}

float exp_shifted_f32(float* s, std::size_t n, float max) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; ++i) sum += (s[i] = std::exp(s[i] - max));
    return sum;
}

void accumulate_rows_f32(const float* p, const float* rows, std::size_t n_rows, std::size_t dim, float* out) {
    for (std::size_t c = 0; c < n_rows; ++c) axpy_f32(p[c], rows + c * dim, out, dim);
}

void rms_norm_f32(const float* x, const float* w, std::size_t n, float eps, float* out) {
    float ss = 0.0f;
    for (std::size_t i = 0; i < n; ++i) ss += x[i] * x[i];
    ss = ss / static_cast<float>(n) + eps;
    const float scale = 1.0f / std::sqrt(ss);
    for (std::size_t i = 0; i < n; ++i) out[i] = w[i] * (scale * x[i]);
}

void silu_mul_f32(float* g, const float* u, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void add_f32(float* x, const float* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) x[i] += y[i];
}

float dot_f16_f32(const std::uint16_t* w, const float* a, std::size_t n) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; ++i) sum += f16_to_f32(w[i]) * a[i];
    return sum;
}

float dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* a, std::size_t n) {
    float sum = 0.0f;
    for (std::size_t b = 0; b < n / kQk8_0; ++b) {
        int isum = 0;
        for (int j = 0; j < kQk8_0; ++j) isum += w[b].qs[j] * a[b].qs[j];
        sum += f16_to_f32(w[b].d) * f16_to_f32(a[b].d) * static_cast<float>(isum);
    }
    return sum;
}

float dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* a, std::size_t n) {
    float sum = 0.0f;
    for (std::size_t b = 0; b < n / kQk4_0; ++b) {
        int isum = 0;
        for (int j = 0; j < kQk4_0 / 2; ++j) {
            isum += ((w[b].qs[j] & 0xF) - 8) * a[b].qs[j];
            isum += ((w[b].qs[j] >> 4) - 8) * a[b].qs[j + kQk4_0 / 2];
        }
        sum += f16_to_f32(w[b].d) * f16_to_f32(a[b].d) * static_cast<float>(isum);
    }
    return sum;
}

float dot_q4_k_q8_k(const BlockQ4K* w, const BlockQ8K* a, std::size_t n) {
    float sum = 0.0f;
    for (std::size_t b = 0; b < n / kQkK; ++b) {
        const float d = f16_to_f32(w[b].d) * a[b].d;
        const float dmin = f16_to_f32(w[b].dmin) * a[b].d;
        int scaled = 0;  // Σ_j sc_j · Σ q·q8
        int mins = 0;    // Σ_j m_j · Σ q8
        for (int c = 0; c < 4; ++c) {
            const std::uint8_t* q = w[b].qs + 32 * c;
            const std::int8_t* q8 = a[b].qs + 64 * c;
            std::uint8_t sc0, m0, sc1, m1;
            q4_k_scale_min(2 * c, w[b].scales, &sc0, &m0);
            q4_k_scale_min(2 * c + 1, w[b].scales, &sc1, &m1);
            int lo = 0, hi = 0, s_lo = 0, s_hi = 0;
            for (int l = 0; l < 32; ++l) {
                lo += (q[l] & 0xF) * q8[l];
                hi += (q[l] >> 4) * q8[l + 32];
                s_lo += q8[l];
                s_hi += q8[l + 32];
            }
            scaled += sc0 * lo + sc1 * hi;
            mins += m0 * s_lo + m1 * s_hi;
        }
        sum += d * static_cast<float>(scaled) - dmin * static_cast<float>(mins);
    }
    return sum;
}

float dot_q6_k_q8_k(const BlockQ6K* w, const BlockQ8K* a, std::size_t n) {
    float sum = 0.0f;
    for (std::size_t b = 0; b < n / kQkK; ++b) {
        int q[kQkK];
        for (int h = 0; h < 2; ++h) {
            const std::uint8_t* ql = w[b].ql + 64 * h;
            const std::uint8_t* qh = w[b].qh + 32 * h;
            int* o = q + 128 * h;
            for (int l = 0; l < 32; ++l) {
                o[l] = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                o[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                o[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                o[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            }
        }
        int isum = 0;
        for (int g = 0; g < kQkK / 16; ++g) {
            int part = 0;
            for (int i = 0; i < 16; ++i) part += q[16 * g + i] * a[b].qs[16 * g + i];
            isum += w[b].scales[g] * part;
        }
        sum += f16_to_f32(w[b].d) * a[b].d * static_cast<float>(isum);
    }
    return sum;
}

}  // namespace kasten::llm::scalar
