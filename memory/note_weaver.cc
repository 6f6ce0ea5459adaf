#include "memory/note_weaver.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "memory/id_generator.h"
#include "memory/note_text.h"
#include "retrieval/cosine.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {

namespace {

// The index terms of a text, as a set.
std::unordered_set<std::string> term_set(const std::string& text) {
    std::vector<std::string> terms = retrieval::LexicalIndex::analyze(text);
    return std::unordered_set<std::string>(std::make_move_iterator(terms.begin()),
                                           std::make_move_iterator(terms.end()));
}

// Jaccard similarity of two term sets.
double term_overlap(const std::unordered_set<std::string>& sa, const std::unordered_set<std::string>& sb) {
    if (sa.empty() && sb.empty()) return 1;
    size_t both = 0;
    for (const auto& t : sa) both += sb.count(t);
    return static_cast<double>(both) / static_cast<double>(sa.size() + sb.size() - both);
}

std::string trimmed(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

TimeMs world_time(const store::NoteRecord& n) {
    return n.valid_from.value_or(n.recorded_at);
}

bool is_update(const std::string& relation) {
    return relation == "updates" || relation == "contradicts";
}

bool known_relation(const std::string& relation) {
    static const std::set<std::string> kRelations = {"related", "supports", "updates", "contradicts", "follows"};
    return kRelations.count(relation) > 0;
}

// Two texts are near-duplicates when their embeddings nearly coincide and they say it with (nearly) the same
// words: embeddings alone would merge "I moved to Denver" with "I moved to Boston".
constexpr double kNearDuplicateTermOverlap = 0.8;

}  // namespace

NoteWeaver::NoteWeaver(NoteBuilder& builder, LinkDecider& decider, const llm::Embedder& embedder, WeaveOptions options)
    : builder_(builder), decider_(decider), embedder_(embedder), options_(std::move(options)) {}

Result<WeavePlan> NoteWeaver::weave(const NoteBatch& batch, const TermStatistics& stats,
                                    NoteNeighbourhood& neighbourhood, TimeMs now) {
    WeavePlan plan;
    const auto build_start = std::chrono::steady_clock::now();
    KASTEN_ASSIGN_OR_RETURN(std::vector<NoteDraft> drafts, builder_.build(batch, stats));
    plan.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - build_start).count();
    plan.drafts = static_cast<int>(drafts.size());

    std::unordered_map<std::string, TimeMs> turn_time;
    for (const auto& t : batch.turns) turn_time[t.id] = t.conv_time;
    std::unordered_set<std::string> hashes;
    std::unordered_set<std::string> closed;  // notes this plan already closes

    for (auto& d : drafts) {
        std::string content = trimmed(d.content);
        if (content.empty()) continue;
        std::vector<std::string> sources;
        for (const auto& id : d.source_turn_ids) {
            if (turn_time.count(id) && std::find(sources.begin(), sources.end(), id) == sources.end()) {
                sources.push_back(id);
            }
        }
        if (sources.empty()) continue;  // a builder must cite the batch; a note without provenance is not stored

        const std::string hash = note_content_hash(content);
        if (hashes.count(hash)) {
            plan.exact_duplicates++;
            continue;
        }
        KASTEN_ASSIGN_OR_RETURN(bool exists, neighbourhood.has_active_hash(batch.cube_id, hash));
        if (exists) {
            plan.exact_duplicates++;
            continue;
        }

        store::NoteRecord n;
        n.id = generate_id("n_");
        n.cube_id = batch.cube_id;
        n.content = std::move(content);
        n.kind = d.kind.empty() ? "fact" : d.kind;
        n.keywords = std::move(d.keywords);
        n.tags = std::move(d.tags);
        n.context = std::move(d.context);
        n.source_turn_ids = sources;
        const TimeMs stated_at = turn_time[sources.front()];
        n.valid_from = d.valid_from ? *d.valid_from : stated_at;
        n.recorded_at = now;
        n.status = store::NoteStatus::kActive;
        n.version = 1;
        n.importance = std::clamp(d.importance, 0.0, 1.0);
        n.strength = 1.0;
        n.last_access = now;
        n.content_hash = hash;
        n.updated_at = now;
        n.embedding = embedder_.embed(note_index_text(n));
        n.embedder_id = embedder_.id();

        // Neighbours: the cube's active notes, plus the notes this plan already made (not yet searchable).
        KASTEN_ASSIGN_OR_RETURN(std::vector<NeighbourNote> neighbours,
                                neighbourhood.neighbours(n, options_.neighbours));
        for (const auto& earlier : plan.notes) {
            NeighbourNote nb;
            nb.note = earlier;
            nb.cosine = retrieval::cosine_similarity(n.embedding, earlier.embedding);
            nb.score = nb.cosine;
            nb.stated_at = turn_time[earlier.source_turn_ids.front()];
            neighbours.push_back(std::move(nb));
        }
        std::stable_sort(neighbours.begin(), neighbours.end(),
                         [](const NeighbourNote& a, const NeighbourNote& b) { return a.cosine > b.cosine; });
        if (static_cast<int>(neighbours.size()) > options_.neighbours) neighbours.resize(options_.neighbours);
        neighbours.erase(
            std::remove_if(neighbours.begin(), neighbours.end(),
                           [&](const NeighbourNote& nb) { return nb.note.id == n.id || closed.count(nb.note.id) > 0; }),
            neighbours.end());

        bool duplicate = false;
        std::optional<std::unordered_set<std::string>> terms;  // of the new note, computed when first needed
        for (const auto& nb : neighbours) {
            if (nb.cosine < options_.duplicate_cosine) continue;
            if (!terms) terms = term_set(n.content);
            if (term_overlap(*terms, term_set(nb.note.content)) >= kNearDuplicateTermOverlap) {
                duplicate = true;
                break;
            }
        }
        if (duplicate) {
            plan.near_duplicates++;
            continue;
        }
        hashes.insert(hash);

        std::unordered_map<std::string, const NeighbourNote*> by_id;
        for (const auto& nb : neighbours) by_id[nb.note.id] = &nb;
        LinkPlan decisions;
        if (!neighbours.empty()) {
            KASTEN_ASSIGN_OR_RETURN(decisions, decider_.decide(n, neighbours));
        }
        std::unordered_set<std::string> linked;
        for (const auto& link : decisions.links) {
            auto it = by_id.find(link.neighbour_id);
            if (it == by_id.end() || !known_relation(link.relation) || !linked.insert(link.neighbour_id).second) {
                continue;  // ids the decider was not given, unknown relations, a second link to one neighbour
            }
            const store::NoteRecord& other = it->second->note;
            store::LinkRecord l;
            l.cube_id = batch.cube_id;
            l.relation = link.relation;
            l.weight = std::clamp(link.weight, 1e-3, 1.0);
            l.reason = link.reason;
            l.created_at = now;
            l.src_note_id = n.id;
            l.dst_note_id = other.id;
            if (is_update(link.relation)) {
                // The later statement stays active and closes the earlier one: by when each was said (an old
                // session imported late does not overrule what was said since), the new note when that ties or
                // is unknown (jobs run in conversation order). The old fact held until the new one's world time.
                const TimeMs other_stated = it->second->stated_at;
                const bool new_is_newer = other_stated <= 0 || stated_at >= other_stated;
                const store::NoteRecord& newer = new_is_newer ? n : other;
                const store::NoteRecord& older = new_is_newer ? other : n;
                l.src_note_id = newer.id;
                l.dst_note_id = older.id;
                if (!closed.count(older.id)) {
                    NoteChange c;
                    c.note_id = older.id;
                    c.close_valid_to = std::max(world_time(newer), world_time(older));
                    c.superseded_by = newer.id;
                    c.reason = "superseded: " + link.relation + " by " + newer.id +
                               (link.reason.empty() ? "" : " (" + link.reason + ")");
                    plan.changes.push_back(std::move(c));
                    closed.insert(older.id);
                }
            }
            plan.links.push_back(std::move(l));
        }
        std::unordered_set<std::string> rewritten;
        for (const auto& r : decisions.rewrites) {
            if (!by_id.count(r.neighbour_id) || closed.count(r.neighbour_id) ||
                !rewritten.insert(r.neighbour_id).second) {
                continue;
            }
            if (!r.tags && !r.context) continue;
            NoteChange c;
            c.note_id = r.neighbour_id;
            c.tags = r.tags;
            c.context = r.context;
            c.reason = "evolution: " + (r.reason.empty() ? "linked to " + n.id : r.reason);
            plan.changes.push_back(std::move(c));
        }
        plan.notes.push_back(std::move(n));
    }
    return plan;
}

}  // namespace kasten::memory
