#include "llm/weight_matrix.h"

#include <algorithm>

#include <fmt/format.h>

#include "llm/f16.h"
#include "llm/quantization.h"

namespace kasten::llm {

void ActivationBuffer::prepare(const float* x, int n_rows, int n_cols, unsigned types, KernelIsa isa) {
    for (int t = 0; t < 3; ++t) {
        if ((types & (1u << t)) == 0) continue;
        const auto type = static_cast<ActivationType>(t);
        Slot& s = slots_[t];
        s.row_bytes = activation_bytes(type, static_cast<std::size_t>(n_cols));
        const std::size_t need = s.row_bytes * static_cast<std::size_t>(n_rows);
        if (s.data.size() < need) s.data.resize(need);
        QuantizeActivationFn quantize = activation_quantizer(type, isa);
        for (int r = 0; r < n_rows; ++r) {
            quantize(x + static_cast<std::size_t>(r) * n_cols, s.data.data() + r * s.row_bytes,
                     static_cast<std::size_t>(n_cols));
        }
        if (type == ActivationType::kQ8_0) {
            const std::size_t nb = static_cast<std::size_t>(n_cols) / kQk8_0 * static_cast<std::size_t>(n_rows);
            q8_0_blocks_ = static_cast<std::size_t>(n_cols) / kQk8_0;
            if (q8_0_scales_.size() < nb) {
                q8_0_scales_.resize(nb);
                q8_0_sums_.resize(nb);
            }
            const auto* blocks = reinterpret_cast<const BlockQ8_0*>(s.data.data());
            for (std::size_t b = 0; b < nb; ++b) {
                q8_0_scales_[b] = f16_to_f32(blocks[b].d);
                std::int32_t sum = 0;
                for (int i = 0; i < kQk8_0; ++i) sum += blocks[b].qs[i];
                q8_0_sums_[b] = sum;
            }
        }
    }
}

Result<WeightMatrix> WeightMatrix::from_tensor(const TensorView& t, KernelIsa isa) {
    if (t.dims.size() != 2) {
        return Status::invalid_argument(
            fmt::format("tensor '{}' has {} dims, a matrix needs 2", t.name, t.dims.size()));
    }
    WeightKernel kernel = weight_kernel(t.type, isa);
    if (kernel.dot == nullptr) {
        return Status::not_supported(fmt::format("tensor '{}' has type {}, which the decoder cannot compute with",
                                                 t.name, tensor_type_name(t.type)));
    }
    if (t.dims[0] % activation_block(kernel.activation) != 0) {
        return Status::invalid_argument(fmt::format("tensor '{}': width {} is not a multiple of {}", t.name, t.dims[0],
                                                    activation_block(kernel.activation)));
    }
    if (t.dims[0] > (1u << 24) || t.dims[1] > (1u << 24)) {
        return Status::invalid_argument(fmt::format("tensor '{}' is too large", t.name));
    }
    WeightMatrix m;
    m.type_ = t.type;
    m.cols_ = static_cast<int>(t.dims[0]);
    m.rows_ = static_cast<int>(t.dims[1]);
    m.data_ = t.data;
    m.row_stride_ = t.row_stride();
    m.kernel_ = kernel;
    if (repacks_at(isa) && RepackedWeights::supports(t.type) && m.rows_ >= kRepackRows) {
        m.repacked_ = RepackedWeights::pack(t.type, t.data, m.row_stride_, m.rows_, m.cols_);
        m.repacked_kernel_ = repacked_group_kernel(t.type, isa);
    }
    return m;
}

void WeightMatrix::multiply(const ActivationBuffer& x, int n_tokens, float* y, int y_stride, int row_begin,
                            int row_end) const {
    if (!repacked_.empty()) {
        // Whole groups inside the range from the repacked copy; rows of partial groups row by row below.
        const int g_begin = (row_begin + kRepackRows - 1) / kRepackRows;
        const int g_end = std::min(row_end / kRepackRows, repacked_.groups());
        if (g_begin < g_end) {
            repacked_.multiply(repacked_kernel_, x.q8_0_rows(), n_tokens, y, y_stride, g_begin, g_end);
            multiply_rows(x, n_tokens, y, y_stride, row_begin, g_begin * kRepackRows);
            multiply_rows(x, n_tokens, y, y_stride, g_end * kRepackRows, row_end);
            return;
        }
    }
    multiply_rows(x, n_tokens, y, y_stride, row_begin, row_end);
}

void WeightMatrix::multiply_rows(const ActivationBuffer& x, int n_tokens, float* y, int y_stride, int row_begin,
                                 int row_end) const {
    const ActivationType a = kernel_.activation;
    const auto n = static_cast<std::size_t>(cols_);
    if (n_tokens == 1 && kernel_.dot_single != nullptr) {
        const void* x0 = x.row(a, 0);
        for (int r = row_begin; r < row_end; ++r) y[r] = kernel_.dot_single(row_data(r), x0, n);
        return;
    }
    for (int r = row_begin; r < row_end; ++r) {
        const std::uint8_t* w = row_data(r);
        for (int t = 0; t < n_tokens; ++t)
            y[static_cast<std::size_t>(t) * y_stride + r] = kernel_.dot(w, x.row(a, t), n);
    }
}

void WeightMatrix::row_to_float(int r, float* out) const {
    dequantize_row(type_, row_data(r), static_cast<std::size_t>(cols_), out);
}

}  // namespace kasten::llm
