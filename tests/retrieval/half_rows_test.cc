// HalfRows: every kernel level agrees with the scalar reference, and the error bound holds for float dot products
// in any summation order, including on rows built to be hard for half precision.

#include "retrieval/half_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace kasten::retrieval {
namespace {

std::vector<float> normalised(std::vector<float> v) {
    double n = 0;
    for (float x : v) n += static_cast<double>(x) * x;
    if (n > 0) {
        for (float& x : v) x = static_cast<float>(x / std::sqrt(n));
    }
    return v;
}

std::vector<float> random_unit(std::mt19937& rng, int dim) {
    std::normal_distribution<float> normal;
    std::vector<float> v(static_cast<std::size_t>(dim));
    for (float& x : v) x = normal(rng);
    return normalised(std::move(v));
}

// Rows that stress half precision: one-hot, constant, one large component among subnormal-range ones, heavy
// tails, components just off half-precision rounding ties, zero.
std::vector<std::vector<float>> hard_rows(std::mt19937& rng, int dim) {
    const auto n = static_cast<std::size_t>(dim);
    std::vector<std::vector<float>> rows;
    std::vector<float> one_hot(n, 0.0f);
    one_hot[n / 2] = 1.0f;
    rows.push_back(one_hot);
    rows.push_back(normalised(std::vector<float>(n, 1.0f)));
    std::vector<float> spike(n, 3e-6f);
    spike[0] = -1.0f;
    rows.push_back(normalised(spike));
    std::cauchy_distribution<float> cauchy;
    std::vector<float> tails(n);
    for (float& x : tails) x = std::clamp(cauchy(rng), -1e6f, 1e6f);
    rows.push_back(normalised(tails));
    std::vector<float> ties(n);
    for (std::size_t j = 0; j < n; ++j) ties[j] = (1.0f + (2 * j + 1) * std::ldexp(1.0f, -11)) * (j % 2 ? 1 : -1);
    rows.push_back(normalised(ties));
    rows.push_back(std::vector<float>(n, 0.0f));
    return rows;
}

float dot_forward(const std::vector<float>& a, const std::vector<float>& b) {
    float s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

float dot_backward(const std::vector<float>& a, const std::vector<float>& b) {
    float s = 0;
    for (std::size_t i = a.size(); i-- > 0;) s += a[i] * b[i];
    return s;
}

float dot_pairwise(const float* a, const float* b, std::size_t n) {
    if (n == 1) return a[0] * b[0];
    const std::size_t h = n / 2;
    return dot_pairwise(a, b, h) + dot_pairwise(a + h, b + h, n - h);
}

std::vector<HalfRowsKernel> levels_here() {
    std::vector<HalfRowsKernel> out;
    for (HalfRowsKernel k : {HalfRowsKernel::kScalar, HalfRowsKernel::kAvx2, HalfRowsKernel::kAvx512}) {
        if (half_rows_kernel_supported(k)) out.push_back(k);
    }
    return out;
}

class HalfRowsTest : public ::testing::TestWithParam<int> {};

TEST_P(HalfRowsTest, EveryLevelAgreesWithTheScalarReferenceWithinTheBound) {
    const int dim = GetParam();
    std::mt19937 rng(static_cast<unsigned>(dim));
    HalfRows rows(dim);
    for (int i = 0; i < 700; ++i) rows.append(random_unit(rng, dim));
    for (const auto& row : hard_rows(rng, dim)) rows.append(row);
    ASSERT_FALSE(levels_here().empty());
    for (int trial = 0; trial < 5; ++trial) {
        const std::vector<float> q = trial == 0 ? hard_rows(rng, dim)[2] : random_unit(rng, dim);
        std::vector<float> want(rows.rows());
        rows.approx_dots_at(HalfRowsKernel::kScalar, q.data(), 0, rows.rows(), want.data());
        for (HalfRowsKernel level : levels_here()) {
            std::vector<float> got(rows.rows());
            rows.approx_dots_at(level, q.data(), 0, rows.rows(), got.data());
            // Different summation orders of the same products: within float rounding, far inside the bound.
            for (std::size_t r = 0; r < got.size(); ++r) {
                EXPECT_NEAR(got[r], want[r], 2e-6f * dim) << half_rows_kernel_name(level) << " row " << r;
            }
            // A later start and a partial block read the same rows.
            const std::size_t from = HalfRows::kBlockRows * 2;
            std::vector<float> part(HalfRows::kBlockRows + 5);
            rows.approx_dots_at(level, q.data(), from, part.size(), part.data());
            for (std::size_t r = 0; r < part.size(); ++r) EXPECT_EQ(part[r], got[r + from]);
        }
    }
}

TEST_P(HalfRowsTest, TheBoundHoldsForFloatDotsInAnyOrder) {
    const int dim = GetParam();
    std::mt19937 rng(static_cast<unsigned>(dim) + 100);
    HalfRows rows(dim);
    std::vector<std::vector<float>> originals;
    for (int i = 0; i < 300; ++i) originals.push_back(random_unit(rng, dim));
    for (auto& row : hard_rows(rng, dim)) originals.push_back(row);
    for (const auto& row : originals) rows.append(row);
    std::vector<std::vector<float>> queries = hard_rows(rng, dim);
    for (int i = 0; i < 20; ++i) queries.push_back(random_unit(rng, dim));
    queries.push_back(originals[7]);  // a query equal to a row: the score the ranking cares most about
    double widest = 0;
    for (const auto& qv : queries) {
        const std::vector<float>& q = qv;
        for (HalfRowsKernel level : levels_here()) {
            std::vector<float> approx(rows.rows());
            rows.approx_dots_at(level, q.data(), 0, rows.rows(), approx.data());
            for (std::size_t r = 0; r < originals.size(); ++r) {
                const float b = rows.bound(r);
                widest = std::max<double>(widest, b);
                for (float exact : {dot_forward(qv, originals[r]), dot_backward(qv, originals[r]),
                                    dot_pairwise(qv.data(), originals[r].data(), qv.size())}) {
                    EXPECT_LE(std::fabs(exact - approx[r]), b)
                        << "row " << r << " dim " << dim << " " << half_rows_kernel_name(level);
                }
            }
        }
    }
    // The bound is tight enough to be useful: half precision keeps about 11 bits of a unit vector.
    EXPECT_LT(widest, 1e-3);
}

TEST_P(HalfRowsTest, AssignAndSwapRemovalKeepRowsInStep) {
    const int dim = GetParam();
    std::mt19937 rng(static_cast<unsigned>(dim) + 200);
    HalfRows rows(dim);
    std::vector<std::vector<float>> originals;
    for (int i = 0; i < 50; ++i) {
        originals.push_back(random_unit(rng, dim));
        rows.append(originals.back());
    }
    originals[10] = random_unit(rng, dim);
    rows.assign(10, originals[10]);
    originals[4] = originals.back();
    originals.pop_back();
    rows.move_last_to(4);
    rows.move_last_to(rows.rows() - 1);  // removing the last row itself
    originals.pop_back();
    ASSERT_EQ(rows.rows(), originals.size());
    HalfRows fresh(dim);
    for (const auto& row : originals) fresh.append(row);
    const std::vector<float> q = random_unit(rng, dim);
    std::vector<float> a(originals.size()), b(originals.size());
    rows.approx_dots(q.data(), 0, originals.size(), a.data());
    fresh.approx_dots(q.data(), 0, originals.size(), b.data());
    EXPECT_EQ(a, b);
    for (std::size_t r = 0; r < originals.size(); ++r) EXPECT_EQ(rows.bound(r), fresh.bound(r));
}

INSTANTIATE_TEST_SUITE_P(Dims, HalfRowsTest, ::testing::Values(1, 8, 64, 100, 130, 512));

TEST(HalfRowsKernelTest, TheBestLevelIsOneTheCpuRuns) {
    EXPECT_TRUE(half_rows_kernel_supported(best_half_rows_kernel()));
}

}  // namespace
}  // namespace kasten::retrieval
