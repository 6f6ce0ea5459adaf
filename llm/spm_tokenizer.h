#pragma once

#include <array>
#include <memory>

#include "common/result.h"
#include "llm/tokenizer.h"

namespace kasten::llm {

// SentencePiece-style BPE ("llama" vocabularies: Llama 2, Mistral, Phi-3, TinyLlama, stories260K), as llama.cpp
// runs it: spaces become "▁" (U+2581), a "▁" is prepended at the start and after special tokens when
// add_space_prefix, then the adjacent pair whose concatenation is the highest-scoring token is merged repeatedly
// (ties: leftmost first; a priority queue over a linked list of symbols, O(n log n)). Pieces left that are not
// tokens fall back to one <0xXX> token per byte. Decoding turns "▁" back into spaces and byte tokens into bytes,
// so decode(encode(x)) == x, except that a literal "▁" in the input decodes as a space (as in SentencePiece).
class SpmTokenizer final : public Tokenizer {
  public:
    // Defaults for absent keys: bos 1, eos 2, unk 0, add_bos true, add_eos false, add_space_prefix true.
    // kInvalidArgument / kCorruption for an unusable vocabulary.
    static Result<std::unique_ptr<SpmTokenizer>> create(VocabData data);

    TokenizerKind kind() const override { return TokenizerKind::kSentencePiece; }
    bool add_space_prefix() const { return add_space_prefix_; }

  private:
    SpmTokenizer(VocabData data, std::vector<TokenId> prefix, std::vector<TokenId> suffix, bool add_space_prefix);

    void encode_fragment(std::string_view text, bool after_special, std::vector<TokenId>& out) const override;
    std::string normal_piece(TokenId id) const override;
    bool adds_leading_space() const override { return add_space_prefix_; }

    bool add_space_prefix_;
    // Token of each byte for the fallback: <0xXX>, else the one-byte token, else unk (kNoToken: dropped).
    std::array<TokenId, 256> byte_tokens_{};
};

}  // namespace kasten::llm
