#pragma once

#include <vector>

#include "llm/gguf_reader.h"

namespace kasten::llm::testing {

// A deliberately naive llama/qwen2 forward pass in double precision, written straight from the math
// (REFERENCE.md §3.2), to check LlamaContext against: no KV cache, no batching, no threads, no kernels.
// Reads float-convertible weights of a GGUF file. Returns logits [tokens.size()][n_vocab].
std::vector<std::vector<double>> reference_logits(const GgufReader& gguf, const std::vector<int>& tokens);

}  // namespace kasten::llm::testing
