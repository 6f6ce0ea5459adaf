#pragma once
// Helpers of the AVX2 kernel files (dot_kernels_avx2.cc, kv_kernels_avx2.cc). Each function carries the target
// attribute of those files (avx2, fma, f16c) and has internal linkage, so every includer compiles its own AVX2 copy
// and no copy can be merged by the linker into code that runs on CPUs without AVX2. Call only from code that runs
// when avx2_supported().
#include <immintrin.h>

#include <cstdint>

namespace kasten::llm::avx2 {

// Σ of the 8 lanes.
__attribute__((target("avx2,fma,f16c"))) static inline float hsum(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

// Eight f16 values from p (unaligned) as floats.
__attribute__((target("avx2,fma,f16c"))) static inline __m256 load_f16(const std::uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// One f16 value as a float.
__attribute__((target("avx2,fma,f16c"))) static inline float half_to_float(std::uint16_t h) {
    return _cvtsh_ss(h);
}

}  // namespace kasten::llm::avx2
