#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "eval/kasten_haystack.h"
#include "eval/kasten_retriever_spec.h"
#include "eval/search_tuning.h"
#include "llm/embedder.h"
#include "memory/memory_manager.h"

namespace kasten::eval {

// One turn of a benchmark conversation, as kasten stores it.
struct DialogueTurn {
    std::string role;     // user | assistant | system | tool
    std::string content;  // may be empty (then it is not stored and ranks after every retrieved turn)
};

// One session of a benchmark conversation.
struct DialogueSession {
    std::string id;  // unique within the conversation; [A-Za-z0-9._:-]{1,100}
    TimeMs time = 0;
    std::vector<DialogueTurn> turns;
};

// A LoCoMo or ConvoMem conversation ingested into a fresh in-memory MemoryManager (SQLite :memory:, in-memory
// Xapian) through add_messages, the server's own write path: sessions in the given order, each message with its
// session's time. Rankings cover every turn (flat index: session by session, turn by turn) or every session: first
// what the retriever returned, then the rest in conversation order (KastenRanking). Thread-safe after ingest()
// (MemoryManager is; the id maps are read-only).
class DialogueHaystack {
  public:
    // kInvalidArgument for a session id that MemoryManager rejects or repeats; MemoryManager errors otherwise.
    [[nodiscard]] static Result<std::unique_ptr<DialogueHaystack>> ingest(const std::vector<DialogueSession>& sessions,
                                                                          std::shared_ptr<const llm::Embedder> embedder,
                                                                          const NoteBuilding& notes = {},
                                                                          const SearchTuning& tuning = {});

    // Flat turn indices (see class comment) for `query`; an empty query retrieves nothing.
    [[nodiscard]] Result<KastenRanking> rank_turns(const KastenRetrieverSpec& retriever,
                                                   const std::string& query) const;
    // Session indices for `query`.
    [[nodiscard]] Result<KastenRanking> rank_sessions(const KastenRetrieverSpec& retriever,
                                                      const std::string& query) const;

    // The packed context (memory::ContextBuilder) for `request` in this conversation's cube (the cube id is filled
    // in). Thread-safe like the rankings.
    [[nodiscard]] Result<memory::PackedContext> build_context(memory::ContextRequest request) const;
    // Session index of a kasten session id, flat turn index of a kasten turn id; -1 if unknown.
    int session_index(const std::string& session_id) const;
    int flat_turn(const std::string& turn_id) const;

    // Seconds the note jobs took in ingest() (0 without notes).
    double notes_seconds() const { return notes_seconds_; }
    int turn_count() const { return static_cast<int>(turn_position_.size()); }
    int session_count() const { return static_cast<int>(session_offset_.size()); }
    // (session index, turn index) of a flat turn index; the flat index of a (session, turn).
    std::pair<int, int> position(int flat_turn) const { return turn_position_[static_cast<size_t>(flat_turn)]; }
    int flat_index(int session, int turn) const { return session_offset_[static_cast<size_t>(session)] + turn; }

  private:
    DialogueHaystack() = default;
    Result<std::vector<memory::SearchHit>> search(const KastenRetrieverSpec& retriever, const std::string& query,
                                                  memory::Granularity granularity, int top_k) const;

    std::unique_ptr<memory::MemoryManager> manager_;
    double notes_seconds_ = 0;
    std::vector<std::pair<int, int>> turn_position_;        // flat index -> (session, turn)
    std::vector<int> session_offset_;                       // session -> flat index of its first turn
    std::unordered_map<std::string, int> flat_of_turn_id_;  // kasten turn id -> flat index
    std::unordered_map<std::string, int> session_of_id_;    // session id -> session index
};

}  // namespace kasten::eval
