#include "llm/kv_snapshot.h"

#include <cstring>

#include <fmt/format.h>

#include "llm/crc32c.h"

namespace kasten::llm {
namespace {

constexpr char kMagic[4] = {'K', 'V', 'S', 'N'};

void put_u32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_u64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_string(std::string& out, std::string_view s) {
    put_u32(out, static_cast<std::uint32_t>(s.size()));
    out.append(s);
}

// Reads the fields of a buffer front to back; any read past the end sets `short_`.
class Reader {
  public:
    explicit Reader(std::string_view in) : in_(in) {}
    std::uint64_t uint(int bytes) {
        if (in_.size() < static_cast<std::size_t>(bytes)) return fail();
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[i])) << (8 * i);
        in_.remove_prefix(static_cast<std::size_t>(bytes));
        return v;
    }
    std::int32_t i32() { return static_cast<std::int32_t>(static_cast<std::uint32_t>(uint(4))); }
    std::string_view bytes(std::uint64_t n) {
        if (in_.size() < n) {
            fail();
            return {};
        }
        std::string_view v = in_.substr(0, n);
        in_.remove_prefix(n);
        return v;
    }
    bool short_read() const { return short_; }

  private:
    std::uint64_t fail() {
        short_ = true;
        in_ = {};
        return 0;
    }
    std::string_view in_;
    bool short_ = false;
};

}  // namespace

Result<std::string> encode_kv_snapshot(const KvCache& cache, std::string_view model_id, std::span<const int> tokens) {
    if (static_cast<int>(tokens.size()) != cache.size()) {
        return Status::invalid_argument(
            fmt::format("{} tokens for a KV cache holding {} cells", tokens.size(), cache.size()));
    }
    std::string state;
    KASTEN_RETURN_IF_ERROR(cache.save_state(state));
    const KvCacheShape& shape = cache.shape();
    std::string out;
    out.reserve(64 + model_id.size() + 4 * tokens.size() + state.size());
    out.append(kMagic, sizeof(kMagic));
    put_u32(out, kKvSnapshotVersion);
    put_string(out, model_id);
    put_string(out, cache.name());
    for (int v : {shape.n_layer, shape.n_head_kv, shape.head_dim, static_cast<int>(tokens.size())}) {
        put_u32(out, static_cast<std::uint32_t>(v));
    }
    for (int t : tokens) put_u32(out, static_cast<std::uint32_t>(t));
    put_u64(out, state.size());
    out += state;
    put_u32(out, crc32c(out.data(), out.size()));
    return out;
}

Result<KvSnapshot> decode_kv_snapshot(std::string_view bytes) {
    if (bytes.size() < sizeof(kMagic) + 8 || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
        return Status::corruption("not a KV snapshot (bad magic or too short)");
    }
    const std::string_view body = bytes.substr(0, bytes.size() - 4);
    Reader crc_reader(bytes.substr(bytes.size() - 4));
    if (static_cast<std::uint32_t>(crc_reader.uint(4)) != crc32c(body.data(), body.size())) {
        return Status::corruption("KV snapshot checksum mismatch (truncated or damaged)");
    }
    Reader r(body.substr(sizeof(kMagic)));
    const auto version = static_cast<std::uint32_t>(r.uint(4));
    if (version != kKvSnapshotVersion) {
        return Status::not_supported(
            fmt::format("KV snapshot format version {}; this build reads {}", version, kKvSnapshotVersion));
    }
    KvSnapshot s;
    s.model_id = std::string(r.bytes(r.uint(4)));
    s.cache = std::string(r.bytes(r.uint(4)));
    s.n_layer = r.i32();
    s.n_head_kv = r.i32();
    s.head_dim = r.i32();
    const std::int32_t n_tokens = r.i32();
    if (r.short_read() || n_tokens < 0) return Status::corruption("KV snapshot header is truncated");
    std::string_view ids = r.bytes(static_cast<std::uint64_t>(n_tokens) * 4);
    if (r.short_read()) return Status::corruption("KV snapshot token list is truncated");
    Reader ids_reader(ids);
    s.tokens.resize(static_cast<std::size_t>(n_tokens));
    for (int& t : s.tokens) t = ids_reader.i32();
    s.state = r.bytes(r.uint(8));
    if (r.short_read()) return Status::corruption("KV snapshot state is truncated");
    if (r.bytes(1).size() == 1) return Status::corruption("KV snapshot has trailing bytes");
    return s;
}

Status restore_kv_snapshot(const KvSnapshot& snapshot, std::string_view model_id, KvCache& cache) {
    if (snapshot.model_id != model_id) {
        return Status::failed_precondition(
            fmt::format("KV snapshot of model '{}' does not fit model '{}'", snapshot.model_id, model_id));
    }
    if (snapshot.cache != cache.name()) {
        return Status::failed_precondition(
            fmt::format("KV snapshot of a '{}' cache does not fit a '{}' cache", snapshot.cache, cache.name()));
    }
    const KvCacheShape& shape = cache.shape();
    if (snapshot.n_layer != shape.n_layer || snapshot.n_head_kv != shape.n_head_kv ||
        snapshot.head_dim != shape.head_dim) {
        return Status::failed_precondition(fmt::format(
            "KV snapshot of {} layers × {} KV heads × head_dim {} does not fit a cache of {} layers × {} KV heads × "
            "head_dim {}",
            snapshot.n_layer, snapshot.n_head_kv, snapshot.head_dim, shape.n_layer, shape.n_head_kv, shape.head_dim));
    }
    if (static_cast<int>(snapshot.tokens.size()) > shape.capacity) {
        return Status::failed_precondition(fmt::format("KV snapshot of {} tokens does not fit a context of {}",
                                                       snapshot.tokens.size(), shape.capacity));
    }
    return cache.load_state(snapshot.state, static_cast<int>(snapshot.tokens.size()));
}

}  // namespace kasten::llm
