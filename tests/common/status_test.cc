#include "common/status.h"
#include "common/result.h"

#include <gtest/gtest.h>

namespace kasten {
namespace {

Result<int> half(int x) {
    if (x % 2 != 0) return Status::invalid_argument("odd");
    return x / 2;
}

Result<int> quarter(int x) {
    KASTEN_ASSIGN_OR_RETURN(int h, half(x));
    return half(h);
}

TEST(StatusTest, OkAndErrors) {
    EXPECT_TRUE(Status::ok().is_ok());
    Status s = Status::not_found("cube 'a'");
    EXPECT_FALSE(s.is_ok());
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_EQ(s.to_string(), "not_found: cube 'a'");
    EXPECT_EQ(s.with_context("get").message(), "get: cube 'a'");
    EXPECT_EQ(status_code_name(StatusCode::kResourceExhausted), "resource_exhausted");
    EXPECT_EQ(status_code_name(StatusCode::kInsufficientStorage), "insufficient_storage");
}

TEST(ResultTest, PropagatesErrors) {
    EXPECT_EQ(quarter(8).value(), 2);
    Result<int> r = quarter(6);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten
