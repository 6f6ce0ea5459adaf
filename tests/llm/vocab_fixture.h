#pragma once

#include <memory>
#include <string>
#include <vector>

#include "llm/tokenizer.h"

namespace kasten::llm::testing {

// One test string of a committed llama.cpp vocabulary fixture and the token ids it must give (without BOS).
struct VocabCase {
    std::string text;
    std::vector<TokenId> ids;
};

// data/vocab/ggml-vocab-<name>.gguf.
std::string vocab_gguf_path(const std::string& name);

// The cases of data/vocab/ggml-vocab-<name>.gguf.inp / .out, in the format of llama.cpp's test-tokenizer-0:
// the .inp holds the strings, each followed by "\n__ggml_vocab_test__\n" (so a string's own last newline is
// part of it); line i of the .out holds the space-separated ids of string i. Fails the calling test (and
// returns nothing) when the files are missing or do not pair up.
std::vector<VocabCase> read_vocab_cases(const std::string& name);

// The tokenizer of data/vocab/ggml-vocab-<name>.gguf; fails the calling test when it cannot be built.
std::unique_ptr<Tokenizer> load_vocab_tokenizer(const std::string& name);

// Ten thousand words of mixed English prose, punctuation, digits and some non-ASCII text, for speed tests.
std::string ten_thousand_words();

}  // namespace kasten::llm::testing
