#include "api/cli/split_list.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kasten::api {
namespace {

using List = std::vector<std::string>;

TEST(SplitListTest, SplitsAtCommasAndTrimsSpaces) {
    EXPECT_EQ(split_list("bm25, hybrid+notes ,dense"), (List{"bm25", "hybrid+notes", "dense"}));
    EXPECT_EQ(split_list("one"), (List{"one"}));
}

TEST(SplitListTest, DropsEmptyAndBlankItems) {
    EXPECT_EQ(split_list(""), List{});
    EXPECT_EQ(split_list(","), List{});
    EXPECT_EQ(split_list(",a,, ,b,"), (List{"a", "b"}));
}

TEST(SplitListTest, KeepsInnerSpacesAndOtherSeparators) {
    EXPECT_EQ(split_list(" a b ;c=1,2;", ';'), (List{"a b", "c=1,2"}));
}

}  // namespace
}  // namespace kasten::api
