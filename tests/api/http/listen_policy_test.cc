#include "api/http/listen_policy.h"

#include <gtest/gtest.h>

namespace kasten::api {
namespace {

TEST(ListenPolicyTest, LoopbackAddresses) {
    EXPECT_TRUE(is_loopback_host("127.0.0.1"));
    EXPECT_TRUE(is_loopback_host("127.1.2.3"));
    EXPECT_TRUE(is_loopback_host("::1"));
    EXPECT_TRUE(is_loopback_host("[::1]"));
    EXPECT_TRUE(is_loopback_host("localhost"));
    EXPECT_FALSE(is_loopback_host("0.0.0.0"));
    EXPECT_FALSE(is_loopback_host("::"));
    EXPECT_FALSE(is_loopback_host("128.0.0.1"));
    EXPECT_FALSE(is_loopback_host("192.168.1.10"));
    EXPECT_FALSE(is_loopback_host("example.com"));
    EXPECT_FALSE(is_loopback_host(""));
}

TEST(ListenPolicyTest, NonLoopbackNeedsAuth) {
    EXPECT_TRUE(check_listen_address("127.0.0.1", false).is_ok());
    Status refused = check_listen_address("0.0.0.0", false);
    EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
    EXPECT_NE(refused.message().find("api_keys"), std::string::npos);
    EXPECT_TRUE(check_listen_address("0.0.0.0", true).is_ok());
}

TEST(ListenPolicyTest, Urls) {
    EXPECT_EQ(listen_url("127.0.0.1", 8420), "http://127.0.0.1:8420");
    EXPECT_EQ(listen_url("::1", 80), "http://[::1]:80");
}

}  // namespace
}  // namespace kasten::api
