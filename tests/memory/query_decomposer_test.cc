#include "memory/query_decomposer.h"

#include <gtest/gtest.h>

namespace kasten::memory {
namespace {

using Parts = std::vector<std::string>;

TEST(QueryDecomposerTest, CutsAtConnectivesAndKeepsPartsWithIndexTerms) {
    EXPECT_EQ(decompose_query("Which device did I set up first, the smart thermostat or the mesh network system?"),
              (Parts{"Which device did I set up first, the smart thermostat ", " the mesh network system?"}));
    EXPECT_EQ(
        decompose_query("How many days passed between the day I fixed my bike and the day I upgraded the pedals?"),
        (Parts{"How many days passed ", " the day I fixed my bike ", " the day I upgraded the pedals?"}));
    EXPECT_EQ(decompose_query("How many plants did I plant for tomatoes AND cucumbers?"),
              (Parts{"How many plants did I plant for tomatoes ", " cucumbers?"}));
    EXPECT_EQ(decompose_query("How much more expensive was the taxi compared to the train?"),
              (Parts{"How much more expensive was the taxi ", " to the train?"}));
}

TEST(QueryDecomposerTest, NothingToDecompose) {
    EXPECT_TRUE(decompose_query("What is my dog's name?").empty());
    EXPECT_TRUE(decompose_query("").empty());
    // A connective whose other side holds no index term: one part only.
    EXPECT_TRUE(decompose_query("Did I go hiking, and when?").empty());
    EXPECT_TRUE(decompose_query("and or between").empty());
    // Connectives are whole words: "android", "order", "thanks" are not cut.
    EXPECT_TRUE(decompose_query("the android order thanks").empty());
}

}  // namespace
}  // namespace kasten::memory
