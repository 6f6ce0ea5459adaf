#include "llm/word_tokenizer.h"

#include <cstdint>

namespace kasten::llm {
namespace {

enum class CharClass { kWord, kApostrophe, kSeparator };

struct Classified {
    CharClass cls;
    std::size_t length;  // bytes of the character (or of the lone byte for invalid/other UTF-8)
};

bool is_ascii_alnum(std::uint8_t b) {
    return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
}

std::uint8_t byte_at(std::string_view s, std::size_t i) {
    return static_cast<std::uint8_t>(s[i]);
}

Classified classify(std::string_view s, std::size_t i) {
    std::uint8_t b = byte_at(s, i);
    if (b < 0x80) {
        if (is_ascii_alnum(b)) return {CharClass::kWord, 1};
        if (b == '\'') return {CharClass::kApostrophe, 1};
        return {CharClass::kSeparator, 1};
    }
    std::size_t left = s.size() - i;
    if (b == 0xC2 && left >= 2) {
        std::uint8_t b1 = byte_at(s, i + 1);
        if (b1 >= 0x80 && b1 <= 0xBF) return {CharClass::kSeparator, 2};  // U+0080..U+00BF
    }
    if (b == 0xE2 && left >= 3) {
        std::uint8_t b1 = byte_at(s, i + 1);
        std::uint8_t b2 = byte_at(s, i + 2);
        if ((b1 == 0x80 || b1 == 0x81) && b2 >= 0x80 && b2 <= 0xBF) {  // U+2000..U+207F
            if (b1 == 0x80 && (b2 == 0x98 || b2 == 0x99)) return {CharClass::kApostrophe, 3};
            return {CharClass::kSeparator, 3};
        }
    }
    if (b == 0xE3 && left >= 3 && byte_at(s, i + 1) == 0x80) {
        std::uint8_t b2 = byte_at(s, i + 2);
        if (b2 >= 0x80 && b2 <= 0xBF) return {CharClass::kSeparator, 3};  // U+3000..U+303F
    }
    if (b == 0xEF && left >= 3 && byte_at(s, i + 1) == 0xBB && byte_at(s, i + 2) == 0xBF) {
        return {CharClass::kSeparator, 3};  // U+FEFF byte-order mark
    }
    return {CharClass::kWord, 1};
}

char to_lower_ascii(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_lower(std::string_view s, std::string_view lower) {
    if (s.size() != lower.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (to_lower_ascii(s[i]) != lower[i]) return false;
    }
    return true;
}

}  // namespace

bool WordTokenizer::next(std::string_view* word) {
    if (pending_not_) {
        pending_not_ = false;
        *word = "not";
        return true;
    }
    const std::size_t n = text_.size();
    while (pos_ < n) {
        Classified c = classify(text_, pos_);
        if (c.cls == CharClass::kWord) break;
        pos_ += c.length;
    }
    if (pos_ >= n) return false;

    buffer_.clear();
    while (pos_ < n) {
        Classified c = classify(text_, pos_);
        if (c.cls == CharClass::kWord) {
            buffer_.push_back(to_lower_ascii(text_[pos_]));
            pos_ += 1;
            continue;
        }
        if (c.cls != CharClass::kApostrophe) break;
        // An apostrophe: look for a clitic made of 1-2 ASCII letters that ends the word.
        std::size_t suffix_begin = pos_ + c.length;
        std::size_t suffix_end = suffix_begin;
        while (suffix_end < n && suffix_end - suffix_begin < 3 && classify(text_, suffix_end).cls == CharClass::kWord) {
            ++suffix_end;
        }
        bool ends_word = suffix_end >= n || classify(text_, suffix_end).cls != CharClass::kWord;
        std::string_view suffix = text_.substr(suffix_begin, suffix_end - suffix_begin);
        if (ends_word && equals_lower(suffix, "t") && buffer_.size() >= 2 && buffer_.back() == 'n') {
            buffer_.pop_back();
            if (buffer_ == "ca") {
                buffer_ = "can";
            } else if (buffer_ == "wo") {
                buffer_ = "will";
            } else if (buffer_ == "sha") {
                buffer_ = "shall";
            }
            pending_not_ = true;
            pos_ = suffix_end;
        } else if (ends_word &&
                   (equals_lower(suffix, "s") || equals_lower(suffix, "re") || equals_lower(suffix, "ve") ||
                    equals_lower(suffix, "ll") || equals_lower(suffix, "d") || equals_lower(suffix, "m"))) {
            pos_ = suffix_end;
        } else {
            pos_ += c.length;  // a separating apostrophe
        }
        break;
    }
    *word = buffer_;
    return true;
}

}  // namespace kasten::llm
