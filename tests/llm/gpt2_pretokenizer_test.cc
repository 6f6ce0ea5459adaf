#include "llm/gpt2_pretokenizer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

struct SplitCase {
    PreTokenizerKind kind;
    std::string text;
    std::vector<std::string> pieces;
};

std::vector<std::string> split(PreTokenizerKind kind, std::string_view text) {
    std::vector<std::string> out;
    for (std::string_view p : Gpt2PreTokenizer(kind).split(text)) out.emplace_back(p);
    return out;
}

// Expected pieces computed with Python's `regex` module applying the same patterns in sequence (matches and the
// text between them both kept), i.e. the reference semantics of llama.cpp's unicode_regex_split.
const std::vector<SplitCase>& cases() {
    static const std::vector<SplitCase> kCases = {
        {PreTokenizerKind::kGpt2,
         "Hello, y'all! I'm 12345 ok",
         {"Hello", ",", " y", "'", "all", "!", " I", "'m", " 12345", " ok"}},
        {PreTokenizerKind::kGpt2, "  Hello\n\n  world  ", {" ", " Hello", "\n\n ", " world", "  "}},
        {PreTokenizerKind::kGpt2, "'RE 'll x", {"'", "RE", " '", "ll", " x"}},
        {PreTokenizerKind::kGpt2,
         "a\xC2\xA0"
         "b 3.14",
         {"a", "\xC2\xA0", "b", " 3", ".", "14"}},
        {PreTokenizerKind::kLlama3,
         "Hello, y'all! I'M 12345 ok",
         {"Hello", ",", " y", "'all", "!", " I", "'M", " ", "123", "45", " ok"}},
        {PreTokenizerKind::kLlama3, "a\r\n\r\n  b", {"a", "\r\n\r\n", " ", " b"}},
        {PreTokenizerKind::kLlama3, "x !!!\n\ny", {"x", " !!!\n\n", "y"}},
        {PreTokenizerKind::kLlama3,
         "  \xCC\x81"
         "word",
         {" ", " \xCC\x81", "word"}},
        {PreTokenizerKind::kQwen2, "I'Ve 2024 cats", {"I", "'Ve", " ", "2", "0", "2", "4", " cats"}},
        {PreTokenizerKind::kQwen2, "tab\t\tend\n", {"tab", "\t", "\tend", "\n"}},
        {PreTokenizerKind::kQwen2,
         "...!? \xE3\x80\x80"
         "\xE6\x97\xA5"
         "\xE6\x9C\xAC",
         {"...!?", " ",
          "\xE3\x80\x80"
          "\xE6\x97\xA5"
          "\xE6\x9C\xAC"}},
        {PreTokenizerKind::kDigitsThenGpt2, "abc123 4x", {"abc", "1", "2", "3", " ", "4", "x"}},
        {PreTokenizerKind::kDigitsThenGpt2, " 12 345", {" ", "1", "2", " ", "3", "4", "5"}},
        {PreTokenizerKind::kDefault, "$+<=>^~|x 1234567", {"$+<=>^~|", "x", " ", "123", "456", "7"}},
        {PreTokenizerKind::kDefault, "hi... there!", {"hi", "...", " there", "!"}},
        {PreTokenizerKind::kDefault, "'s 99", {"'", "s", " ", "99"}},
    };
    return kCases;
}

TEST(Gpt2PreTokenizerTest, MatchesTheReferenceRegexes) {
    for (const SplitCase& c : cases()) {
        EXPECT_EQ(split(c.kind, c.text), c.pieces) << Gpt2PreTokenizer::kind_name(c.kind) << ": '" << c.text << "'";
    }
}

TEST(Gpt2PreTokenizerTest, PiecesConcatenateToTheInput) {
    std::string bytes;
    for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
    bytes += "\xC3(\xE2\x82 tail \xF0\x9F\xA6";  // invalid and truncated sequences
    for (PreTokenizerKind kind : {PreTokenizerKind::kGpt2, PreTokenizerKind::kLlama3, PreTokenizerKind::kQwen2,
                                  PreTokenizerKind::kDigitsThenGpt2, PreTokenizerKind::kDefault}) {
        std::string joined;
        for (std::string_view p : Gpt2PreTokenizer(kind).split(bytes)) {
            EXPECT_FALSE(p.empty());
            joined += p;
        }
        EXPECT_EQ(joined, bytes) << Gpt2PreTokenizer::kind_name(kind);
        EXPECT_TRUE(Gpt2PreTokenizer(kind).split("").empty());
    }
}

TEST(Gpt2PreTokenizerTest, NamesMapToPatterns) {
    EXPECT_EQ(*Gpt2PreTokenizer::kind_from_name("gpt-2"), PreTokenizerKind::kGpt2);
    EXPECT_EQ(*Gpt2PreTokenizer::kind_from_name("llama-bpe"), PreTokenizerKind::kLlama3);
    EXPECT_EQ(*Gpt2PreTokenizer::kind_from_name("llama3"), PreTokenizerKind::kLlama3);
    EXPECT_EQ(*Gpt2PreTokenizer::kind_from_name("qwen2"), PreTokenizerKind::kQwen2);
    EXPECT_EQ(*Gpt2PreTokenizer::kind_from_name("smollm"), PreTokenizerKind::kDigitsThenGpt2);
    EXPECT_EQ(*Gpt2PreTokenizer::kind_from_name("starcoder"), PreTokenizerKind::kDigitsThenGpt2);
    EXPECT_EQ(*Gpt2PreTokenizer::kind_from_name(""), PreTokenizerKind::kDefault);
    EXPECT_EQ(*Gpt2PreTokenizer::kind_from_name("default"), PreTokenizerKind::kDefault);
    EXPECT_EQ(Gpt2PreTokenizer::kind_from_name("deepseek-coder").status().code(), StatusCode::kNotSupported);
}

}  // namespace
}  // namespace kasten::llm
