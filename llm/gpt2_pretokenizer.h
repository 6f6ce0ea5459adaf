#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kasten::llm {

// The regex pre-tokenizers of byte-level BPE vocabularies, as llama.cpp applies them for `tokenizer.ggml.pre`.
// Each is a sequence of patterns; every pattern splits the pieces left by the previous one into its matches and
// the unmatched text between them (both kept). Implemented by hand over the generated Unicode tables:
// \p{L} = letters, \p{N} = numbers, \p{P} = punctuation, \s = the White_Space property.
enum class PreTokenizerKind {
    // GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    kGpt2,
    // Llama 3 (`llama-bpe`, `llama3`): (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    //   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    kLlama3,
    // Qwen2: the Llama 3 pattern with \p{N} (one digit per piece) instead of \p{N}{1,3}.
    kQwen2,
    // StarCoder, SmolLM and relatives: \p{N} (isolate every digit), then the GPT-2 pattern.
    kDigitsThenGpt2,
    // llama.cpp's fallback when a vocabulary names no pre-tokenizer: [\p{P}\$\+<=>\^~\|]+, the GPT-2 pattern,
    // \p{N}+, [0-9][0-9][0-9].
    kDefault,
};

// Splits text into the pieces that byte-level BPE merges within. Immutable; thread-safe.
class Gpt2PreTokenizer {
  public:
    // Maps a `tokenizer.ggml.pre` value ("gpt-2", "llama-bpe", "qwen2", "smollm", "starcoder", "default", "" ...)
    // to its pattern. kNotSupported for names whose pattern is not implemented here.
    static Result<PreTokenizerKind> kind_from_name(std::string_view pre);
    static std::string_view kind_name(PreTokenizerKind kind);

    explicit Gpt2PreTokenizer(PreTokenizerKind kind) : kind_(kind) {}

    PreTokenizerKind kind() const { return kind_; }

    // The non-empty pieces of `text`, in order; they concatenate back to `text` byte for byte. Bytes that are not
    // well-formed UTF-8 count as one-byte punctuation-like characters, so nothing is lost. The views point into
    // `text`.
    std::vector<std::string_view> split(std::string_view text) const;

  private:
    PreTokenizerKind kind_;
};

}  // namespace kasten::llm
