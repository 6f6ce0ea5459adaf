#include "memory/sentence_splitter.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace kasten::memory {
namespace {

using namespace std::string_view_literals;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}
bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    // Non-breaking spaces (U+00A0) at either end.
    while (s.size() >= 2 && s[0] == '\xC2' && s[1] == '\xA0') s.remove_prefix(2);
    while (s.size() >= 2 && s[s.size() - 2] == '\xC2' && s.back() == '\xA0') s.remove_suffix(2);
    return s;
}

bool has_word_char(std::string_view s) {
    for (char c : s) {
        if (is_lower(c) || is_upper(c) || is_digit(c) || static_cast<unsigned char>(c) >= 0xC3) return true;
    }
    return false;
}

// Words after which a '.' never ends a sentence (lower-case, without their final dot).
constexpr std::array kNeverSplit = {"mr"sv,     "mrs"sv,  "ms"sv,   "dr"sv,  "prof"sv, "sr"sv,  "jr"sv,   "st"sv,
                                    "mt"sv,     "ft"sv,   "vs"sv,   "e.g"sv, "i.e"sv,  "eg"sv,  "ie"sv,   "cf"sv,
                                    "approx"sv, "appt"sv, "dept"sv, "est"sv, "gen"sv,  "col"sv, "capt"sv, "lt"sv,
                                    "sgt"sv,    "rev"sv,  "hon"sv,  "gov"sv, "sen"sv,  "rep"sv, "pres"sv, "fig"sv,
                                    "vol"sv,    "ch"sv,   "pp"sv,   "ave"sv, "blvd"sv, "rd"sv,  "apt"sv};
// Words after which a '.' does not end a sentence when a digit follows ("No. 5", "Jan. 5").
constexpr std::array kSplitUnlessDigit = {"no"sv,  "nos"sv, "jan"sv, "feb"sv,  "mar"sv, "apr"sv, "jun"sv,
                                          "jul"sv, "aug"sv, "sep"sv, "sept"sv, "oct"sv, "nov"sv, "dec"sv,
                                          "p"sv,   "vol"sv, "art"sv, "sec"sv,  "pt"sv};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view word) {
    return std::find(list.begin(), list.end(), word) != list.end();
}

// The word ending just before `dot` (lower-cased, leading brackets and quotes removed).
std::string word_before(std::string_view text, std::size_t dot) {
    std::size_t b = dot;
    while (b > 0 && !is_space(text[b - 1])) --b;
    std::string word(text.substr(b, dot - b));
    while (!word.empty() &&
           (word.front() == '(' || word.front() == '[' || word.front() == '"' || word.front() == '\'')) {
        word.erase(word.begin());
    }
    for (char& c : word) {
        if (is_upper(c)) c = static_cast<char>(c + 32);
    }
    return word;
}

// Whether a '.'-run of one dot at `dot`, followed by the character `next` ('\0' at the end), ends a sentence.
bool period_ends_sentence(std::string_view text, std::size_t dot, char next) {
    if (next == '\0') return true;
    const std::string word = word_before(text, dot);
    if (contains(kNeverSplit, word)) return false;
    if (is_digit(next) && contains(kSplitUnlessDigit, word)) return false;
    // A single capital letter is an initial ("John F. Kennedy").
    if (word.size() == 1 && is_upper(text[dot - 1])) return false;
    return !is_lower(next);
}

// Byte length of a closing quote or bracket at `i`, 0 if none.
std::size_t closer_length(std::string_view text, std::size_t i) {
    const char c = text[i];
    if (c == '"' || c == '\'' || c == ')' || c == ']' || c == '*' || c == '_') return 1;
    if (c == '\xE2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
        (text[i + 2] == '\x9D' || text[i + 2] == '\x99')) {
        return 3;
    }
    return 0;
}

bool is_ellipsis_char(std::string_view text, std::size_t i) {
    return i + 2 < text.size() && text[i] == '\xE2' && text[i + 1] == '\x80' && text[i + 2] == '\xA6';
}

// Appends the sentences of one block (a paragraph or list item, no newlines) to `out`.
void split_block(std::string_view block, std::vector<std::string_view>& out) {
    const std::size_t n = block.size();
    std::size_t start = 0;
    std::size_t i = 0;
    while (i < n) {
        const char c = block[i];
        const bool ellipsis_char = is_ellipsis_char(block, i);
        if (c != '.' && c != '!' && c != '?' && !ellipsis_char) {
            ++i;
            continue;
        }
        std::size_t j = i;
        int dots = 0;
        bool exclaim_or_question = false;
        bool ellipsis = false;
        while (j < n) {
            if (block[j] == '.') {
                ++dots;
                ++j;
            } else if (block[j] == '!' || block[j] == '?') {
                exclaim_or_question = true;
                ++j;
            } else if (is_ellipsis_char(block, j)) {
                ellipsis = true;
                j += 3;
            } else {
                break;
            }
        }
        if (dots >= 2) ellipsis = true;
        while (j < n) {
            const std::size_t len = closer_length(block, j);
            if (len == 0) break;
            j += len;
        }
        if (j < n && !is_space(block[j])) {  // "3.5", "a.m.", "example.com", "?!x"
            i = j;
            continue;
        }
        std::size_t k = j;
        while (k < n && is_space(block[k])) ++k;
        const char next = k < n ? block[k] : '\0';
        bool boundary;
        if (exclaim_or_question) {
            boundary = true;
        } else if (ellipsis) {
            boundary = next == '\0' || is_upper(next);
        } else {
            boundary = period_ends_sentence(block, i, next);
        }
        if (boundary) {
            out.push_back(block.substr(start, j - start));
            start = k;
        }
        i = j;
    }
    if (start < n) out.push_back(block.substr(start));
}

struct CutPattern {
    std::string_view text;
    std::size_t right_offset;  // where the right piece starts, relative to the match
};

// Clause boundaries, most preferred first.
constexpr std::array<std::array<CutPattern, 11>, 5> kCutTiers = {{
    {{{"; ", 2}, {": ", 2}, {" - ", 3}, {" \xE2\x80\x93 ", 5}, {" \xE2\x80\x94 ", 5}, {"\xE2\x80\x94", 3}}},
    {{{", and ", 2},
      {", but ", 2},
      {", so ", 2},
      {", because ", 2},
      {", which ", 2},
      {", while ", 2},
      {", although ", 2},
      {", whereas ", 2},
      {", or ", 2},
      {", then ", 2},
      {", since ", 2}}},
    {{{", ", 2}}},
    {{{" and ", 1}, {" but ", 1}, {" because ", 1}, {" so ", 1}, {" which ", 1}}},
    {{{" ", 1}}},
}};

std::string_view trim_clause_end(std::string_view s) {
    s = trim(s);
    while (!s.empty() && (s.back() == ',' || s.back() == ';' || s.back() == ':' || s.back() == '-')) {
        s.remove_suffix(1);
        s = trim(s);
    }
    return s;
}

void push_sentence(std::string_view s, std::vector<std::string>& out) {
    s = trim(s);
    if (!s.empty() && has_word_char(s)) out.emplace_back(s);
}

// Cuts `s` into pieces of at most `max_chars` bytes at clause boundaries.
void cut_long(std::string_view s, std::size_t max_chars, std::vector<std::string>& out) {
    s = trim(s);
    while (s.size() > max_chars) {
        const std::size_t lo = max_chars / 3;
        std::size_t cut = std::string_view::npos;
        std::size_t right = 0;
        for (const auto& tier : kCutTiers) {
            for (const CutPattern& p : tier) {
                if (p.text.empty()) continue;
                const std::string_view window = s.substr(0, max_chars + p.text.size());
                const std::size_t pos = window.rfind(p.text);
                if (pos == std::string_view::npos || pos < lo || pos > max_chars) continue;
                if (cut == std::string_view::npos || pos > cut) {
                    cut = pos;
                    right = pos + p.right_offset;
                }
            }
            if (cut != std::string_view::npos) break;
        }
        if (cut == std::string_view::npos) {  // no space at all: cut at a character boundary
            cut = max_chars;
            while (cut > 1 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
            right = cut;
        }
        push_sentence(trim_clause_end(s.substr(0, cut)), out);
        s = trim(s.substr(right));
    }
    push_sentence(s, out);
}

// Removes a list/heading/quote marker at the start of a trimmed line; sets `item` when one was found.
std::string_view strip_marker(std::string_view line, bool& item) {
    for (int guard = 0; guard < 4; ++guard) {
        line = trim(line);
        if (line.empty()) return line;
        if (line[0] == '>') {
            line.remove_prefix(1);
            item = true;
            continue;
        }
        if (line[0] == '#') {
            std::size_t h = 0;
            while (h < line.size() && line[h] == '#') ++h;
            if (h < line.size() && line[h] == ' ') {
                line.remove_prefix(h + 1);
                item = true;
                continue;
            }
            return line;
        }
        if ((line[0] == '-' || line[0] == '*' || line[0] == '+') && line.size() > 1 && line[1] == ' ') {
            line.remove_prefix(2);
            item = true;
            continue;
        }
        if (line.size() > 3 && line[0] == '\xE2' && line[1] == '\x80' &&
            (line[2] == '\xA2' || line[2] == '\x93' || line[2] == '\x94')) {  // bullet, en dash, em dash
            line.remove_prefix(3);
            item = true;
            continue;
        }
        if (line.starts_with("[ ] ") || line.starts_with("[x] ") || line.starts_with("[X] ")) {
            line.remove_prefix(4);
            item = true;
            continue;
        }
        std::size_t d = 0;
        while (d < line.size() && d < 3 && is_digit(line[d])) ++d;
        if (d > 0 && d + 1 < line.size() && (line[d] == '.' || line[d] == ')') && line[d + 1] == ' ') {
            line.remove_prefix(d + 2);
            item = true;
            continue;
        }
        return line;
    }
    return line;
}

// Appends `s` to `block` without Markdown emphasis and code marks.
void append_clean(std::string& block, std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t mark = i;  // the next '`', '*' or '_'; the text before it is appended as is
        while (mark < s.size() && s[mark] != '`' && s[mark] != '*' && s[mark] != '_') ++mark;
        block.append(s.substr(i, mark - i));
        if (mark == s.size()) return;
        const char c = s[mark];
        i = mark + 1;
        if (c == '`') continue;
        if (i < s.size() && s[i] == c) {  // "**", "__"
            ++i;
            continue;
        }
        block.push_back(c);
    }
}

bool is_table_separator(std::string_view line) {
    for (char c : line) {
        if (c != '|' && c != '-' && c != ':' && c != ' ' && c != '+') return false;
    }
    return true;
}

}  // namespace

std::vector<std::string> SentenceSplitter::split(std::string_view text, std::size_t max_chars) {
    if (max_chars < 16) max_chars = 16;
    std::vector<std::string> sentences;
    std::vector<std::string_view> pieces;
    std::string block;
    const auto flush = [&] {
        if (block.empty()) return;
        pieces.clear();
        split_block(block, pieces);
        for (std::string_view piece : pieces) cut_long(piece, max_chars, sentences);
        block.clear();
    };
    bool in_code = false;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view line = trim(text.substr(pos, eol - pos));
        pos = eol + 1;
        if (line.starts_with("```") || line.starts_with("~~~")) {
            flush();
            in_code = !in_code;
            continue;
        }
        if (in_code) continue;
        if (line.empty()) {
            flush();
            continue;
        }
        bool item = false;
        std::string_view body = strip_marker(line, item);
        std::string table_row;
        if (body.starts_with("|")) {
            if (is_table_separator(body)) {
                flush();
                continue;
            }
            // A table row becomes one clause list: "| Denver | 5 pm |" -> "Denver; 5 pm".
            for (std::size_t i = 0; i < body.size(); ++i) {
                if (body[i] != '|') {
                    table_row.push_back(body[i]);
                } else if (!trim(table_row).empty() && i + 1 < body.size()) {
                    table_row.append(";");
                }
            }
            body = table_row;
            item = true;
        }
        if (body.empty()) continue;
        const bool joins = !item && !block.empty() && is_lower(body[0]) && block.back() != '.' && block.back() != '!' &&
                           block.back() != '?' && block.back() != ':';
        if (!joins) flush();
        if (!block.empty()) block.push_back(' ');
        append_clean(block, body);
    }
    flush();
    return sentences;
}

}  // namespace kasten::memory
