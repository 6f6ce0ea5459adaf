#include "memory/note_source_index.h"

#include <mutex>

namespace kasten::memory {

store::NoteSourcesRecord NoteSourceIndex::sources_of(const store::NoteRecord& note) {
    store::NoteSourcesRecord r;
    r.id = note.id;
    r.status = note.status;
    r.valid_from = note.valid_from;
    r.valid_to = note.valid_to;
    r.recorded_at = note.recorded_at;
    r.source_turn_ids = note.source_turn_ids;
    return r;
}

void NoteSourceIndex::put(const std::string& cube_id, store::NoteSourcesRecord note) {
    if (note.status == store::NoteStatus::kDeleted) {
        remove(cube_id, note.id);
        return;
    }
    auto entry = std::make_shared<const store::NoteSourcesRecord>(std::move(note));
    std::unique_lock lock(mu_);
    cubes_[cube_id][entry->id] = std::move(entry);
}

void NoteSourceIndex::remove(const std::string& cube_id, const std::string& note_id) {
    std::unique_lock lock(mu_);
    auto cube = cubes_.find(cube_id);
    if (cube == cubes_.end()) return;
    cube->second.erase(note_id);
    if (cube->second.empty()) cubes_.erase(cube);
}

void NoteSourceIndex::reset_cube(const std::string& cube_id, std::vector<store::NoteSourcesRecord> notes) {
    std::unordered_map<std::string, Entry> fresh;
    fresh.reserve(notes.size());
    for (auto& n : notes) {
        if (n.status == store::NoteStatus::kDeleted) continue;
        auto entry = std::make_shared<const store::NoteSourcesRecord>(std::move(n));
        fresh[entry->id] = std::move(entry);
    }
    std::unique_lock lock(mu_);
    if (fresh.empty()) {
        cubes_.erase(cube_id);
    } else {
        cubes_[cube_id] = std::move(fresh);
    }
}

void NoteSourceIndex::remove_cube(const std::string& cube_id) {
    std::unique_lock lock(mu_);
    cubes_.erase(cube_id);
}

std::vector<NoteSourceIndex::Entry> NoteSourceIndex::get_many(const std::string& cube_id,
                                                              const std::vector<std::string>& ids) const {
    std::vector<Entry> out(ids.size());
    std::shared_lock lock(mu_);
    auto cube = cubes_.find(cube_id);
    if (cube == cubes_.end()) return out;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto it = cube->second.find(ids[i]);
        if (it != cube->second.end()) out[i] = it->second;
    }
    return out;
}

std::size_t NoteSourceIndex::size(const std::string& cube_id) const {
    std::shared_lock lock(mu_);
    auto cube = cubes_.find(cube_id);
    return cube == cubes_.end() ? 0 : cube->second.size();
}

}  // namespace kasten::memory
