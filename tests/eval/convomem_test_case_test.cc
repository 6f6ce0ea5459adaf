#include "eval/convomem_test_case.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "convomem_fixture.h"
#include "eval_fixture.h"

namespace kasten::eval {
namespace {

using Pos = std::optional<std::pair<int, int>>;

TEST(ConvoMemTestCaseTest, ReadsTheTestCaseShapeAndLocatesEvidenceByText) {
    auto cases = parse_convomem_json(testing::convomem_test_case_fixture().dump(), "tc.json", "category_x");
    ASSERT_TRUE(cases.is_ok()) << cases.status().to_string();
    ASSERT_EQ(cases->size(), 1u);
    const ConvoMemTestCase& tc = (*cases)[0];
    EXPECT_EQ(tc.label, "category_x");
    EXPECT_EQ(tc.context_size, 3);
    ASSERT_EQ(tc.conversations.size(), 3u);
    EXPECT_EQ(tc.conversations[1].id, "s2");
    EXPECT_TRUE(tc.conversations[1].contains_evidence);
    ASSERT_EQ(tc.items.size(), 5u);
    EXPECT_EQ(tc.items[0].category, "locomo_category_4");
    EXPECT_EQ(tc.items[0].evidence_positions, (std::vector<Pos>{std::make_pair(0, 0)}));
    // Exact, then whitespace-collapsed.
    EXPECT_EQ(tc.items[1].evidence_positions, (std::vector<Pos>{std::make_pair(1, 0), std::make_pair(2, 0)}));
    // Found nowhere.
    EXPECT_EQ(tc.items[2].evidence_positions, (std::vector<Pos>{std::nullopt}));
    EXPECT_TRUE(tc.items[3].evidence_positions.empty());
    // Contained in a longer message; and of two equal texts the one with the evidence's speaker.
    EXPECT_EQ(tc.items[4].evidence_positions, (std::vector<Pos>{std::make_pair(0, 2), std::make_pair(2, 1)}));
}

TEST(ConvoMemTestCaseTest, ReadsTheEvidenceItemsShapeAsOneCasePerItem) {
    auto cases = parse_convomem_json(testing::convomem_evidence_fixture().dump(), "ev.json", "user_facts_evidence");
    ASSERT_TRUE(cases.is_ok()) << cases.status().to_string();
    ASSERT_EQ(cases->size(), 2u);
    EXPECT_EQ((*cases)[0].source, "ev.json#0");
    EXPECT_EQ((*cases)[0].context_size, 1);
    EXPECT_EQ((*cases)[0].items[0].evidence_positions, (std::vector<Pos>{std::make_pair(0, 1)}));
    EXPECT_EQ((*cases)[1].context_size, 2);
    EXPECT_EQ((*cases)[1].items[0].answer, "Should mention tea");
    EXPECT_EQ((*cases)[1].items[0].evidence_positions, (std::vector<Pos>{std::make_pair(0, 0)}));
}

TEST(ConvoMemTestCaseTest, LoadsADirectoryRecursivelyInPathOrder) {
    testing::TempDir dir;
    std::filesystem::create_directories(dir.path() / "b_cat");
    std::filesystem::create_directories(dir.path() / "a_cat");
    testing::write_file(dir.file("b_cat/dataset_0.json"), testing::convomem_test_case_fixture().dump());
    testing::write_file(dir.file("a_cat/dataset_0.json"), testing::convomem_evidence_fixture().dump());
    testing::write_file(dir.file("a_cat/notes.txt"), "ignored");
    auto cases = load_convomem(dir.path().string());
    ASSERT_TRUE(cases.is_ok()) << cases.status().to_string();
    ASSERT_EQ(cases->size(), 3u);
    EXPECT_EQ((*cases)[0].label, "a_cat");
    EXPECT_EQ((*cases)[2].label, "b_cat");
    EXPECT_EQ(load_convomem(dir.file("missing")).status().code(), StatusCode::kNotFound);
}

TEST(ConvoMemTestCaseTest, ReportsBadInput) {
    EXPECT_EQ(parse_convomem_json("[1]", "x", "").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parse_convomem_json("{\"foo\": 1}", "x", "").status().code(), StatusCode::kInvalidArgument);
    auto j = testing::convomem_test_case_fixture();
    j["conversations"][0]["messages"][1].erase("text");
    auto bad = parse_convomem_json(j.dump(), "x.json", "");
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find("conversations[0].messages[1]"), std::string::npos);
}

}  // namespace
}  // namespace kasten::eval
