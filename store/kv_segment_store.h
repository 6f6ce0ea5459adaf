#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "store/records.h"

namespace kasten::store {

class Database;

// The kv_segments table: compressed KV caches of pinned context, keyed by (cube, model, text hash). The store treats
// `data` as opaque bytes. Every method is one statement and opens no transaction. Not thread-safe (see Database).
class KvSegmentStore {
  public:
    explicit KvSegmentStore(Database& db) : db_(db) {}

    // Inserts or replaces the segment with the same key. kNotFound when the cube does not exist.
    Status put(const KvSegmentRecord& segment);
    // kNotFound when absent.
    Result<KvSegmentRecord> get(const std::string& cube_id, const std::string& model_id, const std::string& text_hash);
    // kNotFound when absent.
    Status remove(const std::string& cube_id, const std::string& model_id, const std::string& text_hash);
    // Deletes the cube's segments of `model_id` whose text hash is not `keep_text_hash`; returns how many.
    Result<int> remove_other_texts(const std::string& cube_id, const std::string& model_id,
                                   const std::string& keep_text_hash);
    // The cube's segments by (model_id, text_hash), metadata only: `data` is left empty.
    Result<std::vector<KvSegmentRecord>> list(const std::string& cube_id);

  private:
    Database& db_;
};

}  // namespace kasten::store
