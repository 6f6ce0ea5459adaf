#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace kasten::memory {

// An existing active note of the same cube found near a new note (by hybrid search).
struct NeighbourNote {
    store::NoteRecord note;
    double cosine = 0;  // embedding cosine similarity with the new note, [-1, 1]
    double score = 0;   // fused search score (higher is closer); scale is the searcher's
    // When it was said: the conversation time of the note's first source turn (0 = unknown). A later statement
    // supersedes an earlier one, whatever dates the two mention.
    TimeMs stated_at = 0;
};

// A link from the new note to one neighbour.
struct LinkDecision {
    std::string neighbour_id;  // the id of one of the neighbours given to decide(); never a rank or position
    // related | supports | updates | contradicts | follows — read "new note <relation> neighbour".
    // updates / contradicts mean: same subject, the new note's statement replaces the neighbour's (the caller then
    // closes the older of the two: valid_to, superseded_by).
    std::string relation;
    double weight = 1.0;  // (0, 1]
    std::string reason;   // short, human-readable; stored with the link
};

// A rewrite of a neighbour's tags and/or context in the light of the new note (A-MEM memory evolution).
// The caller stores it as a new version of the neighbour with `reason`.
struct NeighbourRewrite {
    std::string neighbour_id;
    std::optional<std::vector<std::string>> tags;  // absent = unchanged
    std::optional<std::string> context;            // absent = unchanged
    std::string reason;
};

struct LinkPlan {
    std::vector<LinkDecision> links;         // at most one per neighbour
    std::vector<NeighbourRewrite> rewrites;  // at most one per neighbour
};

// Decides how a new note relates to its neighbours. Implementations: HeuristicLinkDecider (thresholds on cosine,
// shared keywords and subject) and LlmLinkDecider (one constrained-JSON call whose schema only admits the given ids).
// The caller drops any decision naming an id it did not give.
class LinkDecider {
  public:
    virtual ~LinkDecider() = default;
    virtual std::string id() const = 0;
    // `new_note` is stored (id, content, keywords, tags, context, valid_from, embedding set); `neighbours` are best
    // first and never contain it. Errors: only a failing language model.
    [[nodiscard]] virtual Result<LinkPlan> decide(const store::NoteRecord& new_note,
                                                  const std::vector<NeighbourNote>& neighbours) = 0;
};

}  // namespace kasten::memory
