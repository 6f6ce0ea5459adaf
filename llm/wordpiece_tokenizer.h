#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "llm/tokenizer.h"

namespace kasten::llm {

// WordPiece ("bert" vocabularies, e.g. bge, MiniLM), as Hugging Face's BertTokenizer does it:
//   normalisation: drop NUL, U+FFFD and control characters, map whitespace to spaces, put spaces around CJK
//   ideographs, NFD and drop non-spacing marks (accents), lower-case;
//   pre-tokenisation: split on whitespace, and every punctuation character (Unicode P* or ASCII punctuation)
//   is a word of its own;
//   model: greedy longest-match-first pieces per word; a word with no complete segmentation, or longer than 100
//   characters, becomes [UNK].
// Vocabularies in llama.cpp's "phantom space" form (word-initial pieces "▁word", continuations "ing") and in
// the original form ("word", "##ing") are both accepted. Lossy by design: decode gives the normal form.
class WordPieceTokenizer final : public Tokenizer {
  public:
    static constexpr std::size_t kMaxWordChars = 100;

    // Defaults for absent keys: [CLS] (cls id, else bos, else 101) before and [SEP] (sep id, else 102) after a
    // sequence with add_special; unk 100. kInvalidArgument / kCorruption for an unusable vocabulary.
    static Result<std::unique_ptr<WordPieceTokenizer>> create(VocabData data);

    TokenizerKind kind() const override { return TokenizerKind::kWordPiece; }

    // The words the model sees (after normalisation and pre-tokenisation).
    std::vector<std::string> words(std::string_view text) const;
    // The documented normal form: words(text) joined by single spaces. decode(encode(x)) == normal_form(x) when
    // every word of x is covered by the vocabulary (no [UNK]).
    std::string normal_form(std::string_view text) const;

  private:
    WordPieceTokenizer(VocabData data, std::vector<TokenId> prefix, std::vector<TokenId> suffix);

    void encode_fragment(std::string_view text, bool after_special, std::vector<TokenId>& out) const override;
    std::string normal_piece(TokenId id) const override;
    bool adds_leading_space() const override { return true; }

    void encode_word(const std::string& word, std::vector<TokenId>& out) const;

    bool phantom_space_;  // "▁word" / "ing" (llama.cpp GGUF) rather than "word" / "##ing"
    std::size_t max_token_bytes_ = 0;
};

}  // namespace kasten::llm
