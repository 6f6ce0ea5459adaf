#include "eval/json_array_reader.h"

#include <gtest/gtest.h>

#include <sstream>

namespace kasten::eval {
namespace {

std::unique_ptr<JsonArrayReader> reader_of(const std::string& text) {
    return std::make_unique<JsonArrayReader>(std::make_unique<std::istringstream>(text), "fixture");
}

std::vector<std::string> all_elements(const std::string& text) {
    auto r = reader_of(text);
    std::vector<std::string> out;
    for (;;) {
        auto e = r->next();
        EXPECT_TRUE(e.is_ok()) << e.status().to_string();
        if (!e.is_ok() || !*e) break;
        out.push_back(**e);
    }
    return out;
}

TEST(JsonArrayReaderTest, SplitsTopLevelElementsRespectingStringsAndEscapes) {
    const std::string text =
        "\xEF\xBB\xBF  [ {\"a\": \"x, ] } [\\\" \\\\\", \"b\": [1, {\"c\": 2}]},\n"
        "  \"caf\xC3\xA9 \\u00e9 \\ud83d\\ude00\" , 42,[ ], {} ,true ]  \n";
    auto elements = all_elements(text);
    ASSERT_EQ(elements.size(), 6u);
    EXPECT_EQ(elements[0], "{\"a\": \"x, ] } [\\\" \\\\\", \"b\": [1, {\"c\": 2}]}");
    EXPECT_EQ(elements[1], "\"caf\xC3\xA9 \\u00e9 \\ud83d\\ude00\"");
    EXPECT_EQ(elements[2], "42");
    EXPECT_EQ(elements[3], "[ ]");
    EXPECT_EQ(elements[4], "{}");
    EXPECT_EQ(elements[5], "true");
}

TEST(JsonArrayReaderTest, EmptyArrayHasNoElements) {
    EXPECT_TRUE(all_elements(" [ ] ").empty());
    auto r = reader_of("[]");
    auto e = r->next();
    ASSERT_TRUE(e.is_ok());
    EXPECT_FALSE(e->has_value());
    auto again = r->next();  // stays at the end
    ASSERT_TRUE(again.is_ok());
    EXPECT_FALSE(again->has_value());
}

TEST(JsonArrayReaderTest, SkipCountsElementsWithoutKeepingThem) {
    auto r = reader_of("[{\"x\": \"]\"}, [1,2], \"s\"]");
    int n = 0;
    for (;;) {
        auto more = r->skip();
        ASSERT_TRUE(more.is_ok()) << more.status().to_string();
        if (!*more) break;
        ++n;
    }
    EXPECT_EQ(n, 3);
    EXPECT_EQ(r->elements(), 3);
}

TEST(JsonArrayReaderTest, ElementLargerThanTheReadBufferIsWhole) {
    std::string big(3 * 1024 * 1024, 'x');
    big[1000] = ']';  // inside the string: not structural
    std::string text = "[\"" + big + "\", 7]";
    auto elements = all_elements(text);
    ASSERT_EQ(elements.size(), 2u);
    EXPECT_EQ(elements[0].size(), big.size() + 2);
    EXPECT_EQ(elements[1], "7");
}

TEST(JsonArrayReaderTest, EscapesAndQuotesOnEitherSideOfABufferBoundaryAreSeen) {
    // The reader fills 1 MiB at a time: put an escaped quote, an escaped backslash and a string's end at every
    // offset around the first boundaries, with structural characters after them.
    constexpr std::size_t kBuffer = 1 << 20;
    for (std::size_t shift = 0; shift < 6; ++shift) {
        for (const std::string& tail : {std::string("\\\" ], "), std::string("\\\\"), std::string()}) {
            std::string text = "[\"" + std::string(kBuffer - 4 + shift, 'y') + tail + "\", {\"k\": \"]\"}, 3]";
            auto r = reader_of(text);
            auto first = r->next();
            ASSERT_TRUE(first.is_ok()) << first.status().to_string();
            ASSERT_TRUE(first->has_value());
            EXPECT_EQ(**first, "\"" + std::string(kBuffer - 4 + shift, 'y') + tail + "\"") << shift;
            auto second = r->next();
            ASSERT_TRUE(second.is_ok() && second->has_value());
            EXPECT_EQ(**second, "{\"k\": \"]\"}");
            auto third = r->next();
            ASSERT_TRUE(third.is_ok() && third->has_value());
            EXPECT_EQ(**third, "3");
            EXPECT_EQ(r->bytes_consumed(), static_cast<std::int64_t>(text.size()));
        }
    }
    // A string left open at the end of the data is reported, after any number of plain bytes.
    auto open = reader_of("[\"" + std::string(kBuffer + 10, 'z'));
    EXPECT_FALSE(open->next().is_ok());
}

TEST(JsonArrayReaderTest, RejectsWhatIsNotOneArray) {
    auto not_array = reader_of("{\"a\": 1}");
    auto e1 = not_array->next();
    ASSERT_FALSE(e1.is_ok());
    EXPECT_EQ(e1.status().code(), StatusCode::kInvalidArgument);

    for (const char* bad : {"[1, 2", "[{\"a\": \"unterminated]", "[1,,2]", "[1, 2] x", "[1, }]", "[1, ]"}) {
        auto r = reader_of(bad);
        Status last;
        for (int i = 0; i < 5; ++i) {
            auto e = r->next();
            if (!e.is_ok()) {
                last = e.status();
                break;
            }
            if (!*e) break;
        }
        EXPECT_EQ(last.code(), StatusCode::kCorruption) << bad;
    }
}

TEST(JsonArrayReaderTest, OpenReportsAMissingFile) {
    auto r = JsonArrayReader::open("/nonexistent/kasten/file.json");
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kasten::eval
