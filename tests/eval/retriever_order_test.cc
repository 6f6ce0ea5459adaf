#include "eval/retriever_order.h"

#include <gtest/gtest.h>

namespace kasten::eval {
namespace {

TEST(RetrieverOrderTest, Bm25MovesToFrontOthersKeepOrder) {
    EXPECT_EQ(baseline_first({"hybrid", "lexical", "bm25", "vector"}),
              (std::vector<std::string>{"bm25", "hybrid", "lexical", "vector"}));
    EXPECT_EQ(baseline_first({"vector", "hybrid"}), (std::vector<std::string>{"vector", "hybrid"}));
    EXPECT_TRUE(baseline_first({}).empty());
}

TEST(RetrieverOrderTest, LabelMarksOnlyTheBaseline) {
    EXPECT_EQ(retriever_label("bm25"), "bm25 (baseline)");
    EXPECT_EQ(retriever_label("hybrid"), "hybrid");
}

}  // namespace
}  // namespace kasten::eval
