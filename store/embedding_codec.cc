#include "store/embedding_codec.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>

namespace kasten::store {

static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559, "float must be IEEE-754 binary32");

void encode_embedding(const std::vector<float>& v, std::string* out) {
    out->resize(v.size() * 4);
    if constexpr (std::endian::native == std::endian::little) {
        if (!v.empty()) std::memcpy(out->data(), v.data(), v.size() * 4);
    } else {
        for (std::size_t i = 0; i < v.size(); ++i) {
            std::uint32_t bits = std::bit_cast<std::uint32_t>(v[i]);
            for (int b = 0; b < 4; ++b) (*out)[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
        }
    }
}

const void* embedding_bytes_if_native(const std::vector<float>& v) {
    if constexpr (std::endian::native == std::endian::little) {
        return v.data();
    } else {
        return nullptr;
    }
}

bool decode_embedding(std::string_view bytes, std::vector<float>* out) {
    if (bytes.size() % 4 != 0) return false;
    const std::size_t n = bytes.size() / 4;
    out->resize(n);
    if constexpr (std::endian::native == std::endian::little) {
        if (n != 0) std::memcpy(out->data(), bytes.data(), bytes.size());
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            std::uint32_t bits = 0;
            for (int b = 0; b < 4; ++b) {
                bits |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i * 4 + b])) << (8 * b);
            }
            (*out)[i] = std::bit_cast<float>(bits);
        }
    }
    return true;
}

void bind_embedding(Statement& stmt, int index, const std::vector<float>& v, std::string* scratch) {
    if (v.empty()) {
        stmt.bind_null(index);
        return;
    }
    if (const void* native = embedding_bytes_if_native(v)) {
        stmt.bind_blob_ref(index, native, v.size() * 4);
        return;
    }
    encode_embedding(v, scratch);
    stmt.bind_blob_ref(index, scratch->data(), scratch->size());
}

bool read_embedding(const Statement& stmt, int col, std::vector<float>* out) {
    if (stmt.column_is_null(col)) {
        out->clear();
        return true;
    }
    return decode_embedding(stmt.column_blob(col), out);
}

}  // namespace kasten::store
