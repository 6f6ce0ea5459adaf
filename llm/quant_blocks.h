#pragma once

#include <cstdint>

namespace kasten::llm {

// On-disk block layouts of the quantized types the decoder computes with (ggml `ggml-common.h`; REFERENCE.md
// §3.2). `d` and `dmin` are IEEE halves stored as raw bits.

inline constexpr int kQk8_0 = 32;
inline constexpr int kQk4_0 = 32;
inline constexpr int kQkK = 256;  // super-block size of the k-quants

// x = d · q
struct BlockQ8_0 {
    std::uint16_t d;
    std::int8_t qs[kQk8_0];
};

// byte j holds element j (low nibble) and j + 16 (high nibble); x = d · (n − 8)
struct BlockQ4_0 {
    std::uint16_t d;
    std::uint8_t qs[kQk4_0 / 2];
};

// 8 sub-blocks of 32 with 6-bit scales and mins packed in 12 bytes; x = d · sc · q − dmin · m
struct BlockQ4K {
    std::uint16_t d;
    std::uint16_t dmin;
    std::uint8_t scales[12];
    std::uint8_t qs[kQkK / 2];
};

// 16 sub-blocks of 16 with int8 scales; 6-bit values split in low 4 bits (ql) and high 2 bits (qh);
// x = d · scale · (q − 32)
struct BlockQ6K {
    std::uint8_t ql[kQkK / 2];
    std::uint8_t qh[kQkK / 4];
    std::int8_t scales[kQkK / 16];
    std::uint16_t d;
};

// Activation side of the k-quant dot products (never stored in files): x = d · q; bsums[j] = Σ q[16j..16j+15].
struct BlockQ8K {
    float d;
    std::int8_t qs[kQkK];
    std::int16_t bsums[kQkK / 16];
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4K) == 144);
static_assert(sizeof(BlockQ6K) == 210);
static_assert(sizeof(BlockQ8K) == 292);

}  // namespace kasten::llm
