#pragma once

#include <cstdint>
#include <cstring>

namespace kasten::llm {

// IEEE-754 half <-> single conversions, portable and exact (round-to-nearest-even; NaN and infinity preserved).
// Written with float arithmetic (after M. Dukhan's FP16 library), so they need no F16C instructions.

inline float f32_from_bits(std::uint32_t w) {
    float f;
    std::memcpy(&f, &w, sizeof f);
    return f;
}

inline std::uint32_t f32_to_bits(float f) {
    std::uint32_t w;
    std::memcpy(&w, &f, sizeof w);
    return w;
}

inline float f16_to_f32(std::uint16_t h) {
    const std::uint32_t w = static_cast<std::uint32_t>(h) << 16;
    const std::uint32_t sign = w & 0x80000000u;
    const std::uint32_t two_w = w + w;
    const std::uint32_t exp_offset = 0xE0u << 23;
    const float normalized = f32_from_bits((two_w >> 4) + exp_offset) * 0x1.0p-112f;
    const float denormalized = f32_from_bits((two_w >> 17) | (126u << 23)) - 0.5f;
    const std::uint32_t denormalized_cutoff = 1u << 27;
    return f32_from_bits(sign | (two_w < denormalized_cutoff ? f32_to_bits(denormalized) : f32_to_bits(normalized)));
}

inline std::uint16_t f32_to_f16(float f) {
    float abs_f = f32_from_bits(f32_to_bits(f) & 0x7fffffffu);
    float base = (abs_f * 0x1.0p+112f) * 0x1.0p-110f;
    const std::uint32_t w = f32_to_bits(f);
    const std::uint32_t shl1_w = w + w;
    const std::uint32_t sign = w & 0x80000000u;
    std::uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = f32_from_bits((bias >> 1) + 0x07800000u) + base;
    const std::uint32_t bits = f32_to_bits(base);
    const std::uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    const std::uint32_t mantissa_bits = bits & 0x00000FFFu;
    const std::uint32_t nonsign = exp_bits + mantissa_bits;
    return static_cast<std::uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

// bfloat16 is the top half of a float32.
inline float bf16_to_f32(std::uint16_t h) {
    return f32_from_bits(static_cast<std::uint32_t>(h) << 16);
}

}  // namespace kasten::llm
