#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "llm/tensor_type.h"

namespace kasten::llm {

// What a conversion wrote.
struct ConversionReport {
    int tensors = 0;
    int quantized = 0;            // 2-D weights converted to the target type (the classifier to its own type, see
                                  // requantize_gguf()) or, when promoted, one step above it
    int promoted = 0;             // matrices the mixed-precision rule stored one step up (Q4_0 → Q8_0, Q8_0 → F16)
    int fell_back = 0;            // 2-D weights whose width does not fill the target's blocks: stored as F16
    int kept = 0;                 // 1-D tensors (norms, biases) and tensors already in their type, copied
    std::uint64_t bytes_in = 0;   // tensor data bytes read
    std::uint64_t bytes_out = 0;  // tensor data bytes written
    std::int64_t calibration_tokens = 0;  // tokens the calibration ran over; 0 when the conversion was plain
    double predicted_kl = 0.0;            // the mixed-precision rule's predicted mean KL (nats/token); 0 if unused
};

// How requantize_gguf() chooses the quantized values of Q8_0 / Q4_0 files. The defaults give the best quality
// measured (tests/llm/model_converter_test.cc, stories260K, top-1 agreement with F32 over 500 positions):
// Q8_0 99.0 % plain → 99.2 % (33.9 % of the F32 bytes instead of 31.1 %); Q4_0 89.2 % plain → 96.8 % (26.0 %
// instead of 22.4 %); calibrated pure Q4_0 gives 92.4 % on validation samples, llama.cpp's imatrix weighting
// alone none of the gain (88.5 %, plain 88.7 %).
struct RequantizeOptions {
    // Calibrate against the model's own activations. The source model is run (it must be one kasten can run:
    // llama or qwen2 with a tokenizer; otherwise the conversion is plain and logs why) over calibration tokens,
    // then:
    //  - when its activation second moments fit ImportanceMatrix::kDefaultMaxSecondMomentBytes (small
    //    models): every matrix is quantized by GPTQ in forward order against the inputs of the already
    //    quantized model, with the float model's outputs as target (quantize_sequentially()); F16 fallbacks
    //    and the classifier get the same correction;
    //  - otherwise: llama.cpp's imatrix weighting (per-column mean squared activations, quantize_row_weighted()).
    // The blocks are standard Q8_0 / Q4_0 either way (llama.cpp reads them). false: plain round-to-nearest.
    bool calibrate = true;
    // Calibration text (UTF-8), tokenized and cut into chunks of the model's context (at most 512 tokens).
    // Empty: the model's own generations, 4096 tokens sampled after default_calibration_prompts() (seeded,
    // so conversions are reproducible).
    std::string calibration_text;
    // Sensitivity-driven mixed precision (calibrated GPTQ path only; plan_mixed_precision()): the matrices whose
    // error costs the most output fidelity per byte are stored one step up — Q8_0 in a Q4_0 file, F16 in a Q8_0
    // file — until the predicted mean KL divergence from the source model over the calibration tokens is at
    // most the type's target (nats/token), as llama.cpp's k-quant mixes keep sensitive tensors at more bits.
    // The targets are the round values that met the bars (99 % / 95 % top-1 agreement) on validation
    // samples (not the test's). false: pure files (the classifier still Q8_0/Q6_K in 4-bit files), like
    // llama.cpp's --pure.
    bool mixed_precision = true;
    double max_kl_q4_0 = 0.01;
    double max_kl_q8_0 = 0.0003;
};

// Rewrites a GGUF model with its 2-D weight matrices (`*.weight` with 2 dims, token_embd and output included)
// in `type` (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K); norms and biases stay as they are; a matrix whose width is not a
// multiple of the type's block size is stored as F16 instead. In 4-bit files the classifier (output.weight, or
// a tied token_embd) is Q6_K, or Q8_0 when its width is not a multiple of 256, as llama.cpp does. Q8_0 and Q4_0
// are calibrated as `options` say. Metadata is copied, with general.file_type and general.quantization_version
// updated. kNotSupported for a target or source type the kernels lack, plus the reader's, writer's and (with a
// calibration text) the calibration's errors.
Result<ConversionReport> requantize_gguf(const std::string& in_path, const std::string& out_path, TensorType type,
                                         const RequantizeOptions& options = {});

// Converts a llama2.c checkpoint and its tokenizer.bin into a GGUF llama model in `type` (F32 keeps the
// weights bit for bit): llama.* hyper-parameters (context_length = the checkpoint's seq_len), the vocabulary as
// a SentencePiece "llama" tokenizer, and tensors under their GGUF names (output.weight only when untied).
Result<ConversionReport> convert_llama2c_to_gguf(const std::string& checkpoint_path, const std::string& tokenizer_path,
                                                 const std::string& out_path, TensorType type = TensorType::kF32);

}  // namespace kasten::llm
