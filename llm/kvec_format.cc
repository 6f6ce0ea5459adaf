#include "llm/kvec_format.h"

#include <cstring>

namespace kasten::llm {

std::array<std::uint8_t, kKvecHeaderSize> encode_kvec_header(const KvecHeader& header) {
    std::array<std::uint8_t, kKvecHeaderSize> out{};
    std::memcpy(out.data(), kKvecMagic.data(), kKvecMagic.size());
    store_le32(out.data() + kKvecVersionOffset, header.version);
    store_le32(out.data() + 8, header.header_size);
    store_le32(out.data() + 12, header.element_type);
    store_le32(out.data() + kKvecDimOffset, header.dim);
    store_le32(out.data() + kKvecCountOffset, header.count);
    store_le64(out.data() + 24, header.file_size);
    store_le64(out.data() + 32, header.offsets_offset);
    store_le64(out.data() + 40, header.strings_offset);
    store_le64(out.data() + 48, header.vectors_offset);
    store_le64(out.data() + 56, 0);
    return out;
}

KvecHeader decode_kvec_header(const std::uint8_t* bytes) {
    KvecHeader h;
    h.version = load_le32(bytes + kKvecVersionOffset);
    h.header_size = load_le32(bytes + 8);
    h.element_type = load_le32(bytes + 12);
    h.dim = load_le32(bytes + kKvecDimOffset);
    h.count = load_le32(bytes + kKvecCountOffset);
    h.file_size = load_le64(bytes + 24);
    h.offsets_offset = load_le64(bytes + 32);
    h.strings_offset = load_le64(bytes + 40);
    h.vectors_offset = load_le64(bytes + 48);
    return h;
}

}  // namespace kasten::llm
