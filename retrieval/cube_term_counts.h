#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kasten::retrieval {

// Per cube and part (the lexical index's database of one unit type): the part's document count and the number of
// its documents holding each term asked for so far, exact for the cube's latest state whenever no write to the cube
// is in progress, so that searches count each query term once instead of intersecting the term's postings with the
// cube's (O(postings) when the database holds other cubes), also while the cube is being written. Writes keep the
// counts held exact: a new document adds itself (add_document), any other change drops the cube's counts
// (invalidate). Every write also bumps the cube's generation first (begin_change), and counts read at an older
// generation are never stored, so a count read beside a write cannot be stored stale.
// Terms are index terms as LexicalIndex::analyze() yields them (never filter terms, which add_document does not see).
// Memory: at most kMaxEntries term counts, past which every count is freed. Thread-safe (one mutex, short sections).
class CubeTermCounts {
  public:
    // `parts` > 0: the part numbers are 0 .. parts - 1.
    explicit CubeTermCounts(std::size_t parts) : parts_(parts) {}

    // What is held for one part of a cube: a count per term, or nothing.
    struct Lookup {
        std::uint64_t generation = 0;
        std::optional<std::uint64_t> documents;
        std::vector<std::optional<std::uint64_t>> frequencies;  // parallel to the terms asked for
    };
    Lookup find(const std::string& cube_id, std::size_t part, const std::vector<std::string>& terms);

    // Records counts read at `generation` (from find()); ignored when the cube changed since.
    void store(const std::string& cube_id, std::size_t part, std::uint64_t generation, std::uint64_t documents,
               const std::vector<std::string>& terms, const std::vector<std::uint64_t>& frequencies);

    // A write to the cube begins: counts read before now are not stored; the counts held stay (the write reports
    // its effect by add_document or invalidate when it is done). O(1).
    void begin_change(const std::string& cube_id);
    // The write added `terms` (distinct) to `part`: to a new document (`new_document`: the part's document count
    // grows by one) or to an existing one that lacked each of them.
    void add_document(const std::string& cube_id, std::size_t part, const std::vector<std::string_view>& terms,
                      bool new_document);
    // The cube changed in a way not reported by add_document (or is about to): its counts are dropped, and counts
    // read before now are not stored. O(1) plus the counts freed.
    void invalidate(const std::string& cube_id);
    // Every cube changed (e.g. uncommitted changes were dropped).
    void invalidate_all();

  private:
    static constexpr std::size_t kMaxEntries = 1 << 20;
    struct Part {
        std::optional<std::uint64_t> documents;
        std::unordered_map<std::string, std::uint64_t> frequencies;
    };
    struct Cube {
        std::uint64_t generation = 1;  // bumped by every change
        std::vector<Part> parts;
    };

    // The cube's entry, created (at generation 1, with parts_ empty parts) when first seen. Callers hold mu_.
    Cube& cube(const std::string& cube_id);
    // Frees a cube's counts. Callers hold mu_.
    void drop_counts(Cube& cube);

    const std::size_t parts_;
    std::mutex mu_;
    std::unordered_map<std::string, Cube> cubes_;  // guarded by mu_
    std::size_t entries_ = 0;                      // guarded by mu_: term counts held
};

}  // namespace kasten::retrieval
