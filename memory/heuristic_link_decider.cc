#include "memory/heuristic_link_decider.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "memory/note_subject.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {
namespace {

using StemSet = std::set<std::string>;

// Stems of negation words and time adverbs, ignored when comparing what two statements are about.
const std::unordered_set<std::string_view> kIgnoredStems = {"anymor", "longer", "stop",  "stopped", "quit",
                                                            "gave",   "give",   "given", "never",   "again",
                                                            "still",  "now",    "today", "recent",  "late"};

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// Content stems: stopwords, negation words and numbers (bracketed dates) removed.
StemSet stems_of(std::string_view text) {
    StemSet out;
    for (const auto& [term, wdf] : retrieval::LexicalIndex::analyze_text(text).terms) {
        if (is_digits(term) || kIgnoredStems.count(term) != 0) continue;
        out.insert(term);
    }
    return out;
}

std::vector<std::string> lower_words(std::string_view text) {
    std::vector<std::string> words;
    std::string cur;
    auto flush = [&] {
        if (!cur.empty()) words.push_back(std::move(cur));
        cur.clear();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (std::isalnum(c) || c == '\'') {
            cur += static_cast<char>(std::tolower(c));
        } else if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
                   static_cast<unsigned char>(text[i + 2]) == 0x99) {
            cur += '\'';  // ’
            i += 2;
        } else {
            flush();
        }
    }
    flush();
    return words;
}

// Whether the statement is negated: "not", "n't", "never", "no longer", "no more", "anymore", "stopped", "quit",
// "gave up", or "no" other than as an opening interjection.
bool is_negated(std::string_view text) {
    const std::vector<std::string> w = lower_words(text);
    for (std::size_t i = 0; i < w.size(); ++i) {
        const std::string& x = w[i];
        if (x == "not" || x == "never" || x == "cannot" || x == "anymore" || x == "stopped" || x == "quit" ||
            x == "nobody" || x == "nothing" || x == "neither" || x == "nor") {
            return true;
        }
        if (x.size() > 3 && x.compare(x.size() - 3, 3, "n't") == 0) return true;
        if ((x == "gave" || x == "given" || x == "give") && i + 1 < w.size() && w[i + 1] == "up") return true;
        if (x == "no" && i > 0) return true;
    }
    return false;
}

struct KeywordStems {
    std::string surface;
    StemSet stems;
};

std::vector<KeywordStems> keyword_stems(const std::vector<std::string>& keywords) {
    std::vector<KeywordStems> out;
    std::unordered_set<std::string> seen;
    for (const auto& k : keywords) {
        if (!seen.insert(k).second) continue;
        StemSet stems = stems_of(k);
        if (!stems.empty()) out.push_back({k, std::move(stems)});
    }
    return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += sep;
        out += p;
    }
    return out;
}

std::string shown_value(const std::string& v) {
    return v.empty() ? "(none)" : v;
}

struct Candidate {
    std::size_t index = 0;  // position in the neighbour list
    LinkDecision decision;
    bool priority = false;            // updates / contradicts: kept first
    std::vector<std::string> shared;  // shared keywords (new note's surface forms)
    double cosine = 0;
};

}  // namespace

struct HeuristicLinkDecider::NoteFeatures {
    std::optional<NoteSubject> subject;
    std::optional<std::string> holder;
    bool negated = false;
    StemSet content;                     // stems_of(content)
    StemSet words;                       // content stems and keyword stems
    std::vector<KeywordStems> keywords;  // each distinct keyword with its stems
};

std::shared_ptr<const HeuristicLinkDecider::NoteFeatures> HeuristicLinkDecider::features(
    const store::NoteRecord& note) {
    std::string key = note.id;
    key += '\n';
    key += std::to_string(note.version);
    key += '\n';
    key += note.content;
    for (const auto& k : note.keywords) {
        key += '\n';
        key += k;
    }
    {
        std::lock_guard<std::mutex> lock(cache_mu_);
        auto it = cache_.find(key);
        if (it != cache_.end()) return it->second;
    }
    auto f = std::make_shared<NoteFeatures>();
    f->subject = infer_subject(note.content);
    f->holder = infer_holder(note.content);
    f->negated = is_negated(note.content);
    f->content = stems_of(note.content);
    f->keywords = keyword_stems(note.keywords);
    for (const auto& k : f->keywords) f->words.insert(k.stems.begin(), k.stems.end());
    f->words.insert(f->content.begin(), f->content.end());
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_.size() >= kMaxCachedNotes) cache_.clear();
    cache_.emplace(std::move(key), f);
    return f;
}

HeuristicLinkDecider::HeuristicLinkDecider(HeuristicLinkDeciderOptions options) : options_(std::move(options)) {}

Result<LinkPlan> HeuristicLinkDecider::decide(const store::NoteRecord& new_note,
                                              const std::vector<NeighbourNote>& neighbours) {
    const std::shared_ptr<const NoteFeatures> mine = features(new_note);
    const std::optional<NoteSubject>& subject = mine->subject;
    const std::optional<std::string>& holder = mine->holder;
    const bool negated = mine->negated;
    const StemSet& content = mine->content;
    const std::vector<KeywordStems>& keywords = mine->keywords;

    std::vector<Candidate> candidates;
    std::unordered_set<std::string> seen;
    for (std::size_t i = 0; i < neighbours.size(); ++i) {
        const store::NoteRecord& nb = neighbours[i].note;
        if (nb.id.empty() || nb.id == new_note.id || !seen.insert(nb.id).second) continue;
        const double cosine = std::isfinite(neighbours[i].cosine) ? neighbours[i].cosine : 0.0;

        const std::shared_ptr<const NoteFeatures> theirs = features(nb);
        const StemSet& nb_content = theirs->content;
        const StemSet& nb_words = theirs->words;
        std::vector<std::string> shared;
        for (const auto& k : keywords) {
            if (std::includes(nb_words.begin(), nb_words.end(), k.stems.begin(), k.stems.end())) {
                shared.push_back(k.surface);
            }
        }

        Candidate c;
        c.index = i;
        c.cosine = cosine;
        c.decision.neighbour_id = nb.id;
        c.shared = shared;

        const std::optional<NoteSubject>& nb_subject = theirs->subject;
        if (subject && nb_subject && subject->holder == nb_subject->holder &&
            subject->attribute == nb_subject->attribute) {
            if (subject->value != nb_subject->value) {
                c.decision.relation = "updates";
                c.decision.reason = fmt::format("{}: {} -> {}", subject->attribute, shown_value(nb_subject->value),
                                                shown_value(subject->value));
                if (subject->holder != "user") c.decision.reason = subject->holder + " " + c.decision.reason;
                c.priority = true;
            } else {
                c.decision.relation = "supports";
                c.decision.reason = fmt::format("same {}: {}", subject->attribute, shown_value(subject->value));
            }
            c.decision.weight = 1.0;
            candidates.push_back(std::move(c));
            continue;
        }

        if (negated != theirs->negated && holder) {
            std::vector<std::string> common;
            std::set_intersection(content.begin(), content.end(), nb_content.begin(), nb_content.end(),
                                  std::back_inserter(common));
            const std::size_t smaller = std::min(content.size(), nb_content.size());
            const double overlap = smaller == 0 ? 0.0 : static_cast<double>(common.size()) / smaller;
            if (static_cast<int>(common.size()) >= options_.contradiction_min_shared &&
                overlap >= options_.contradiction_min_overlap && theirs->holder == holder) {
                c.decision.relation = "contradicts";
                c.decision.weight = 1.0;
                c.decision.reason =
                    fmt::format("{} statement (shared: {})", negated ? "negated" : "reaffirmed", join(common, ", "));
                c.priority = true;
                candidates.push_back(std::move(c));
                continue;
            }
        }

        const bool strong = cosine >= options_.related_threshold;
        const bool weak = cosine >= options_.weak_related_threshold &&
                          static_cast<int>(shared.size()) >= options_.min_shared_keywords;
        if (strong || weak) {
            c.decision.relation = "related";
            c.decision.weight = std::clamp(cosine, 1e-3, 1.0);
            c.decision.reason = shared.empty()
                                    ? fmt::format("cosine {:.2f}", cosine)
                                    : fmt::format("cosine {:.2f}, shared keywords: {}", cosine, join(shared, ", "));
            candidates.push_back(std::move(c));
        }
    }

    // Keep updates/contradicts first, then the rest best first; emit in neighbour order.
    std::stable_partition(candidates.begin(), candidates.end(), [](const Candidate& c) { return c.priority; });
    if (static_cast<int>(candidates.size()) > std::max(options_.max_links, 0)) {
        candidates.resize(static_cast<std::size_t>(std::max(options_.max_links, 0)));
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const Candidate& a, const Candidate& b) { return a.index < b.index; });

    LinkPlan plan;
    for (const Candidate& c : candidates) {
        plan.links.push_back(c.decision);
        if (c.decision.relation != "related" && c.decision.relation != "supports") continue;
        if (static_cast<int>(plan.rewrites.size()) >= options_.max_rewrites) continue;
        const bool strong_overlap = c.cosine >= options_.evolution_cosine ||
                                    static_cast<int>(c.shared.size()) >= options_.evolution_min_shared_keywords;
        if (!strong_overlap) continue;
        const store::NoteRecord& nb = neighbours[c.index].note;
        NeighbourRewrite rewrite;
        rewrite.neighbour_id = nb.id;
        std::vector<std::string> tags = nb.tags;
        bool added = false;
        for (const std::string& tag : new_note.tags) {
            if (static_cast<int>(tags.size()) >= options_.max_tags) break;
            if (tag.empty() || std::find(tags.begin(), tags.end(), tag) != tags.end()) continue;
            tags.push_back(tag);
            added = true;
        }
        if (added) rewrite.tags = std::move(tags);
        const bool context_blank = std::all_of(nb.context.begin(), nb.context.end(),
                                               [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); });
        if (context_blank && !new_note.context.empty()) rewrite.context = new_note.context;
        if (!rewrite.tags && !rewrite.context) continue;
        rewrite.reason = c.shared.empty()
                             ? fmt::format("evolution: linked to {} (cosine {:.2f})", new_note.id, c.cosine)
                             : fmt::format("evolution: linked to {} (shared: {})", new_note.id, join(c.shared, ", "));
        plan.rewrites.push_back(std::move(rewrite));
    }
    return plan;
}

}  // namespace kasten::memory
