#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace kasten::llm {

// ggml tensor element types, with their on-disk ids (REFERENCE.md §3.2). Only the ids listed are known to the
// reader; the decoder computes with F32, F16, Q8_0, Q4_0, Q4_K and Q6_K (see is_compute_type()).
enum class TensorType : std::uint32_t {
    kF32 = 0,
    kF16 = 1,
    kQ4_0 = 2,
    kQ4_1 = 3,
    kQ5_0 = 6,
    kQ5_1 = 7,
    kQ8_0 = 8,
    kQ8_1 = 9,
    kQ2_K = 10,
    kQ3_K = 11,
    kQ4_K = 12,
    kQ5_K = 13,
    kQ6_K = 14,
    kQ8_K = 15,
    kI8 = 24,
    kI16 = 25,
    kI32 = 26,
    kI64 = 27,
    kF64 = 28,
    kBF16 = 30,
};

// Block geometry of a type: `block_size` consecutive values along ne0 are stored in `block_bytes` bytes.
struct TensorTypeTraits {
    std::string_view name;  // "F32", "Q4_K", ...
    std::size_t block_size = 1;
    std::size_t block_bytes = 0;
};

// Converts an on-disk id; kNotSupported for ids this reader does not know.
Result<TensorType> tensor_type_from_id(std::uint32_t id);
// Parses "f32", "Q8_0", "q4_k"... (case-insensitive); kInvalidArgument otherwise.
Result<TensorType> tensor_type_from_name(std::string_view name);

const TensorTypeTraits& tensor_type_traits(TensorType type);
inline std::string_view tensor_type_name(TensorType type) {
    return tensor_type_traits(type).name;
}

// True for the types the decoder's kernels handle as weights.
bool is_compute_type(TensorType type);

// Bytes of a row of `n` values. REQUIRES: n is a multiple of the type's block size.
inline std::size_t row_bytes(TensorType type, std::size_t n) {
    const TensorTypeTraits& t = tensor_type_traits(type);
    return n / t.block_size * t.block_bytes;
}

}  // namespace kasten::llm
