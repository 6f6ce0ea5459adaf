#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "llm/llama_model.h"
#include "llm/tensor_type.h"
#include "llm/thread_pool.h"
#include "llm/weight_matrix.h"

namespace kasten::llm {

// A matrix as the quantizer wrote it: rows of row_bytes(type, cols) bytes.
struct QuantizedMatrix {
    TensorType type = TensorType::kF32;
    std::vector<std::uint8_t> bytes;

    // The matrix as the decoder reads it; it points into `bytes` (moving the struct keeps the buffer).
    Result<WeightMatrix> view(const std::string& name, int rows, int cols, KernelIsa isa) const;
};

// Writes w (rows × cols floats, row-major) in `type`: Q8_0 / Q4_0 by GPTQ against `second_moment` when it is
// given (quantize_matrix_gptq()), otherwise row by row (quantize_row()).
Result<QuantizedMatrix> quantize_matrix(std::span<const float> w, std::size_t rows, std::size_t cols, TensorType type,
                                        std::span<const float> second_moment);

// The matrix rows of m as floats [rows × cols].
std::vector<float> matrix_to_float(const WeightMatrix& m);

// Quantizes a runnable model's weight matrices against calibration tokens, one input site at a time in forward
// order (GPTQ's sequential mode): the second moment of each site's input is measured on the model whose earlier
// matrices are already quantized (x̃), paired with the float model's input (x); each matrix reading it is first
// corrected toward the float output (correct_for_quantized_inputs(): errors of earlier layers are compensated,
// not compounded), then written in its planned type — Q8_0 / Q4_0 by GPTQ (quantize_matrix_gptq()), any other
// type (F16, Q6_K...) by quantize_row(). An untied token_embd has no input statistics and is quantized plainly,
// before everything else; a tied classifier is not corrected (it is the embedding table too).
//
// `plan` maps tensor names (2-D matrices of the model) to their target type; matrices not in it stay as they
// are and are not returned. Both models advance all sequences block by block (CalibrationForward::run_block):
// per block about one evaluation of the float model and three of the quantized one, plus O(cols³ + rows·cols²)
// per matrix; memory: the matrices of `plan`, both models' residual streams and one block's float inputs for
// every calibration token, and two cols² moments at a time.
// kInvalidArgument for an empty or out-of-vocabulary calibration, a plan naming an unknown tensor or a width
// its type's blocks do not fill; the errors of the quantizers.
Result<std::map<std::string, QuantizedMatrix>> quantize_sequentially(const LlamaModel& model,
                                                                     const std::map<std::string, TensorType>& plan,
                                                                     std::span<const std::vector<int>> sequences,
                                                                     ThreadPool* pool);

}  // namespace kasten::llm
