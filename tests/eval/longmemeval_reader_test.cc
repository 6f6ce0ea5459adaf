#include "eval/longmemeval_reader.h"

#include <gtest/gtest.h>

#include <sstream>

#include "eval_fixture.h"

namespace kasten::eval {
namespace {

using testing::FixtureSession;
using testing::turn;

TEST(LongMemEvalReaderTest, StreamsQuestionsWithEscapesAndUnicode) {
    testing::TempDir dir;
    nlohmann::json all = nlohmann::json::array();
    const std::string tricky = "She said \"hi\\there\" [x] {y}, then \xE2\x80\x94 caf\xC3\xA9 \xF0\x9F\x98\x80\n\tend";
    for (int i = 0; i < 3; ++i) {
        FixtureSession s{"s" + std::to_string(i),
                         "2023/05/20 (Sat) 02:21",
                         {turn("user", tricky + std::to_string(i)), turn("assistant", "ok ]")}};
        all.push_back(testing::question("q" + std::to_string(i), "multi-session", "Q" + std::to_string(i) + "?",
                                        i == 1 ? nlohmann::json(17) : nlohmann::json("a"), {s}, {}));
    }
    // ensure_ascii: the file holds \u escapes (including surrogate pairs) the reader must pass through intact.
    testing::write_file(dir.file("lme.json"), all.dump(2, ' ', /*ensure_ascii=*/true));

    auto reader = LongMemEvalReader::open(dir.file("lme.json"));
    ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
    for (int i = 0; i < 3; ++i) {
        auto q = (*reader)->next();
        ASSERT_TRUE(q.is_ok()) << q.status().to_string();
        ASSERT_TRUE(q->has_value());
        EXPECT_EQ((*q)->question_id, "q" + std::to_string(i));
        EXPECT_EQ((*q)->haystack_sessions[0][0].content, tricky + std::to_string(i));
        EXPECT_EQ((*q)->answer, i == 1 ? "17" : "a");
        EXPECT_EQ((*q)->answer_is_number, i == 1);
    }
    auto end = (*reader)->next();
    ASSERT_TRUE(end.is_ok());
    EXPECT_FALSE(end->has_value());
}

TEST(LongMemEvalReaderTest, ElementsCarryTheirFileIndex) {
    auto reader =
        LongMemEvalReader::from_stream(std::make_unique<std::istringstream>("[{\"a\":1}, {\"b\":2}, 3]"), "mem");
    ASSERT_TRUE(reader->skip().value());
    EXPECT_EQ(reader->elements(), 1);
    auto e = reader->next_element();
    ASSERT_TRUE(e.is_ok());
    ASSERT_TRUE(e->has_value());
    EXPECT_EQ((*e)->index, 1);
    EXPECT_EQ((*e)->text, "{\"b\":2}");
    auto bad = reader->next();  // "3" is not a question object
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.status().message().find("#2"), std::string::npos);
}

}  // namespace
}  // namespace kasten::eval
