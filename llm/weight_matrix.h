#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/result.h"
#include "llm/dot_kernels.h"
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

  private:
    struct Slot {
        std::vector<std::uint8_t> data;
        std::size_t row_bytes = 0;
    };
    Slot slots_[3];
};

// A 2-D weight tensor [cols (ne0), rows] viewed as `rows` rows of `cols` values, bound to its dot kernel.
// Non-owning: the bytes belong to the model file. Immutable; thread-safe.
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

  private:
    TensorType type_ = TensorType::kF32;
    int rows_ = 0;
    int cols_ = 0;
    const std::uint8_t* data_ = nullptr;
    std::size_t row_stride_ = 0;
    WeightKernel kernel_;
};

}  // namespace kasten::llm
