#include "llm/crc32c.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "llm/stable_hash.h"

namespace kasten::llm {
namespace {

TEST(Crc32cTest, KnownVectors) {
    EXPECT_EQ(crc32c("", 0), 0u);
    EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
    std::vector<std::uint8_t> zeros(32, 0);
    EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
    std::vector<std::uint8_t> ones(32, 0xFF);
    EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
    EXPECT_EQ(crc32c_extend_portable(0, "123456789", 9), 0xE3069283u);
}

TEST(Crc32cTest, FastPathMatchesPortableForAllLengthsAndAlignments) {
    std::string data(300, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(mix64(i) & 0xFF);
    for (std::size_t offset = 0; offset < 9; ++offset) {
        for (std::size_t len = 0; offset + len <= data.size(); len += 7) {
            ASSERT_EQ(crc32c(data.data() + offset, len), crc32c_extend_portable(0, data.data() + offset, len))
                << "offset " << offset << " len " << len;
        }
    }
}

TEST(Crc32cTest, ExtendComposes) {
    const std::string a = "hello, ";
    const std::string b = "world and more bytes than eight";
    const std::string ab = a + b;
    EXPECT_EQ(crc32c_extend(crc32c(a.data(), a.size()), b.data(), b.size()), crc32c(ab.data(), ab.size()));
    EXPECT_EQ(crc32c_extend_portable(crc32c(a.data(), a.size()), b.data(), b.size()), crc32c(ab.data(), ab.size()));
}

}  // namespace
}  // namespace kasten::llm
