#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "llm/tensor_type.h"

namespace kasten::llm {

// A named, typed, read-only tensor whose bytes live elsewhere (a mapped model file or a buffer the owner keeps
// alive). dims are ggml-ordered: dims[0] (ne0) is the contiguous dimension, so a PyTorch (out, in) weight matrix
// is [in, out]: `rows()` = out rows of `cols()` = in values each.
struct TensorView {
    std::string name;
    TensorType type = TensorType::kF32;
    std::vector<std::uint64_t> dims;
    const std::uint8_t* data = nullptr;
    std::uint64_t n_bytes = 0;

    std::uint64_t n_elements() const {
        std::uint64_t n = 1;
        for (std::uint64_t d : dims) n *= d;
        return n;
    }
    std::uint64_t cols() const { return dims.empty() ? 0 : dims[0]; }
    // Product of every dimension after ne0.
    std::uint64_t rows() const { return cols() == 0 ? 0 : n_elements() / cols(); }
    std::size_t row_stride() const { return row_bytes(type, cols()); }
};

}  // namespace kasten::llm
