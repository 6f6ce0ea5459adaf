#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/records.h"

namespace kasten::memory {

// Every note's sources and validity (store::NoteSourcesRecord: what a search needs to credit the note's source turns
// and to decide whether it is visible), held in memory so that a search with notes as keys reads no store row per
// candidate note: derived data, rebuilt from the store at open and kept in step by IndexSync like the other indexes.
// It holds every note that is not deleted, whatever its embedding (foreign cubes included).
//
// Memory: about 250 bytes per note with one source turn. Thread safety: any number of concurrent readers with one
// writer at a time; the records handed out are immutable and stay valid after a change replaces them.
class NoteSourceIndex {
  public:
    using Entry = std::shared_ptr<const store::NoteSourcesRecord>;

    // The record of a note as stored (its id, status, validity and sources).
    static store::NoteSourcesRecord sources_of(const store::NoteRecord& note);

    // Adds or replaces a note; a deleted note (status kDeleted) is removed instead.
    void put(const std::string& cube_id, store::NoteSourcesRecord note);
    // Removes a note; removing a missing one is a no-op.
    void remove(const std::string& cube_id, const std::string& note_id);
    // Replaces a cube's notes (open, reindex); deleted ones are left out.
    void reset_cube(const std::string& cube_id, std::vector<store::NoteSourcesRecord> notes);
    void remove_cube(const std::string& cube_id);

    // The records of `ids` in the cube, in the order of `ids`: null where the cube holds no such note.
    std::vector<Entry> get_many(const std::string& cube_id, const std::vector<std::string>& ids) const;
    // Notes of one cube (tests, consistency checks).
    std::size_t size(const std::string& cube_id) const;

  private:
    mutable std::shared_mutex mu_;
    std::unordered_map<std::string, std::unordered_map<std::string, Entry>> cubes_;
};

}  // namespace kasten::memory
