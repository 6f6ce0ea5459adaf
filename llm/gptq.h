#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/status.h"
#include "llm/tensor_type.h"

namespace kasten::llm {

// GPTQ (Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained Transformers",
// 2022) into standard Q8_0 / Q4_0 blocks. The columns of each row are quantized in order; the rounding error of
// column i is spread over the columns after it through the inverse of H = E[x·xᵀ] (the input's second moment,
// ImportanceMatrix::second_moment()), so that the product W·x of inputs like the calibration ones changes as
// little as the format allows. Each block's scale is chosen when the block is reached: the importance-weighted
// fit of fit_symmetric_block() (weights H_jj) on its error-compensated values, then, among f16 scales within
// ±12 % of it, the one with the least GPTQ loss Σ ((w_i − d·q_i) / U_ii)² over the block. H is damped by 1 % of
// its mean diagonal (more when it is not positive definite) as in the paper.
//
// w: rows × cols floats, row-major. second_moment: cols × cols, symmetric. out: rows × row_bytes(type, cols).
// kInvalidArgument for another type, cols not a multiple of 32 or a second moment of the wrong size; kInternal
// when H cannot be factorised even after damping (not finite). Cost O(cols³ + rows · cols²). Thread-safe.
Status quantize_matrix_gptq(TensorType type, const float* w, std::size_t rows, std::size_t cols,
                            std::span<const float> second_moment, std::uint8_t* out);

// The asymmetric target of GPTQ run sequentially (GPTAQ, Li et al. 2025): once earlier matrices are quantized,
// a matrix sees inputs x̃ that differ from the float model's x. Rewrites w (rows × cols, row-major) into the
// weights W' that make W'·x̃ closest to the float output W·x over the calibration pairs, regularised toward W:
// W' = W·(C + λI)·(H̃ + λI)⁻¹ with C = E[x·x̃ᵀ] (`cross`, C_ij = E[x_i·x̃_j]), H̃ = E[x̃·x̃ᵀ] (`second_moment`)
// and λ = 1 % of H̃'s mean diagonal; x̃ = x leaves w unchanged. Quantizing W' with GPTQ against H̃ then minimises
// ‖W_q·x̃ − W·x‖² as well as GPTQ minimises ‖W_q·x̃ − W'·x̃‖². kInvalidArgument for sizes other than cols × cols;
// kInternal when H̃ cannot be factorised.
Status correct_for_quantized_inputs(float* w, std::size_t rows, std::size_t cols, std::span<const float> cross,
                                    std::span<const float> second_moment);

}  // namespace kasten::llm
