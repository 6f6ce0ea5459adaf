#include "llm/dot_kernels.h"

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "llm/f16.h"
#include "llm/quantization.h"

namespace kasten::llm {
namespace {

std::vector<float> random_row(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    // A few outliers, as real weights and activations have.
    for (std::size_t i = 0; i < n; i += 97) v[i] *= 6.0f;
    return v;
}

std::vector<std::uint8_t> quantize(TensorType type, const std::vector<float>& x) {
    std::vector<std::uint8_t> out(row_bytes(type, x.size()));
    EXPECT_TRUE(quantize_row(type, x.data(), x.size(), out.data()).is_ok());
    return out;
}

std::vector<float> dequantize(TensorType type, const std::vector<std::uint8_t>& q, std::size_t n) {
    std::vector<float> out(n);
    dequantize_row(type, q.data(), n, out.data());
    return out;
}

double rms(const std::vector<float>& a) {
    double s = 0;
    for (float x : a) s += static_cast<double>(x) * x;
    return std::sqrt(s / a.size());
}

double rms_error(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (static_cast<double>(a[i]) - b[i]) * (a[i] - b[i]);
    return std::sqrt(s / a.size());
}

TEST(F16Test, RoundTripsAndRoundsToNearestEven) {
    for (std::uint32_t h = 0; h < 65536; ++h) {
        const auto bits = static_cast<std::uint16_t>(h);
        const float f = f16_to_f32(bits);
        if (std::isnan(f)) {
            EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(f))));
            continue;
        }
        ASSERT_EQ(f32_to_f16(f), bits) << h;
    }
    EXPECT_EQ(f16_to_f32(0x3C00), 1.0f);
    EXPECT_EQ(f16_to_f32(0xC000), -2.0f);
    EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
    EXPECT_EQ(f32_to_f16(1e6f), 0x7C00);                   // overflow → infinity
    EXPECT_EQ(f32_to_f16(1.0f + 1.0f / 2048.0f), 0x3C00);  // tie → even
    EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
}

// Round-trip error bounds per type, relative to the RMS of Gaussian data with outliers.
TEST(QuantizationTest, RoundTripErrorIsWithinTypeBounds) {
    const std::size_t n = 4096;
    const std::vector<float> x = random_row(n, 1);
    struct Bound {
        TensorType type;
        double max_relative_rms_error;
    };
    for (Bound b : {Bound{TensorType::kF16, 0.001}, Bound{TensorType::kQ8_0, 0.01}, Bound{TensorType::kQ6_K, 0.03},
                    Bound{TensorType::kQ4_K, 0.12}, Bound{TensorType::kQ4_0, 0.15}}) {
        std::vector<float> y = dequantize(b.type, quantize(b.type, x), n);
        double rel = rms_error(x, y) / rms(x);
        EXPECT_LT(rel, b.max_relative_rms_error) << tensor_type_name(b.type);
        EXPECT_GT(rel, 0.0) << tensor_type_name(b.type);
    }
    std::vector<float> same = dequantize(TensorType::kF32, quantize(TensorType::kF32, x), n);
    EXPECT_EQ(same, x);
}

TEST(QuantizationTest, ZeroRowsStayZero) {
    const std::vector<float> zeros(512, 0.0f);
    for (TensorType t : {TensorType::kQ8_0, TensorType::kQ4_0, TensorType::kQ4_K, TensorType::kQ6_K}) {
        EXPECT_EQ(dequantize(t, quantize(t, zeros), zeros.size()), zeros) << tensor_type_name(t);
    }
}

TEST(QuantizationTest, RejectsPartialBlocksAndUnknownTypes) {
    std::vector<float> x(48, 1.0f);
    std::vector<std::uint8_t> out(1024);
    EXPECT_EQ(quantize_row(TensorType::kQ8_0, x.data(), 48, out.data()).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(quantize_row(TensorType::kQ4_1, x.data(), 32, out.data()).code(), StatusCode::kNotSupported);
}

// Known block layouts, decoded by hand from the spec (REFERENCE.md §3.2).
TEST(QuantizationTest, DequantizesHandBuiltBlocks) {
    BlockQ4_0 q4{};
    q4.d = f32_to_f16(0.5f);
    q4.qs[0] = 0x1F;  // element 0 = 15 - 8, element 16 = 1 - 8
    std::vector<float> y(32);
    dequantize_row(TensorType::kQ4_0, reinterpret_cast<const std::uint8_t*>(&q4), 32, y.data());
    EXPECT_EQ(y[0], 3.5f);
    EXPECT_EQ(y[16], -3.5f);
    EXPECT_EQ(y[1], -4.0f);

    BlockQ4K k4{};
    k4.d = f32_to_f16(1.0f);
    k4.dmin = f32_to_f16(0.25f);
    k4.scales[0] = 2;        // sc0 = 2
    k4.scales[4] = 4;        // m0 = 4
    k4.scales[8] = 0x31;     // sub-block 4: sc low bits 1, m low bits 3
    k4.scales[0] |= 1 << 6;  // sc4 high bits 1 → sc4 = 1 | 16 = 17
    k4.qs[0] = 0x75;         // value 0 = 5 (sub-block 0), value 32 = 7 (sub-block 1)
    k4.qs[64] = 0x02;        // value 128 = 2 (sub-block 4)
    std::vector<float> z(256);
    dequantize_row(TensorType::kQ4_K, reinterpret_cast<const std::uint8_t*>(&k4), 256, z.data());
    EXPECT_EQ(z[0], 1.0f * 2 * 5 - 0.25f * 4);
    EXPECT_EQ(z[32], 0.0f * 7);  // sub-block 1 has scale 0 and min 0
    EXPECT_EQ(z[128], 1.0f * 17 * 2 - 0.25f * 3);

    BlockQ6K k6{};
    k6.d = f32_to_f16(0.5f);
    for (int i = 0; i < 16; ++i) k6.scales[i] = static_cast<std::int8_t>(i + 1);
    k6.ql[0] = 0x21;  // value 0 low 1, value 64 low 2
    k6.qh[0] = 0x1B;  // value 0 high 3 (→ 49), value 32 high 2 (→ 32), value 64 high 1 (→ 18)
    std::vector<float> w(256);
    dequantize_row(TensorType::kQ6_K, reinterpret_cast<const std::uint8_t*>(&k6), 256, w.data());
    EXPECT_EQ(w[0], 0.5f * 1 * (49 - 32));
    EXPECT_EQ(w[32], 0.5f * 3 * (32 - 32));
    EXPECT_EQ(w[64], 0.5f * 5 * (18 - 32));
    EXPECT_EQ(w[96], 0.5f * 7 * (0 - 32));
}

// Scale of the terms a dot product sums, for relative tolerances.
double abs_dot(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += std::fabs(static_cast<double>(a[i]) * b[i]);
    return s;
}

class DotKernelTest : public ::testing::TestWithParam<TensorType> {};

// avx2 vs scalar: same quantized inputs, results equal up to float summation order (1e-5 relative).
// Kernel vs float: dot of the dequantized row with the dequantized activations, the same math in doubles.
TEST_P(DotKernelTest, Avx2MatchesScalarAndDequantizedReference) {
    ASSERT_TRUE(avx2_supported()) << "the project targets x86-64-v3; AVX2 must be present";
    const TensorType type = GetParam();
    // Float types also at widths that are not a multiple of the vector width (e.g. an FFN of 172).
    std::vector<std::size_t> widths = {256, 512, 2816};
    if (type == TensorType::kF32 || type == TensorType::kF16) widths.insert(widths.end(), {1, 7, 64, 172, 1000});
    for (std::size_t n : widths) {
        for (std::uint32_t seed = 0; seed < 5; ++seed) {
            std::vector<float> w = random_row(n, 100 + seed, 0.05f);
            std::vector<float> x = random_row(n, 200 + seed, 2.0f);
            std::vector<std::uint8_t> wq = quantize(type, w);
            WeightKernel scalar_k = weight_kernel(type, KernelIsa::kScalar);
            WeightKernel avx2_k = weight_kernel(type, KernelIsa::kAvx2);
            ASSERT_NE(scalar_k.dot, nullptr);
            ASSERT_NE(avx2_k.dot, nullptr);
            ASSERT_EQ(scalar_k.activation, avx2_k.activation);
            std::vector<std::uint8_t> xq(activation_bytes(scalar_k.activation, n));
            activation_quantizer(scalar_k.activation, KernelIsa::kScalar)(x.data(), xq.data(), n);

            const float s = scalar_k.dot(wq.data(), xq.data(), n);
            const float v = avx2_k.dot(wq.data(), xq.data(), n);
            const double scale = abs_dot(w, x);
            EXPECT_NEAR(v, s, 1e-5 * scale) << tensor_type_name(type) << " n=" << n;

            // Reference: dequantized weights · dequantized activations, in double.
            std::vector<float> wd = dequantize(type, wq, n);
            std::vector<float> xd(n);
            switch (scalar_k.activation) {
                case ActivationType::kF32:
                    xd = x;
                    break;
                case ActivationType::kQ8_0:
                    dequantize_row(TensorType::kQ8_0, xq.data(), n, xd.data());
                    break;
                case ActivationType::kQ8_K: {
                    const auto* blocks = reinterpret_cast<const BlockQ8K*>(xq.data());
                    for (std::size_t i = 0; i < n; ++i) xd[i] = blocks[i / kQkK].d * blocks[i / kQkK].qs[i % kQkK];
                    break;
                }
            }
            double ref = 0;
            for (std::size_t i = 0; i < n; ++i) ref += static_cast<double>(wd[i]) * xd[i];
            EXPECT_NEAR(s, ref, 1e-5 * scale) << tensor_type_name(type) << " n=" << n;
            // And against the unquantized product: the quantization error itself stays small.
            double exact = 0;
            for (std::size_t i = 0; i < n; ++i) exact += static_cast<double>(w[i]) * x[i];
            EXPECT_NEAR(s, exact, 0.05 * scale) << tensor_type_name(type) << " n=" << n;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllWeightTypes, DotKernelTest,
                         ::testing::Values(TensorType::kF32, TensorType::kF16, TensorType::kQ8_0, TensorType::kQ4_0,
                                           TensorType::kQ4_K, TensorType::kQ6_K),
                         [](const ::testing::TestParamInfo<TensorType>& info) {
                             return std::string(tensor_type_name(info.param));
                         });

// Raw int8 blocks over the whole range (weights may hold −128; activations are quantized to [−127, 127]), so the
// integer paths of every level the CPU runs are checked against the scalar reference block by block.
TEST(DotKernelTest, EveryLevelTheCpuRunsMatchesScalarOnQ8_0AndQ4_0) {
    std::vector<KernelIsa> levels;
    for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512Vnni, KernelIsa::kAvx512Amx}) {
        if (kernel_isa_supported(isa)) levels.push_back(isa);
    }
    ASSERT_GE(levels.size(), 2u) << "the project targets x86-64-v3: scalar and avx2 at least";
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> w8(-128, 127), a8(-127, 127), nib(0, 255), scale(0x2000, 0x3c00);
    for (std::size_t blocks : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{18}, std::size_t{89}}) {
        const std::size_t n = blocks * kQk8_0;
        std::vector<BlockQ8_0> w(blocks), a(blocks);
        std::vector<BlockQ4_0> w4(blocks);
        double magnitude = 0;  // Σ |block scale × integer block sum| bounds the float rounding
        for (std::size_t b = 0; b < blocks; ++b) {
            w[b].d = static_cast<std::uint16_t>(scale(rng));
            a[b].d = static_cast<std::uint16_t>(scale(rng));
            w4[b].d = w[b].d;
            for (int i = 0; i < kQk8_0; ++i) {
                w[b].qs[i] = static_cast<std::int8_t>(w8(rng));
                a[b].qs[i] = static_cast<std::int8_t>(a8(rng));
            }
            for (int i = 0; i < kQk4_0 / 2; ++i) w4[b].qs[i] = static_cast<std::uint8_t>(nib(rng));
            magnitude += std::fabs(f16_to_f32(w[b].d) * f16_to_f32(a[b].d)) * 127.0 * 128.0 * kQk8_0;
        }
        const float ref8 = scalar::dot_q8_0_q8_0(w.data(), a.data(), n);
        const float ref4 = scalar::dot_q4_0_q8_0(w4.data(), a.data(), n);
        for (KernelIsa isa : levels) {
            const WeightKernel k8 = weight_kernel(TensorType::kQ8_0, isa);
            const WeightKernel k4 = weight_kernel(TensorType::kQ4_0, isa);
            // The AVX-512 level has its own single-token kernels; every level's batch kernel is checked too.
            const bool avx512 = isa == KernelIsa::kAvx512Vnni || isa == KernelIsa::kAvx512Amx;
            EXPECT_EQ(k8.dot_single != nullptr, avx512);
            EXPECT_EQ(k4.dot_single != nullptr, avx512);
            for (DotFn dot8 : {k8.dot, k8.dot_single}) {
                if (dot8 == nullptr) continue;
                EXPECT_NEAR(dot8(w.data(), a.data(), n), ref8, 1e-6 * magnitude)
                    << kernel_isa_name(isa) << " Q8_0 blocks=" << blocks;
            }
            for (DotFn dot4 : {k4.dot, k4.dot_single}) {
                if (dot4 == nullptr) continue;
                EXPECT_NEAR(dot4(w4.data(), a.data(), n), ref4, 1e-6 * magnitude)
                    << kernel_isa_name(isa) << " Q4_0 blocks=" << blocks;
            }
        }
    }
}

TEST(DotKernelTest, LevelsAreDetectedAndNamed) {
    EXPECT_TRUE(kernel_isa_supported(KernelIsa::kScalar));
    EXPECT_TRUE(kernel_isa_supported(best_kernel_isa()));
    if (avx512_vnni_supported()) {
        EXPECT_TRUE(avx2_supported());
    }
    if (amx_int8_supported()) {
        EXPECT_TRUE(avx512_vnni_supported());
        if (std::getenv("KASTEN_KERNEL_ISA") == nullptr) EXPECT_EQ(best_kernel_isa(), KernelIsa::kAvx512Vnni);
    }
    for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512Vnni, KernelIsa::kAvx512Amx}) {
        KernelIsa parsed = KernelIsa::kScalar;
        ASSERT_TRUE(parse_kernel_isa(kernel_isa_name(isa), &parsed));
        EXPECT_EQ(parsed, isa);
        // Every level has a kernel for every compute type (the AVX-512 level falls back to AVX2 where it has none).
        for (TensorType t : {TensorType::kF32, TensorType::kF16, TensorType::kQ8_0, TensorType::kQ4_0,
                             TensorType::kQ4_K, TensorType::kQ6_K}) {
            EXPECT_NE(weight_kernel(t, isa).dot, nullptr) << kernel_isa_name(isa) << " " << tensor_type_name(t);
        }
    }
    KernelIsa parsed = KernelIsa::kScalar;
    EXPECT_FALSE(parse_kernel_isa("avx1024", &parsed));
}

TEST(DotKernelTest, Avx2ActivationQuantizersMatchScalar) {
    ASSERT_TRUE(avx2_supported());
    const std::size_t n = 1024;
    std::vector<float> x = random_row(n, 7, 3.0f);
    std::vector<BlockQ8_0> a(n / kQk8_0), b(n / kQk8_0);
    quantize_row_q8_0(x.data(), a.data(), n);
    avx2::quantize_row_q8_0(x.data(), b.data(), n);
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].d, b[i].d);
        for (int j = 0; j < kQk8_0; ++j) EXPECT_NEAR(a[i].qs[j], b[i].qs[j], 1);
    }
    std::vector<BlockQ8K> c(n / kQkK), d(n / kQkK);
    quantize_row_q8_k(x.data(), c.data(), n);
    avx2::quantize_row_q8_k(x.data(), d.data(), n);
    for (std::size_t i = 0; i < c.size(); ++i) {
        EXPECT_EQ(c[i].d, d[i].d);
        for (int j = 0; j < kQkK; ++j) EXPECT_NEAR(c[i].qs[j], d[i].qs[j], 1);
        for (int g = 0; g < kQkK / 16; ++g) {
            int sum = 0;
            for (int j = 0; j < 16; ++j) sum += d[i].qs[16 * g + j];
            EXPECT_EQ(d[i].bsums[g], sum);
        }
    }
}

TEST(DotKernelTest, FloatHelpersMatchScalar) {
    for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{100}}) {
        std::vector<float> a = random_row(n, 11), b = random_row(n, 12);
        EXPECT_NEAR(avx2::dot_f32(a.data(), b.data(), n), scalar::dot_f32(a.data(), b.data(), n),
                    1e-5 * abs_dot(a, b) + 1e-6);
        std::vector<float> y1 = b, y2 = b;
        avx2::axpy_f32(0.5f, a.data(), y1.data(), n);
        scalar::axpy_f32(0.5f, a.data(), y2.data(), n);
        for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(y1[i], y2[i], 1e-6);
    }
}

TEST(DotKernelTest, ElementwiseHelpersMatchScalar) {
    ASSERT_TRUE(avx2_supported());
    for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{576}, std::size_t{1539}}) {
        std::vector<float> x = random_row(n, 31, 3.0f), w = random_row(n, 32);
        std::vector<float> a(n), b(n);
        avx2::rms_norm_f32(x.data(), w.data(), n, 1e-5f, a.data());
        scalar::rms_norm_f32(x.data(), w.data(), n, 1e-5f, b.data());
        for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(a[i], b[i], 1e-5f * (1.0f + std::fabs(b[i]))) << n << " " << i;

        std::vector<float> g1 = random_row(n, 33, 8.0f), u = random_row(n, 34);
        if (n > 3) g1[3] = -120.0f;  // e^(−g) beyond float range: silu → −0
        if (n > 5) g1[5] = 95.0f;
        std::vector<float> g2 = g1;
        avx2::silu_mul_f32(g1.data(), u.data(), n);
        scalar::silu_mul_f32(g2.data(), u.data(), n);
        for (std::size_t i = 0; i < n; ++i) {
            ASSERT_TRUE(std::isfinite(g1[i])) << i;
            EXPECT_NEAR(g1[i], g2[i], 1e-6f * (1.0f + std::fabs(g2[i]))) << n << " " << i;
        }

        std::vector<float> s1 = x, s2 = x;
        avx2::add_f32(s1.data(), w.data(), n);
        scalar::add_f32(s2.data(), w.data(), n);
        EXPECT_EQ(s1, s2);
    }
}

TEST(DotKernelTest, AttentionHelpersMatchScalar) {
    ASSERT_TRUE(avx2_supported());
    for (std::size_t dim : {std::size_t{8}, std::size_t{64}, std::size_t{128}, std::size_t{12}}) {
        for (std::size_t rows : {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{29}}) {
            std::vector<float> q = random_row(dim, 21), k = random_row(rows * dim, 22);
            std::vector<float> a(rows), b(rows);
            avx2::dot_rows_f32(q.data(), k.data(), rows, dim, 0.125f, a.data());
            scalar::dot_rows_f32(q.data(), k.data(), rows, dim, 0.125f, b.data());
            for (std::size_t c = 0; c < rows; ++c) EXPECT_NEAR(a[c], b[c], 1e-4) << dim << " " << rows << " " << c;

            std::vector<float> p = random_row(rows, 23), out1 = random_row(dim, 24), out2 = out1;
            avx2::accumulate_rows_f32(p.data(), k.data(), rows, dim, out1.data());
            scalar::accumulate_rows_f32(p.data(), k.data(), rows, dim, out2.data());
            for (std::size_t d = 0; d < dim; ++d) EXPECT_NEAR(out1[d], out2[d], 1e-4);
        }
    }
    std::vector<float> s1 = random_row(37, 25, 10.0f);
    s1[3] = -200.0f;  // underflows to 0
    std::vector<float> s2 = s1;
    const float m = 12.0f;
    const float sum1 = avx2::exp_shifted_f32(s1.data(), s1.size(), m);
    const float sum2 = scalar::exp_shifted_f32(s2.data(), s2.size(), m);
    EXPECT_NEAR(sum1, sum2, 1e-6 * sum2);
    for (std::size_t i = 0; i < s1.size(); ++i) EXPECT_NEAR(s1[i], s2[i], 2e-7 * s2[i] + 1e-30) << i;
}

}  // namespace
}  // namespace kasten::llm
