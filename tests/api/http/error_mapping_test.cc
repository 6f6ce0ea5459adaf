#include "api/http/error_mapping.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kasten::api {
namespace {

TEST(ErrorMappingTest, EveryStatusCodeHasItsHttpStatus) {
    EXPECT_EQ(http_status_for(StatusCode::kOk), 200);
    EXPECT_EQ(http_status_for(StatusCode::kNotFound), 404);
    EXPECT_EQ(http_status_for(StatusCode::kInvalidArgument), 400);
    EXPECT_EQ(http_status_for(StatusCode::kAlreadyExists), 409);
    EXPECT_EQ(http_status_for(StatusCode::kPermissionDenied), 403);
    EXPECT_EQ(http_status_for(StatusCode::kUnauthenticated), 401);
    EXPECT_EQ(http_status_for(StatusCode::kResourceExhausted), 413);
    EXPECT_EQ(http_status_for(StatusCode::kBusy), 503);
    EXPECT_EQ(http_status_for(StatusCode::kFailedPrecondition), 409);
    EXPECT_EQ(http_status_for(StatusCode::kNotSupported), 501);
    EXPECT_EQ(http_status_for(StatusCode::kCorruption), 500);
    EXPECT_EQ(http_status_for(StatusCode::kIOError), 500);
    EXPECT_EQ(http_status_for(StatusCode::kInternal), 500);
    EXPECT_EQ(http_status_for(StatusCode::kInsufficientStorage), 507);
}

TEST(ErrorMappingTest, TransportStatusesMapBackToCodes) {
    EXPECT_EQ(status_code_for_http(413), StatusCode::kResourceExhausted);
    EXPECT_EQ(status_code_for_http(400), StatusCode::kInvalidArgument);
    EXPECT_EQ(status_code_for_http(404), StatusCode::kNotFound);
    EXPECT_EQ(status_code_for_http(405), StatusCode::kNotSupported);
    EXPECT_EQ(status_code_for_http(418), StatusCode::kInternal);
    EXPECT_EQ(status_code_for_http(507), StatusCode::kInsufficientStorage);
}

// Requests cpp-httplib or the connection limits refuse are the client's doing, never "internal".
TEST(ErrorMappingTest, TransportRefusalsAreNotInternal) {
    EXPECT_EQ(status_code_for_http(408), StatusCode::kInvalidArgument);
    EXPECT_EQ(status_code_for_http(416), StatusCode::kInvalidArgument);
    EXPECT_EQ(status_code_for_http(414), StatusCode::kResourceExhausted);
    EXPECT_EQ(status_code_for_http(431), StatusCode::kResourceExhausted);
    EXPECT_EQ(status_code_for_http(503), StatusCode::kBusy);
}

TEST(ErrorMappingTest, BodyHasCodeTypeAndMessage) {
    auto j = nlohmann::json::parse(error_body(404, Status::not_found("cube 'x' does not exist")));
    EXPECT_EQ(j["error"]["code"], 404);
    EXPECT_EQ(j["error"]["type"], "not_found");
    EXPECT_EQ(j["error"]["message"], "cube 'x' does not exist");
    EXPECT_EQ(j.size(), 1u);
    EXPECT_EQ(j["error"].size(), 3u);
}

TEST(ErrorMappingTest, InvalidUtf8InTheMessageNeverThrows) {
    std::string body;
    ASSERT_NO_THROW(body = error_body(400, Status::invalid_argument("bad \xff\xfe text")));
    auto j = nlohmann::json::parse(body);
    EXPECT_EQ(j["error"]["type"], "invalid_argument");
}

}  // namespace
}  // namespace kasten::api
