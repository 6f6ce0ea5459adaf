#include "memory/heuristic_link_decider.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "memory/note_subject.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {
namespace {

// A set of stems: sorted ascending, no duplicates.
using StemSet = std::vector<std::string>;

// Stems of negation words and time adverbs, ignored when comparing what two statements are about.
const std::unordered_set<std::string_view> kIgnoredStems = {"anymor", "longer", "stop",  "stopped", "quit",
                                                            "gave",   "give",   "given", "never",   "again",
                                                            "still",  "now",    "today", "recent",  "late"};

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// std::isalnum of the "C" locale (kasten never changes the locale): ASCII letters and digits.
bool is_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Whether `text` may hold a character that LexicalIndex::analyze_text splits into CJK n-grams: any UTF-8
// sequence of three or four bytes except U+2000..U+2DFF (general punctuation such as ’ “ — …, symbols), which no
// Xapian version counts as CJK. Conservative: emoji and other scripts also answer true.
bool may_hold_cjk(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0xE0) continue;
        if (c == 0xE2 && (i + 1 == text.size() || static_cast<unsigned char>(text[i + 1]) < 0xB8)) continue;
        return true;
    }
    return false;
}

// Whether byte `c` separates the terms of LexicalIndex::analyze_text in a text without CJK (may_hold_cjk): an
// ASCII byte that is no part of a term (letters, digits, '_') and cannot join or end one ("'" and "&" inside words,
// "," "." ";" between digits, "." in acronyms, "+" and "#" suffixes as in "c++"). No term spans such a byte, and the
// term generator keeps no state across one, so the terms of the text are the union of the terms of the chunks
// between them. (After a run of CJK characters the generator does carry state across separators.) Bytes >= 0x80
// never separate.
bool separates_terms(unsigned char c) {
    if (c >= 0x80 || is_alnum(c)) return false;
    switch (c) {
        case '_':
        case '\'':
        case '&':
        case ',':
        case '.':
        case ';':
        case '+':
        case '#':
            return false;
        default:
            return true;
    }
}

// LexicalIndex::analyze_text(text)'s terms, minus numbers and kIgnoredStems.
StemSet filtered_terms(std::string_view text) {
    StemSet out;
    for (auto& [term, wdf] : retrieval::LexicalIndex::analyze_text(text).terms) {
        if (is_digits(term) || kIgnoredStems.count(term) != 0) continue;
        out.push_back(std::move(term));
    }
    return out;  // analyze_text's terms are ascending and distinct
}

// The content stems of chunks of text without a term separator (separates_terms), each analysed once per thread:
// the words of notes repeat, and a lookup is far cheaper than running the term generator over every text.
// An open-addressing table (linear probing, at most half full): one probe touches one slot, where a node-based map
// would chase a bucket and a node per lookup. Holds at most kMaxChunks chunks (emptied when full).
// Not thread-safe: one instance per thread.
class ChunkStemCache {
  public:
    // filtered_terms(chunk). Valid until the next call.
    const StemSet& stems(std::string_view chunk) {
        const std::size_t hash = std::hash<std::string_view>()(chunk);
        if (2 * (used_ + 1) > slots_.size()) grow();
        std::size_t i = find(hash, chunk);
        if (slots_[i].used) return slots_[i].stems;
        if (used_ >= kMaxChunks) {
            for (Slot& s : slots_) s = Slot();
            used_ = 0;
            i = find(hash, chunk);
        }
        Slot& slot = slots_[i];
        slot.used = true;
        slot.hash = hash;
        slot.chunk = chunk;
        slot.stems = filtered_terms(chunk);
        ++used_;
        return slot.stems;
    }

  private:
    struct Slot {
        std::size_t hash = 0;
        bool used = false;
        std::string chunk;
        StemSet stems;
    };
    static constexpr std::size_t kMaxChunks = 1 << 16;

    // The slot holding `chunk`, or the free slot where it belongs.
    std::size_t find(std::size_t hash, std::string_view chunk) const {
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (!s.used || (s.hash == hash && s.chunk == chunk)) return i;
        }
    }

    // Doubles the table (the first call allocates it); a table of 2 * kMaxChunks slots never grows.
    void grow() {
        if (slots_.size() >= 2 * kMaxChunks) return;
        std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(slots_.empty() ? 1024 : 2 * slots_.size()));
        for (Slot& s : old) {
            if (s.used) slots_[find(s.hash, s.chunk)] = std::move(s);
        }
    }

    std::vector<Slot> slots_;  // size: a power of two
    std::size_t used_ = 0;
};

// Content stems: stopwords, negation words and numbers (bracketed dates) removed: filtered_terms(text), computed
// at a cache lookup per chunk (ChunkStemCache) unless the text may hold CJK.
StemSet stems_of(std::string_view text) {
    if (may_hold_cjk(text)) return filtered_terms(text);
    thread_local ChunkStemCache cache;
    StemSet out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (separates_terms(static_cast<unsigned char>(text[i]))) {
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        while (j < text.size() && !separates_terms(static_cast<unsigned char>(text[j]))) ++j;
        const StemSet& stems = cache.stems(text.substr(i, j - i));
        out.insert(out.end(), stems.begin(), stems.end());
        i = j;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// Whether the statement is negated: "not", "n't", "never", "no longer", "no more", "anymore", "stopped", "quit",
// "gave up", or "no" other than as an opening interjection. Words are runs of ASCII letters, digits and
// apostrophes ("'" or "’"), lower-cased.
bool is_negated(std::string_view text) {
    std::string word;         // the current word
    bool after_give = false;  // the previous word is "gave", "given" or "give"
    std::size_t words = 0;    // words before the current one
    auto negating = [&] {
        const std::string_view x = word;
        if (x == "not" || x == "never" || x == "cannot" || x == "anymore" || x == "stopped" || x == "quit" ||
            x == "nobody" || x == "nothing" || x == "neither" || x == "nor") {
            return true;
        }
        if (x.size() > 3 && x.substr(x.size() - 3) == "n't") return true;
        if (after_give && x == "up") return true;
        return x == "no" && words > 0;
    };
    for (std::size_t i = 0; i <= text.size(); ++i) {
        const auto c = i < text.size() ? static_cast<unsigned char>(text[i]) : 0;
        if (is_alnum(c) || c == '\'') {
            word += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        } else if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
                   static_cast<unsigned char>(text[i + 2]) == 0x99) {
            word += '\'';  // ’
            i += 2;
        } else if (!word.empty()) {
            if (negating()) return true;
            const std::string_view x = word;
            after_give = x == "gave" || x == "given" || x == "give";
            ++words;
            word.clear();
        }
    }
    return false;
}

struct KeywordStems {
    std::string surface;
    StemSet stems;
};

std::vector<KeywordStems> keyword_stems(const std::vector<std::string>& keywords) {
    std::vector<KeywordStems> out;
    out.reserve(keywords.size());
    std::unordered_set<std::string_view> seen;
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
    // The note state they were read from: the cache entry of a note id is valid while these are unchanged.
    int version = 0;
    std::string text;                       // content
    std::vector<std::string> keyword_list;  // keywords, as given

    std::optional<NoteSubject> subject;
    std::optional<std::string> holder;
    bool negated = false;
    StemSet content;                     // stems_of(content)
    StemSet words;                       // content stems and keyword stems
    std::vector<KeywordStems> keywords;  // each distinct keyword with its stems
};

std::shared_ptr<const HeuristicLinkDecider::NoteFeatures> HeuristicLinkDecider::features(
    const store::NoteRecord& note) {
    {
        std::lock_guard<std::mutex> lock(cache_mu_);
        const auto it = cache_.find(note.id);
        if (it != cache_.end() && it->second->version == note.version && it->second->text == note.content &&
            it->second->keyword_list == note.keywords) {
            return it->second;
        }
    }
    auto f = std::make_shared<NoteFeatures>();
    f->version = note.version;
    f->text = note.content;
    f->keyword_list = note.keywords;
    NoteStatement statement = infer_statement(note.content);
    f->subject = std::move(statement.subject);
    f->holder = std::move(statement.holder);
    f->negated = is_negated(note.content);
    f->content = stems_of(note.content);
    f->keywords = keyword_stems(note.keywords);
    f->words = f->content;
    for (const auto& k : f->keywords) f->words.insert(f->words.end(), k.stems.begin(), k.stems.end());
    std::sort(f->words.begin(), f->words.end());
    f->words.erase(std::unique(f->words.begin(), f->words.end()), f->words.end());
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_.size() >= kMaxCachedNotes) cache_.clear();
    cache_.insert_or_assign(note.id, f);
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
    std::unordered_set<std::string_view> seen;
    for (std::size_t i = 0; i < neighbours.size(); ++i) {
        const store::NoteRecord& nb = neighbours[i].note;
        if (nb.id.empty() || nb.id == new_note.id || !seen.insert(nb.id).second) continue;
        const double cosine = std::isfinite(neighbours[i].cosine) ? neighbours[i].cosine : 0.0;

        const std::shared_ptr<const NoteFeatures> theirs = features(nb);
        const StemSet& nb_content = theirs->content;
        const StemSet& nb_words = theirs->words;
        Candidate c;
        c.index = i;
        c.cosine = cosine;
        c.decision.neighbour_id = nb.id;
        for (const auto& k : keywords) {
            if (std::includes(nb_words.begin(), nb_words.end(), k.stems.begin(), k.stems.end())) {
                c.shared.push_back(k.surface);
            }
        }
        const std::vector<std::string>& shared = c.shared;

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

        const bool strong = cosine >= options_.related_threshold &&
                            static_cast<int>(shared.size()) >= options_.related_min_shared_keywords;
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
        const int shared = static_cast<int>(c.shared.size());
        const bool strong_overlap =
            shared >= options_.min_shared_keywords &&
            (c.cosine >= options_.evolution_cosine || shared >= options_.evolution_min_shared_keywords);
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
