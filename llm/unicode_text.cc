#include "llm/unicode_text.h"

#include <algorithm>
#include <array>

namespace kasten::llm::unicode {
namespace {

// Hangul syllable composition constants (Unicode §3.12).
constexpr std::uint32_t kHangulSBase = 0xAC00;
constexpr std::uint32_t kHangulLBase = 0x1100;
constexpr std::uint32_t kHangulVBase = 0x1161;
constexpr std::uint32_t kHangulTBase = 0x11A7;
constexpr std::uint32_t kHangulTCount = 28;
constexpr std::uint32_t kHangulNCount = 21 * kHangulTCount;
constexpr std::uint32_t kHangulSCount = 19 * kHangulNCount;

bool is_continuation(unsigned char b) {
    return (b & 0xC0) == 0x80;
}

// Flags of the ASCII range, looked up on every character of typical text.
const std::array<std::uint16_t, 128>& ascii_flags() {
    static const std::array<std::uint16_t, 128> table = [] {
        std::array<std::uint16_t, 128> t{};
        std::size_t r = 0;
        for (std::uint32_t cp = 0; cp < 128; ++cp) {
            while (r + 1 < kCodepointRangeCount && kCodepointRanges[r + 1].first <= cp) ++r;
            t[cp] = kCodepointRanges[r].flags;
        }
        return t;
    }();
    return table;
}

void decompose_into(std::uint32_t cp, std::vector<std::uint32_t>& out) {
    if (cp >= kHangulSBase && cp < kHangulSBase + kHangulSCount) {
        const std::uint32_t s = cp - kHangulSBase;
        out.push_back(kHangulLBase + s / kHangulNCount);
        out.push_back(kHangulVBase + (s % kHangulNCount) / kHangulTCount);
        if (s % kHangulTCount != 0) out.push_back(kHangulTBase + s % kHangulTCount);
        return;
    }
    const Decomposition* begin = kDecompositions;
    const Decomposition* end = kDecompositions + kDecompositionCount;
    const Decomposition* it =
        std::lower_bound(begin, end, cp, [](const Decomposition& d, std::uint32_t v) { return d.codepoint < v; });
    if (it == end || it->codepoint != cp) {
        out.push_back(cp);
        return;
    }
    out.insert(out.end(), kDecompositionPool + it->offset, kDecompositionPool + it->offset + it->length);
}

}  // namespace

Utf8Unit decode_utf8(std::string_view text, std::size_t pos) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    const unsigned char b0 = s[pos];
    const Utf8Unit invalid{kReplacementCharacter, 1, false};
    if (b0 < 0x80) return {b0, 1, true};
    std::uint32_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return invalid;
    }
    if (pos + len > n) return invalid;
    for (std::uint32_t i = 1; i < len; ++i) {
        if (!is_continuation(s[pos + i])) return invalid;
        cp = (cp << 6) | (s[pos + i] & 0x3F);
    }
    if (cp < min || cp > kMaxCodepoint || (cp >= 0xD800 && cp <= 0xDFFF)) return invalid;
    return {cp, len, true};
}

std::vector<std::uint32_t> decode_utf8(std::string_view text) {
    std::vector<std::uint32_t> out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const Utf8Unit u = decode_utf8(text, pos);
        out.push_back(u.codepoint);
        pos += u.length;
    }
    return out;
}

void append_utf8(std::uint32_t cp, std::string& out) {
    if (cp > kMaxCodepoint || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementCharacter;
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::uint16_t codepoint_flags(std::uint32_t cp) {
    if (cp < 128) return ascii_flags()[cp];
    if (cp > kMaxCodepoint) return kUnassigned;
    const CodepointRange* begin = kCodepointRanges;
    const CodepointRange* end = kCodepointRanges + kCodepointRangeCount;
    // The last run whose first code point is <= cp.
    const CodepointRange* it =
        std::upper_bound(begin, end, cp, [](std::uint32_t v, const CodepointRange& r) { return v < r.first; });
    return (it - 1)->flags;
}

std::uint32_t to_lower(std::uint32_t cp) {
    if (cp < 128) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    const CaseMapping* begin = kLowercase;
    const CaseMapping* end = kLowercase + kLowercaseCount;
    const CaseMapping* it =
        std::lower_bound(begin, end, cp, [](const CaseMapping& m, std::uint32_t v) { return m.from < v; });
    return (it != end && it->from == cp) ? it->to : cp;
}

void append_lower(std::uint32_t cp, std::vector<std::uint32_t>& out) {
    for (std::size_t i = 0; i < kLowercaseExpansionCount; ++i) {
        const CaseExpansion& e = kLowercaseExpansions[i];
        if (e.from == cp) {
            out.insert(out.end(), e.to, e.to + e.length);
            return;
        }
    }
    out.push_back(to_lower(cp));
}

std::uint8_t combining_class(std::uint32_t cp) {
    if (cp < 0x300) return 0;
    const CombiningClassRange* begin = kCombiningClasses;
    const CombiningClassRange* end = kCombiningClasses + kCombiningClassCount;
    const CombiningClassRange* it =
        std::upper_bound(begin, end, cp, [](std::uint32_t v, const CombiningClassRange& r) { return v < r.first; });
    if (it == begin) return 0;
    --it;
    return cp <= it->last ? it->ccc : 0;
}

std::vector<std::uint32_t> to_nfd(std::span<const std::uint32_t> codepoints) {
    std::vector<std::uint32_t> out;
    out.reserve(codepoints.size());
    for (std::uint32_t cp : codepoints) {
        if (cp < 0xC0) {
            out.push_back(cp);
        } else {
            decompose_into(cp, out);
        }
    }
    // Canonical ordering: within each run of non-starters, a stable sort by combining class.
    std::size_t i = 0;
    while (i < out.size()) {
        if (combining_class(out[i]) == 0) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < out.size() && combining_class(out[j]) != 0) ++j;
        if (j - i > 1) {
            std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(i), out.begin() + static_cast<std::ptrdiff_t>(j),
                             [](std::uint32_t a, std::uint32_t b) { return combining_class(a) < combining_class(b); });
        }
        i = j;
    }
    return out;
}

}  // namespace kasten::llm::unicode
