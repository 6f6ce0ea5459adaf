#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "eval/kasten_retriever_spec.h"
#include "eval/search_tuning.h"
#include "eval/longmemeval_corpus.h"
#include "eval/longmemeval_question.h"
#include "llm/embedder.h"
#include "memory/memory_manager.h"

namespace kasten::eval {

// A ranking of a question's official corpus by one of kasten's retrievers.
struct KastenRanking {
    // Corpus document indices, best first: first the documents the retriever returned (in its order), then every
    // other document in corpus order, so the ranking covers the corpus like the official retrievers' rankings do.
    std::vector<int> ranking;
    int retrieved = 0;  // how many leading entries came from the retriever
};

// One LongMemEval question's haystack ingested into a fresh in-memory MemoryManager (SQLite :memory:, in-memory
// Xapian), through the same add_messages the server uses: sessions in date order, each with its haystack date as the
// time of its messages, one MemoryManager session per haystack position (session id = the haystack id restricted to
// [A-Za-z0-9._:-], made unique with ":<position>" when a haystack repeats an id). Keeps the maps from kasten's session
// and turn ids back to haystack positions. Not thread-safe: one instance per worker and question.
class KastenHaystack {
  public:
    // kInvalidArgument for an unparseable haystack date (naming the question); MemoryManager errors otherwise.
    // With `notes` (builder set), every session's notes are built after ingest (notes_seconds() says how long).
    [[nodiscard]] static Result<std::unique_ptr<KastenHaystack>> ingest(const LongMemEvalQuestion& question,
                                                                        std::shared_ptr<const llm::Embedder> embedder,
                                                                        const NoteBuilding& notes = {},
                                                                        const SearchTuning& tuning = {});

    // Ranks `corpus` (built from the same question) with `retriever` for `query`: session documents from session
    // hits, turn documents from turn hits restricted to user turns (assistant turns are not official documents).
    [[nodiscard]] Result<KastenRanking> rank(const KastenRetrieverSpec& retriever, const std::string& query,
                                             const OfficialCorpus& corpus);

    // The packed context (memory::ContextBuilder) for `request` in this haystack's cube (cube id and, unless set,
    // query time are filled in). Empty haystack: an "empty" context.
    [[nodiscard]] Result<memory::PackedContext> build_context(memory::ContextRequest request);
    // The top `k` sessions of hybrid search (with note keys) for `query`, as haystack positions, best first.
    [[nodiscard]] Result<std::vector<int>> top_sessions(const std::string& query, int k);
    // Haystack position of a kasten session id / (session, turn) position of a kasten turn id; -1 / {-1,-1} if
    // unknown.
    int session_position(const std::string& session_id) const;
    std::pair<int, int> turn_position(const std::string& turn_id) const;

    // Building the notes: the whole note jobs (construction, deduplication, embedding, linking, storage, indexing),
    // and construction alone (the note builder's share of it).
    double notes_seconds() const { return notes_seconds_; }
    double notes_construction_seconds() const { return notes_construction_seconds_; }
    std::int64_t notes_built() const { return notes_built_; }

    // The MemoryManager session id used for an official id: characters outside [A-Za-z0-9._:-] become '_', cut to
    // 100 bytes, "_" when empty.
    static std::string sanitize_session_id(std::string_view official_id);

  private:
    struct TurnPosition {
        int session_index = 0;
        int turn_index = 0;
    };
    KastenHaystack() = default;

    std::unique_ptr<memory::MemoryManager> manager_;
    std::optional<TimeMs> query_time_;  // the question date: relative dates in the question resolve against it
    double notes_seconds_ = 0;
    double notes_construction_seconds_ = 0;
    std::int64_t notes_built_ = 0;
    std::unordered_map<std::string, int> session_index_;           // kasten session id -> haystack position
    std::unordered_map<std::string, TurnPosition> turn_position_;  // kasten turn id -> position
};

}  // namespace kasten::eval
