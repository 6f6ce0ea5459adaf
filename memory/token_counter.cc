#include "memory/token_counter.h"

#include <algorithm>
#include <utility>

namespace kasten::memory {

int EstimatedTokenCounter::count(std::string_view text) const {
    if (text.empty()) return 0;
    const int by_bytes = static_cast<int>((text.size() + 3) / 4);
    int words = 0;
    bool in_word = false;
    for (unsigned char c : text) {
        const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
        if (alnum) {
            if (!in_word) ++words;
            in_word = true;
        } else {
            in_word = false;
            if (c != ' ' && c != '\n' && c != '\t' && c != '\r') ++words;  // punctuation is a token of its own
        }
    }
    return std::max(by_bytes, words);
}

TokenizerTokenCounter::TokenizerTokenCounter(std::shared_ptr<const llm::Tokenizer> tokenizer)
    : tokenizer_(std::move(tokenizer)) {}

int TokenizerTokenCounter::count(std::string_view text) const {
    if (text.empty()) return 0;
    return static_cast<int>(tokenizer_->encode(text).size());
}

std::string TokenizerTokenCounter::name() const {
    switch (tokenizer_->kind()) {
        case llm::TokenizerKind::kSentencePiece:
            return "tokenizer:llama";
        case llm::TokenizerKind::kBytePair:
            return "tokenizer:gpt2";
        case llm::TokenizerKind::kWordPiece:
            return "tokenizer:bert";
    }
    return "tokenizer";
}

}  // namespace kasten::memory
