#include "vocab_fixture.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "llm/tokenizer_factory.h"

namespace kasten::llm::testing {
namespace {

constexpr std::string_view kSeparator = "\n__ggml_vocab_test__\n";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

std::string vocab_gguf_path(const std::string& name) {
    return std::string(KASTEN_SOURCE_DIR) + "/data/vocab/ggml-vocab-" + name + ".gguf";
}

std::vector<VocabCase> read_vocab_cases(const std::string& name) {
    const std::string base = vocab_gguf_path(name);
    const std::string inp = slurp(base + ".inp");
    const std::string outp = slurp(base + ".out");
    EXPECT_FALSE(inp.empty()) << base << ".inp is missing or empty";
    EXPECT_FALSE(outp.empty()) << base << ".out is missing or empty";

    std::vector<std::string> texts;
    std::size_t pos = 0;
    for (std::size_t next; (next = inp.find(kSeparator, pos)) != std::string::npos; pos = next + kSeparator.size()) {
        texts.push_back(inp.substr(pos, next - pos));
    }
    EXPECT_EQ(pos, inp.size()) << "text after the last separator in " << base << ".inp";

    std::vector<std::vector<TokenId>> ids;
    std::istringstream lines(outp);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::vector<TokenId> row;
        for (TokenId id; fields >> id;) row.push_back(id);
        ids.push_back(std::move(row));
    }
    EXPECT_EQ(texts.size(), ids.size()) << base;
    if (texts.size() != ids.size()) return {};

    std::vector<VocabCase> cases;
    for (std::size_t i = 0; i < texts.size(); ++i) cases.push_back({std::move(texts[i]), std::move(ids[i])});
    return cases;
}

std::unique_ptr<Tokenizer> load_vocab_tokenizer(const std::string& name) {
    auto t = load_gguf_tokenizer(vocab_gguf_path(name));
    EXPECT_TRUE(t.is_ok()) << t.status().to_string();
    if (!t.is_ok()) return nullptr;
    return std::move(t).value();
}

std::string ten_thousand_words() {
    static const char* const kWords[] = {
        "Once",   "upon",  "a",       "time,",  "there",    "was",    "little",     "girl",   "named",   "Lily.",
        "She",    "loved", "to",      "play",   "outside",  "in",     "the",        "park!",  "1984",    "café",
        "naïve",  "I'll",  "don't",   "we've",  "(maybe)",  "x=y+3;", "\tindented", "line\n", "Ünïcödé", "日本語",
        "привет", "🦙",  "3.14159", "e-mail", "HTTP/1.1", "...",    "don't!",     "Mr.",    "O'Brien", "twenty-two"};
    constexpr std::size_t n = sizeof(kWords) / sizeof(kWords[0]);
    std::string text;
    for (std::size_t i = 0; i < 10000; ++i) {
        if (i > 0) text += ' ';
        text += kWords[(i * 7919 + i / 13) % n];
    }
    return text;
}

}  // namespace kasten::llm::testing
