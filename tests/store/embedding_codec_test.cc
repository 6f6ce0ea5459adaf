#include "store/embedding_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace kasten::store {
namespace {

TEST(EmbeddingCodecTest, EncodesLittleEndianFloat32) {
    std::string bytes;
    encode_embedding({1.0f, -2.0f}, &bytes);
    ASSERT_EQ(bytes.size(), 8u);
    // 1.0f = 0x3f800000, -2.0f = 0xc0000000, least significant byte first.
    EXPECT_EQ(bytes, std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8));
}

TEST(EmbeddingCodecTest, RoundTripsEveryBit) {
    std::vector<float> v = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::max(),
                            -std::numeric_limits<float>::infinity(),
                            std::bit_cast<float>(std::uint32_t{0x7fc01234}),  // NaN with payload
                            3.14159f};
    std::string bytes;
    encode_embedding(v, &bytes);
    std::vector<float> back = {9.0f};  // replaced, not appended to
    ASSERT_TRUE(decode_embedding(bytes, &back));
    ASSERT_EQ(back.size(), v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        EXPECT_EQ(std::bit_cast<std::uint32_t>(back[i]), std::bit_cast<std::uint32_t>(v[i])) << i;
    }
}

TEST(EmbeddingCodecTest, EmptyAndBadSizes) {
    std::string bytes = "junk";
    encode_embedding({}, &bytes);
    EXPECT_TRUE(bytes.empty());
    std::vector<float> out = {1.0f};
    ASSERT_TRUE(decode_embedding("", &out));
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(decode_embedding("abc", &out));
    EXPECT_FALSE(decode_embedding("abcde", &out));
}

}  // namespace
}  // namespace kasten::store
