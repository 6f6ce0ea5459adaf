#include "llm/use_lite_model.h"

#include <cstring>

#include <fmt/format.h>

#include "llm/crc32c.h"
#include "llm/kvec_format.h"

namespace kasten::llm {

Result<std::unique_ptr<UseLiteModel>> UseLiteModel::load(const std::string& path) {
    KASTEN_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path, MappedFile::Access::kNormal, true));
    const std::uint8_t* data = file.data();
    const std::size_t size = file.size();
    auto corrupt = [&](std::string_view what) {
        return Status::corruption(fmt::format(
            "'{}' is not a valid encoder file ({}); recreate it with `kasten embeddings import-use`", path, what));
    };
    if (size < kUseLiteHeaderSize + kUseLiteTrailerSize) return corrupt("too short");
    if (std::memcmp(data, kUseLiteMagic.data(), 4) != 0) return corrupt("bad magic");
    const UseLiteHeader h = decode_use_lite_header(data);
    if (h.version > kUseLiteVersion) {
        return Status::not_supported(fmt::format("'{}' has encoder file version {}; this kasten reads up to {}", path,
                                                 h.version, kUseLiteVersion));
    }
    if (h.version == 0) return corrupt("version 0");
    if (h.header_size != kUseLiteHeaderSize) return corrupt("header size");
    if (h.file_size != size) {
        return corrupt(
            fmt::format("{} bytes, the header says {}{}", size, h.file_size, size < h.file_size ? ": truncated" : ""));
    }
    if (std::memcmp(data + size - 4, kUseLiteEndMagic.data(), 4) != 0) return corrupt("bad end magic");
    if (h.tensor_count != kUseLiteTensors.size()) return corrupt("tensor count");
    if (h.vocab_count == 0 || h.vocab_count > static_cast<std::uint32_t>(kUseLiteEmbeddingRows)) {
        return corrupt("vocabulary size");
    }
    if (h.vocab_offset != kUseLiteHeaderSize) return corrupt("vocabulary offset");
    const std::uint64_t count = h.vocab_count;
    const std::uint64_t strings_offset = h.vocab_offset + 8 * count + 4 * (count + 1);
    if (h.tensors_offset % kUseLiteTensorAlignment != 0 || h.tensors_offset < strings_offset ||
        h.tensors_bytes != use_lite_tensors_bytes() || h.tensors_offset > size ||
        size - h.tensors_offset != h.tensors_bytes + kUseLiteTrailerSize) {  // no sum that can wrap around
        return corrupt("section offsets");
    }
    const std::uint32_t stored_crc = load_le32(data + size - kUseLiteTrailerSize);
    if (crc32c(data, size - kUseLiteTrailerSize) != stored_crc) return corrupt("checksum mismatch");

    std::unique_ptr<UseLiteModel> m(new UseLiteModel());
    m->piece_count_ = count;
    m->scores_ = data + h.vocab_offset;
    m->offsets_ = data + h.vocab_offset + 8 * count;
    m->strings_ = reinterpret_cast<const char*>(data + strings_offset);
    std::uint32_t previous = 0;
    for (std::uint64_t i = 0; i <= count; ++i) {
        const std::uint32_t o = load_le32(m->offsets_ + 4 * i);
        if ((i == 0 && o != 0) || o < previous) return corrupt("piece offsets");
        previous = o;
    }
    if (strings_offset + previous > h.tensors_offset) return corrupt("piece strings overrun");
    std::uint64_t at = h.tensors_offset;
    for (std::size_t t = 0; t < kUseLiteTensors.size(); ++t) {
        m->tensors_[t] = reinterpret_cast<const float*>(data + at);
        at += use_lite_tensor_stride(kUseLiteTensors[t]);
    }
    m->file_ = std::move(file);
    return m;
}

std::string_view UseLiteModel::piece(std::size_t id) const {
    const std::uint32_t begin = load_le32(offsets_ + 4 * id);
    const std::uint32_t end = load_le32(offsets_ + 4 * (id + 1));
    return {strings_ + begin, end - begin};
}

double UseLiteModel::score(std::size_t id) const {
    const std::uint64_t bits = load_le64(scores_ + 8 * id);
    double d = 0;
    std::memcpy(&d, &bits, 8);
    return d;
}

}  // namespace kasten::llm
