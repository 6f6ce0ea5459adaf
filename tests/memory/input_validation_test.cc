#include "memory/input_validation.h"

#include <gtest/gtest.h>

namespace kasten::memory {
namespace {

TEST(InputValidationTest, Identifiers) {
    EXPECT_TRUE(validate_identifier("cube id", "alice-01.work:x_y").is_ok());
    EXPECT_FALSE(validate_identifier("cube id", "").is_ok());
    EXPECT_FALSE(validate_identifier("cube id", std::string(129, 'a')).is_ok());
    Status s = validate_identifier("cube id", "a b");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("cube id"), std::string::npos);
    EXPECT_FALSE(validate_identifier("cube id", "x'; DROP TABLE cubes;--").is_ok());
}

TEST(InputValidationTest, Utf8) {
    EXPECT_TRUE(is_valid_utf8("plain"));
    EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    EXPECT_FALSE(is_valid_utf8("\xff"));
    EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
    EXPECT_FALSE(validate_text("content", std::string("a\0b", 3), false).is_ok());
    EXPECT_FALSE(validate_text("content", "", false).is_ok());
    EXPECT_TRUE(validate_text("content", "", true).is_ok());
}

TEST(InputValidationTest, Roles) {
    for (const char* r : {"user", "assistant", "system", "tool"}) EXPECT_TRUE(validate_role(r).is_ok());
    EXPECT_FALSE(validate_role("admin").is_ok());
    EXPECT_FALSE(validate_role("").is_ok());
}

}  // namespace
}  // namespace kasten::memory
