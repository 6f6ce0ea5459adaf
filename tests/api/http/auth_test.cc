#include "api/http/auth.h"

#include <gtest/gtest.h>

#include "common/sha256.h"

namespace kasten::api {
namespace {

Authenticator two_keys() {
    return Authenticator(parse_api_keys("alice-app@key-alice-123=alice,shared;key-admin-456=*").value());
}

TEST(AuthTest, WithoutKeysEveryoneMayUseEveryCube) {
    Authenticator auth({});
    EXPECT_FALSE(auth.enabled());
    auto p = auth.authenticate(std::nullopt, std::nullopt);
    ASSERT_TRUE(p.is_ok());
    EXPECT_TRUE(p->all_cubes);
    EXPECT_EQ(p->actor, "api");
    EXPECT_TRUE(Authenticator::may_use(*p, "anything"));
}

TEST(AuthTest, BearerAndXApiKeyBothWork) {
    Authenticator auth = two_keys();
    EXPECT_TRUE(auth.enabled());
    auto bearer = auth.authenticate(std::string("Bearer key-alice-123"), std::nullopt);
    ASSERT_TRUE(bearer.is_ok()) << bearer.status().to_string();
    EXPECT_FALSE(bearer->all_cubes);
    EXPECT_EQ(bearer->actor, "key:alice-app");
    auto lower = auth.authenticate(std::string("bearer   key-alice-123 "), std::nullopt);
    EXPECT_TRUE(lower.is_ok());
    auto header = auth.authenticate(std::nullopt, std::string("key-admin-456"));
    ASSERT_TRUE(header.is_ok());
    EXPECT_TRUE(header->all_cubes);
    EXPECT_EQ(header->actor, "key:key-2");  // unnamed: named by position, never by the key's characters
}

TEST(AuthTest, HashedKeysAuthenticateWithTheKeyAndNotWithTheHash) {
    // sha256("key-alice-123")
    const std::string hash = Sha256::hex("key-alice-123");
    Authenticator auth(parse_api_keys("alice@sha256:" + hash + "=alice").value());
    auto p = auth.authenticate(std::string("Bearer key-alice-123"), std::nullopt);
    ASSERT_TRUE(p.is_ok()) << p.status().to_string();
    EXPECT_EQ(p->actor, "key:alice");
    EXPECT_EQ(p->cubes, std::vector<std::string>{"alice"});
    EXPECT_EQ(auth.authenticate(std::string("Bearer ") + hash, std::nullopt).status().code(),
              StatusCode::kUnauthenticated);
    EXPECT_EQ(auth.authenticate(std::string("Bearer sha256:") + hash, std::nullopt).status().code(),
              StatusCode::kUnauthenticated);
    EXPECT_EQ(auth.authenticate(std::string("Bearer key-alice-124"), std::nullopt).status().code(),
              StatusCode::kUnauthenticated);
}

TEST(AuthTest, TokenSchemeAsMem0ClientsSendItWorks) {
    Authenticator auth = two_keys();
    auto token = auth.authenticate(std::string("Token key-alice-123"), std::nullopt);
    ASSERT_TRUE(token.is_ok()) << token.status().to_string();
    EXPECT_FALSE(token->all_cubes);
    EXPECT_EQ(auth.authenticate(std::string("Token key-alice-12"), std::nullopt).status().code(),
              StatusCode::kUnauthenticated);
    EXPECT_EQ(auth.authenticate(std::string("Token "), std::nullopt).status().code(), StatusCode::kUnauthenticated);
}

TEST(AuthTest, MissingMalformedAndUnknownKeysAreUnauthenticated) {
    Authenticator auth = two_keys();
    EXPECT_EQ(auth.authenticate(std::nullopt, std::nullopt).status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(auth.authenticate(std::string("Basic dXNlcjpwYXNz"), std::nullopt).status().code(),
              StatusCode::kUnauthenticated);
    EXPECT_EQ(auth.authenticate(std::string("Bearer "), std::nullopt).status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(auth.authenticate(std::string("Bearer key-alice-12"), std::nullopt).status().code(),
              StatusCode::kUnauthenticated);
    EXPECT_EQ(auth.authenticate(std::nullopt, std::string("key-alice-1234")).status().code(),
              StatusCode::kUnauthenticated);
    EXPECT_EQ(auth.authenticate(std::nullopt, std::string("")).status().code(), StatusCode::kUnauthenticated);
}

TEST(AuthTest, CubeAuthorisationFollowsTheKeysList) {
    Authenticator auth = two_keys();
    auto alice = auth.authenticate(std::nullopt, std::string("key-alice-123")).value();
    EXPECT_TRUE(Authenticator::authorize_cube(alice, "alice").is_ok());
    EXPECT_TRUE(Authenticator::authorize_cube(alice, "shared").is_ok());
    Status denied = Authenticator::authorize_cube(alice, "bob");
    EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
    EXPECT_NE(denied.message().find("bob"), std::string::npos);
    EXPECT_FALSE(Authenticator::may_use(alice, "alice2"));
    EXPECT_FALSE(Authenticator::may_use(alice, "*"));
    auto admin = auth.authenticate(std::nullopt, std::string("key-admin-456")).value();
    EXPECT_TRUE(Authenticator::authorize_cube(admin, "bob").is_ok());
}

}  // namespace
}  // namespace kasten::api
