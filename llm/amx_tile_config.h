#pragma once

#include <cstdint>

namespace kasten::llm {

// The 64-byte operand of AMX `ldtilecfg` (palette 1): per tile, its rows and its bytes per row. Plain data: the
// kernels that fill it are compiled with their own target attributes.
struct alignas(64) AmxTileConfig {
    std::uint8_t palette = 1;
    std::uint8_t start_row = 0;
    std::uint8_t reserved[14] = {};
    std::uint16_t colsb[16] = {};
    std::uint8_t rows[16] = {};
};
static_assert(sizeof(AmxTileConfig) == 64);

}  // namespace kasten::llm
