#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "common/thread_annotations.h"
#include "llm/embedder.h"
#include "memory/hit_cache.h"
#include "memory/index_write_faults.h"
#include "memory/lexical_writer.h"
#include "memory/memory_types.h"
#include "memory/note_source_index.h"
#include "memory/repositories.h"
#include "memory/turn_place_index.h"
#include "retrieval/flat_vector_index.h"
#include "retrieval/lexical_index.h"
#include "store/records.h"

namespace kasten::memory {

// Keeps the derived indexes (Xapian lexical, Eigen vectors) in step with the store.
//
// Writers call the change methods (index_turn, add_session_terms, remove_…) from StoreWriter::commit's after()
// callback, so changes arrive in event order with their event's seq. Lexical changes go through a LexicalWriter
// (a background thread for on-disk stores); vector changes are applied at once. Readers call read_barrier() before a
// lexical search: every change acknowledged before it is then searchable.
//
// The lexical index's committed watermark is the seq of the last event whose changes it holds. recover() (at open)
// re-indexes exactly the units named by the events after it, so a restart costs what was lost, not what is stored.
//
// A lexical write or commit that fails (a full disk) makes the index dirty: the watermark stops advancing (Xapian
// drops every uncommitted change when a commit fails, so everything past the last good commit is suspect), a marker
// file records it across a crash, and the dirty listener is told. repair() re-indexes the units of every event
// after the committed watermark and commits; until it succeeds keyword search may miss them (health() says so).
// recover() at the next open repairs at the latest, comparing every unit id when the marker is present.
class IndexSync {
  public:
    // The metadata key under which the lexical index stores its watermark.
    static constexpr char kWatermarkKey[] = "kasten.event_seq";
    // The metadata key a repair commits first, to learn cheaply whether the disk has room again.
    static constexpr char kRepairProbeKey[] = "kasten.repair_probe";

    // `lexical` is the opened index (on disk or in memory); `background` runs its writer on a thread.
    // `dirty_marker` is the file that records a failed write across restarts ("" for in-memory stores); `faults`
    // (may be null) injects write failures.
    IndexSync(std::unique_ptr<retrieval::LexicalIndex> lexical, std::shared_ptr<const llm::Embedder> embedder,
              bool background, std::int64_t commit_every, std::string dirty_marker = {},
              std::shared_ptr<IndexWriteFaults> faults = nullptr, std::size_t hit_cache_bytes = 0);
    ~IndexSync();
    IndexSync(const IndexSync&) = delete;
    IndexSync& operator=(const IndexSync&) = delete;

    retrieval::LexicalIndex& lexical() { return *lexical_; }
    retrieval::FlatVectorIndex& vectors() { return vectors_; }
    // Every turn's place in its session (neighbour context), in step with the store like the other indexes.
    const TurnPlaceIndex& places() const { return places_; }
    // Every note's sources and validity (notes as keys), in step with the store like the other indexes.
    const NoteSourceIndex& note_sources() const { return note_sources_; }
    // What searches show of recently written or read units, in step with the store (puts and erases follow every
    // change); readers fill it on a miss (see HitCache for how they take its epoch first).
    HitCache& hits() { return hits_; }
    const std::string& embedder_id() const { return embedder_id_; }

    // ---- changes, in event order (call from StoreWriter::commit's after()) ----
    // `analysis` = LexicalIndex::analyze_text(t.content): the turn's lexical document, and the hit cache's term bag.
    void index_turn(const store::TurnRecord& t, retrieval::LexicalIndex::Analysis analysis, bool known_new,
                    std::int64_t seq);
    // Replaces (replace = true) or adds to the session's lexical document; sets its vector.
    void index_session(const store::SessionRecord& s, retrieval::LexicalIndex::Analysis analysis, bool replace,
                       bool known_new, std::int64_t seq);
    void index_note(const store::NoteRecord& n, bool known_new, std::int64_t seq);
    void remove_unit(const std::string& cube_id, retrieval::UnitType type, const std::string& id, std::int64_t seq);
    // Removes the session's documents and the vectors of the session and of `turn_ids` (its turns).
    void remove_session(const std::string& cube_id, const std::string& session_id,
                        const std::vector<std::string>& turn_ids, std::int64_t seq);
    void remove_cube(const std::string& cube_id, std::int64_t seq);
    // Rebuilds one cube's documents and vectors from the store (reindex). Waits for queued changes first; call under
    // the store writer's lock (StoreWriter::locked), so that no change is queued meanwhile.
    [[nodiscard]] Status rebuild_cube(Repositories& repos, const store::CubeRecord& cube, std::int64_t seq,
                                      std::int64_t* units);

    // Every change enqueued before this call is searchable when it returns.
    void read_barrier();
    // Every change to `cube_id` enqueued before this call is searchable when it returns (changes to other cubes may
    // still be queued).
    void read_barrier(const std::string& cube_id);
    // Makes the lexical index durable up to the newest change (flush, close).
    [[nodiscard]] Status commit();

    // ---- failed writes ----
    // True from a failed lexical write until repair() succeeds.
    bool dirty() const { return dirty_.load(); }
    IndexHealth health() EXCLUDES(mu_);
    // Called (from the thread whose write failed; it must not block) each time the index becomes dirty. Set once,
    // before any change.
    void set_dirty_listener(std::function<void()> listener) EXCLUDES(mu_);
    // Re-indexes from the store every unit named by an event after the committed watermark and commits; ok and
    // nothing done when the index is clean. Call under the store writer's lock (StoreWriter::locked).
    [[nodiscard]] Status repair(Repositories& repos) EXCLUDES(mu_);

    // ---- open ----
    // Re-indexes the units of the events after the committed watermark, loads every cube's vectors, and (verify)
    // repairs cubes whose counts disagree with the store. Call once, before any change.
    [[nodiscard]] Status recover(Repositories& repos, bool verify);
    // Loads the vectors only, leaving the lexical index as it is (inspection).
    [[nodiscard]] Status load_without_recovery(Repositories& repos);
    // Units re-indexed by recover().
    std::int64_t recovered_units() const { return recovered_units_; }

    // Every unit id of the store against both indexes, per cube and type: what each index lacks or has extra.
    Result<ConsistencyReport> consistency(Repositories& repos);

    // Cubes whose stored vectors come from another embedder: vector search on them is refused until reindexed.
    bool is_foreign(const std::string& cube_id) EXCLUDES(mu_);
    // kFailedPrecondition naming `kasten reindex` when the cube was embedded by another embedder.
    Status check_cube_embedder(const store::CubeRecord& cube) const;

    std::int64_t lexical_tasks_applied() { return writer_->applied(); }

  private:
    // Compares the cube's unit ids in the store, the lexical and the vector index; adds disagreements to `report`
    // (may be null) and, with `repair`, indexes what is missing and removes what is extra.
    Status compare_cube(Repositories& repos, const store::CubeRecord& cube, bool repair, ConsistencyReport* report,
                        std::int64_t* units) EXCLUDES(mu_);
    // Re-indexes the units named by the events after `watermark`; *max_seq = the newest event seen.
    Status replay_events(Repositories& repos, std::int64_t watermark, std::int64_t* max_seq, std::int64_t* units);
    void mark_dirty(const Status& error, std::int64_t seq) EXCLUDES(mu_);
    Status check_fault(const char* what);
    Status load_vectors(Repositories& repos, const store::CubeRecord& cube) EXCLUDES(mu_);
    Status rebuild_lexical(Repositories& repos, const std::string& cube_id, std::int64_t* units);
    Status reindex_session(Repositories& repos, const std::string& cube_id, const std::string& session_id,
                           std::int64_t* units);
    Status reindex_note(Repositories& repos, const std::string& cube_id, const std::string& note_id,
                        std::int64_t* units);
    void enqueue(LexicalWriter::Task task);

    std::unique_ptr<retrieval::LexicalIndex> lexical_;
    retrieval::FlatVectorIndex vectors_;
    TurnPlaceIndex places_;
    NoteSourceIndex note_sources_;
    HitCache hits_;
    std::shared_ptr<const llm::Embedder> embedder_;
    const std::string embedder_id_;
    std::unique_ptr<LexicalWriter> writer_;
    std::atomic<std::int64_t> last_enqueued_seq_{0};
    std::int64_t recovered_units_ = 0;
    const std::string dirty_marker_;
    const std::shared_ptr<IndexWriteFaults> faults_;
    std::atomic<bool> dirty_{false};

    Mutex mu_;
    std::set<std::string> foreign_cubes_ GUARDED_BY(mu_);
    IndexHealth health_ GUARDED_BY(mu_);
    std::int64_t first_failed_seq_ GUARDED_BY(mu_) = 0;  // the oldest event whose change may be lost
    std::function<void()> dirty_listener_ GUARDED_BY(mu_);
};

// The index attributes of each unit type.
retrieval::UnitAttrs turn_attrs(const store::TurnRecord& t);
retrieval::UnitAttrs session_attrs(const store::SessionRecord& s);
retrieval::UnitAttrs note_attrs(const store::NoteRecord& n);

}  // namespace kasten::memory
