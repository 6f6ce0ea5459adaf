#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace kasten::retrieval {

// Instruction-set level of the half-precision dot-product kernel.
enum class HalfRowsKernel { kScalar, kAvx2, kAvx512 };

// The best level this CPU runs (detected once; KASTEN_HALF_ROWS_KERNEL=scalar|avx2 picks a lower one).
HalfRowsKernel best_half_rows_kernel();
// Whether this CPU runs `kernel`.
bool half_rows_kernel_supported(HalfRowsKernel kernel);
// "scalar" | "avx2" | "avx512".
const char* half_rows_kernel_name(HalfRowsKernel kernel);

// An IEEE half-precision copy of a row-major float matrix, for a first search pass that reads half the floats'
// bytes.
//
// Row r (dim floats x, the caller's L2-normalised vector) is stored rounded to half precision, x', with
// e_r >= ||x - x'||_2 (about 2^-12 for a unit vector). approx_dots gives a_r, the float dot
// product of the query with x'. For a query q with ||q||_2 <= 1 + 1e-6 and ||x||_2 <= 1 + 1e-6, the float dot
// product of q and x computed in any summation order lies within bound(r) of a_r, at every kernel level. Exact top-k
// search can therefore scan the halves, keep every row whose upper bound reaches the k-th best lower bound, and
// rescore only those rows from the floats.
//
// Rows are stored in blocks of kBlockRows, component-major inside a block, so that one pass computes a block's scores
// lane-parallel. Memory: 2 * dim + 4 bytes per row (and at most one partly used block). Not thread-safe by itself; the
// owner serialises writers against readers.
class HalfRows {
  public:
    // dim > 0 (programmer error otherwise).
    explicit HalfRows(int dim);

    int dim() const { return dim_; }
    // Rows per storage block; approx_dots starts at multiples of it.
    static constexpr std::size_t kBlockRows = 16;
    std::size_t rows() const { return bounds_.size(); }

    // Appends `row` (dim() finite floats).
    void append(std::span<const float> row);
    // Replaces row r (r < rows()).
    void assign(std::size_t r, std::span<const float> row);
    // Copies the last row into row r, then drops the last row (swap-with-last removal; r < rows()).
    void move_last_to(std::size_t r);
    void pop_back();

    // out[i] = a_{start+i} for i < n, with `query` dim() floats; start is a multiple of kBlockRows, start + n <=
    // rows().
    void approx_dots(const float* query, std::size_t start, std::size_t n, float* out) const;
    // The same at a given level, which the CPU must run (tests compare every level with kScalar).
    void approx_dots_at(HalfRowsKernel kernel, const float* query, std::size_t start, std::size_t n, float* out) const;
    // The half-width of the interval around a_r that holds the float dot product of the query with row r.
    float bound(std::size_t r) const { return bounds_[r]; }

  private:
    void encode(std::span<const float> row, std::size_t r);
    std::size_t block_size() const { return kBlockRows * static_cast<std::size_t>(dim_); }

    int dim_;
    float margin_;  // float rounding of the exact dot product and of a_r
    HalfRowsKernel kernel_;
    std::vector<std::uint16_t> halves_;  // ceil(rows() / kBlockRows) blocks of block_size()
    std::vector<float> bounds_;
};

}  // namespace kasten::retrieval
