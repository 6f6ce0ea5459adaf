#include "llm/stable_hash.h"

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

// Published FNV-1a 64 test vectors; these values are baked into persisted hashing-embedder vectors.
TEST(StableHashTest, Fnv1a64MatchesReferenceVectors) {
    EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
    EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
    EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(StableHashTest, ExtendIsConcatenation) {
    EXPECT_EQ(fnv1a64_extend(fnv1a64("foo"), "bar"), fnv1a64("foobar"));
    EXPECT_EQ(fnv1a64_byte(kFnv1a64Offset, 'a'), fnv1a64("a"));
}

TEST(StableHashTest, Mix64IsTheSplitmixFinalizer) {
    EXPECT_EQ(mix64(0), 0u);
    EXPECT_EQ(mix64(1), 0x5692161d100b05e5ULL);
    EXPECT_EQ(mix64(0x123456789abcdef0ULL), 0x9629f58e8ec5b906ULL);
    static_assert(mix64(fnv1a64("x")) != 0, "usable in constant expressions");
}

}  // namespace
}  // namespace kasten::llm
