#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "llm/embedder.h"
#include "memory/link_decider.h"
#include "memory/note_builder.h"
#include "store/records.h"

namespace kasten::memory {

// Where the weaver looks up the cube's existing notes. Implemented by MemoryManager over its store and indexes.
class NoteNeighbourhood {
  public:
    virtual ~NoteNeighbourhood() = default;
    // Whether an active note of the cube has this content hash.
    [[nodiscard]] virtual Result<bool> has_active_hash(const std::string& cube_id, const std::string& hash) = 0;
    // Up to `k` active notes of the cube nearest to `note` (hybrid search on its index text), best first, with
    // their embeddings, cosine and score filled.
    [[nodiscard]] virtual Result<std::vector<NeighbourNote>> neighbours(const store::NoteRecord& note, int k) = 0;
};

struct WeaveOptions {
    // A draft whose embedding has at least this cosine with an active note, or an earlier draft of the batch, is a
    // near-duplicate and dropped (exact duplicates are caught first by content hash).
    double duplicate_cosine = 0.95;
    // Candidates handed to the link decider.
    int neighbours = 6;
    std::string actor = "scheduler";
};

// A change to a note, applied on the note's state at commit time (it may have changed since the plan was made).
struct NoteChange {
    std::string note_id;
    std::optional<std::vector<std::string>> tags;
    std::optional<std::string> context;
    // Knowledge update: close the note (valid_to, superseded_by, superseded_at = commit time, status superseded).
    std::optional<TimeMs> close_valid_to;
    std::string superseded_by;
    std::string reason;  // stored with the new version: "evolution: …" or "superseded: …"
};

// What one note job adds: applied by the caller in one transaction together with the job's completion.
struct WeavePlan {
    std::vector<store::NoteRecord> notes;  // new notes, ids and embeddings set, in draft order
    std::vector<store::LinkRecord> links;  // between new notes and existing or new ones
    std::vector<NoteChange> changes;       // to existing notes and to new notes of this plan (after their insert)
    int drafts = 0;
    int exact_duplicates = 0;
    int near_duplicates = 0;
    double build_seconds = 0;  // in NoteBuilder::build (construction alone; the rest is dedupe, linking, embedding)
};

// Turns a batch of turns into a plan of new notes, links and neighbour changes: build drafts (NoteBuilder),
// drop duplicates (content hash, then cosine), embed, find neighbours, let the LinkDecider link them, and turn
// "updates"/"contradicts" decisions into closings of the older note (by valid_from; the newer one stays active).
// Reads only; the caller commits the plan. Not thread-safe (one weaver per scheduler thread).
class NoteWeaver {
  public:
    NoteWeaver(NoteBuilder& builder, LinkDecider& decider, const llm::Embedder& embedder, WeaveOptions options = {});

    [[nodiscard]] Result<WeavePlan> weave(const NoteBatch& batch, const TermStatistics& stats,
                                          NoteNeighbourhood& neighbourhood, TimeMs now);

  private:
    NoteBuilder& builder_;
    LinkDecider& decider_;
    const llm::Embedder& embedder_;
    WeaveOptions options_;
};

}  // namespace kasten::memory
