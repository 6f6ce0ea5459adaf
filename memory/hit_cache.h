#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "retrieval/term_bag.h"

namespace kasten::memory {

// What a search shows of the units it returns, held in memory for the ones written or read recently, so that a
// search reads the store only on a miss: a turn's session, role, text and time, a session's external id, and a
// note's index text (note_index_text: what its calibrated score is computed on), and that a cube exists. Under constant
// writes every read transaction of a WAL store starts with a cold page cache, so these point reads were a fifth of a
// loaded server's CPU time.
//
// Bounded by `capacity_bytes` (keys and texts plus a fixed overhead per entry); the least recently used entries go
// first. Kept in step by IndexSync, in event order, after each commit: a unit written is put, one removed is erased.
//
// A reader that misses reads the store and may put what it read — unless the unit changed meanwhile, which would
// leave an old version cached. So a reader takes epoch(cube) *before* its store snapshot begins and puts with
// put_*_if(epoch, …): refused when any unit of the cube already in the store changed (put with `changed`, erased)
// since. Writes of new units do not move the epoch, so a cube that only grows keeps accepting what readers read.
//
// Thread safety: every method may be called from any thread.
class HitCache {
  public:
    struct Turn {
        std::string session_id;  // the store's session id
        std::string role;
        std::string content;
        TimeMs conv_time = 0;
        // LexicalIndex::analyze_text(content), packed, when the writer of the entry had it: which query terms the
        // turn holds, without analysing its text again. Shared: a reader's copy of the entry does not copy it.
        std::shared_ptr<const retrieval::TermBag> terms;
    };

    explicit HitCache(std::size_t capacity_bytes);
    HitCache(const HitCache&) = delete;
    HitCache& operator=(const HitCache&) = delete;

    // ---- readers ----
    bool has_cube(const std::string& cube_id) EXCLUDES(mu_);
    std::optional<Turn> turn(const std::string& cube_id, const std::string& turn_id) EXCLUDES(mu_);
    std::optional<std::string> session_external_id(const std::string& cube_id, const std::string& session_id)
        EXCLUDES(mu_);
    std::optional<std::string> note_text(const std::string& cube_id, const std::string& note_id) EXCLUDES(mu_);
    // The note's index text analysed and packed (LexicalIndex::analyze_text of note_text), when its entry holds
    // it; else null.
    std::shared_ptr<const retrieval::TermBag> note_terms(const std::string& cube_id, const std::string& note_id)
        EXCLUDES(mu_);

    // The cube's epoch: take it before the store snapshot a miss will read from begins.
    std::uint64_t epoch(const std::string& cube_id) EXCLUDES(mu_);
    // Puts what a reader read from the store, unless the cube's epoch moved past `epoch`. Returns whether it did
    // (false also for an entry larger than the cache).
    bool put_cube_if(std::uint64_t epoch, const std::string& cube_id) EXCLUDES(mu_);
    bool put_turn_if(std::uint64_t epoch, const std::string& cube_id, const std::string& turn_id, Turn turn)
        EXCLUDES(mu_);
    bool put_session_if(std::uint64_t epoch, const std::string& cube_id, const std::string& session_id,
                        std::string external_id) EXCLUDES(mu_);
    // `terms`: the text's packed analysis, or null.
    bool put_note_if(std::uint64_t epoch, const std::string& cube_id, const std::string& note_id, std::string text,
                     std::shared_ptr<const retrieval::TermBag> terms = nullptr) EXCLUDES(mu_);

    // ---- writers (IndexSync, after the commit) ----
    // `changed`: the unit was in the store before this write (an update), which moves the cube's epoch.
    void put_turn(const std::string& cube_id, const std::string& turn_id, Turn turn, bool changed) EXCLUDES(mu_);
    void put_session(const std::string& cube_id, const std::string& session_id, std::string external_id, bool changed)
        EXCLUDES(mu_);
    void put_note(const std::string& cube_id, const std::string& note_id, std::string text, bool changed,
                  std::shared_ptr<const retrieval::TermBag> terms = nullptr) EXCLUDES(mu_);
    void erase_turn(const std::string& cube_id, const std::string& turn_id) EXCLUDES(mu_);
    void erase_session(const std::string& cube_id, const std::string& session_id) EXCLUDES(mu_);
    void erase_note(const std::string& cube_id, const std::string& note_id) EXCLUDES(mu_);
    // Every entry of the cube, its own included (the cube removed, re-indexed or restored).
    void erase_cube(const std::string& cube_id) EXCLUDES(mu_);

    // ---- metrics and tests ----
    // Reader lookups that found their entry, and that did not (since construction).
    std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
    std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
    std::size_t bytes() EXCLUDES(mu_);
    std::size_t entries() EXCLUDES(mu_);
    std::size_t capacity_bytes() const { return capacity_; }

  private:
    enum class Kind : char { kCube = 'c', kTurn = 't', kSession = 's', kNote = 'n' };
    struct Entry {
        std::string key;
        std::string cube_id;
        Turn turn;         // kTurn; kNote: `terms` alone
        std::string text;  // kSession: the external id; kNote: the index text
        std::size_t bytes = 0;
    };
    using List = std::list<Entry>;

    static std::string key_of(Kind kind, const std::string& cube_id, const std::string& id);
    // key_of in a per-thread buffer (valid until the thread's next lookup_key): for lookups.
    static const std::string& lookup_key(Kind kind, const std::string& cube_id, const std::string& id);
    std::optional<List::iterator> find_locked(const std::string& key) REQUIRES(mu_);
    std::optional<std::string> text_of(Kind kind, const std::string& cube_id, const std::string& id) EXCLUDES(mu_);
    // False when the entry is larger than the whole cache (then no version of it is kept).
    bool put_locked(Kind kind, const std::string& cube_id, const std::string& id, Turn turn, std::string text)
        REQUIRES(mu_);
    void erase_locked(Kind kind, const std::string& cube_id, const std::string& id) REQUIRES(mu_);
    void bump_locked(const std::string& cube_id) REQUIRES(mu_);
    bool fresh_locked(std::uint64_t epoch, const std::string& cube_id) REQUIRES(mu_);

    const std::size_t capacity_;
    std::atomic<std::uint64_t> hits_{0};
    std::atomic<std::uint64_t> misses_{0};
    Mutex mu_;
    List lru_ GUARDED_BY(mu_);  // most recently used first
    std::unordered_map<std::string, List::iterator> by_key_ GUARDED_BY(mu_);
    std::size_t bytes_ GUARDED_BY(mu_) = 0;
    // Per cube, the value of `clock_` at its last change (absent: 0). Entries are never removed, so an epoch a
    // reader took can never come back after the cube is removed and created again.
    std::unordered_map<std::string, std::uint64_t> epochs_ GUARDED_BY(mu_);
    std::uint64_t clock_ GUARDED_BY(mu_) = 0;
};

}  // namespace kasten::memory
