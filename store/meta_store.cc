#include "store/meta_store.h"

#include "store/database.h"

namespace kasten::store {

Result<std::optional<std::string>> MetaStore::get(const std::string& key) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT value FROM meta WHERE key = ?1"));
    s->bind_text_ref(1, key);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(s->column_string(0));
}

Status MetaStore::set(const std::string& key, const std::string& value) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("INSERT INTO meta (key, value) VALUES (?1, ?2) "
                                                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
    s->bind_text_ref(1, key);
    s->bind_text_ref(2, value);
    return s->run();
}

}  // namespace kasten::store
