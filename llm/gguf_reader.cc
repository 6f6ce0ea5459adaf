#include "llm/gguf_reader.h"

#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace kasten::llm {
namespace {

constexpr int kMaxArrayDepth = 8;
constexpr std::size_t kMaxTensorNameBytes = 256;
constexpr std::uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, 1 dim, type, offset
constexpr std::uint64_t kMinKvBytes = 8 + 4 + 1;                  // empty key, type, smallest value

// Bounds-checked little-endian reads over the mapped bytes. Every read reports truncation as kCorruption.
class Cursor {
  public:
    Cursor(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    std::size_t position() const { return pos_; }
    std::size_t remaining() const { return size_ - pos_; }

    template <typename T>
    Status read(T* out, std::string_view what) {
        if (remaining() < sizeof(T)) return truncated(what);
        std::memcpy(out, data_ + pos_, sizeof(T));  // the format is little-endian, as is every supported host
        pos_ += sizeof(T);
        return Status::ok();
    }

    Status read_string(std::string* out, std::string_view what) {
        std::uint64_t len = 0;
        KASTEN_RETURN_IF_ERROR(read(&len, what));
        if (len > remaining()) {
            return Status::corruption(
                fmt::format("{} at byte {}: length {} exceeds the {} bytes left", what, pos_ - 8, len, remaining()));
        }
        out->assign(reinterpret_cast<const char*>(data_ + pos_), static_cast<std::size_t>(len));
        pos_ += static_cast<std::size_t>(len);
        return Status::ok();
    }

  private:
    Status truncated(std::string_view what) const {
        return Status::corruption(fmt::format("file truncated while reading {} at byte {}", what, pos_));
    }

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// Smallest encoded size of one value of `type` (used to bound array counts before allocating).
std::uint64_t min_value_bytes(GgufValueType type) {
    switch (type) {
        case GgufValueType::kU8:
        case GgufValueType::kI8:
        case GgufValueType::kBool:
            return 1;
        case GgufValueType::kU16:
        case GgufValueType::kI16:
            return 2;
        case GgufValueType::kU32:
        case GgufValueType::kI32:
        case GgufValueType::kF32:
            return 4;
        case GgufValueType::kU64:
        case GgufValueType::kI64:
        case GgufValueType::kF64:
        case GgufValueType::kString:
            return 8;
        case GgufValueType::kArray:
            return 12;
    }
    return 1;
}

Status read_value(Cursor& c, GgufValueType type, int depth, const std::string& key, GgufValue* out) {
    switch (type) {
        case GgufValueType::kU8: {
            std::uint8_t v = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&v, key));
            *out = GgufValue::u8(v);
            return Status::ok();
        }
        case GgufValueType::kI8: {
            std::int8_t v = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&v, key));
            *out = GgufValue::i8(v);
            return Status::ok();
        }
        case GgufValueType::kU16: {
            std::uint16_t v = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&v, key));
            *out = GgufValue::u16(v);
            return Status::ok();
        }
        case GgufValueType::kI16: {
            std::int16_t v = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&v, key));
            *out = GgufValue::i16(v);
            return Status::ok();
        }
        case GgufValueType::kU32: {
            std::uint32_t v = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&v, key));
            *out = GgufValue::u32(v);
            return Status::ok();
        }
        case GgufValueType::kI32: {
            std::int32_t v = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&v, key));
            *out = GgufValue::i32(v);
            return Status::ok();
        }
        case GgufValueType::kF32: {
            float v = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&v, key));
            *out = GgufValue::f32(v);
            return Status::ok();
        }
        case GgufValueType::kBool: {
            std::uint8_t v = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&v, key));
            if (v > 1) return Status::corruption(fmt::format("'{}': bool value {} is neither 0 nor 1", key, v));
            *out = GgufValue::boolean(v != 0);
            return Status::ok();
        }
        case GgufValueType::kString: {
            std::string s;
            KASTEN_RETURN_IF_ERROR(c.read_string(&s, key));
            *out = GgufValue::string(std::move(s));
            return Status::ok();
        }
        case GgufValueType::kU64: {
            std::uint64_t v = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&v, key));
            *out = GgufValue::u64(v);
            return Status::ok();
        }
        case GgufValueType::kI64: {
            std::int64_t v = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&v, key));
            *out = GgufValue::i64(v);
            return Status::ok();
        }
        case GgufValueType::kF64: {
            double v = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&v, key));
            *out = GgufValue::f64(v);
            return Status::ok();
        }
        case GgufValueType::kArray: {
            if (depth >= kMaxArrayDepth) {
                return Status::corruption(fmt::format("'{}': arrays nested deeper than {}", key, kMaxArrayDepth));
            }
            std::uint32_t element_id = 0;
            std::uint64_t count = 0;
            KASTEN_RETURN_IF_ERROR(c.read(&element_id, key));
            if (!is_valid_gguf_value_type(element_id)) {
                return Status::corruption(fmt::format("'{}': unknown array element type {}", key, element_id));
            }
            KASTEN_RETURN_IF_ERROR(c.read(&count, key));
            auto element_type = static_cast<GgufValueType>(element_id);
            std::uint64_t min_bytes = min_value_bytes(element_type);
            if (count > c.remaining() / min_bytes) {
                return Status::corruption(
                    fmt::format("'{}': array count {} cannot fit in the {} bytes left", key, count, c.remaining()));
            }
            GgufValue::Array items(static_cast<std::size_t>(count));
            for (GgufValue& item : items) {
                KASTEN_RETURN_IF_ERROR(read_value(c, element_type, depth + 1, key, &item));
            }
            *out = GgufValue::array(element_type, std::move(items));
            return Status::ok();
        }
    }
    return Status::corruption(fmt::format("'{}': unknown value type", key));
}

Status type_mismatch(std::string_view key, const GgufValue& v, std::string_view wanted) {
    return Status::invalid_argument(
        fmt::format("metadata '{}' is {}, expected {}", key, gguf_value_type_name(v.type()), wanted));
}

}  // namespace

Result<GgufReader> GgufReader::open(const std::string& path) {
    KASTEN_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path, MappedFile::Access::kNormal));
    GgufReader reader;
    reader.file_ = std::move(file);
    Status s = reader.parse();
    if (!s.is_ok()) return s.with_context(fmt::format("GGUF '{}'", path));
    return reader;
}

Status GgufReader::parse() {
    Cursor c(file_.data(), file_.size());
    std::uint32_t magic = 0;
    KASTEN_RETURN_IF_ERROR(c.read(&magic, "magic"));
    if (magic != kGgufMagic) {
        return Status::corruption(fmt::format("bad magic 0x{:08x} (not a GGUF file)", magic));
    }
    KASTEN_RETURN_IF_ERROR(c.read(&version_, "version"));
    if ((version_ & 0xffffu) == 0 && version_ != 0) {
        return Status::not_supported(
            fmt::format("version field 0x{:08x} looks byte-swapped: big-endian GGUF is not supported", version_));
    }
    if (version_ == 1) return Status::not_supported("GGUF version 1 is not supported (convert it to v3)");
    if (version_ < 2 || version_ > 3) return Status::not_supported(fmt::format("GGUF version {}", version_));

    std::uint64_t n_tensors = 0;
    std::uint64_t n_kv = 0;
    KASTEN_RETURN_IF_ERROR(c.read(&n_tensors, "tensor count"));
    KASTEN_RETURN_IF_ERROR(c.read(&n_kv, "metadata count"));
    if (n_kv > c.remaining() / kMinKvBytes) {
        return Status::corruption(fmt::format("metadata count {} cannot fit in a {}-byte file", n_kv, file_.size()));
    }
    if (n_tensors > c.remaining() / kMinTensorInfoBytes) {
        return Status::corruption(fmt::format("tensor count {} cannot fit in a {}-byte file", n_tensors, file_.size()));
    }

    metadata_.reserve(static_cast<std::size_t>(n_kv));
    for (std::uint64_t i = 0; i < n_kv; ++i) {
        std::string key;
        KASTEN_RETURN_IF_ERROR(c.read_string(&key, fmt::format("metadata key #{}", i)));
        std::uint32_t type_id = 0;
        KASTEN_RETURN_IF_ERROR(c.read(&type_id, key));
        if (!is_valid_gguf_value_type(type_id)) {
            return Status::corruption(fmt::format("metadata '{}': unknown value type {}", key, type_id));
        }
        GgufValue value;
        KASTEN_RETURN_IF_ERROR(read_value(c, static_cast<GgufValueType>(type_id), 0, key, &value));
        if (!metadata_index_.emplace(key, metadata_.size()).second) {
            return Status::corruption(fmt::format("duplicate metadata key '{}'", key));
        }
        metadata_.emplace_back(std::move(key), std::move(value));
    }

    if (const GgufValue* a = find("general.alignment")) {
        std::optional<std::uint64_t> align = a->type() == GgufValueType::kU32 ? a->as_uint() : std::nullopt;
        if (!align || *align == 0 || (*align & (*align - 1)) != 0) {
            return Status::corruption("general.alignment must be a u32 power of two");
        }
        alignment_ = static_cast<std::size_t>(*align);
    }

    struct PendingTensor {
        TensorView view;
        std::uint64_t offset = 0;
    };
    std::vector<PendingTensor> pending(static_cast<std::size_t>(n_tensors));
    for (std::uint64_t i = 0; i < n_tensors; ++i) {
        PendingTensor& t = pending[static_cast<std::size_t>(i)];
        KASTEN_RETURN_IF_ERROR(c.read_string(&t.view.name, fmt::format("tensor name #{}", i)));
        if (t.view.name.empty() || t.view.name.size() > kMaxTensorNameBytes) {
            return Status::corruption(fmt::format("tensor #{}: name length {} is out of range", i, t.view.name.size()));
        }
        std::uint32_t n_dims = 0;
        KASTEN_RETURN_IF_ERROR(c.read(&n_dims, t.view.name));
        if (n_dims == 0 || n_dims > kGgufMaxDims) {
            return Status::corruption(
                fmt::format("tensor '{}': {} dimensions (1 to {} allowed)", t.view.name, n_dims, kGgufMaxDims));
        }
        t.view.dims.resize(n_dims);
        std::uint64_t n_elements = 1;
        for (std::uint64_t& d : t.view.dims) {
            KASTEN_RETURN_IF_ERROR(c.read(&d, t.view.name));
            if (d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
                (d != 0 && n_elements > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / d)) {
                return Status::corruption(fmt::format("tensor '{}': dimensions overflow", t.view.name));
            }
            n_elements *= d;
        }
        std::uint32_t type_id = 0;
        KASTEN_RETURN_IF_ERROR(c.read(&type_id, t.view.name));
        Result<TensorType> type = tensor_type_from_id(type_id);
        if (!type.is_ok()) return type.status().with_context(fmt::format("tensor '{}'", t.view.name));
        t.view.type = *type;
        const TensorTypeTraits& traits = tensor_type_traits(t.view.type);
        if (t.view.dims[0] % traits.block_size != 0) {
            return Status::corruption(fmt::format("tensor '{}': ne0 {} is not a multiple of the {} block size {}",
                                                  t.view.name, t.view.dims[0], traits.name, traits.block_size));
        }
        // n_elements < 2^63 and block_bytes / block_size <= 4, so this cannot overflow.
        t.view.n_bytes = n_elements / traits.block_size * traits.block_bytes;
        KASTEN_RETURN_IF_ERROR(c.read(&t.offset, t.view.name));
        if (t.offset % alignment_ != 0) {
            return Status::corruption(fmt::format("tensor '{}': offset {} is not a multiple of the alignment {}",
                                                  t.view.name, t.offset, alignment_));
        }
        if (!tensor_index_.emplace(t.view.name, static_cast<std::size_t>(i)).second) {
            return Status::corruption(fmt::format("duplicate tensor name '{}'", t.view.name));
        }
    }

    std::uint64_t pos = c.position();
    data_offset_ = (pos + alignment_ - 1) / alignment_ * alignment_;
    std::uint64_t data_size = file_.size() >= data_offset_ ? file_.size() - data_offset_ : 0;
    tensors_.reserve(pending.size());
    for (PendingTensor& t : pending) {
        // A tensor, even an empty one, needs the data section to start inside the file.
        if (data_offset_ > file_.size() || t.offset > data_size || t.view.n_bytes > data_size - t.offset) {
            return Status::corruption(
                fmt::format("tensor '{}': data [{}, +{}) lies outside the {}-byte data section (file truncated?)",
                            t.view.name, t.offset, t.view.n_bytes, data_size));
        }
        t.view.data = file_.data() + data_offset_ + t.offset;
        tensors_.push_back(std::move(t.view));
    }
    return Status::ok();
}

const GgufValue* GgufReader::find(std::string_view key) const {
    auto it = metadata_index_.find(std::string(key));
    return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const TensorView* GgufReader::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(std::string(name));
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<std::uint64_t> GgufReader::get_uint(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return Status::not_found(fmt::format("metadata '{}' is missing", key));
    std::optional<std::uint64_t> u = v->as_uint();
    if (!u) return type_mismatch(key, *v, "a non-negative integer");
    return *u;
}

Result<double> GgufReader::get_float(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return Status::not_found(fmt::format("metadata '{}' is missing", key));
    std::optional<double> f = v->as_float();
    if (!f) return type_mismatch(key, *v, "a number");
    return *f;
}

Result<bool> GgufReader::get_bool(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return Status::not_found(fmt::format("metadata '{}' is missing", key));
    std::optional<bool> b = v->as_bool();
    if (!b) return type_mismatch(key, *v, "bool");
    return *b;
}

Result<std::string> GgufReader::get_string(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return Status::not_found(fmt::format("metadata '{}' is missing", key));
    const std::string* s = v->as_string();
    if (s == nullptr) return type_mismatch(key, *v, "string");
    return *s;
}

Result<std::vector<std::string>> GgufReader::get_string_array(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return Status::not_found(fmt::format("metadata '{}' is missing", key));
    const GgufValue::Array* a = v->as_array();
    if (a == nullptr || v->element_type() != GgufValueType::kString) return type_mismatch(key, *v, "string array");
    std::vector<std::string> out;
    out.reserve(a->size());
    for (const GgufValue& item : *a) out.push_back(*item.as_string());
    return out;
}

Result<std::vector<float>> GgufReader::get_float_array(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return Status::not_found(fmt::format("metadata '{}' is missing", key));
    const GgufValue::Array* a = v->as_array();
    if (a == nullptr) return type_mismatch(key, *v, "numeric array");
    std::vector<float> out;
    out.reserve(a->size());
    for (const GgufValue& item : *a) {
        std::optional<double> f = item.as_float();
        if (!f) return type_mismatch(key, *v, "numeric array");
        out.push_back(static_cast<float>(*f));
    }
    return out;
}

Result<std::vector<std::int64_t>> GgufReader::get_int_array(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return Status::not_found(fmt::format("metadata '{}' is missing", key));
    const GgufValue::Array* a = v->as_array();
    if (a == nullptr) return type_mismatch(key, *v, "integer array");
    std::vector<std::int64_t> out;
    out.reserve(a->size());
    for (const GgufValue& item : *a) {
        std::optional<std::int64_t> i = item.as_int();
        if (!i) return type_mismatch(key, *v, "integer array");
        out.push_back(*i);
    }
    return out;
}

}  // namespace kasten::llm
