#include "llm/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include <fmt/format.h>

#include "llm/gguf_reader.h"

namespace kasten::llm {
namespace {

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Serialises values into a byte buffer (little-endian host assumed, as everywhere in llm/).
class ByteSink {
  public:
    template <typename T>
    void put(T v) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
        bytes_.insert(bytes_.end(), p, p + sizeof(T));
    }
    void put_string(const std::string& s) {
        put<std::uint64_t>(s.size());
        bytes_.insert(bytes_.end(), s.begin(), s.end());
    }
    void pad_to(std::size_t alignment) {
        while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    }
    std::vector<std::uint8_t>& bytes() { return bytes_; }

  private:
    std::vector<std::uint8_t> bytes_;
};

Status check_value(const std::string& key, const GgufValue& v) {
    if (v.type() != GgufValueType::kArray) return Status::ok();
    for (const GgufValue& item : *v.as_array()) {
        if (item.type() != v.element_type()) {
            return Status::invalid_argument(fmt::format("metadata '{}': array of {} holds a {}", key,
                                                        gguf_value_type_name(v.element_type()),
                                                        gguf_value_type_name(item.type())));
        }
        KASTEN_RETURN_IF_ERROR(check_value(key, item));
    }
    return Status::ok();
}

void put_value(ByteSink& sink, const GgufValue& v) {
    switch (v.type()) {
        case GgufValueType::kU8:
            sink.put<std::uint8_t>(static_cast<std::uint8_t>(*v.as_uint()));
            break;
        case GgufValueType::kI8:
            sink.put<std::int8_t>(static_cast<std::int8_t>(*v.as_int()));
            break;
        case GgufValueType::kU16:
            sink.put<std::uint16_t>(static_cast<std::uint16_t>(*v.as_uint()));
            break;
        case GgufValueType::kI16:
            sink.put<std::int16_t>(static_cast<std::int16_t>(*v.as_int()));
            break;
        case GgufValueType::kU32:
            sink.put<std::uint32_t>(static_cast<std::uint32_t>(*v.as_uint()));
            break;
        case GgufValueType::kI32:
            sink.put<std::int32_t>(static_cast<std::int32_t>(*v.as_int()));
            break;
        case GgufValueType::kF32:
            sink.put<float>(static_cast<float>(*v.as_float()));
            break;
        case GgufValueType::kBool:
            sink.put<std::uint8_t>(*v.as_bool() ? 1 : 0);
            break;
        case GgufValueType::kString:
            sink.put_string(*v.as_string());
            break;
        case GgufValueType::kU64:
            sink.put<std::uint64_t>(*v.as_uint());
            break;
        case GgufValueType::kI64:
            sink.put<std::int64_t>(*v.as_int());
            break;
        case GgufValueType::kF64:
            sink.put<double>(*v.as_float());
            break;
        case GgufValueType::kArray:
            sink.put<std::uint32_t>(static_cast<std::uint32_t>(v.element_type()));
            sink.put<std::uint64_t>(v.as_array()->size());
            for (const GgufValue& item : *v.as_array()) put_value(sink, item);
            break;
    }
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
    for (auto& [k, v] : metadata_) {
        if (k == key) {
            v = std::move(value);
            return;
        }
    }
    metadata_.emplace_back(key, std::move(value));
}

bool GgufWriter::has(const std::string& key) const {
    for (const auto& kv : metadata_) {
        if (kv.first == key) return true;
    }
    return false;
}

Status GgufWriter::check_tensor(const std::string& name, TensorType type, const std::vector<std::uint64_t>& dims,
                                std::uint64_t* n_bytes) const {
    if (name.empty()) return Status::invalid_argument("tensor name is empty");
    for (const Tensor& t : tensors_) {
        if (t.name == name) return Status::invalid_argument(fmt::format("duplicate tensor '{}'", name));
    }
    if (dims.empty() || dims.size() > kGgufMaxDims) {
        return Status::invalid_argument(fmt::format("tensor '{}': {} dims", name, dims.size()));
    }
    const TensorTypeTraits& traits = tensor_type_traits(type);
    if (dims[0] % traits.block_size != 0) {
        return Status::invalid_argument(fmt::format("tensor '{}': ne0 {} is not a multiple of the {} block size {}",
                                                    name, dims[0], traits.name, traits.block_size));
    }
    std::uint64_t n = 1;
    for (std::uint64_t d : dims) n *= d;
    *n_bytes = n / traits.block_size * traits.block_bytes;
    return Status::ok();
}

Status GgufWriter::add_tensor(std::string name, TensorType type, std::vector<std::uint64_t> dims,
                              std::vector<std::uint8_t> bytes) {
    std::uint64_t n_bytes = 0;
    KASTEN_RETURN_IF_ERROR(check_tensor(name, type, dims, &n_bytes));
    if (bytes.size() != n_bytes) {
        return Status::invalid_argument(
            fmt::format("tensor '{}': {} bytes given, {} expected", name, bytes.size(), n_bytes));
    }
    tensors_.push_back(Tensor{std::move(name), type, std::move(dims), n_bytes, std::move(bytes), nullptr});
    return Status::ok();
}

Status GgufWriter::add_tensor(std::string name, TensorType type, std::vector<std::uint64_t> dims, TensorFiller filler) {
    std::uint64_t n_bytes = 0;
    KASTEN_RETURN_IF_ERROR(check_tensor(name, type, dims, &n_bytes));
    if (!filler) return Status::invalid_argument(fmt::format("tensor '{}': no filler", name));
    tensors_.push_back(Tensor{std::move(name), type, std::move(dims), n_bytes, {}, std::move(filler)});
    return Status::ok();
}

Status GgufWriter::write(const std::string& path) const {
    std::size_t alignment = kGgufDefaultAlignment;
    for (const auto& [key, value] : metadata_) {
        KASTEN_RETURN_IF_ERROR(check_value(key, value));
        if (key == "general.alignment") {
            std::optional<std::uint64_t> a = value.type() == GgufValueType::kU32 ? value.as_uint() : std::nullopt;
            if (!a || *a == 0 || (*a & (*a - 1)) != 0) {
                return Status::invalid_argument("general.alignment must be a u32 power of two");
            }
            alignment = static_cast<std::size_t>(*a);
        }
    }

    ByteSink head;
    head.put<std::uint32_t>(kGgufMagic);
    head.put<std::uint32_t>(3);
    head.put<std::uint64_t>(tensors_.size());
    head.put<std::uint64_t>(metadata_.size());
    for (const auto& [key, value] : metadata_) {
        head.put_string(key);
        head.put<std::uint32_t>(static_cast<std::uint32_t>(value.type()));
        put_value(head, value);
    }
    std::uint64_t offset = 0;
    for (const Tensor& t : tensors_) {
        head.put_string(t.name);
        head.put<std::uint32_t>(static_cast<std::uint32_t>(t.dims.size()));
        for (std::uint64_t d : t.dims) head.put<std::uint64_t>(d);
        head.put<std::uint32_t>(static_cast<std::uint32_t>(t.type));
        head.put<std::uint64_t>(offset);
        offset += (t.n_bytes + alignment - 1) / alignment * alignment;
    }
    head.pad_to(alignment);

    const std::string tmp = path + ".tmp";
    FilePtr f(std::fopen(tmp.c_str(), "wb"));
    if (!f) return Status::io_error(fmt::format("cannot create '{}': {}", tmp, std::strerror(errno)));
    auto fail = [&](std::string what) {
        f.reset();
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        return Status::io_error(fmt::format("writing '{}': {}", tmp, what));
    };
    auto put = [&](const std::uint8_t* p, std::size_t n) { return n == 0 || std::fwrite(p, 1, n, f.get()) == n; };

    if (!put(head.bytes().data(), head.bytes().size())) return fail(std::strerror(errno));
    std::vector<std::uint8_t> buffer;
    const std::vector<std::uint8_t> zeros(alignment, 0);
    for (const Tensor& t : tensors_) {
        const std::uint8_t* data = t.bytes.data();
        if (t.filler) {
            buffer.assign(static_cast<std::size_t>(t.n_bytes), 0);
            Status s = t.filler(std::span<std::uint8_t>(buffer));
            if (!s.is_ok()) {
                f.reset();
                std::error_code ec;
                std::filesystem::remove(tmp, ec);
                return s.with_context(fmt::format("tensor '{}'", t.name));
            }
            data = buffer.data();
        }
        if (!put(data, static_cast<std::size_t>(t.n_bytes))) return fail(std::strerror(errno));
        std::size_t pad = static_cast<std::size_t>((alignment - t.n_bytes % alignment) % alignment);
        if (!put(zeros.data(), pad)) return fail(std::strerror(errno));
    }
    if (std::fflush(f.get()) != 0) return fail(std::strerror(errno));
    f.reset();
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Status::io_error(fmt::format("cannot rename '{}' to '{}': {}", tmp, path, ec.message()));
    return Status::ok();
}

}  // namespace kasten::llm
