#include "store/kv_segment_store.h"

#include <fmt/format.h>

#include "store/database.h"

namespace kasten::store {

namespace {

Status segment_not_found(const std::string& cube_id, const std::string& model_id, const std::string& text_hash) {
    return Status::not_found(fmt::format("kv segment ({}, {}) not found in cube '{}'", model_id, text_hash, cube_id));
}

}  // namespace

Status KvSegmentStore::put(const KvSegmentRecord& k) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("INSERT OR REPLACE INTO kv_segments (cube_id, model_id, text_hash, n_tokens, "
                                        "codec, data, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 "
                                        "WHERE EXISTS (SELECT 1 FROM cubes WHERE id = ?1)"));
    s->bind_text_ref(1, k.cube_id);
    s->bind_text_ref(2, k.model_id);
    s->bind_text_ref(3, k.text_hash);
    s->bind_int64(4, k.n_tokens);
    s->bind_text_ref(5, k.codec);
    s->bind_blob_ref(6, k.data.data(), k.data.size());
    s->bind_int64(7, k.created_at);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return Status::not_found(fmt::format("cube '{}' not found", k.cube_id));
    return Status::ok();
}

Result<KvSegmentRecord> KvSegmentStore::get(const std::string& cube_id, const std::string& model_id,
                                            const std::string& text_hash) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT n_tokens, codec, data, created_at FROM kv_segments "
                                                           "WHERE cube_id = ?1 AND model_id = ?2 AND text_hash = ?3"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, model_id);
    s->bind_text_ref(3, text_hash);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return segment_not_found(cube_id, model_id, text_hash);
    KvSegmentRecord k;
    k.cube_id = cube_id;
    k.model_id = model_id;
    k.text_hash = text_hash;
    k.n_tokens = s->column_int(0);
    k.codec.assign(s->column_text(1));
    k.data.assign(s->column_blob(2));
    k.created_at = s->column_int64(3);
    return k;
}

Status KvSegmentStore::remove(const std::string& cube_id, const std::string& model_id, const std::string& text_hash) {
    KASTEN_ASSIGN_OR_RETURN(
        CachedStatement s,
        db_.prepare("DELETE FROM kv_segments WHERE cube_id = ?1 AND model_id = ?2 AND text_hash = ?3"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, model_id);
    s->bind_text_ref(3, text_hash);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return segment_not_found(cube_id, model_id, text_hash);
    return Status::ok();
}

Result<int> KvSegmentStore::remove_other_texts(const std::string& cube_id, const std::string& model_id,
                                               const std::string& keep_text_hash) {
    KASTEN_ASSIGN_OR_RETURN(
        CachedStatement s,
        db_.prepare("DELETE FROM kv_segments WHERE cube_id = ?1 AND model_id = ?2 AND text_hash <> ?3"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, model_id);
    s->bind_text_ref(3, keep_text_hash);
    KASTEN_RETURN_IF_ERROR(s->run());
    return static_cast<int>(db_.changes());
}

Result<std::vector<KvSegmentRecord>> KvSegmentStore::list(const std::string& cube_id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT model_id, text_hash, n_tokens, codec, created_at FROM kv_segments "
                                        "WHERE cube_id = ?1 ORDER BY model_id, text_hash"));
    s->bind_text_ref(1, cube_id);
    std::vector<KvSegmentRecord> out;
    for (;;) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (!row) break;
        KvSegmentRecord& k = out.emplace_back();
        k.cube_id = cube_id;
        k.model_id.assign(s->column_text(0));
        k.text_hash.assign(s->column_text(1));
        k.n_tokens = s->column_int(2);
        k.codec.assign(s->column_text(3));
        k.created_at = s->column_int64(4);
    }
    return out;
}

}  // namespace kasten::store
