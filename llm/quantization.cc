#include "llm/quantization.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "llm/f16.h"

namespace kasten::llm {
namespace {

int nearest_int(float v) {
    return static_cast<int>(std::lrintf(v));
}

// Fits x[0..n) ≈ scale · q − min_neg with q in [0, nmax]: tries the plain [min, max] range and a few shrunken
// ones, and keeps the pair with the least squared error. Returns scale; *min_out = −min (≥ 0).
float fit_affine(const float* x, int n, int nmax, float* min_out) {
    float lo = 0.0f, hi = x[0];
    for (int i = 0; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
    }
    lo = std::min(lo, 0.0f);
    if (hi <= lo) {
        *min_out = -lo;
        return 0.0f;
    }
    float best_err = INFINITY, best_scale = (hi - lo) / nmax, best_min = lo;
    for (int step = 0; step <= 8; ++step) {
        // Shrink the top of the range: clipping a few outliers often lowers the total error.
        float top = lo + (hi - lo) * (1.0f - 0.03f * step);
        float scale = (top - lo) / nmax;
        float err = 0.0f;
        for (int i = 0; i < n; ++i) {
            int q = std::clamp(nearest_int((x[i] - lo) / scale), 0, nmax);
            float diff = scale * q + lo - x[i];
            err += diff * diff;
        }
        if (err < best_err) {
            best_err = err;
            best_scale = scale;
            best_min = lo;
        }
    }
    *min_out = -best_min;
    return best_scale;
}

// Weighted symmetric fit of one block: q_j in [qmin, qmax], x_j ≈ d·q_j, minimising Σ w_j (x_j − d·q_j)².
// Candidate inverse scales (|qmin| + step·k) / −max for k in [−k_max, k_max] (max = the value of largest
// magnitude) each give quants by rounding; d is the least-squares scale for those quants, and the candidate with
// the least error wins. The winner's d is then rounded to f16 and the quants re-rounded against it when that
// lowers the error. Returns the f16 scale; q[n] receives the quants.
std::uint16_t fit_weighted(const float* x, const float* w, int n, int qmin, int qmax, float step, int k_max, int* q) {
    assert(n <= kQk8_0);
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    }
    if (amax < 1e-30f) {
        for (int i = 0; i < n; ++i) q[i] = 0;
        return f32_to_f16(0.0f);
    }
    // For fixed quants the weighted error is Σwx² − (Σwxq)² / Σwq²: maximise (Σwxq)² / Σwq².
    double best_num = -1.0, best_den = 1.0;
    float best_iscale = static_cast<float>(qmin) / max;
    for (int k = -k_max; k <= k_max; ++k) {
        const float iscale = (static_cast<float>(-qmin) + step * static_cast<float>(k)) / -max;
        double sxq = 0.0, sqq = 0.0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest_int(iscale * x[i]), qmin, qmax);
            sxq += static_cast<double>(w[i]) * x[i] * l;
            sqq += static_cast<double>(w[i]) * l * l;
        }
        if (sqq > 0.0 && sxq * sxq * best_den > best_num * sqq) {
            best_num = sxq * sxq;
            best_den = sqq;
            best_iscale = iscale;
        }
    }
    double sxq = 0.0, sqq = 0.0;
    for (int i = 0; i < n; ++i) {
        q[i] = std::clamp(nearest_int(best_iscale * x[i]), qmin, qmax);
        sxq += static_cast<double>(w[i]) * x[i] * q[i];
        sqq += static_cast<double>(w[i]) * q[i] * q[i];
    }
    const float d = sqq > 0.0 ? static_cast<float>(sxq / sqq) : 1.0f / best_iscale;
    const std::uint16_t d16 = f32_to_f16(d);
    const float dh = f16_to_f32(d16);
    if (dh == 0.0f) return d16;
    // Re-round against the stored scale where that is closer in the weighted sense.
    double err_keep = 0.0, err_new = 0.0;
    int requant[kQk8_0];
    for (int i = 0; i < n; ++i) {
        requant[i] = std::clamp(nearest_int(x[i] / dh), qmin, qmax);
        const double a = x[i] - dh * q[i], b = x[i] - dh * requant[i];
        err_keep += w[i] * a * a;
        err_new += w[i] * b * b;
    }
    if (err_new < err_keep) std::copy(requant, requant + n, q);
    return d16;
}

// Per-value weights of a row for fit_weighted (llama.cpp's quantize_row_q4_0_impl).
void value_weights(const float* x, const float* importance, std::size_t n, float* w) {
    double sum_x2 = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum_x2 += static_cast<double>(x[i]) * x[i];
    const float sigma2 = static_cast<float>(sum_x2 / static_cast<double>(n));
    for (std::size_t i = 0; i < n; ++i) w[i] = importance[i] * std::sqrt(sigma2 + x[i] * x[i]);
}

}  // namespace

std::uint16_t fit_symmetric_block(const float* x, const float* w, int n, int qmin, int qmax, int* q) {
    // Candidate scales within about ±11 % of the plain one.
    const bool wide = qmax - qmin > 32;
    return fit_weighted(x, w, n, qmin, qmax, wide ? 1.0f : 0.1f, wide ? 12 : 9, q);
}

void quantize_row_q8_0_weighted(const float* x, const float* importance, BlockQ8_0* y, std::size_t n) {
    std::vector<float> w(n);
    value_weights(x, importance, n, w.data());
    int q[kQk8_0];
    for (std::size_t b = 0; b < n / kQk8_0; ++b) {
        y[b].d = fit_weighted(x + b * kQk8_0, w.data() + b * kQk8_0, kQk8_0, -127, 127, 1.0f, 12, q);
        for (int j = 0; j < kQk8_0; ++j) y[b].qs[j] = static_cast<std::int8_t>(q[j]);
    }
}

void quantize_row_q4_0_weighted(const float* x, const float* importance, BlockQ4_0* y, std::size_t n) {
    std::vector<float> w(n);
    value_weights(x, importance, n, w.data());
    int q[kQk4_0];
    for (std::size_t b = 0; b < n / kQk4_0; ++b) {
        y[b].d = fit_weighted(x + b * kQk4_0, w.data() + b * kQk4_0, kQk4_0, -8, 7, 0.1f, 9, q);
        for (int j = 0; j < kQk4_0 / 2; ++j) {
            y[b].qs[j] = static_cast<std::uint8_t>((q[j] + 8) | ((q[j + kQk4_0 / 2] + 8) << 4));
        }
    }
}

Status quantize_row_weighted(TensorType type, const float* x, const float* importance, std::size_t n,
                             std::uint8_t* dst) {
    if (importance == nullptr || (type != TensorType::kQ8_0 && type != TensorType::kQ4_0)) {
        return quantize_row(type, x, n, dst);
    }
    const TensorTypeTraits& t = tensor_type_traits(type);
    if (n % t.block_size != 0) {
        return Status::invalid_argument(fmt::format("{} values do not fill {} blocks of {}", n, t.name, t.block_size));
    }
    if (type == TensorType::kQ8_0) {
        quantize_row_q8_0_weighted(x, importance, reinterpret_cast<BlockQ8_0*>(dst), n);
    } else {
        quantize_row_q4_0_weighted(x, importance, reinterpret_cast<BlockQ4_0*>(dst), n);
    }
    return Status::ok();
}

void quantize_row_q8_0(const float* x, BlockQ8_0* y, std::size_t n) {
    for (std::size_t b = 0; b < n / kQk8_0; ++b, x += kQk8_0) {
        float amax = 0.0f;
        for (int j = 0; j < kQk8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = f32_to_f16(d);
        for (int j = 0; j < kQk8_0; ++j) y[b].qs[j] = static_cast<std::int8_t>(nearest_int(x[j] * id));
    }
}

void quantize_row_q4_0(const float* x, BlockQ4_0* y, std::size_t n) {
    for (std::size_t b = 0; b < n / kQk4_0; ++b, x += kQk4_0) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < kQk4_0; ++j) {
            if (std::fabs(x[j]) > amax) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = f32_to_f16(d);
        for (int j = 0; j < kQk4_0 / 2; ++j) {
            int lo = std::clamp(nearest_int(x[j] * id) + 8, 0, 15);
            int hi = std::clamp(nearest_int(x[j + kQk4_0 / 2] * id) + 8, 0, 15);
            y[b].qs[j] = static_cast<std::uint8_t>(lo | (hi << 4));
        }
    }
}

void quantize_row_q4_k(const float* x, BlockQ4K* y, std::size_t n) {
    for (std::size_t b = 0; b < n / kQkK; ++b, x += kQkK) {
        float scales[8], mins[8];
        float max_scale = 0.0f, max_min = 0.0f;
        for (int j = 0; j < 8; ++j) {
            scales[j] = fit_affine(x + 32 * j, 32, 15, &mins[j]);
            max_scale = std::max(max_scale, scales[j]);
            max_min = std::max(max_min, mins[j]);
        }
        const float d = max_scale / 63.0f;
        const float dmin = max_min / 63.0f;
        BlockQ4K& blk = y[b];
        blk.d = f32_to_f16(d);
        blk.dmin = f32_to_f16(dmin);
        const float d_h = f16_to_f32(blk.d), dmin_h = f16_to_f32(blk.dmin);
        std::uint8_t ls[8], lm[8];
        for (int j = 0; j < 8; ++j) {
            ls[j] = static_cast<std::uint8_t>(d > 0 ? std::clamp(nearest_int(scales[j] / d), 0, 63) : 0);
            lm[j] = static_cast<std::uint8_t>(dmin > 0 ? std::clamp(nearest_int(mins[j] / dmin), 0, 63) : 0);
        }
        std::memset(blk.scales, 0, sizeof blk.scales);
        for (int j = 0; j < 8; ++j) {
            if (j < 4) {
                blk.scales[j] = ls[j];
                blk.scales[j + 4] = lm[j];
            } else {
                blk.scales[j + 4] = static_cast<std::uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                blk.scales[j - 4] |= static_cast<std::uint8_t>((ls[j] >> 4) << 6);
                blk.scales[j] |= static_cast<std::uint8_t>((lm[j] >> 4) << 6);
            }
        }
        std::uint8_t q[kQkK];
        for (int j = 0; j < 8; ++j) {
            std::uint8_t sc = 0, m = 0;
            q4_k_scale_min(j, blk.scales, &sc, &m);
            const float step = d_h * sc;
            const float offset = dmin_h * m;
            for (int i = 0; i < 32; ++i) {
                int v = step > 0 ? nearest_int((x[32 * j + i] + offset) / step) : 0;
                q[32 * j + i] = static_cast<std::uint8_t>(std::clamp(v, 0, 15));
            }
        }
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                blk.qs[32 * c + l] = static_cast<std::uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
            }
        }
    }
}

void quantize_row_q6_k(const float* x, BlockQ6K* y, std::size_t n) {
    for (std::size_t b = 0; b < n / kQkK; ++b, x += kQkK) {
        float scales[16];
        float max_scale = 0.0f, amax_scale = 0.0f;
        for (int j = 0; j < 16; ++j) {
            float amax = 0.0f, max = 0.0f;
            for (int i = 0; i < 16; ++i) {
                float v = x[16 * j + i];
                if (std::fabs(v) > amax) {
                    amax = std::fabs(v);
                    max = v;
                }
            }
            scales[j] = max / -32.0f;  // the extreme value maps to q − 32 = −32
            if (std::fabs(scales[j]) > amax_scale) {
                amax_scale = std::fabs(scales[j]);
                max_scale = scales[j];
            }
        }
        BlockQ6K& blk = y[b];
        std::uint8_t q[kQkK];
        if (amax_scale == 0.0f) {
            std::memset(&blk, 0, sizeof blk);
            std::memset(q, 32, sizeof q);
        } else {
            const float iscale = -128.0f / max_scale;
            blk.d = f32_to_f16(1.0f / iscale);
            const float d_h = f16_to_f32(blk.d);
            for (int j = 0; j < 16; ++j) {
                blk.scales[j] = static_cast<std::int8_t>(std::min(127, nearest_int(iscale * scales[j])));
                const float step = d_h * blk.scales[j];
                for (int i = 0; i < 16; ++i) {
                    int v = step != 0.0f ? nearest_int(x[16 * j + i] / step) : 0;
                    q[16 * j + i] = static_cast<std::uint8_t>(std::clamp(v, -32, 31) + 32);
                }
            }
        }
        for (int h = 0; h < 2; ++h) {
            std::uint8_t* ql = blk.ql + 64 * h;
            std::uint8_t* qh = blk.qh + 32 * h;
            const std::uint8_t* l = q + 128 * h;
            for (int i = 0; i < 32; ++i) {
                ql[i] = static_cast<std::uint8_t>((l[i] & 0xF) | ((l[i + 64] & 0xF) << 4));
                ql[i + 32] = static_cast<std::uint8_t>((l[i + 32] & 0xF) | ((l[i + 96] & 0xF) << 4));
                qh[i] = static_cast<std::uint8_t>((l[i] >> 4) | ((l[i + 32] >> 4) << 2) | ((l[i + 64] >> 4) << 4) |
                                                  ((l[i + 96] >> 4) << 6));
            }
        }
    }
}

void quantize_row_q8_k(const float* x, BlockQ8K* y, std::size_t n) {
    for (std::size_t b = 0; b < n / kQkK; ++b, x += kQkK) {
        float amax = 0.0f;
        for (int j = 0; j < kQkK; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[b].d = amax / 127.0f;
        for (int j = 0; j < kQkK; ++j) y[b].qs[j] = static_cast<std::int8_t>(nearest_int(x[j] * id));
        for (int g = 0; g < kQkK / 16; ++g) {
            int sum = 0;
            for (int i = 0; i < 16; ++i) sum += y[b].qs[16 * g + i];
            y[b].bsums[g] = static_cast<std::int16_t>(sum);
        }
    }
}

Status quantize_row(TensorType type, const float* x, std::size_t n, std::uint8_t* dst) {
    const TensorTypeTraits& t = tensor_type_traits(type);
    if (n % t.block_size != 0) {
        return Status::invalid_argument(fmt::format("{} values do not fill {} blocks of {}", n, t.name, t.block_size));
    }
    switch (type) {
        case TensorType::kF32:
            std::memcpy(dst, x, n * sizeof(float));
            return Status::ok();
        case TensorType::kF16:
            for (std::size_t i = 0; i < n; ++i) {
                std::uint16_t h = f32_to_f16(x[i]);
                std::memcpy(dst + 2 * i, &h, 2);
            }
            return Status::ok();
        case TensorType::kQ8_0:
            quantize_row_q8_0(x, reinterpret_cast<BlockQ8_0*>(dst), n);
            return Status::ok();
        case TensorType::kQ4_0:
            quantize_row_q4_0(x, reinterpret_cast<BlockQ4_0*>(dst), n);
            return Status::ok();
        case TensorType::kQ4_K:
            quantize_row_q4_k(x, reinterpret_cast<BlockQ4K*>(dst), n);
            return Status::ok();
        case TensorType::kQ6_K:
            quantize_row_q6_k(x, reinterpret_cast<BlockQ6K*>(dst), n);
            return Status::ok();
        default:
            return Status::not_supported(fmt::format("quantizing to {}", t.name));
    }
}

bool can_dequantize(TensorType type) {
    switch (type) {
        case TensorType::kF32:
        case TensorType::kF16:
        case TensorType::kBF16:
        case TensorType::kQ8_0:
        case TensorType::kQ4_0:
        case TensorType::kQ4_K:
        case TensorType::kQ6_K:
            return true;
        default:
            return false;
    }
}

void dequantize_row(TensorType type, const std::uint8_t* src, std::size_t n, float* y) {
    switch (type) {
        case TensorType::kF32:
            std::memcpy(y, src, n * sizeof(float));
            return;
        case TensorType::kF16:
        case TensorType::kBF16:
            for (std::size_t i = 0; i < n; ++i) {
                std::uint16_t h;
                std::memcpy(&h, src + 2 * i, 2);
                y[i] = type == TensorType::kF16 ? f16_to_f32(h) : bf16_to_f32(h);
            }
            return;
        case TensorType::kQ8_0: {
            const auto* b = reinterpret_cast<const BlockQ8_0*>(src);
            for (std::size_t i = 0; i < n / kQk8_0; ++i) {
                const float d = f16_to_f32(b[i].d);
                for (int j = 0; j < kQk8_0; ++j) y[i * kQk8_0 + j] = d * b[i].qs[j];
            }
            return;
        }
        case TensorType::kQ4_0: {
            const auto* b = reinterpret_cast<const BlockQ4_0*>(src);
            for (std::size_t i = 0; i < n / kQk4_0; ++i) {
                const float d = f16_to_f32(b[i].d);
                for (int j = 0; j < kQk4_0 / 2; ++j) {
                    y[i * kQk4_0 + j] = d * ((b[i].qs[j] & 0xF) - 8);
                    y[i * kQk4_0 + j + kQk4_0 / 2] = d * ((b[i].qs[j] >> 4) - 8);
                }
            }
            return;
        }
        case TensorType::kQ4_K: {
            const auto* b = reinterpret_cast<const BlockQ4K*>(src);
            for (std::size_t i = 0; i < n / kQkK; ++i) {
                const float d = f16_to_f32(b[i].d), dmin = f16_to_f32(b[i].dmin);
                float* out = y + i * kQkK;
                for (int c = 0; c < 4; ++c) {
                    std::uint8_t sc0, m0, sc1, m1;
                    q4_k_scale_min(2 * c, b[i].scales, &sc0, &m0);
                    q4_k_scale_min(2 * c + 1, b[i].scales, &sc1, &m1);
                    const std::uint8_t* q = b[i].qs + 32 * c;
                    for (int l = 0; l < 32; ++l) {
                        out[64 * c + l] = d * sc0 * (q[l] & 0xF) - dmin * m0;
                        out[64 * c + 32 + l] = d * sc1 * (q[l] >> 4) - dmin * m1;
                    }
                }
            }
            return;
        }
        case TensorType::kQ6_K: {
            const auto* b = reinterpret_cast<const BlockQ6K*>(src);
            for (std::size_t i = 0; i < n / kQkK; ++i) {
                const float d = f16_to_f32(b[i].d);
                float* out = y + i * kQkK;
                for (int h = 0; h < 2; ++h) {
                    const std::uint8_t* ql = b[i].ql + 64 * h;
                    const std::uint8_t* qh = b[i].qh + 32 * h;
                    const std::int8_t* sc = b[i].scales + 8 * h;
                    float* o = out + 128 * h;
                    for (int l = 0; l < 32; ++l) {
                        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                        o[l] = d * sc[l / 16] * q1;
                        o[l + 32] = d * sc[2 + l / 16] * q2;
                        o[l + 64] = d * sc[4 + l / 16] * q3;
                        o[l + 96] = d * sc[6 + l / 16] * q4;
                    }
                }
            }
            return;
        }
        default:
            return;
    }
}

}  // namespace kasten::llm
