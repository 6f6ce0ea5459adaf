#include "retrieval/unit.h"

#include <gtest/gtest.h>

namespace kasten::retrieval {
namespace {

TEST(UnitTypeTest, NamesRoundTrip) {
    for (UnitType t : {UnitType::kTurn, UnitType::kSession, UnitType::kNote}) {
        UnitType parsed = UnitType::kTurn;
        ASSERT_TRUE(parse_unit_type(unit_type_name(t), &parsed)) << unit_type_name(t);
        EXPECT_EQ(parsed, t);
    }
    EXPECT_STREQ(unit_type_name(UnitType::kTurn), "turn");
    EXPECT_STREQ(unit_type_name(UnitType::kSession), "session");
    EXPECT_STREQ(unit_type_name(UnitType::kNote), "note");
}

TEST(UnitTypeTest, RejectsUnknownText) {
    UnitType parsed = UnitType::kNote;
    EXPECT_FALSE(parse_unit_type("Turn", &parsed));
    EXPECT_FALSE(parse_unit_type("", &parsed));
    EXPECT_FALSE(parse_unit_type("notes", &parsed));
    EXPECT_EQ(parsed, UnitType::kNote);  // untouched on failure
}

}  // namespace
}  // namespace kasten::retrieval
