#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "llm/kv_cache.h"

namespace kasten::llm {

// A persisted KV cache prefix (activation memory): the keys and values of a prompt's first tokens, with what is
// needed to check that they fit the model and cache they are loaded into.
//
// Format (version 1, integers little-endian): "KVSN", u32 version, u32 length + model id bytes, u32 length + cache
// name bytes (KvCache::name(): the policy and its parameters), i32 n_layer, n_head_kv, head_dim, n_tokens,
// n_tokens i32 token ids, u64 length + the cache's save_state() bytes (host byte order), u32 CRC-32C of everything
// before it.
inline constexpr std::uint32_t kKvSnapshotVersion = 1;

struct KvSnapshot {
    std::string model_id;
    std::string cache;  // KvCache::name() of the cache that saved it
    int n_layer = 0;
    int n_head_kv = 0;
    int head_dim = 0;
    std::vector<int> tokens;  // the tokens at cells [0, tokens.size())
    std::string_view state;   // save_state() bytes; a view into the decoded buffer
};

// Serialises cells [0, cache.size()) of `cache`, which hold `tokens`. kInvalidArgument when the counts differ;
// kNotSupported for a cache that cannot be saved.
Result<std::string> encode_kv_snapshot(const KvCache& cache, std::string_view model_id, std::span<const int> tokens);

// Parses `bytes` (which must outlive the result). kCorruption for a truncated or damaged buffer (bad magic, lengths
// or checksum); kNotSupported for another format version.
Result<KvSnapshot> decode_kv_snapshot(std::string_view bytes);

// Replaces the content of `cache` by the snapshot. kFailedPrecondition, naming the difference, when the snapshot
// was made by another model or cache policy or for another shape; then `cache` is left unchanged.
Status restore_kv_snapshot(const KvSnapshot& snapshot, std::string_view model_id, KvCache& cache);

}  // namespace kasten::llm
