#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "llm/model_config.h"

namespace kasten::llm {

// What `kasten model info FILE` prints: a model file's format, hyper-parameters, weight types and tokenizer.
struct ModelInfo {
    std::string path;
    std::string format;  // "GGUF v3", "llama2.c"
    ModelConfig config;
    bool tied_output = false;
    std::string weight_types;  // "Q8_0 ×169, F16 ×5"
    std::uint64_t weight_bytes = 0;
    std::uint64_t bytes_read_per_token = 0;
    int tensor_count = 0;
    std::string tokenizer;      // "llama (SentencePiece BPE), 32000 tokens, bos 1, eos 2"; empty when none
    std::string chat_template;  // detected format ("chatml", "llama3", "llama2") or "none"

    std::string to_text() const;
};

// Loads the model (and, for GGUF, its tokenizer) to describe it. The loader's errors on unusable files.
Result<ModelInfo> read_model_info(const std::string& path);

}  // namespace kasten::llm
