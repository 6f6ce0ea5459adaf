#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "retrieval/unit.h"

namespace kasten::retrieval {

// A BM25 full-text index over units (turns, sessions, notes), backed by Xapian 1.4 on disk; in memory by postings of
// our own that rank as Xapian does (in_memory()).
//
// One document per (cube, type, id). Text is analysed once, the same way at index and query time: Unicode words
// (CJK as n-grams), lower-cased, English stopwords dropped (a 174-word Snowball list), every word reduced to its
// Snowball English stem (Xapian STEM_ALL); no positions are kept. Cube, type, role and session are boolean filter
// terms and the unit's time is a sortable value, so every SearchFilter runs inside Xapian. The index is derived data:
// it can always be rebuilt from the store.
//
// Isolation: each unit type has its own Xapian database (on disk, a subdirectory named after the type). Turn and
// session searches rank by their own type's BM25 statistics (document count, average length, term frequencies) only,
// so adding or removing notes never changes a turn or session score, nor do sessions change turn scores or turns
// session scores. Note searches rank by the statistics of all three types together (a note is a key to the
// conversation: its words weigh what they weigh in the whole cube), as one index would. (Cubes of one type share
// their statistics.)
//
// Durability: changes are visible to search() at once, and durable only after commit() (Xapian also flushes each
// database on its own every 10,000 changes). Callers batch: never commit per document.
//
// Thread safety: all methods may be called concurrently; they are serialised by an internal mutex, except reads of
// the committed state (ReadFrom::kCommitted), which run beside writes and each other.
// No method throws: every Xapian error becomes a Status.
class LexicalIndex {
  public:
    // The analysed form of a text: its index terms with their within-document frequencies, sorted by term.
    // Built without touching any index, so callers analyse outside their locks (thread-safe) and merge analyses
    // (a session's document is the sum of its turns') instead of re-tokenising text.
    struct Analysis {
        std::vector<std::pair<std::string, std::uint32_t>> terms;  // (stem, wdf), ascending by stem, wdf >= 1
    };
    // Analyses `text` exactly as upsert() would. Thread-safe. Most text goes through split_index_words
    // (retrieval/word_splitter.h); the rest (CJK, invalid UTF-8) through Xapian's TermGenerator.
    static Analysis analyze_text(std::string_view text);
    // The same through Xapian's TermGenerator for any text: the reference analyze_text must equal.
    static Analysis analyze_text_reference(std::string_view text);
    // analyze_text(text) restricted to `terms` (any order; duplicates count once): what a search needs to check
    // which query terms a unit holds, without sorting or keeping the rest of the text's terms.
    static Analysis analyze_text_among(std::string_view text, const std::vector<std::string>& terms);
    // The term-wise sum of `parts`.
    static Analysis merge(const std::vector<const Analysis*>& parts);

    // Opens (creating if missing, including parent directories) an on-disk index in `dir`. An index of the
    // version-1 layout (one database for all unit types, directly in `dir`) is migrated first, with a log line:
    // its documents and metadata are copied into the per-type databases and its files deleted; an interrupted
    // migration starts over at the next open.
    // kBusy if another process (or another LexicalIndex in this process) holds the write lock,
    // kCorruption if a database is damaged or of an unsupported version or layout, kIOError otherwise.
    [[nodiscard]] static Result<std::unique_ptr<LexicalIndex>> open(const std::string& dir);
    // A fresh in-memory index (evaluation runs, tests, in-memory stores); commit() only publishes its metadata.
    // kPostings (the default) keeps each part in a MemoryPostings (retrieval/memory_postings.h): the same documents,
    // statistics and BM25 ranking as Xapian's in-memory backend (kXapian, the reference), at a fraction of the cost of
    // its writes. Queries are parsed by Xapian's QueryParser either way; a parsed query with an operator the postings
    // do not evaluate (none that the parser builds with this index's flags) is searched as an OR of its terms.
    enum class InMemoryEngine { kPostings, kXapian };
    static std::unique_ptr<LexicalIndex> in_memory(InMemoryEngine engine = InMemoryEngine::kPostings);

    ~LexicalIndex();
    LexicalIndex(const LexicalIndex&) = delete;
    LexicalIndex& operator=(const LexicalIndex&) = delete;

    // Inserts or replaces the document of (attrs.cube_id, attrs.type, attrs.id).
    // kInvalidArgument if cube_id or id is empty.
    // With known_new the caller guarantees no document of this unit exists (see upsert_analyzed).
    [[nodiscard]] Status upsert(const UnitAttrs& attrs, std::string_view text, bool known_new = false);
    // Inserts or replaces the document of attrs with pre-analysed terms. With merge_existing, the terms of the
    // document currently stored under the same unit (if any) are added to `analysis` first (appending turns to a
    // session's document without re-reading its text).
    // With known_new the caller guarantees no document of this unit exists (a freshly generated id): the existence
    // lookup is skipped, which saves a B-tree probe per document on the ingest path.
    [[nodiscard]] Status upsert_analyzed(const UnitAttrs& attrs, const Analysis& analysis, bool merge_existing = false,
                                         bool known_new = false);
    // Removes one document; removing a missing one is ok.
    [[nodiscard]] Status remove(const std::string& cube_id, UnitType type, const std::string& id);
    // Removes every document of one session of the cube: its turns and its session document.
    [[nodiscard]] Status remove_session(const std::string& cube_id, const std::string& session_id);
    // Removes every document of the cube (all types).
    [[nodiscard]] Status remove_cube(const std::string& cube_id);

    // The best `k` units of filter.cube_id / filter.type for `query`, by BM25 (Xapian BM25Weight defaults; score =
    // BM25 weight, descending; ties by insertion order). Any text is accepted: terms are ORed; Xapian's boolean syntax
    // (AND/OR/NOT/XOR in capitals, brackets, +word/-word) is honoured when it is well formed (balanced, non-empty
    // brackets; every operator between two operands), otherwise the query is an OR of its words; quotes are ignored
    // (no positions), and so are NEAR and ADJ: a query naming them is an OR of its words. Queries over 4 KiB are always
    // an OR of their first 256 distinct words. Empty or stopword-only queries, and k <= 0, give an empty list.
    // kInvalidArgument on an empty filter.cube_id.
    //
    // `from` picks how the index is read. kLatest: under the index's lock, so a search waits for a write in progress
    // (and a commit can take a while). kCommittedIfClean: when no change to filter.cube_id is uncommitted, the last
    // commit is read through one of a few read-only handles that never wait for writes: the cube's documents are the
    // same, only the collection statistics its BM25 weights share with the other cubes of the database may lack their
    // uncommitted changes. Otherwise (or when the handles are busy, or for an in-memory index) as kLatest.
    enum class ReadFrom { kLatest, kCommittedIfClean };
    // BM25's parameters for search() and search_terms() (Xapian::BM25Weight; k2 = 0, k3 = 1, min_normlen = 0.5):
    // k1 >= 0 saturates a term's within-document frequency, b in [0, 1] normalises by document length. Xapian's
    // defaults (1, 0.5) until set. kInvalidArgument outside those ranges. Thread-safe; searches already running keep
    // the values they started with.
    struct Bm25Params {
        double k1 = 1.0;
        double b = 0.5;
    };
    [[nodiscard]] Status set_bm25(const Bm25Params& params);
    Bm25Params bm25() const;
    [[nodiscard]] Result<std::vector<ScoredId>> search(std::string_view query, const SearchFilter& filter, int k,
                                                       ReadFrom from = ReadFrom::kLatest) const;
    // The same ranking for an OR of index terms as analyze() yields them (no query parsing; its first 256 terms).
    [[nodiscard]] Result<std::vector<ScoredId>> search_terms(const std::vector<std::string>& terms,
                                                             const SearchFilter& filter, int k,
                                                             ReadFrom from = ReadFrom::kLatest) const;

    // Makes all changes (documents and metadata) durable: commits the turn, session and note databases in that order,
    // stopping at the first failure (which drops the metadata written since the last commit, and reopens the
    // databases at their last commit before the lock is released, as reopen() does). For in-memory indexes only the
    // metadata is affected.
    [[nodiscard]] Status commit();

    // Drops the handle and opens the on-disk database again at its last commit, so the index is usable after a
    // failed write (Xapian discards the uncommitted changes then, or closes the database). Changes not yet committed
    // may be committed or lost. No-op for in-memory indexes.
    [[nodiscard]] Status reopen();

    // Index-level key/value metadata (e.g. the embedder id or schema version the index was built with).
    // Written to every type's database by the next commit(); dropped by a failed commit() and by reopen().
    // kInvalidArgument for an empty key or a key longer than 200 bytes.
    [[nodiscard]] Status set_metadata(const std::string& key, const std::string& value);
    // The value of `key` ("" when unset: Xapian does not distinguish an empty value from an unset key): the value
    // set since the last commit, else the value the note database, committed last, holds. So a value read from disk
    // was committed together with every type's changes made before it was set, even after a crash or a failure
    // between the databases' commits (a watermark read back never overstates what the index holds).
    [[nodiscard]] Result<std::string> metadata(const std::string& key) const;

    // Number of documents of all cubes and types, exact and O(1).
    [[nodiscard]] Result<std::uint64_t> total_documents() const;
    // Number of documents of one cube and type, exact.
    [[nodiscard]] Result<std::uint64_t> count(const std::string& cube_id, UnitType type) const;
    // Ids of all documents of one cube and type, sorted ascending (consistency checks; O(n)).
    [[nodiscard]] Result<std::vector<std::string>> ids(const std::string& cube_id, UnitType type) const;

    // Documents of the cube (all unit types) and, for each of `terms` (index terms as analyze() yields them), how
    // many of those documents contain it. Exact (the latest state). kInvalidArgument on an empty cube_id.
    //
    // Counts are remembered per cube, part and term once read (a term is counted from Xapian's own statistics when a
    // type's database holds only this cube, else by one filtered walk of its postings) and kept exact through
    // upserts: a new document, or terms merged into a session's document, add themselves; any other change (a
    // replacement, a removal, a failed or dropped write) forgets the cube's counts.
    struct TermCounts {
        std::uint64_t documents = 0;
        std::vector<std::uint64_t> frequencies;  // parallel to `terms`
    };
    [[nodiscard]] Result<TermCounts> term_counts(const std::string& cube_id,
                                                 const std::vector<std::string>& terms) const;
    // The statistics searches of `type` rank by (see Isolation above): the cube's documents of that type only for
    // turns and sessions, of every type for notes. kLatest: exact for the latest state (under the index's lock when
    // a count is not remembered). kCommittedIfClean: remembered counts without waiting for writes (exact but for a
    // write in progress); counts not remembered are read from the last commit when the cube has no uncommitted
    // change, else as kLatest.
    [[nodiscard]] Result<TermCounts> term_counts(const std::string& cube_id, UnitType type,
                                                 const std::vector<std::string>& terms,
                                                 ReadFrom from = ReadFrom::kLatest) const;

    // Changes (upserts, removes, metadata writes) since the last commit().
    std::uint64_t pending_changes() const;
    // Reads (searches, term counts) served from the committed state since open (tests and metrics).
    std::uint64_t committed_reads() const;

    // The index terms `text` yields: lower-cased, stopwords dropped, Snowball-English stemmed, distinct, in order of
    // first occurrence. Pure and thread-safe; for query analysis and keyword extraction.
    static std::vector<std::string> analyze(std::string_view text);
    // The same through Xapian's TermGenerator and Stem for any text: the reference analyze() must equal.
    static std::vector<std::string> analyze_reference(std::string_view text);

  private:
    struct Impl;
    explicit LexicalIndex(std::unique_ptr<Impl> impl);
    // reopen() and commit()'s failure path, under the write lock.
    Status reopen_locked();
    void reopen_after_failed_commit();
    // Runs the text query make_text() builds (under the lock) within `filter`; defined and used in the .cc only.
    template <typename MakeQuery>
    Result<std::vector<ScoredId>> run_search(const SearchFilter& filter, int k, ReadFrom from,
                                             MakeQuery make_text) const;
    // term_counts() over the parts [first, last) (UnitType values).
    Result<TermCounts> part_counts(const std::string& cube_id, std::size_t first, std::size_t last,
                                   const std::vector<std::string>& terms, ReadFrom from) const;
    std::unique_ptr<Impl> impl_;
};

}  // namespace kasten::retrieval
