#include "llm/unicode_text.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kasten::llm::unicode {
namespace {

TEST(UnicodeTextTest, DecodesUtf8AndKeepsInvalidBytesApart) {
    const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\xA6\x99";  // a é € 🦙
    EXPECT_EQ(decode_utf8(text), (std::vector<std::uint32_t>{'a', 0xE9, 0x20AC, 0x1F999}));
    for (const char* bad : {"\x80", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\xFF"}) {
        const Utf8Unit u = decode_utf8(std::string_view(bad), 0);
        EXPECT_FALSE(u.valid) << bad;
        EXPECT_EQ(u.length, 1u);
        EXPECT_EQ(u.codepoint, kReplacementCharacter);
    }
    std::string out;
    for (std::uint32_t cp : {0x41u, 0xE9u, 0x20ACu, 0x1F999u}) append_utf8(cp, out);
    EXPECT_EQ(out, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\xA6\x99");
    out.clear();
    append_utf8(0xD800, out);
    EXPECT_EQ(out, "\xEF\xBF\xBD");
}

TEST(UnicodeTextTest, CategoryFlags) {
    EXPECT_TRUE(is_letter('a'));
    EXPECT_TRUE(is_letter(0x4E2D));  // 中
    EXPECT_TRUE(is_letter(0x0416));  // Ж
    EXPECT_TRUE(is_number('7'));
    EXPECT_TRUE(is_number(0x0663));   // Arabic-Indic three
    EXPECT_TRUE(is_number(0x00BD));   // ½ (No)
    EXPECT_TRUE(is_number(0x216B));   // Ⅻ (Nl)
    EXPECT_FALSE(is_letter(0x0301));  // combining acute: a mark
    EXPECT_TRUE(codepoint_flags(0x0301) & kNonspacingMark);
    EXPECT_TRUE(codepoint_flags(0x17B6) & kMark);  // Khmer vowel sign (Mc)
    EXPECT_FALSE(codepoint_flags(0x17B6) & kNonspacingMark);
    EXPECT_TRUE(codepoint_flags('!') & kPunctuation);
    EXPECT_TRUE(codepoint_flags('$') & kSymbol);
    EXPECT_TRUE(codepoint_flags(0x200D) & kControl);  // ZWJ (Cf)
    EXPECT_TRUE(codepoint_flags(0x0378) & kUnassigned);
    EXPECT_TRUE(codepoint_flags(0x110000) & kUnassigned);
    for (std::uint32_t ws : {0x09u, 0x0Au, 0x0Du, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2003u, 0x2028u, 0x3000u}) {
        EXPECT_TRUE(is_whitespace(ws)) << ws;
    }
    EXPECT_FALSE(is_whitespace(0x1C));  // a control, not White_Space
    EXPECT_FALSE(is_whitespace(0x200B));
}

TEST(UnicodeTextTest, LowerCase) {
    EXPECT_EQ(to_lower('A'), static_cast<std::uint32_t>('a'));
    EXPECT_EQ(to_lower(0xC9), 0xE9u);      // É
    EXPECT_EQ(to_lower(0x0416), 0x0436u);  // Ж
    EXPECT_EQ(to_lower(0x03A3), 0x03C3u);  // Σ
    EXPECT_EQ(to_lower('a'), static_cast<std::uint32_t>('a'));
    std::vector<std::uint32_t> out;
    append_lower(0x0130, out);  // İ
    EXPECT_EQ(out, (std::vector<std::uint32_t>{'i', 0x0307}));
}

TEST(UnicodeTextTest, CanonicalDecomposition) {
    const std::vector<std::uint32_t> precomposed = {0xFC, 0x1EAD, 0xD55C};  // ü, ậ, 한
    EXPECT_EQ(to_nfd(precomposed), (std::vector<std::uint32_t>{'u', 0x308, 'a', 0x323, 0x302, 0x1112, 0x1161, 0x11AB}));
    // Canonical ordering: dot below (220) before acute (230), whatever the input order.
    const std::vector<std::uint32_t> marks = {'a', 0x301, 0x323};
    EXPECT_EQ(to_nfd(marks), (std::vector<std::uint32_t>{'a', 0x323, 0x301}));
    EXPECT_EQ(combining_class(0x301), 230);
    EXPECT_EQ(combining_class('a'), 0);
}

}  // namespace
}  // namespace kasten::llm::unicode
