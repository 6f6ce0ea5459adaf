#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/result.h"
#include "llm/dot_kernels.h"
#include "llm/repacked_weights.h"
#include "llm/tensor_view.h"

namespace kasten::llm {

// Rows of float activations converted once into every format the weights about to read them need
// (F32 for F32/F16 weights, Q8_0 for Q8_0/Q4_0, Q8_K for Q4_K/Q6_K). Reused across steps to avoid allocation.
class ActivationBuffer {
  public:
    // Converts n_rows rows of n_cols floats (row stride n_cols) into `types` (a bitmask of 1 << ActivationType).
    void prepare(const float* x, int n_rows, int n_cols, unsigned types, KernelIsa isa);
    // Row r in format `type`. REQUIRES: `type` was prepared.
    const void* row(ActivationType type, int r) const {
        const Slot& s = slots_[static_cast<int>(type)];
        return s.data.data() + static_cast<std::size_t>(r) * s.row_bytes;
    }
    // The prepared Q8_0 rows with their block scales and quant sums (repacked kernels). REQUIRES: Q8_0 prepared.
    Q8_0Rows q8_0_rows() const {
        return {reinterpret_cast<const BlockQ8_0*>(slots_[static_cast<int>(ActivationType::kQ8_0)].data.data()),
                q8_0_scales_.data(), q8_0_sums_.data(), q8_0_blocks_};
    }

  private:
    struct Slot {
        std::vector<std::uint8_t> data;
        std::size_t row_bytes = 0;
    };
    Slot slots_[3];
    std::vector<float> q8_0_scales_;
    std::vector<std::int32_t> q8_0_sums_;
    std::size_t q8_0_blocks_ = 0;
};

// A 2-D weight tensor [cols (ne0), rows] viewed as `rows` rows of `cols` values, bound to its dot kernel.
// The rows are the model file's bytes (not owned); at the AVX-512 VNNI level, Q8_0 and Q4_0 matrices also hold a
// copy of their full 16-row groups repacked at load (llm/repacked_weights.h), which multiply() uses for those
// rows. Immutable; thread-safe.
class WeightMatrix {
  public:
    WeightMatrix() = default;
    // kNotSupported when the type has no kernel; kInvalidArgument for a tensor that is not 2-D.
    static Result<WeightMatrix> from_tensor(const TensorView& t, KernelIsa isa);

    int rows() const { return rows_; }
    int cols() const { return cols_; }
    TensorType type() const { return type_; }
    ActivationType activation() const { return kernel_.activation; }
    unsigned activation_mask() const { return 1u << static_cast<unsigned>(kernel_.activation); }
    std::size_t bytes() const { return row_stride_ * static_cast<std::size_t>(rows_); }
    const std::uint8_t* row_data(int r) const { return data_ + static_cast<std::size_t>(r) * row_stride_; }

    // y[t · y_stride + r] = row r · x_t for rows [row_begin, row_end) and tokens t in [0, n_tokens).
    void multiply(const ActivationBuffer& x, int n_tokens, float* y, int y_stride, int row_begin, int row_end) const;
    // Dequantizes row r into out[cols()] (embedding lookup).
    void row_to_float(int r, float* out) const;
    // Whether multiply() uses a repacked layout for (most of) the rows.
    bool repacked() const { return !repacked_.empty(); }
    // This matrix without its repacked copy (for a table that is only read by row_to_float()).
    WeightMatrix without_repacked() const {
        WeightMatrix m = *this;
        m.repacked_ = RepackedWeights();
        m.repacked_kernel_ = nullptr;
        return m;
    }

  private:
    // multiply() row by row from the file's bytes.
    void multiply_rows(const ActivationBuffer& x, int n_tokens, float* y, int y_stride, int row_begin,
                       int row_end) const;

    TensorType type_ = TensorType::kF32;
    int rows_ = 0;
    int cols_ = 0;
    const std::uint8_t* data_ = nullptr;
    std::size_t row_stride_ = 0;
    WeightKernel kernel_;
    RepackedWeights repacked_;
    RepackedGroupFn repacked_kernel_ = nullptr;
};

}  // namespace kasten::llm
