#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "llm/llama_model.h"
#include "llm/tensor_type.h"
#include "llm/thread_pool.h"

namespace kasten::llm {

// A per-matrix type plan and what the measurement behind it predicts.
struct MixedPrecisionPlan {
    std::map<std::string, TensorType> types;
    std::vector<std::string> promoted;  // matrices moved from the low to the high type, most damaging per byte first
    double low_kl = 0.0;                // predicted mean KL (nats/token) with every candidate in the low type
    double predicted_kl = 0.0;          // the same for the plan
};

// Sensitivity-driven mixed precision (the measured counterpart of llama.cpp's k-quant mixes, which keep chosen
// tensors at more bits): every matrix planned in `low` (Q8_0 or Q4_0) is quantized alone (GPTQ against the
// calibration second moment; an untied token_embd plainly) into the otherwise unchanged model, and its damage
// measured as the mean KL divergence of the output distribution from the model's own over the calibration
// tokens (at most the first 1024). Damages add up closely (errors of different matrices are nearly
// independent), so matrices are moved to `high` in order of damage per extra byte until the sum left is at
// most `max_kl`. Cost: per candidate matrix, a forward pass over those tokens from the block that reads it.
//
// kNotSupported when the model is too large for the measurement (its second moments exceed
// ImportanceMatrix::kDefaultMaxSecondMomentBytes, or the reference log-probabilities and the residual streams
// kept before every block 256 MiB);
// kInvalidArgument for no calibration tokens or `low` other than Q8_0 / Q4_0.
Result<MixedPrecisionPlan> plan_mixed_precision(const LlamaModel& model, const std::map<std::string, TensorType>& plan,
                                                TensorType low, TensorType high, double max_kl,
                                                std::span<const std::vector<int>> sequences, ThreadPool* pool);

}  // namespace kasten::llm
