#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "llm/gguf_reader.h"
#include "llm/llama2c_checkpoint.h"
#include "llm/tokenizer.h"
#include "llm/vocab_data.h"

namespace kasten::llm {

// Reads the tokenizer keys of a GGUF file (REFERENCE.md §3.2): tokenizer.ggml.{model, pre, tokens, scores,
// token_type, merges, *_token_id, add_bos_token, add_eos_token, add_space_prefix} and tokenizer.chat_template.
// Ids of 4294967295 (and other out-of-range ids) count as absent. Both spellings of the separator key
// (`separator_token_id`, llama.cpp's `seperator_token_id`) are read.
// kNotFound when the file has no tokenizer.ggml.model or tokenizer.ggml.tokens; kCorruption when a key has the
// wrong type or the arrays disagree in length.
Result<VocabData> read_gguf_vocab(const GgufReader& gguf);

// A llama2.c tokenizer (tokenizer.bin, tok512.bin) in GGUF form: model "llama", "▁" for spaces, "<s>"/"</s>"
// for the BOS/EOS pieces llama2.c stores as "\n<s>\n"/"\n</s>\n", and token types inferred (id 0 unknown, ids 1
// and 2 control, "<0xXX>" bytes). With the same vocabulary this tokenizes exactly like the GGUF conversion.
VocabData vocab_from_llama2c(const Llama2cVocab& vocab);

// Builds the tokenizer the vocabulary's model names: "llama" → SpmTokenizer, "gpt2" → BpeTokenizer, "bert" →
// WordPieceTokenizer. kNotSupported for other models or pre-tokenizers; kInvalidArgument / kCorruption for an
// unusable vocabulary.
Result<std::unique_ptr<Tokenizer>> make_tokenizer(VocabData data);

// Opens a GGUF file and builds its tokenizer (read_gguf_vocab + make_tokenizer).
Result<std::unique_ptr<Tokenizer>> load_gguf_tokenizer(const std::string& path);

}  // namespace kasten::llm
