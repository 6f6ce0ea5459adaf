#include "memory/word_tokenizer.h"

#include <algorithm>

namespace kasten::memory {
namespace {

bool is_ascii_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

// Length of the UTF-8 sequence starting with lead byte `c` (1 for stray continuation bytes).
std::size_t sequence_length(unsigned char c) {
    if (c >= 0xF0) return 4;
    if (c >= 0xE0) return 3;
    if (c >= 0xC0) return 2;
    return 1;
}

// Classification of the character at `i`: its byte length and whether it is a word character / an apostrophe.
struct CharInfo {
    std::size_t length = 1;
    bool word = false;
    bool apostrophe = false;
};

CharInfo classify(std::string_view text, std::size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    CharInfo info;
    if (c < 0x80) {
        info.word = is_ascii_alnum(c);
        info.apostrophe = c == '\'';
        return info;
    }
    info.length = std::min(sequence_length(c), text.size() - i);
    const auto c1 = info.length > 1 ? static_cast<unsigned char>(text[i + 1]) : 0;
    const auto c2 = info.length > 2 ? static_cast<unsigned char>(text[i + 2]) : 0;
    if (c == 0xE2 && c1 == 0x80) {  // U+2000..U+203F: spaces, dashes, quotes, bullets, ellipsis
        info.apostrophe = c2 == 0x99;
        return info;
    }
    if (c == 0xE2 && c1 == 0x81) return info;                  // U+2040..U+207F
    if (c == 0xC2) return info;                                // U+0080..U+00BF: nbsp, Latin-1 punctuation and symbols
    if (c == 0xC3 && (c1 == 0x97 || c1 == 0xB7)) return info;  // multiplication and division signs
    info.word = true;
    return info;
}

}  // namespace

std::vector<WordToken> WordTokenizer::tokenize(std::string_view text) {
    std::vector<WordToken> tokens;
    tokens.reserve(text.size() / 5 + 1);
    std::size_t i = 0;
    const std::size_t n = text.size();
    while (i < n) {
        const auto c0 = static_cast<unsigned char>(text[i]);
        if (c0 < 0x80 && !is_ascii_alnum(c0)) {  // fast path: ASCII separators
            ++i;
            continue;
        }
        CharInfo info = classify(text, i);
        if (!info.word) {
            i += info.length;
            continue;
        }
        WordToken& token = tokens.emplace_back();
        token.begin = i;
        bool only_digits = true;
        int letters = 0;
        int upper_letters = 0;
        bool first_letter_seen = false;
        while (i < n) {
            const auto c = static_cast<unsigned char>(text[i]);
            if (c < 0x80 && is_ascii_alnum(c)) {  // fast path: a run of ASCII letters and digits, appended at once
                std::size_t run_end = i + 1;
                while (run_end < n && is_ascii_alnum(static_cast<unsigned char>(text[run_end]))) ++run_end;
                const std::size_t from = token.lower.size();
                token.lower.append(text.substr(i, run_end - i));
                for (std::size_t p = from; p < token.lower.size(); ++p) {
                    const auto ch = static_cast<unsigned char>(token.lower[p]);
                    if (is_digit(ch)) {
                        token.has_digit = true;
                        continue;
                    }
                    only_digits = false;
                    ++letters;
                    const bool upper = ch <= 'Z';
                    if (upper) {
                        ++upper_letters;
                        token.lower[p] = static_cast<char>(ch + 32);
                    }
                    if (!first_letter_seen) token.capitalized = upper;
                    first_letter_seen = true;
                }
                i = run_end;
                continue;
            }
            info = classify(text, i);
            if (info.word) {  // a non-ASCII letter
                only_digits = false;
                ++letters;
                const auto c1 = info.length > 1 ? static_cast<unsigned char>(text[i + 1]) : 0;
                // Latin-1 upper-case letters U+00C0..U+00DE (except U+00D7): second byte 0x80..0x9E.
                const bool upper = c == 0xC3 && c1 >= 0x80 && c1 <= 0x9E;
                if (upper) ++upper_letters;
                if (!first_letter_seen) token.capitalized = upper;
                first_letter_seen = true;
                token.lower.push_back(static_cast<char>(c));
                if (info.length > 1) {
                    token.lower.push_back(static_cast<char>(upper ? c1 + 0x20 : c1));
                    token.lower.append(text.substr(i + 2, info.length - 2));
                }
                i += info.length;
                continue;
            }
            // Joiners: an apostrophe between word characters, '.' or ',' between digits.
            const std::size_t next = i + info.length;
            if (next < n && (info.apostrophe || c == '.' || c == ',')) {
                const CharInfo after = classify(text, next);
                if (after.word) {
                    if (info.apostrophe) {
                        token.lower.push_back('\'');
                        i = next;
                        continue;
                    }
                    const auto prev = static_cast<unsigned char>(text[i - 1]);
                    if (is_digit(prev) && is_digit(static_cast<unsigned char>(text[next]))) {
                        token.lower.push_back(static_cast<char>(c));
                        i = next;
                        continue;
                    }
                }
            }
            break;
        }
        token.end = i;
        token.numeric = only_digits;
        token.all_caps = letters >= 2 && upper_letters == letters;
    }
    return tokens;
}

}  // namespace kasten::memory
