#include "llm/bf16_matrix.h"

#include <cpuid.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "common/cpu_features.h"
#include "llm/dot_kernels.h"

namespace kasten::llm {

bool avx512_bf16_supported() {
    // avx512_vnni_supported() covers AVX-512 F/BW/DQ/VL and the OS's zmm state; BF16 is leaf 7.1 EAX bit 5.
    static const bool supported = avx512_vnni_supported() && cpu_leaf7_sub1_eax_bit(5);
    return supported;
}

bool amx_bf16_supported() {
    static const bool supported = [] {
        if (!avx512_bf16_supported()) return false;
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
        if ((edx & (1u << 22)) == 0 || (edx & (1u << 24)) == 0) return false;  // AMX-BF16, AMX-TILE
        return request_amx_tile_state();
    }();
    return supported;
}

bool bf16_isa_supported(Bf16Isa isa) {
    switch (isa) {
        case Bf16Isa::kScalar:
            return true;
        case Bf16Isa::kAvx512:
            return avx512_bf16_supported();
        case Bf16Isa::kAmx:
            return amx_bf16_supported();
    }
    return false;
}

const char* bf16_isa_name(Bf16Isa isa) {
    switch (isa) {
        case Bf16Isa::kScalar:
            return "scalar";
        case Bf16Isa::kAvx512:
            return "avx512-bf16";
        case Bf16Isa::kAmx:
            return "amx-bf16";
    }
    return "scalar";
}

std::uint16_t float_to_bf16(float x) {
    std::uint32_t u;
    std::memcpy(&u, &x, sizeof u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return static_cast<std::uint16_t>(u >> 16);
}

float bf16_to_float(std::uint16_t h) {
    const std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
    float x;
    std::memcpy(&x, &u, sizeof x);
    return x;
}

Bf16Matrix::Bf16Matrix(const float* w, int k, int n) : k_(k), n_(n) {
    assert(k % 32 == 0 && n % 32 == 0);
    packed_.resize(static_cast<std::size_t>(k) * static_cast<std::size_t>(n));
    const int tiles = k / 32;
    for (int p = 0; p < n / 16; ++p) {
        for (int t = 0; t < tiles; ++t) {
            std::uint16_t* tile = packed_.data() + (static_cast<std::size_t>(p) * tiles + t) * 512;
            for (int r = 0; r < 16; ++r) {
                for (int j = 0; j < 16; ++j) {
                    for (int i = 0; i < 2; ++i) {
                        const std::size_t row = static_cast<std::size_t>(32 * t + 2 * r + i);
                        tile[r * 32 + 2 * j + i] = float_to_bf16(w[row * static_cast<std::size_t>(n) + 16 * p + j]);
                    }
                }
            }
        }
    }
}

std::uint16_t Bf16Matrix::at(int r, int c) const {
    const int t = r / 32, pair = (r % 32) / 2, i = r % 2, p = c / 16, j = c % 16;
    return packed_[((static_cast<std::size_t>(p) * (k_ / 32) + t) * 16 + pair) * 32 + 2 * j + i];
}

void Bf16Matrix::multiply(const float* x, int m, int ldx, float* y, int ldy, const float* bias, Bf16Output output,
                          Bf16Isa isa) const {
    if (m <= 0) return;
    const Bf16Product p{x, m, ldx, y, ldy, bias, output};
    switch (isa) {
        case Bf16Isa::kAmx:
            amx::bf16_multiply(*this, p);
            return;
        case Bf16Isa::kAvx512:
            avx512::bf16_multiply(*this, p);
            return;
        case Bf16Isa::kScalar:
            break;
    }
    scalar::bf16_multiply(*this, p);
}

namespace scalar {

void bf16_multiply(const Bf16Matrix& w, const Bf16Product& p) {
    const int k = w.rows(), n = w.cols();
    std::vector<float> xr(static_cast<std::size_t>(k));
    std::vector<float> acc(static_cast<std::size_t>(n));
    std::vector<float> wf(static_cast<std::size_t>(k) * static_cast<std::size_t>(n));
    for (int r = 0; r < k; ++r)
        for (int c = 0; c < n; ++c) wf[static_cast<std::size_t>(r) * n + c] = bf16_to_float(w.at(r, c));
    for (int i = 0; i < p.m; ++i) {
        const float* x = p.x + static_cast<std::ptrdiff_t>(i) * p.ldx;
        for (int c = 0; c < k; ++c) xr[static_cast<std::size_t>(c)] = bf16_to_float(float_to_bf16(x[c]));
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int r = 0; r < k; ++r) {
            const float a = xr[static_cast<std::size_t>(r)];
            const float* wr = wf.data() + static_cast<std::size_t>(r) * n;
            for (int c = 0; c < n; ++c) acc[static_cast<std::size_t>(c)] += a * wr[c];
        }
        float* y = p.y + static_cast<std::ptrdiff_t>(i) * p.ldy;
        for (int c = 0; c < n; ++c) {
            float v = acc[static_cast<std::size_t>(c)] + (p.bias != nullptr ? p.bias[c] : 0.0f);
            if (p.output == Bf16Output::kAdd) v += y[c];
            if (p.output == Bf16Output::kSetRelu && v < 0.0f) v = 0.0f;
            y[c] = v;
        }
    }
}

}  // namespace scalar

}  // namespace kasten::llm
