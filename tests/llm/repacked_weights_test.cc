#include "llm/repacked_weights.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "llm/dot_kernels.h"
#include "llm/f16.h"
#include "llm/quantization.h"
#include "llm/weight_matrix.h"

namespace kasten::llm {
namespace {

// Raw blocks over the whole int8 range (Q8_0 weights may hold −128; activations are quantized to [−127, 127]).
struct RawMatrix {
    int rows = 0;
    std::size_t blocks = 0;
    std::vector<BlockQ8_0> q8;  // row r's block b at r · blocks + b
    std::vector<BlockQ4_0> q4;
};

RawMatrix raw_matrix(int rows, std::size_t blocks, std::mt19937& rng) {
    std::uniform_int_distribution<int> w8(-128, 127), nib(0, 255), scale(0x2000, 0x3c00);
    RawMatrix m;
    m.rows = rows;
    m.blocks = blocks;
    m.q8.resize(static_cast<std::size_t>(rows) * blocks);
    m.q4.resize(m.q8.size());
    for (std::size_t i = 0; i < m.q8.size(); ++i) {
        m.q8[i].d = static_cast<std::uint16_t>(scale(rng));
        m.q4[i].d = static_cast<std::uint16_t>(scale(rng));
        for (auto& q : m.q8[i].qs) q = static_cast<std::int8_t>(w8(rng));
        for (auto& q : m.q4[i].qs) q = static_cast<std::uint8_t>(nib(rng));
    }
    return m;
}

// Activation rows with the block scales and quant sums the repacked kernels read.
struct RawActivations {
    std::vector<BlockQ8_0> blocks;
    std::vector<float> scales;
    std::vector<std::int32_t> sums;
    Q8_0Rows rows(std::size_t n_blocks) const { return {blocks.data(), scales.data(), sums.data(), n_blocks}; }
};

RawActivations raw_activations(int n_tokens, std::size_t n_blocks, std::mt19937& rng) {
    std::uniform_int_distribution<int> a8(-127, 127), scale(0x2000, 0x3c00);
    RawActivations a;
    a.blocks.resize(static_cast<std::size_t>(n_tokens) * n_blocks);
    for (BlockQ8_0& b : a.blocks) {
        b.d = static_cast<std::uint16_t>(scale(rng));
        std::int32_t sum = 0;
        for (auto& q : b.qs) {
            q = static_cast<std::int8_t>(a8(rng));
            sum += q;
        }
        a.scales.push_back(f16_to_f32(b.d));
        a.sums.push_back(sum);
    }
    return a;
}

// Σ over blocks of |weight scale × activation scale| × the largest integer block sum: bounds float rounding.
double magnitude(const RawMatrix& m, const RawActivations& a, int row, int token, bool q8) {
    double s = 0;
    for (std::size_t b = 0; b < m.blocks; ++b) {
        const std::uint16_t wd = q8 ? m.q8[row * m.blocks + b].d : m.q4[row * m.blocks + b].d;
        s += std::fabs(f16_to_f32(wd) * a.scales[token * m.blocks + b]) * 128.0 * 128.0 * kQk8_0;
    }
    return s;
}

// The group kernels of every level the CPU runs, the scalar reference first.
std::vector<std::pair<KernelIsa, RepackedGroupFn>> kernels(TensorType type) {
    std::vector<std::pair<KernelIsa, RepackedGroupFn>> out = {
        {KernelIsa::kScalar, repacked_group_kernel(type, KernelIsa::kScalar)}};
    for (KernelIsa isa : {KernelIsa::kAvx2, KernelIsa::kAvx512Vnni, KernelIsa::kAvx512Amx}) {
        // (At kAvx2 only a CPU with AVX-VNNI has a group kernel of its own.)
        if (kernel_isa_supported(isa) && repacks_at(isa)) out.emplace_back(isa, repacked_group_kernel(type, isa));
    }
    return out;
}

// Every group kernel the CPU runs (the scalar reference always, so CI without AVX-512 still checks the layout)
// against the scalar dot product of the original rows, for 1–7 tokens at a time and odd block counts.
TEST(RepackedWeightsTest, GroupKernelsMatchScalarDotOnRawBlocks) {
    std::mt19937 rng(7);
    for (std::size_t blocks : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{18}, std::size_t{48}}) {
        const int rows = 3 * kRepackRows + 5;
        const RawMatrix m = raw_matrix(rows, blocks, rng);
        // 16 and more: whole AMX tiles, with and without a VNNI remainder.
        for (int n_tokens : {1, 2, 3, 4, 5, 7, 8, 13, 16, 35}) {
            const RawActivations a = raw_activations(n_tokens, blocks, rng);
            const std::size_t n = blocks * kQk8_0;
            for (TensorType type : {TensorType::kQ8_0, TensorType::kQ4_0}) {
                const bool q8 = type == TensorType::kQ8_0;
                const auto* data = q8 ? reinterpret_cast<const std::uint8_t*>(m.q8.data())
                                      : reinterpret_cast<const std::uint8_t*>(m.q4.data());
                const std::size_t stride = blocks * (q8 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0));
                const RepackedWeights packed = RepackedWeights::pack(type, data, stride, rows, static_cast<int>(n));
                ASSERT_EQ(packed.groups(), rows / kRepackRows);
                ASSERT_EQ(reinterpret_cast<std::uintptr_t>(packed.group(1)) % 64, 0u);
                for (const auto& [isa, fn] : kernels(type)) {
                    std::vector<float> y(static_cast<std::size_t>(n_tokens) * rows, -1.0f);
                    packed.multiply(fn, a.rows(blocks), n_tokens, y.data(), rows, 0, packed.groups());
                    for (int t = 0; t < n_tokens; ++t) {
                        for (int r = 0; r < packed.groups() * kRepackRows; ++r) {
                            const BlockQ8_0* x = a.blocks.data() + t * blocks;
                            const float ref = q8 ? scalar::dot_q8_0_q8_0(m.q8.data() + r * blocks, x, n)
                                                 : scalar::dot_q4_0_q8_0(m.q4.data() + r * blocks, x, n);
                            EXPECT_NEAR(y[t * rows + r], ref, 1e-6 * magnitude(m, a, r, t, q8))
                                << tensor_type_name(type) << " " << kernel_isa_name(isa) << " blocks=" << blocks
                                << " tokens=" << n_tokens << " t=" << t << " r=" << r;
                        }
                        // Rows of the partial group are not the repacked kernels' business: left untouched.
                        for (int r = packed.groups() * kRepackRows; r < rows; ++r) EXPECT_EQ(y[t * rows + r], -1.0f);
                    }
                }
            }
        }
    }
}

// WeightMatrix at every level the CPU runs, over row ranges that cut groups, against the scalar level.
TEST(RepackedWeightsTest, WeightMatrixMultiplyMatchesScalarLevelOverUnalignedRanges) {
    std::mt19937 rng(11);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (TensorType type : {TensorType::kQ8_0, TensorType::kQ4_0}) {
        for (int cols : {96, 576}) {
            const int rows = 4 * kRepackRows + 9;
            std::vector<float> w(static_cast<std::size_t>(rows) * cols);
            for (float& v : w) v = 0.05f * dist(rng);
            const std::size_t stride = row_bytes(type, static_cast<std::size_t>(cols));
            std::vector<std::uint8_t> bytes(stride * rows);
            for (int r = 0; r < rows; ++r) {
                ASSERT_TRUE(quantize_row(type, w.data() + static_cast<std::size_t>(r) * cols,
                                         static_cast<std::size_t>(cols), bytes.data() + r * stride)
                                .is_ok());
            }
            TensorView view;
            view.name = "w";
            view.type = type;
            view.dims = {static_cast<std::uint64_t>(cols), static_cast<std::uint64_t>(rows)};
            view.data = bytes.data();
            view.n_bytes = bytes.size();
            for (int n_tokens : {1, 3, 6, 21}) {
                std::vector<float> x(static_cast<std::size_t>(n_tokens) * cols);
                for (float& v : x) v = dist(rng);
                std::vector<float> ref;
                // Activations quantized once, by the scalar quantizer, so the levels differ only in summation order.
                ActivationBuffer act;
                act.prepare(x.data(), n_tokens, cols, 1u << static_cast<unsigned>(ActivationType::kQ8_0),
                            KernelIsa::kScalar);
                for (KernelIsa isa :
                     {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512Vnni, KernelIsa::kAvx512Amx}) {
                    if (!kernel_isa_supported(isa)) continue;
                    Result<WeightMatrix> m = WeightMatrix::from_tensor(view, isa);
                    ASSERT_TRUE(m.is_ok());
                    EXPECT_EQ(m->repacked(), repacks_at(isa));
                    std::vector<float> y(static_cast<std::size_t>(n_tokens) * rows, 0.0f);
                    const int cuts[] = {0, 5, 16, 37, 48, rows};
                    for (int i = 0; i + 1 < 6; ++i) m->multiply(act, n_tokens, y.data(), rows, cuts[i], cuts[i + 1]);
                    if (ref.empty()) {
                        ref = y;
                        continue;
                    }
                    for (std::size_t i = 0; i < y.size(); ++i) {
                        EXPECT_NEAR(y[i], ref[i], 1e-4 * (1.0 + std::fabs(ref[i])))
                            << tensor_type_name(type) << " " << kernel_isa_name(isa) << " cols=" << cols
                            << " tokens=" << n_tokens << " i=" << i;
                    }
                }
            }
        }
    }
}

}  // namespace
}  // namespace kasten::llm
