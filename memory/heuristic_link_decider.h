#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

#include <string>
#include <vector>

#include "common/result.h"
#include "memory/link_decider.h"
#include "store/records.h"

namespace kasten::memory {

// Thresholds of HeuristicLinkDecider. Cosines are the embedder's cosine similarities in [-1, 1] as given in
// NeighbourNote::cosine; the defaults suit sentence embedders where paraphrases score above ~0.8.
struct HeuristicLinkDeciderOptions {
    // "related" when cosine >= related_threshold and the notes share >= related_min_shared_keywords keywords ...
    // The shared keyword is what makes a link mean something: embedders differ in their cosine scale, and averaged
    // word vectors (GloVe) give 0.8-0.9 to unrelated sentences ("The diameter is 58mm" vs "Ensure the sleeve fits
    // your 13-inch laptop": 0.81). With 0, a cosine alone links (for sentence embedders that spread their scores).
    double related_threshold = 0.80;
    int related_min_shared_keywords = 1;
    // ... or when cosine >= weak_related_threshold and the notes share >= min_shared_keywords keywords
    // (a keyword of the new note is shared when all its stems occur in the neighbour's keywords or content).
    double weak_related_threshold = 0.60;
    int min_shared_keywords = 2;
    // "contradicts" when exactly one of the two notes is negated ("not", "n't", "never", "no longer", "anymore",
    // "stopped", "quit", "gave up"), both have the same holder (infer_holder), and their content stems (negation
    // words, stopwords and numbers removed) share >= contradiction_min_shared stems and an overlap coefficient
    // |A ∩ B| / min(|A|, |B|) >= contradiction_min_overlap.
    double contradiction_min_overlap = 0.6;
    int contradiction_min_shared = 2;
    // Memory evolution (A-MEM) runs for "related" and "supports" links with strong overlap: >= min_shared_keywords
    // shared keywords and either cosine >= evolution_cosine or >= evolution_min_shared_keywords; at most max_rewrites
    // neighbours (the best) per new note. Every rewrite is a new version of the neighbour: with looser settings
    // chatty conversations rewrite about two neighbours per note, and tags converge to the same few everywhere.
    double evolution_cosine = 0.9;
    int evolution_min_shared_keywords = 3;
    int max_rewrites = 1;
    // At most this many links per new note. "updates" and "contradicts" links are kept first, then the others in
    // neighbour order (best first).
    int max_links = 3;
    // A neighbour's tags never grow past this many through evolution.
    int max_tags = 5;
};

// The offline LinkDecider (id "heuristic-v1"): no model, deterministic, pure (no state between calls, thread-safe).
//
// For each neighbour, best first, at most one link (read "new note <relation> neighbour"):
//  1. Both notes state a NoteSubject (infer_subject) with the same holder and attribute: "updates" when the values
//     differ (reason "residence: boston -> denver"; an ended value reads "(none)"), "supports" when they are equal.
//     Weight 1. Time order is not checked: the caller closes the older statement.
//  2. Negation contradiction (see the options): "contradicts", weight 1.
//  3. Cosine / shared keywords (see the options): "related", weight = cosine clamped to (0, 1].
//  4. Otherwise no link. "follows" is never produced: a NoteRecord does not carry its session, so consecutive
//     events cannot be told apart from notes of other sessions.
// Evolution: for each kept "related"/"supports" link with strong overlap, one NeighbourRewrite that (a) sets the
// neighbour's tags to its tags followed by the new note's tags it lacks, capped at max_tags (only when this adds a
// tag), and (b) gives a neighbour with an empty context the new note's context. Reason:
// "evolution: linked to <new note id> (shared: a, b)". "updates" and "contradicts" never rewrite.
// Neighbours with an empty id, the new note's own id, or an id already seen are skipped. Never fails.
class HeuristicLinkDecider final : public LinkDecider {
  public:
    explicit HeuristicLinkDecider(HeuristicLinkDeciderOptions options = {});

    std::string id() const override { return "heuristic-v1"; }
    [[nodiscard]] Result<LinkPlan> decide(const store::NoteRecord& new_note,
                                          const std::vector<NeighbourNote>& neighbours) override;

    const HeuristicLinkDeciderOptions& options() const { return options_; }

    // What decide() reads from a note's text, computed once per note state and cached.
    struct NoteFeatures;

  private:
    std::shared_ptr<const NoteFeatures> features(const store::NoteRecord& note);

    HeuristicLinkDeciderOptions options_;
    // Features by (id, version, content): a note is a neighbour of many later notes. Cleared when it reaches
    // kMaxCachedNotes entries. Guarded by cache_mu_ (decide() may run on several threads).
    static constexpr std::size_t kMaxCachedNotes = 50000;
    std::mutex cache_mu_;
    std::unordered_map<std::string, std::shared_ptr<const NoteFeatures>> cache_;
};

}  // namespace kasten::memory
