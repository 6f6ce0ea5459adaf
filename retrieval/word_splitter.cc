#include "retrieval/word_splitter.h"

#include <xapian.h>

#include <array>
#include <cstdint>

namespace kasten::retrieval {
namespace {

// "Join but do not keep" (an infix character that is dropped).
constexpr char32_t kDropped = 0xFFFFFFFFu;

constexpr std::array<bool, 128> make_ascii_word_table() {
    std::array<bool, 128> t{};
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
    t['_'] = true;
    return t;
}
constexpr std::array<bool, 128> kAsciiWord = make_ascii_word_table();

bool is_word(char32_t c) {
    return c < 128 ? kAsciiWord[c] : Xapian::Unicode::is_wordchar(c);
}

char32_t to_lower(char32_t c) {
    if (c < 128) return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
    return Xapian::Unicode::tolower(c);
}

// TermGenerator's initialism test looks at ASCII capitals only.
bool is_ascii_upper(char32_t c) {
    return c >= 'A' && c <= 'Z';
}

bool is_decimal_digit(char32_t c) {
    if (c < 128) return c >= '0' && c <= '9';
    return Xapian::Unicode::get_category(c) == Xapian::Unicode::DECIMAL_DIGIT_NUMBER;
}

bool is_zero_width(char32_t c) {
    return (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF;
}

// The character kept for infix `c` between two word runs, kDropped, or 0 when `c` ends the word.
char32_t infix(char32_t c) {
    if (c == '\'' || c == '&' || c == 0xB7 || c == 0x5F4 || c == 0x2027) return c;
    if (c == 0x2019 || c == 0x201B) return '\'';
    return is_zero_width(c) ? kDropped : 0;
}

// The same between two decimal digits.
char32_t digit_infix(char32_t c) {
    switch (c) {
        case ',':
        case '.':
        case ';':
        case 0x037E:
        case 0x0589:
        case 0x060D:
        case 0x07F8:
        case 0x2044:
        case 0xFE10:
        case 0xFE13:
        case 0xFE14:
            return c;
        default:
            return is_zero_width(c) ? kDropped : 0;
    }
}

// A superset of the code points TermGenerator splits into CJK n-grams (and Hangul Jamo, to be safe).
bool needs_reference(char32_t c) {
    return (c >= 0x1100 && c <= 0x11FF) || (c >= 0x2E80 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFFEF) || (c >= 0x20000 && c <= 0x3FFFF);
}

// Strict UTF-8 (shortest forms, no surrogates, at most U+10FFFF) into code points; false for anything else or a
// code point that needs the reference splitter.
bool decode(std::string_view text, std::vector<char32_t>& out) {
    out.clear();
    out.reserve(text.size());
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
        const unsigned b = *p;
        if (b < 0x80) {
            out.push_back(b);
            ++p;
            continue;
        }
        int extra;
        char32_t c;
        char32_t min;
        if (b >= 0xC2 && b <= 0xDF) {
            extra = 1, c = b & 0x1F, min = 0x80;
        } else if (b >= 0xE0 && b <= 0xEF) {
            extra = 2, c = b & 0x0F, min = 0x800;
        } else if (b >= 0xF0 && b <= 0xF4) {
            extra = 3, c = b & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (end - p <= extra) return false;
        for (int i = 1; i <= extra; ++i) {
            const unsigned cont = p[i];
            if ((cont & 0xC0) != 0x80) return false;
            c = (c << 6) | (cont & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) || needs_reference(c)) return false;
        out.push_back(c);
        p += extra + 1;
    }
    return true;
}

void append(std::string& s, char32_t c) {
    if (c < 128) {
        s.push_back(static_cast<char>(c));
    } else {
        Xapian::Unicode::append_utf8(s, c);
    }
}

}  // namespace

bool split_index_words(std::string_view text, std::vector<std::string>& words) {
    words.clear();
    thread_local std::vector<char32_t> cp;
    if (!decode(text, cp)) return false;
    const std::size_t n = cp.size();
    std::size_t i = 0;
    std::string word;
    while (true) {
        while (i < n && !is_word(cp[i])) ++i;
        if (i == n) return true;
        word.clear();

        if (is_ascii_upper(cp[i])) {  // an initialism: capitals each followed by a dot (the last dot optional)
            std::size_t p = i;
            while (true) {
                append(word, to_lower(cp[p++]));
                if (p == n || cp[p] != '.') break;
                if (++p == n || !is_ascii_upper(cp[p])) break;
            }
            if (word.size() > 1 && (p == n || !is_word(cp[p]))) {
                i = p;
                words.push_back(word);
                continue;
            }
            word.clear();
        }

        // Word runs joined by single infix characters; `i` ends on the character after the word.
        char32_t c = to_lower(cp[i]);
        bool at_end = false;
        while (true) {
            char32_t last;
            do {
                append(word, c);
                last = c;
                if (++i == n) {
                    at_end = true;
                    break;
                }
                c = is_word(cp[i]) ? to_lower(cp[i]) : 0;
            } while (c != 0);
            if (at_end || i + 1 == n || !is_word(cp[i + 1])) break;
            const char32_t next = cp[i + 1];
            const char32_t joiner =
                is_decimal_digit(last) && is_decimal_digit(next) ? digit_infix(cp[i]) : infix(cp[i]);
            if (joiner == 0) break;
            if (joiner != kDropped) append(word, joiner);
            c = to_lower(next);
            ++i;
        }
        if (!at_end) {  // trailing '+' / '#': at most three, and not before a word character ("fish+chips")
            const std::size_t length = word.size();
            int count = 0;
            while (cp[i] == '+' || cp[i] == '#') {
                if (++count > 3) {
                    word.resize(length);
                    break;
                }
                word.push_back(static_cast<char>(cp[i]));
                if (++i == n) {
                    at_end = true;
                    break;
                }
            }
            if (!at_end && is_word(cp[i])) word.resize(length);
        }
        words.push_back(word);
    }
}

}  // namespace kasten::retrieval
