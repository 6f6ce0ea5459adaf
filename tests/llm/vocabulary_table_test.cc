#include "llm/vocabulary_table.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

// Words in the KVEC layout: offsets (count + 1) into one string.
struct Words {
    explicit Words(const std::vector<std::string>& words) {
        offsets.push_back(0);
        for (const auto& w : words) {
            strings += w;
            offsets.push_back(static_cast<std::uint32_t>(strings.size()));
        }
    }
    std::vector<std::uint32_t> offsets;
    std::string strings;
};

TEST(VocabularyTableTest, FindsEveryWordAtItsRowAndNothingElse) {
    // Short words, words at and around the inline length, long words sharing their first bytes, and a byte 0.
    std::vector<std::string> words = {"the",
                                      "a",
                                      "elevenbytes",
                                      "twelve_bytes",
                                      "elevenbyteZ",
                                      "prefixshared_one",
                                      "prefixshared_two",
                                      "prefixshared_",
                                      std::string("n\0ul", 4),
                                      "x"};
    for (int i = 0; i < 5000; ++i) words.push_back("w" + std::to_string(i));
    const Words w(words);
    auto table = VocabularyTable::build(w.offsets.data(), w.strings.data(), words.size());
    ASSERT_TRUE(table.is_ok()) << table.status().to_string();
    EXPECT_EQ(table->size(), words.size());
    for (std::size_t r = 0; r < words.size(); ++r) {
        auto row = table->find(words[r]);
        ASSERT_TRUE(row.has_value()) << words[r];
        EXPECT_EQ(*row, r) << words[r];
    }
    const std::vector<std::string> missing_words = {"",
                                                    "th",
                                                    "thee",
                                                    "elevenbyte",
                                                    "elevenbytesX",
                                                    "twelve_byteZ",
                                                    "prefixshared_three",
                                                    "prefixshared_onE",
                                                    "w5000",
                                                    "n",
                                                    std::string("n\0u", 3),
                                                    std::string("elevenbytes\0", 12)};
    for (const std::string& missing : missing_words) {
        EXPECT_FALSE(table->find(missing).has_value()) << missing;
    }
}

TEST(VocabularyTableTest, DuplicateWordIsCorruption) {
    const Words w({"alpha", "beta", "alpha"});
    auto table = VocabularyTable::build(w.offsets.data(), w.strings.data(), 3);
    ASSERT_FALSE(table.is_ok());
    EXPECT_NE(table.status().message().find("duplicate word 'alpha' at rows 0 and 2"), std::string::npos)
        << table.status().to_string();
}

TEST(VocabularyTableTest, EmptyTableFindsNothing) {
    const VocabularyTable table;
    EXPECT_FALSE(table.find("word").has_value());
}

}  // namespace
}  // namespace kasten::llm
