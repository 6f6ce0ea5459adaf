#include "llm/gptq.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "llm/f16.h"
#include "llm/quant_blocks.h"
#include "llm/quantization.h"

namespace kasten::llm {
namespace {

// In-place Cholesky factorisation a = L·Lᵀ of an n × n symmetric matrix (row-major; the lower triangle receives
// L, the upper is zeroed). False when a is not positive definite.
bool cholesky(std::vector<double>& a, std::size_t n) {
    for (std::size_t j = 0; j < n; ++j) {
        double d = a[j * n + j];
        for (std::size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0.0) || !std::isfinite(d)) return false;
        d = std::sqrt(d);
        a[j * n + j] = d;
        for (std::size_t i = j + 1; i < n; ++i) {
            double s = a[i * n + j];
            for (std::size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / d;
        }
        for (std::size_t k = j + 1; k < n; ++k) a[j * n + k] = 0.0;
    }
    return true;
}

// The upper Cholesky factor U of H⁻¹ (H⁻¹ = Uᵀ·U) for the damped second moment, or empty when H cannot be
// factorised.
std::vector<double> inverse_hessian_factor(std::span<const float> second_moment, std::size_t n) {
    double mean_diag = 0.0;
    for (std::size_t i = 0; i < n; ++i) mean_diag += second_moment[i * n + i];
    mean_diag /= static_cast<double>(n);
    if (!(mean_diag > 0.0)) mean_diag = 1.0;
    for (double damp = 0.01; damp <= 10.0; damp *= 10.0) {
        std::vector<double> l(n * n);
        for (std::size_t i = 0; i < n * n; ++i) l[i] = second_moment[i];
        for (std::size_t i = 0; i < n; ++i) {
            // A column whose input is always zero: any value is exact; keep H invertible.
            if (l[i * n + i] == 0.0) l[i * n + i] = mean_diag;
            l[i * n + i] += damp * mean_diag;
        }
        if (!cholesky(l, n)) continue;
        // L⁻¹ by forward substitution (lower triangular), then H⁻¹ = L⁻ᵀ·L⁻¹.
        std::vector<double> li(n * n, 0.0);
        for (std::size_t j = 0; j < n; ++j) {
            li[j * n + j] = 1.0 / l[j * n + j];
            for (std::size_t i = j + 1; i < n; ++i) {
                double s = 0.0;
                for (std::size_t k = j; k < i; ++k) s += l[i * n + k] * li[k * n + j];
                li[i * n + j] = -s / l[i * n + i];
            }
        }
        std::vector<double> hinv(n * n, 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j <= i; ++j) {
                double s = 0.0;
                for (std::size_t k = i; k < n; ++k) s += li[k * n + i] * li[k * n + j];
                hinv[i * n + j] = s;
                hinv[j * n + i] = s;
            }
        }
        if (!cholesky(hinv, n)) continue;
        // Transpose the lower factor into U.
        std::vector<double> u(n * n, 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j <= i; ++j) u[j * n + i] = hinv[i * n + j];
        }
        return u;
    }
    return {};
}

// GPTQ's loss of quantizing the block's columns in order with scale d: Σ_i ((w_i − d·q_i) / U_ii)², the rise of
// the layer-output error when the later columns are re-fitted optimally; updates within the block are simulated.
double block_loss(const double* w, const double* u, std::size_t cols, std::size_t c0, float d, int qmin, int qmax) {
    constexpr std::size_t kBlock = 32;
    double v[kBlock];
    std::copy(w, w + kBlock, v);
    double loss = 0.0;
    for (std::size_t j = 0; j < kBlock; ++j) {
        const std::size_t i = c0 + j;
        const int q = d != 0.0f ? std::clamp(static_cast<int>(std::lrint(v[j] / d)), qmin, qmax) : 0;
        const double err = (v[j] - static_cast<double>(d) * q) / u[i * cols + i];
        loss += err * err;
        const double* ui = &u[i * cols];
        for (std::size_t k = j + 1; k < kBlock; ++k) v[k] -= err * ui[c0 + k];
    }
    return loss;
}

// The f16 scale, among candidates within about ±12 % of `start`, with the least block_loss().
std::uint16_t search_block_scale(const double* w, const double* u, std::size_t cols, std::size_t c0,
                                 std::uint16_t start, int qmin, int qmax) {
    const float d0 = f16_to_f32(start);
    if (d0 == 0.0f) return start;
    std::uint16_t best = start;
    double best_loss = block_loss(w, u, cols, c0, d0, qmin, qmax);
    for (int k = -12; k <= 12; ++k) {
        if (k == 0) continue;
        const std::uint16_t cand = f32_to_f16(d0 * (1.0f + 0.01f * static_cast<float>(k)));
        const double loss = block_loss(w, u, cols, c0, f16_to_f32(cand), qmin, qmax);
        if (loss < best_loss) {
            best_loss = loss;
            best = cand;
        }
    }
    return best;
}

}  // namespace

Status quantize_matrix_gptq(TensorType type, const float* w, std::size_t rows, std::size_t cols,
                            std::span<const float> second_moment, std::uint8_t* out) {
    if (type != TensorType::kQ8_0 && type != TensorType::kQ4_0) {
        return Status::invalid_argument(fmt::format("GPTQ into {}", tensor_type_name(type)));
    }
    constexpr std::size_t kBlock = 32;
    static_assert(kQk8_0 == kBlock && kQk4_0 == kBlock);
    if (cols == 0 || cols % kBlock != 0) {
        return Status::invalid_argument(fmt::format("GPTQ needs a width that is a multiple of 32, got {}", cols));
    }
    if (second_moment.size() != cols * cols) {
        return Status::invalid_argument(
            fmt::format("second moment of {} values for a width of {}", second_moment.size(), cols));
    }
    const std::vector<double> u = inverse_hessian_factor(second_moment, cols);
    if (u.empty()) return Status::internal("GPTQ: the second moment cannot be factorised");
    const int qmin = type == TensorType::kQ4_0 ? -8 : -127;
    const int qmax = type == TensorType::kQ4_0 ? 7 : 127;
    std::vector<float> importance(cols);
    for (std::size_t j = 0; j < cols; ++j) importance[j] = std::max(second_moment[j * cols + j], 0.0f);
    const std::size_t out_stride = row_bytes(type, cols);

    std::vector<double> row(cols);
    std::vector<float> block(kBlock);
    int q[kBlock];
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t j = 0; j < cols; ++j) row[j] = w[r * cols + j];
        std::uint8_t* dst = out + r * out_stride;
        for (std::size_t b = 0; b < cols / kBlock; ++b) {
            const std::size_t c0 = b * kBlock;
            for (std::size_t j = 0; j < kBlock; ++j) block[j] = static_cast<float>(row[c0 + j]);
            // The importance-weighted fit of the block as it stands, then the scale near it with the least GPTQ loss.
            std::uint16_t d16 =
                fit_symmetric_block(block.data(), importance.data() + c0, static_cast<int>(kBlock), qmin, qmax, q);
            d16 = search_block_scale(row.data() + c0, u.data(), cols, c0, d16, qmin, qmax);
            const float d = f16_to_f32(d16);
            for (std::size_t j = 0; j < kBlock; ++j) {
                const std::size_t i = c0 + j;
                q[j] = d != 0.0f ? std::clamp(static_cast<int>(std::lrint(row[i] / d)), qmin, qmax) : 0;
                const double err = (row[i] - static_cast<double>(d) * q[j]) / u[i * cols + i];
                const double* ui = &u[i * cols];
                for (std::size_t k = i + 1; k < cols; ++k) row[k] -= err * ui[k];
            }
            if (type == TensorType::kQ8_0) {
                auto* blk = reinterpret_cast<BlockQ8_0*>(dst) + b;
                blk->d = d16;
                for (std::size_t j = 0; j < kBlock; ++j) blk->qs[j] = static_cast<std::int8_t>(q[j]);
            } else {
                auto* blk = reinterpret_cast<BlockQ4_0*>(dst) + b;
                blk->d = d16;
                for (std::size_t j = 0; j < kBlock / 2; ++j) {
                    blk->qs[j] = static_cast<std::uint8_t>((q[j] + 8) | ((q[j + kBlock / 2] + 8) << 4));
                }
            }
        }
    }
    return Status::ok();
}

Status correct_for_quantized_inputs(float* w, std::size_t rows, std::size_t cols, std::span<const float> cross,
                                    std::span<const float> second_moment) {
    const std::size_t n = cols;
    if (n == 0 || cross.size() != n * n || second_moment.size() != n * n) {
        return Status::invalid_argument(fmt::format("input moments of {} and {} values for a width of {}", cross.size(),
                                                    second_moment.size(), cols));
    }
    double mean_diag = 0.0;
    for (std::size_t i = 0; i < n; ++i) mean_diag += second_moment[i * n + i];
    mean_diag /= static_cast<double>(n);
    if (!(mean_diag > 0.0)) return Status::ok();  // no calibration signal: keep w
    const double lambda = 0.01 * mean_diag;
    std::vector<double> l(n * n);
    for (std::size_t i = 0; i < n * n; ++i) l[i] = second_moment[i];
    for (std::size_t i = 0; i < n; ++i) l[i * n + i] += lambda;
    if (!cholesky(l, n)) return Status::internal("the quantized inputs' second moment cannot be factorised");
    // M = (C + λI)·(H̃ + λI)⁻¹, solved one row at a time: (H̃ + λI)·m_iᵀ = (C + λI)_iᵀ (H̃ symmetric).
    std::vector<double> m(n * n);
    std::vector<double> y(n);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) y[j] = cross[i * n + j] + (i == j ? lambda : 0.0);
        for (std::size_t j = 0; j < n; ++j) {  // L·z = y
            double s = y[j];
            for (std::size_t k = 0; k < j; ++k) s -= l[j * n + k] * y[k];
            y[j] = s / l[j * n + j];
        }
        for (std::size_t j = n; j-- > 0;) {  // Lᵀ·m = z
            double s = y[j];
            for (std::size_t k = j + 1; k < n; ++k) s -= l[k * n + j] * y[k];
            y[j] = s / l[j * n + j];
        }
        std::copy(y.begin(), y.end(), m.begin() + static_cast<std::ptrdiff_t>(i * n));
    }
    std::vector<double> out(n);
    for (std::size_t r = 0; r < rows; ++r) {
        float* wr = w + r * n;
        std::fill(out.begin(), out.end(), 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            const double wi = wr[i];
            const double* mi = &m[i * n];
            for (std::size_t j = 0; j < n; ++j) out[j] += wi * mi[j];
        }
        for (std::size_t j = 0; j < n; ++j) wr[j] = static_cast<float>(out[j]);
    }
    return Status::ok();
}

}  // namespace kasten::llm
