#include "retrieval/half_rows.h"

#include <immintrin.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>

#include "common/cpu_features.h"

// GCC 12's AVX-512 headers initialise their "undefined" pass-through vectors from themselves, which
// -Wuninitialized reports inside the intrinsics once inlined; the values are never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace kasten::retrieval {
namespace {

constexpr std::size_t kBlock = HalfRows::kBlockRows;  // one 512-bit register of float scores

// The smallest float >= x (x >= 0, finite).
float round_up_to_float(double x) {
    float f = static_cast<float>(x);
    if (static_cast<double>(f) < x) f = std::nextafter(f, std::numeric_limits<float>::infinity());
    return f;
}

__attribute__((target("f16c"))) std::uint16_t to_half(float x) {
    return _cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT);
}

__attribute__((target("f16c"))) float from_half(std::uint16_t h) {
    return _cvtsh_ss(h);
}

// Layout: rows in blocks of kBlock; block b holds, for each component j in turn, the kBlock halves of rows
// kBlock*b .. kBlock*b + kBlock-1 (lanes of rows past rows() are zero). A block's scores are then kBlock lanes of one
// accumulator, with no horizontal sums.
//
// Each kernel writes out[l] = the float dot product of `query` (dim floats) with lane l of the block, l < kBlock.

__attribute__((target("f16c"))) void block_scalar(const float* query, const std::uint16_t* block, std::size_t dim,
                                                  float* out) {
    for (std::size_t l = 0; l < kBlock; ++l) {
        float acc = 0;
        for (std::size_t j = 0; j < dim; ++j) acc += query[j] * _cvtsh_ss(block[j * kBlock + l]);
        out[l] = acc;
    }
}

__attribute__((target("avx2,fma,f16c"))) void block_avx2(const float* query, const std::uint16_t* block,
                                                         std::size_t dim, float* out) {
    // Two independent accumulator pairs (even / odd components) hide the FMA latency.
    __m256 lo0 = _mm256_setzero_ps(), hi0 = _mm256_setzero_ps();
    __m256 lo1 = _mm256_setzero_ps(), hi1 = _mm256_setzero_ps();
    std::size_t j = 0;
    for (; j + 1 < dim; j += 2) {
        const std::uint16_t* h = block + j * kBlock;
        const __m256 q0 = _mm256_broadcast_ss(query + j);
        const __m256 q1 = _mm256_broadcast_ss(query + j + 1);
        lo0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h))), q0, lo0);
        hi0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 8))), q0, hi0);
        lo1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 16))), q1, lo1);
        hi1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 24))), q1, hi1);
    }
    if (j < dim) {
        const std::uint16_t* h = block + j * kBlock;
        const __m256 q0 = _mm256_broadcast_ss(query + j);
        lo0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h))), q0, lo0);
        hi0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 8))), q0, hi0);
    }
    _mm256_storeu_ps(out, _mm256_add_ps(lo0, lo1));
    _mm256_storeu_ps(out + 8, _mm256_add_ps(hi0, hi1));
}

__attribute__((target("avx512f,avx2,fma,f16c"))) void block_avx512(const float* query, const std::uint16_t* block,
                                                                   std::size_t dim, float* out) {
    // Four independent accumulators (components j mod 4) hide the FMA latency.
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    const auto* h = reinterpret_cast<const __m256i*>(block);  // one component's kBlock halves per __m256i
    std::size_t j = 0;
    for (; j + 3 < dim; j += 4) {
        a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(h + j)), _mm512_set1_ps(query[j]), a0);
        a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(h + j + 1)), _mm512_set1_ps(query[j + 1]), a1);
        a2 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(h + j + 2)), _mm512_set1_ps(query[j + 2]), a2);
        a3 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(h + j + 3)), _mm512_set1_ps(query[j + 3]), a3);
    }
    for (; j < dim; ++j) a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(h + j)), _mm512_set1_ps(query[j]), a0);
    _mm512_storeu_ps(out, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

HalfRowsKernel detect_kernel() {
    HalfRowsKernel best = HalfRowsKernel::kScalar;
    if (half_rows_kernel_supported(HalfRowsKernel::kAvx512)) {
        best = HalfRowsKernel::kAvx512;
    } else if (half_rows_kernel_supported(HalfRowsKernel::kAvx2)) {
        best = HalfRowsKernel::kAvx2;
    }
    if (const char* env = std::getenv("KASTEN_HALF_ROWS_KERNEL")) {
        const std::string_view want(env);
        if (want == "scalar") best = HalfRowsKernel::kScalar;
        if (want == "avx2" && best != HalfRowsKernel::kScalar) best = HalfRowsKernel::kAvx2;
    }
    return best;
}

}  // namespace

bool half_rows_kernel_supported(HalfRowsKernel kernel) {
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    switch (kernel) {
        case HalfRowsKernel::kScalar:
            return cpu_has_f16c();
        case HalfRowsKernel::kAvx2:
            return avx2;
        case HalfRowsKernel::kAvx512:
            return avx2 && __builtin_cpu_supports("avx512f");
    }
    return false;
}

HalfRowsKernel best_half_rows_kernel() {
    static const HalfRowsKernel kernel = detect_kernel();
    return kernel;
}

const char* half_rows_kernel_name(HalfRowsKernel kernel) {
    switch (kernel) {
        case HalfRowsKernel::kScalar:
            return "scalar";
        case HalfRowsKernel::kAvx2:
            return "avx2";
        case HalfRowsKernel::kAvx512:
            return "avx512";
    }
    return "?";
}

HalfRows::HalfRows(int dim)
    : dim_(dim),
      // A float dot product of n terms errs by at most gamma_n * sum|q_j x_j| (gamma_n ~ n * 2^-24, any order, with or
      // without FMA), and sum|q_j x_j| <= ||q|| ||x|| ~ 1: once for the exact score, once for a_r; doubled for slack.
      margin_(static_cast<float>(dim) * std::ldexp(1.0f, -22) + 1e-6f),
      kernel_(best_half_rows_kernel()) {
    assert(dim > 0);
}

void HalfRows::encode(std::span<const float> row, std::size_t r) {
    assert(row.size() == static_cast<std::size_t>(dim_));
    std::uint16_t* h = halves_.data() + (r / kBlock) * block_size() + r % kBlock;
    double err2 = 0;
    for (std::size_t j = 0; j < row.size(); ++j) {
        h[j * kBlock] = to_half(row[j]);
        const double diff = static_cast<double>(row[j]) - static_cast<double>(from_half(h[j * kBlock]));
        err2 += diff * diff;
    }
    // |q.x - q.x'| <= ||q|| ||x - x'||, with ||q|| <= 1 + 1e-6.
    bounds_[r] = round_up_to_float(std::sqrt(err2) * (1 + 1e-6) + static_cast<double>(margin_));
}

void HalfRows::append(std::span<const float> row) {
    const std::size_t r = rows();
    if (r % kBlock == 0) halves_.resize(halves_.size() + block_size(), 0);
    bounds_.push_back(0);
    encode(row, r);
}

void HalfRows::assign(std::size_t r, std::span<const float> row) {
    assert(r < rows());
    encode(row, r);
}

void HalfRows::move_last_to(std::size_t r) {
    assert(r < rows());
    const std::size_t last = rows() - 1;
    if (r != last) {
        const std::uint16_t* from = halves_.data() + (last / kBlock) * block_size() + last % kBlock;
        std::uint16_t* to = halves_.data() + (r / kBlock) * block_size() + r % kBlock;
        for (std::size_t j = 0; j < static_cast<std::size_t>(dim_); ++j) to[j * kBlock] = from[j * kBlock];
        bounds_[r] = bounds_[last];
    }
    pop_back();
}

void HalfRows::pop_back() {
    assert(rows() > 0);
    const std::size_t last = rows() - 1;
    if (last % kBlock == 0) {
        halves_.resize(halves_.size() - block_size());
    } else {
        std::uint16_t* h = halves_.data() + (last / kBlock) * block_size() + last % kBlock;
        for (std::size_t j = 0; j < static_cast<std::size_t>(dim_); ++j) h[j * kBlock] = 0;
    }
    bounds_.pop_back();
}

void HalfRows::approx_dots(const float* query, std::size_t start, std::size_t n, float* out) const {
    approx_dots_at(kernel_, query, start, n, out);
}

void HalfRows::approx_dots_at(HalfRowsKernel kernel, const float* query, std::size_t start, std::size_t n,
                              float* out) const {
    assert(start % kBlock == 0 && start + n <= rows());
    const auto dim = static_cast<std::size_t>(dim_);
    float lanes[kBlock];
    for (std::size_t done = 0; done < n; done += kBlock) {
        const std::uint16_t* block = halves_.data() + ((start + done) / kBlock) * block_size();
        const std::size_t m = std::min(kBlock, n - done);
        float* dst = m == kBlock ? out + done : lanes;
        switch (kernel) {
            case HalfRowsKernel::kAvx512:
                block_avx512(query, block, dim, dst);
                break;
            case HalfRowsKernel::kAvx2:
                block_avx2(query, block, dim, dst);
                break;
            case HalfRowsKernel::kScalar:
                block_scalar(query, block, dim, dst);
                break;
        }
        if (dst == lanes) std::copy(lanes, lanes + m, out + done);
    }
}

}  // namespace kasten::retrieval
