#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "memory/embedding_background.h"
#include "memory/hit_reader.h"
#include "memory/memory_context.h"
#include "memory/query_time_windows.h"
#include "memory/repositories.h"
#include "memory/score_calibrator.h"
#include "retrieval/fusion.h"
#include "retrieval/unit.h"

namespace kasten::memory {

// Answers searches: candidates from the lexical and vector indexes, fused, boosted by the times a query names, with
// notes as extra keys of turns and sessions, and (note granularity) MemoryBank retention and link expansion.
// Hits are ranked by the fused score (SearchHit::rank_score) and scored by ScoreCalibrator (SearchHit::score), the
// score min_score compares against.
// Pure reads: what a search shows of its units comes from the hit cache (HitCache) where it can, and the rest from
// at most one reader-pool lease in one read transaction (one committed state of the store, and one check of the
// write-ahead log: a reader's page cache is dropped when the log changed since its last transaction), taken only on
// the first miss (LazyLease, through HitReader); the recalls a note search makes are queued (RecallQueue), not
// written. Thread-safe. Nothing called with a search's HitReader may take another lease (an in-memory store's lease
// holds the writer's lock).
class Searcher {
  public:
    explicit Searcher(MemoryContext& ctx) : ctx_(ctx), background_(ctx.embedder) {}

    Result<std::vector<SearchHit>> search(const SearchRequest& request);

    // Hybrid candidates of one unit type for pre-analysed index terms and a query vector (no query parsing): note
    // jobs' neighbour search.
    Result<std::vector<retrieval::FusedHit>> hybrid_candidates(const std::vector<std::string>& terms,
                                                               const std::vector<float>& query_vector,
                                                               const retrieval::SearchFilter& filter, int pool);

  private:
    using ListFn = std::function<Result<std::vector<retrieval::ScoredId>>()>;
    // Runs the lexical and the vector search (an empty function: that list stays empty), both at once when the
    // context's IdleHelper is free; the first error of the two.
    Status both_lists(const ListFn& lexical, const ListFn& vector, std::vector<retrieval::ScoredId>& lex,
                      std::vector<retrieval::ScoredId>& vec);
    Result<std::vector<retrieval::FusedHit>> candidates(std::string_view text, const std::vector<float>* query_vector,
                                                        const retrieval::SearchFilter& filter, Retriever retriever,
                                                        int pool);
    Result<std::vector<retrieval::FusedHit>> fuse(const std::vector<retrieval::ScoredId>& lex,
                                                  const std::vector<retrieval::ScoredId>& vec, int pool) const;
    Status boost_in_windows(std::vector<retrieval::FusedHit>& fused, std::string_view query,
                            const std::vector<float>* query_vector, const retrieval::SearchFilter& filter,
                            Retriever retriever, int pool, const std::vector<TimeWindow>& windows);
    // Multi-part questions (MemoryOptions::subquery_weight): each part of the query is searched under `filter` and
    // its normalised scores, weighted, are added to `fused`.
    Status add_subqueries(const SearchRequest& req, const retrieval::SearchFilter& filter, int pool,
                          std::vector<retrieval::FusedHit>& fused);
    // Turns and sessions lend each other context (MemoryOptions::turn_context_weight, session_context_weight,
    // turn_rollup_weight): adds the credit to `fused`, the candidates of `req`'s granularity (turn or session).
    Status lend_context(const SearchRequest& req, const retrieval::SearchFilter& filter,
                        const std::vector<float>* query_vector, int pool, const std::vector<TimeWindow>& windows,
                        std::vector<retrieval::FusedHit>& fused);
    // A second hop (MemoryOptions::second_hop_weight, memory/aspect_coverage.h) for the query aspects the top of
    // `fused`, the turn or session candidates of `req`, leaves out. In memory/searcher_multi_key.cc.
    Status second_hop(const SearchRequest& req, const retrieval::SearchFilter& filter, int pool,
                      std::vector<retrieval::FusedHit>& fused, HitReader& reads);
    // The windows of the times `req` names relative to an event or a date (MemoryOptions::event_anchor_weight,
    // memory/event_anchor.h); an event's time is that of the best turn of a search for its phrase in the cube, among
    // turns up to `query_time` (memory/searcher_multi_key.cc).
    Result<std::vector<TimeWindow>> event_windows(const SearchRequest& req, TimeMs query_time, HitReader& reads);
    Result<std::vector<SearchHit>> note_hits(const SearchRequest& req, std::vector<retrieval::FusedHit> fused,
                                             const ScoreCalibrator& calibrator, const std::vector<float>& query_vector,
                                             HitReader& reads);
    // The calibrator of `req`'s scores for units of `type`: its idf weights read the statistics that type's lexical
    // ranking reads (LexicalIndex::term_counts with the type).
    Result<ScoreCalibrator> calibrator_for(const SearchRequest& req, retrieval::UnitType type,
                                           const std::vector<float>& query_vector);
    // The calibrated score of one indexed unit whose index document is `analysis`.
    Result<double> calibrated(const ScoreCalibrator& calibrator, const std::vector<float>& query_vector,
                              const std::string& cube_id, retrieval::UnitType type, const std::string& id,
                              const retrieval::LexicalIndex::Analysis& analysis);

    MemoryContext& ctx_;
    EmbeddingBackground background_;
};

// Whether a note is visible to a search: current active notes by default; as of a world time, the notes whose
// validity interval [valid_from, valid_to) holds it (valid_from defaults to recorded_at), superseded ones included.
bool note_visible(const store::NoteRecord& n, const std::optional<TimeMs>& as_of);
bool note_visible(const store::NoteSourcesRecord& n, const std::optional<TimeMs>& as_of);

}  // namespace kasten::memory
