#include "llm/kvec_format.h"

#include <cstring>

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

TEST(KvecFormatTest, HeaderRoundTripsAndIsLittleEndian) {
    KvecHeader h;
    h.dim = 100;
    h.count = 341479;
    h.file_size = 0x0102030405060708ULL;
    h.offsets_offset = 64;
    h.strings_offset = 64 + 4 * 341480ULL;
    h.vectors_offset = 4096;
    const auto bytes = encode_kvec_header(h);
    EXPECT_EQ(std::memcmp(bytes.data(), "KVEC", 4), 0);
    EXPECT_EQ(bytes[kKvecVersionOffset], 1);
    EXPECT_EQ(bytes[kKvecDimOffset], 100);
    EXPECT_EQ(bytes[24], 0x08);  // least significant byte first
    EXPECT_EQ(bytes[31], 0x01);
    const KvecHeader back = decode_kvec_header(bytes.data());
    EXPECT_EQ(back.version, kKvecVersion);
    EXPECT_EQ(back.header_size, kKvecHeaderSize);
    EXPECT_EQ(back.element_type, kKvecElementFloat32);
    EXPECT_EQ(back.dim, h.dim);
    EXPECT_EQ(back.count, h.count);
    EXPECT_EQ(back.file_size, h.file_size);
    EXPECT_EQ(back.offsets_offset, h.offsets_offset);
    EXPECT_EQ(back.strings_offset, h.strings_offset);
    EXPECT_EQ(back.vectors_offset, h.vectors_offset);
}

TEST(KvecFormatTest, LittleEndianHelpers) {
    std::uint8_t b[8];
    store_le32(b, 0xA1B2C3D4u);
    EXPECT_EQ(b[0], 0xD4);
    EXPECT_EQ(load_le32(b), 0xA1B2C3D4u);
    store_le64(b, 0x1122334455667788ULL);
    EXPECT_EQ(b[0], 0x88);
    EXPECT_EQ(load_le64(b), 0x1122334455667788ULL);
}

}  // namespace
}  // namespace kasten::llm
