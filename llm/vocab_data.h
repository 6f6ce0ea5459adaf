#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kasten::llm {

using TokenId = std::int32_t;
inline constexpr TokenId kNoToken = -1;

// GGUF `tokenizer.ggml.token_type` values.
enum class TokenType : std::int32_t {
    kUndefined = 0,
    kNormal = 1,
    kUnknown = 2,
    kControl = 3,
    kUserDefined = 4,
    kUnused = 5,
    kByte = 6,
};

// Ids of the vocabulary's special tokens; kNoToken when the vocabulary has none.
struct SpecialTokenIds {
    TokenId bos = kNoToken;
    TokenId eos = kNoToken;
    TokenId eot = kNoToken;  // end of turn (<|eot_id|>, <|im_end|>...)
    TokenId eom = kNoToken;  // end of message (<|eom_id|>)
    TokenId unk = kNoToken;
    TokenId pad = kNoToken;
    TokenId sep = kNoToken;
    TokenId cls = kNoToken;
    TokenId mask = kNoToken;
};

// Everything a tokenizer is built from: the `tokenizer.*` keys of a GGUF file (REFERENCE.md §3.2), or a llama2.c
// tokenizer file converted to the same form. A plain value; validated by make_tokenizer().
struct VocabData {
    std::string model;  // tokenizer.ggml.model: "llama" (SentencePiece BPE), "gpt2" (byte-level BPE), "bert"
    std::string pre;    // tokenizer.ggml.pre (pre-tokenizer of "gpt2" vocabularies); empty when absent
    std::vector<std::string> tokens;
    std::vector<float> scores;              // empty (all 0) or one per token
    std::vector<std::int32_t> token_types;  // empty (all kNormal) or one TokenType value per token
    std::vector<std::string> merges;        // "gpt2" only: "left right", rank = index
    SpecialTokenIds special;                // absent ids take the model's defaults (llama: bos 1, eos 2, unk 0)
    std::optional<bool> add_bos;            // absent: the model's default (llama, bert, llama3 BPE: true)
    std::optional<bool> add_eos;            // absent: false
    std::optional<bool> add_space_prefix;   // absent: true for "llama", false otherwise
    std::string chat_template;              // tokenizer.chat_template (Jinja); empty when absent
};

}  // namespace kasten::llm
