#include "memory/hit_reader.h"

#include <utility>

#include "memory/note_text.h"

namespace kasten::memory {

HitReader::HitReader(HitCache& cache, LazyLease& store, std::string cube_id, std::uint64_t epoch)
    : cache_(cache), store_(store), cube_id_(std::move(cube_id)), epoch_(epoch) {}

Status HitReader::cube_exists() {
    if (cache_.has_cube(cube_id_)) return Status::ok();
    KASTEN_ASSIGN_OR_RETURN(Repositories * store, store_.get());
    KASTEN_RETURN_IF_ERROR(store->cubes.get(cube_id_).status());
    cache_.put_cube_if(epoch_, cube_id_);
    return Status::ok();
}

Result<std::optional<HitCache::Turn>> HitReader::turn(const std::string& turn_id) {
    if (auto cached = cache_.turn(cube_id_, turn_id)) return cached;
    KASTEN_ASSIGN_OR_RETURN(Repositories * store, store_.get());
    auto t = store->turns.get(cube_id_, turn_id);
    if (!t) return std::optional<HitCache::Turn>();
    auto terms = std::make_shared<const retrieval::TermBag>(
        retrieval::TermBag::of(retrieval::LexicalIndex::analyze_text(t->content)));
    HitCache::Turn turn{std::move(t->session_id), std::move(t->role), std::move(t->content), t->conv_time,
                        std::move(terms)};
    cache_.put_turn_if(epoch_, cube_id_, turn_id, turn);
    return std::optional<HitCache::Turn>(std::move(turn));
}

Result<std::optional<std::string>> HitReader::session_external_id(const std::string& session_id) {
    if (auto cached = cache_.session_external_id(cube_id_, session_id)) return cached;
    KASTEN_ASSIGN_OR_RETURN(Repositories * store, store_.get());
    auto s = store->sessions.get(cube_id_, session_id);
    if (!s) return std::optional<std::string>();
    cache_.put_session_if(epoch_, cube_id_, session_id, s->external_id);
    return std::optional<std::string>(std::move(s->external_id));
}

Result<std::shared_ptr<const retrieval::TermBag>> HitReader::note_terms(const std::string& note_id) {
    if (auto cached = cache_.note_terms(cube_id_, note_id)) return cached;
    std::string text;
    if (auto cached = cache_.note_text(cube_id_, note_id)) {
        text = std::move(*cached);  // an entry put without its analysis
    } else {
        KASTEN_ASSIGN_OR_RETURN(Repositories * store, store_.get());
        auto n = store->notes.get(cube_id_, note_id);
        if (!n) return std::shared_ptr<const retrieval::TermBag>();
        text = note_index_text(*n);
    }
    auto terms =
        std::make_shared<const retrieval::TermBag>(retrieval::TermBag::of(retrieval::LexicalIndex::analyze_text(text)));
    cache_.put_note_if(epoch_, cube_id_, note_id, std::move(text), terms);
    return terms;
}

}  // namespace kasten::memory
