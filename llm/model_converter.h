#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "llm/tensor_type.h"

namespace kasten::llm {

// What a conversion wrote.
struct ConversionReport {
    int tensors = 0;
    int quantized = 0;            // 2-D weights stored in the target type
    int fell_back = 0;            // 2-D weights whose width does not fill the target's blocks: stored as F16
    int kept = 0;                 // 1-D tensors (norms, biases) and tensors already in the target type, copied
    std::uint64_t bytes_in = 0;   // tensor data bytes read
    std::uint64_t bytes_out = 0;  // tensor data bytes written
};

// Rewrites a GGUF model with its 2-D weight matrices (`*.weight` with 2 dims, token_embd and output included)
// in `type` (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K); norms and biases stay as they are; a matrix whose width is not a
// multiple of the type's block size is stored as F16 instead. Metadata is copied, with general.file_type and
// general.quantization_version updated. kNotSupported for a target or source type the kernels lack, plus the
// reader's and writer's errors.
Result<ConversionReport> requantize_gguf(const std::string& in_path, const std::string& out_path, TensorType type);

// Converts a llama2.c checkpoint and its tokenizer.bin into a GGUF llama model in `type` (F32 keeps the
// weights bit for bit): llama.* hyper-parameters (context_length = the checkpoint's seq_len), the vocabulary as
// a SentencePiece "llama" tokenizer, and tensors under their GGUF names (output.weight only when untied).
Result<ConversionReport> convert_llama2c_to_gguf(const std::string& checkpoint_path, const std::string& tokenizer_path,
                                                 const std::string& out_path, TensorType type = TensorType::kF32);

}  // namespace kasten::llm
