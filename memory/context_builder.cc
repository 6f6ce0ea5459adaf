#include "memory/context_builder.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/timestamp.h"
#include "memory/granularity_router.h"
#include "memory/memory_manager.h"
#include "memory/query_time_windows.h"

namespace kasten::memory {
namespace {

constexpr int kMinTurnTokens = 8;  // a rendered turn line costs at least this ({"role":"user","content":"…"})
constexpr int kListPage = 500;
constexpr int kSessionShare = 4;  // a session longer than budget / this is given as its best turns
constexpr int kExcerptTurns = 2;  // turns a long session lends
constexpr int kWindowHits = 10;   // hits per granularity of a search restricted to a time the query names

// Hits fetched per granularity before packing (the budget decides how many are used).
int fetch_count(Granularity g) {
    switch (g) {
        case Granularity::kTurn:
            return 200;
        case Granularity::kSession:
            return 20;
        case Granularity::kNote:
            return 200;
    }
    return 10;
}

// "2023-05-20 (Sat) 02:21" (UTC).
std::string format_date(TimeMs t) {
    static const char* const kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    const std::string iso = format_timestamp(t);  // 2023-05-20T02:21:00Z
    long long days = t / 86'400'000;
    if (t % 86'400'000 < 0) --days;
    const long long dow = ((days % 7) + 7) % 7;
    return iso.substr(0, 10) + " (" + kDays[dow] + ") " + iso.substr(11, 5);
}

std::string json_string(const std::string& s) {
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string turn_line(const std::string& role, const std::string& content) {
    return "{\"role\": " + json_string(role) + ", \"content\": " + json_string(content) + "}\n";
}

std::string note_line(const ContextItem& item) {
    std::string line = "- " + item.text;
    line += " (valid from " + format_date(item.time).substr(0, 10);
    if (item.valid_to) line += " to " + format_date(*item.valid_to).substr(0, 10);
    line += ")\n";
    return line;
}

// A session's turns as the transcript a session item carries (one JSON line per turn).
std::string session_lines(const std::vector<store::TurnRecord>& turns) {
    std::string out;
    for (const auto& t : turns) out += turn_line(t.role, t.content);
    return out;
}

// An item placed in the context, with what rendering needs.
struct Placed {
    ContextItem item;
    std::string lines;                  // rendered body lines
    int turn_index = -1;                // turns: position in the session
    std::vector<std::string> turn_ids;  // session: its turns; note: its source turns; turn: itself
};

struct Group {
    std::string session_id;
    TimeMs time = 0;
    std::vector<const Placed*> notes;
    std::vector<const Placed*> turns;  // turns and session items
};

std::string group_header(const std::string& session_id, TimeMs time) {
    if (session_id.empty()) return "\n### Notes · " + format_date(time) + "\n";
    return "\n### Session " + session_id + " · " + format_date(time) + "\n";
}

constexpr std::string_view kPreamble = "Memories from earlier conversations, grouped by session, oldest first.\n";

// Renders placed items grouped by session in time order. Fills `order` with the items in text order.
std::string render(const std::vector<Placed>& placed, std::vector<const Placed*>* order) {
    std::vector<Group> groups;
    std::unordered_map<std::string, size_t> by_session;
    for (const auto& p : placed) {
        auto it = by_session.find(p.item.session_id);
        if (it == by_session.end()) {
            it = by_session.emplace(p.item.session_id, groups.size()).first;
            groups.push_back({p.item.session_id, p.item.time, {}, {}});
        }
        Group& g = groups[it->second];
        g.time = std::min(g.time, p.item.time);
        if (p.item.granularity == Granularity::kNote) {
            g.notes.push_back(&p);
        } else {
            g.turns.push_back(&p);
        }
    }
    std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
        if (a.session_id.empty() != b.session_id.empty()) return b.session_id.empty();  // loose notes last
        return a.time < b.time;
    });
    std::string text(kPreamble);
    for (auto& g : groups) {
        std::stable_sort(g.notes.begin(), g.notes.end(),
                         [](const Placed* a, const Placed* b) { return a->item.time < b->item.time; });
        std::stable_sort(g.turns.begin(), g.turns.end(), [](const Placed* a, const Placed* b) {
            if (a->turn_index != b->turn_index) return a->turn_index < b->turn_index;
            return a->item.time < b->item.time;
        });
        text += group_header(g.session_id, g.time);
        if (!g.notes.empty()) {
            text += "Notes:\n";
            for (const Placed* p : g.notes) {
                text += p->lines;
                if (order) order->push_back(p);
            }
        }
        if (!g.turns.empty()) {
            if (!g.notes.empty()) text += "Turns:\n";
            int previous = -2;
            for (const Placed* p : g.turns) {
                if (p->item.granularity == Granularity::kTurn && previous >= -1 && p->turn_index != previous + 1) {
                    text += "…\n";  // turns left out in between
                }
                text += p->lines;
                previous = p->item.granularity == Granularity::kTurn ? p->turn_index : -2;
                if (order) order->push_back(p);
            }
        }
    }
    return text;
}

PackedContext finish(const ContextRequest& request, const TokenCounter& counter, std::string mode,
                     std::vector<Placed> placed, std::map<std::string, double> weights) {
    PackedContext out;
    out.mode = std::move(mode);
    out.strategy = request.strategy;
    out.budget = request.token_budget;
    out.token_counter = counter.name();
    out.weights = std::move(weights);
    if (placed.empty()) {
        out.mode = "empty";
        out.weights.clear();
        return out;
    }
    // Item costs are close to additive; the final text is counted exactly and the lowest-priority items leave
    // until it fits.
    for (;;) {
        std::vector<const Placed*> order;
        std::string text = render(placed, &order);
        const int tokens = counter.count(text);
        if (tokens <= request.token_budget || placed.empty()) {
            out.text = placed.empty() ? "" : std::move(text);
            out.tokens = placed.empty() ? 0 : tokens;
            for (const Placed* p : order) out.items.push_back(p->item);
            if (placed.empty()) out.mode = "empty";
            return out;
        }
        auto lowest = std::min_element(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) {
            return a.item.priority < b.item.priority;
        });
        placed.erase(lowest);
    }
}

}  // namespace

const char* context_strategy_name(ContextStrategy s) {
    switch (s) {
        case ContextStrategy::kAuto:
            return "auto";
        case ContextStrategy::kTurn:
            return "turn";
        case ContextStrategy::kSession:
            return "session";
        case ContextStrategy::kNote:
            return "note";
    }
    return "auto";
}

bool parse_context_strategy(const std::string& text, ContextStrategy* out) {
    for (ContextStrategy s :
         {ContextStrategy::kAuto, ContextStrategy::kTurn, ContextStrategy::kSession, ContextStrategy::kNote}) {
        if (text == context_strategy_name(s)) {
            *out = s;
            return true;
        }
    }
    return false;
}

ContextBuilder::ContextBuilder(MemoryManager& memory, const Clock& clock) : memory_(memory), clock_(clock) {}

Result<PackedContext> ContextBuilder::build(const ContextRequest& request) {
    if (request.token_budget < 1) return Status::invalid_argument("token_budget must be at least 1");
    std::string query = request.query;
    if (query.empty()) {
        for (auto it = request.conversation.rbegin(); it != request.conversation.rend(); ++it) {
            if (it->role == "user" && !it->content.empty()) {
                query = it->content;
                break;
            }
        }
    }
    if (query.empty()) return Status::invalid_argument("a query (or a conversation with a user message) is required");
    static const EstimatedTokenCounter kEstimate;
    const TokenCounter& counter = request.counter ? *request.counter : kEstimate;
    const std::string excluded = request.exclude_session_id.value_or("");

    KASTEN_ASSIGN_OR_RETURN(CubeInfo info, memory_.get_cube(request.cube_id));
    const int preamble_tokens = counter.count(kPreamble);

    // 1. The whole history, when it fits.
    if (request.full_history && info.turns > 0 &&
        info.turns * static_cast<std::int64_t>(kMinTurnTokens) + preamble_tokens <= request.token_budget) {
        std::vector<Placed> placed;
        int used = preamble_tokens;
        bool fits = true;
        for (int offset = 0; fits; offset += kListPage) {
            KASTEN_ASSIGN_OR_RETURN(auto sessions, memory_.list_sessions(request.cube_id, kListPage, offset));
            for (const auto& s : sessions) {
                if (s.external_id == excluded) continue;
                KASTEN_ASSIGN_OR_RETURN(SessionView view, memory_.get_session(request.cube_id, s.external_id));
                if (view.turns.empty()) continue;
                used += counter.count(group_header(s.external_id, s.started_at));
                for (const auto& t : view.turns) {
                    Placed p;
                    p.item.granularity = Granularity::kTurn;
                    p.item.id = t.id;
                    p.item.session_id = s.external_id;
                    p.item.time = t.conv_time;
                    p.item.text = t.content;
                    p.lines = turn_line(t.role, t.content);
                    p.item.tokens = counter.count(p.lines);
                    p.item.priority = 1.0;
                    p.turn_index = t.index;
                    used += p.item.tokens;
                    placed.push_back(std::move(p));
                }
                if (used > request.token_budget) {
                    fits = false;
                    break;
                }
            }
            if (static_cast<int>(sessions.size()) < kListPage) break;
        }
        if (fits && !placed.empty()) {
            std::vector<const Placed*> order;
            std::string text = render(placed, &order);
            const int tokens = counter.count(text);
            if (tokens <= request.token_budget) {
                PackedContext full;
                full.mode = "full";
                full.strategy = request.strategy;
                full.budget = request.token_budget;
                full.token_counter = counter.name();
                full.text = std::move(text);
                full.tokens = tokens;
                for (const Placed* p : order) full.items.push_back(p->item);
                return full;
            }
        }
    }

    // 2. Retrieve at each granularity the strategy allows.
    std::vector<Granularity> grains;
    switch (request.strategy) {
        case ContextStrategy::kAuto:
            grains = {Granularity::kTurn, Granularity::kSession, Granularity::kNote};
            break;
        case ContextStrategy::kTurn:
            grains = {Granularity::kTurn};
            break;
        case ContextStrategy::kSession:
            grains = {Granularity::kSession};
            break;
        case ContextStrategy::kNote:
            grains = {Granularity::kNote};
            break;
    }
    std::map<Granularity, std::vector<SearchHit>> hits;
    std::map<Granularity, std::vector<SearchHit>> window_hits;  // hits of searches restricted to the query's times
    const std::vector<TimeWindow> windows = query_time_windows(query, request.query_time.value_or(clock_.now_ms()));
    for (Granularity g : grains) {
        SearchRequest sr;
        sr.cube_id = request.cube_id;
        sr.query = query;
        sr.granularity = g;
        sr.retriever = Retriever::kHybrid;
        sr.top_k = fetch_count(g);
        sr.query_time = request.query_time;
        KASTEN_ASSIGN_OR_RETURN(auto found, memory_.search(sr));
        std::vector<SearchHit> kept;
        for (auto& h : found) {
            if (h.rank_score <= 0 || h.score < request.min_score) continue;
            if (!excluded.empty() && h.session_id == excluded) continue;
            kept.push_back(std::move(h));
        }
        if (!kept.empty()) hits[g] = std::move(kept);
        // A query that names a time ("two weeks ago", "in March") asks about what happened then: the best items
        // inside that time are found by a search restricted to it, whatever their rank in the whole cube.
        for (const TimeWindow& w : windows) {
            sr.time_from = w.from;
            sr.time_to = w.to;
            sr.top_k = kWindowHits;
            KASTEN_ASSIGN_OR_RETURN(auto inside, memory_.search(sr));
            for (auto& h : inside) {
                if (h.rank_score <= 0 || h.score < request.min_score) continue;
                if (!excluded.empty() && h.session_id == excluded) continue;
                window_hits[g].push_back(std::move(h));
            }
        }
    }

    // Relevance of each hit within its granularity (granularity_router.h), in-window hits joining the lists.
    std::map<Granularity, std::unordered_map<std::string, double>> relevance_of;
    for (Granularity g : grains) {
        auto& inside = window_hits[g];
        if (!hits.count(g) && inside.empty()) continue;
        auto& list = hits[g];
        relevance_of[g] = hit_relevance(list, inside);
        std::unordered_set<std::string> listed;
        for (const auto& h : list) listed.insert(h.id);
        for (auto& h : inside) {
            if (listed.insert(h.id).second) list.push_back(std::move(h));
        }
        if (list.empty()) hits.erase(g);
    }

    // The router's weights: decisive score distributions get more weight.
    std::map<Granularity, std::vector<double>> ranking_scores;
    for (const auto& [g, list] : hits) {
        for (const auto& h : list) ranking_scores[g].push_back(h.rank_score);
    }
    std::map<Granularity, double> weight_of = granularity_weights(ranking_scores);
    std::map<std::string, double> weights;
    for (const auto& [g, w] : weight_of) weights[granularity_name(g)] = w;
    const bool router = request.strategy == ContextStrategy::kAuto;

    struct Candidate {
        Granularity granularity;
        const SearchHit* hit;
        double priority;
    };
    std::vector<Candidate> candidates;
    auto add_candidate = [&](Granularity g, const SearchHit& h, double relevance, int cost) {
        candidates.push_back({g, &h, relevance / std::sqrt(static_cast<double>(std::max(cost, 1)))});
    };
    // The router's turns: turn hits and the source turns of note hits, each scored by fused_turn_relevance.
    std::vector<SearchHit> note_source_turns;
    if (router) {
        std::unordered_map<std::string, double> note_relevance;  // turn id -> best relevance of its notes
        std::unordered_set<std::string> turn_ids;
        if (hits.count(Granularity::kTurn)) {
            for (const auto& h : hits[Granularity::kTurn]) turn_ids.insert(h.id);
        }
        if (hits.count(Granularity::kNote)) {
            for (const auto& h : hits[Granularity::kNote]) {
                const double r = relevance_of[Granularity::kNote][h.id];
                for (const auto& id : h.turn_ids) {
                    double& best = note_relevance[id];
                    best = std::max(best, r);
                    if (h.session_id.empty() || !turn_ids.insert(id).second) continue;
                    // Notes are built per session: their source turns are in the note's session.
                    auto t = memory_.get_turn(request.cube_id, id);
                    if (!t) {
                        if (t.status().code() == StatusCode::kNotFound) continue;  // deleted since the note was built
                        return t.status();
                    }
                    SearchHit sh;
                    sh.granularity = Granularity::kTurn;
                    sh.id = id;
                    sh.text = t->content;
                    sh.role = t->role;
                    sh.time = t->conv_time;
                    sh.session_id = h.session_id;
                    sh.score = h.score;
                    note_source_turns.push_back(std::move(sh));
                }
            }
        }
        const auto& session_relevance = relevance_of[Granularity::kSession];
        const double session_weight = weight_of.count(Granularity::kSession) ? weight_of[Granularity::kSession] : 0.0;
        auto add_turn = [&](const SearchHit& h, double own) {
            auto s = session_relevance.find(h.session_id);
            auto n = note_relevance.find(h.id);
            const double relevance =
                fused_turn_relevance(own, n == note_relevance.end() ? 0.0 : n->second,
                                     s == session_relevance.end() ? 0.0 : s->second, session_weight);
            add_candidate(Granularity::kTurn, h, relevance, counter.count(turn_line(h.role, h.text)));
        };
        if (hits.count(Granularity::kTurn)) {
            for (const auto& h : hits[Granularity::kTurn]) add_turn(h, relevance_of[Granularity::kTurn][h.id]);
        }
        for (const auto& h : note_source_turns) add_turn(h, 0.0);
    }
    for (const auto& [g, list] : hits) {
        if (router && g == Granularity::kTurn) continue;
        for (const auto& h : list) {
            const double relevance = weight_of[g] * relevance_of[g][h.id];
            int cost = 0;
            if (g == Granularity::kTurn) {
                cost = counter.count(turn_line(h.role, h.text));
            } else if (g == Granularity::kSession) {
                cost = std::min(counter.count(h.text), request.token_budget / kSessionShare);
            } else {
                cost = counter.count(h.text) + 8;
            }
            add_candidate(g, h, relevance, cost);
        }
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.priority > b.priority; });

    // A long session's best turns for the query.
    auto session_excerpt = [&](const std::string& session_id) -> Result<std::vector<SearchHit>> {
        SearchRequest sr;
        sr.cube_id = request.cube_id;
        sr.query = query;
        sr.granularity = Granularity::kTurn;
        sr.retriever = Retriever::kHybrid;
        sr.top_k = kExcerptTurns;
        sr.session_id = session_id;
        sr.query_time = request.query_time;
        return memory_.search(sr);
    };

    // 3. Greedy packing by priority.
    std::vector<Placed> placed;
    std::unordered_set<std::string> placed_turns;     // turn ids in the context (alone or inside a session item)
    std::unordered_set<std::string> placed_sessions;  // session items
    std::unordered_set<std::string> placed_ids;
    std::unordered_set<std::string> opened_groups;
    int used = preamble_tokens;
    auto group_cost = [&](const std::string& session_id, TimeMs time) {
        return opened_groups.count(session_id) ? 0 : counter.count(group_header(session_id, time)) + 2;
    };
    auto place = [&](Placed p) {
        used += p.item.tokens + group_cost(p.item.session_id, p.item.time);
        opened_groups.insert(p.item.session_id);
        placed_ids.insert(p.item.id);
        for (const auto& id : p.turn_ids) placed_turns.insert(id);
        placed.push_back(std::move(p));
    };
    // An item for a hit, and the turn and note items with their rendered lines (from the store).
    auto item_of = [](Granularity g, const SearchHit& h, double priority) {
        Placed p;
        p.item.granularity = g;
        p.item.id = h.id;
        p.item.session_id = h.session_id;
        p.item.time = h.time;
        p.item.score = h.score;
        p.item.priority = priority;
        p.item.text = h.text;
        return p;
    };
    auto turn_item = [&](const SearchHit& h, const std::string& session_id, double priority) -> Result<Placed> {
        Placed p = item_of(Granularity::kTurn, h, priority);
        p.item.session_id = session_id;
        KASTEN_ASSIGN_OR_RETURN(store::TurnRecord t, memory_.get_turn(request.cube_id, h.id));
        p.turn_index = t.index;
        p.lines = turn_line(t.role, t.content);
        p.turn_ids = {h.id};
        p.item.tokens = counter.count(p.lines);
        return p;
    };
    auto note_item = [&](const SearchHit& h, double priority) -> Result<Placed> {
        Placed p = item_of(Granularity::kNote, h, priority);
        KASTEN_ASSIGN_OR_RETURN(store::NoteRecord n, memory_.get_note(request.cube_id, h.id));
        p.item.valid_to = n.valid_to;
        p.turn_ids = n.source_turn_ids;
        p.lines = note_line(p.item);
        p.item.tokens = counter.count(p.lines);
        return p;
    };
    auto fits = [&](const Placed& p, int refund = 0) {
        return used - refund + p.item.tokens + group_cost(p.item.session_id, p.item.time) <= request.token_budget;
    };

    std::vector<Candidate> deferred_notes;
    for (const Candidate& c : candidates) {
        const SearchHit& h = *c.hit;
        if (placed_ids.count(h.id)) continue;
        if (c.granularity == Granularity::kTurn) {
            if (placed_turns.count(h.id) || placed_sessions.count(h.session_id)) continue;
            KASTEN_ASSIGN_OR_RETURN(Placed p, turn_item(h, h.session_id, c.priority));
            if (fits(p)) place(std::move(p));
        } else if (c.granularity == Granularity::kNote) {
            KASTEN_ASSIGN_OR_RETURN(Placed p, note_item(h, c.priority));
            const bool covered =
                !p.turn_ids.empty() && std::all_of(p.turn_ids.begin(), p.turn_ids.end(),
                                                   [&](const std::string& id) { return placed_turns.count(id) > 0; });
            // The router's marginal gain: the note already scored its source turns, so it adds evidence only for a
            // session the context does not draw from yet (else it waits with the covered notes).
            const bool session_covered = router && opened_groups.count(h.session_id) > 0;
            if (covered || session_covered) {
                deferred_notes.push_back(c);
                continue;
            }
            p.turn_ids.clear();  // a note does not stand in for its turns
            if (fits(p)) place(std::move(p));
        } else {
            if (placed_sessions.count(h.id)) continue;
            if (router && opened_groups.count(h.id)) continue;  // marginal gain: its relevance is in its turns
            Placed p = item_of(Granularity::kSession, h, c.priority);
            KASTEN_ASSIGN_OR_RETURN(SessionView view, memory_.get_session(request.cube_id, h.id));
            p.lines = session_lines(view.turns);
            p.item.tokens = counter.count(p.lines);
            if (p.item.tokens > request.token_budget / kSessionShare) {
                // Too long to give whole: the session lends its best-matching turns, at its priority.
                KASTEN_ASSIGN_OR_RETURN(auto best, session_excerpt(h.id));
                for (const auto& t : best) {
                    if (placed_turns.count(t.id) || placed_ids.count(t.id)) continue;
                    KASTEN_ASSIGN_OR_RETURN(Placed q, turn_item(t, h.id, c.priority));
                    if (fits(q)) place(std::move(q));
                }
                continue;
            }
            for (const auto& t : view.turns) p.turn_ids.push_back(t.id);
            // The session replaces its turns placed earlier: their cost comes back.
            auto is_its_turn = [&](const Placed& q) {
                return q.item.granularity == Granularity::kTurn && q.item.session_id == h.id;
            };
            int refund = 0;
            for (const auto& q : placed) refund += is_its_turn(q) ? q.item.tokens : 0;
            if (!fits(p, refund)) continue;
            placed.erase(std::remove_if(placed.begin(), placed.end(), is_its_turn), placed.end());
            used -= refund;
            placed_sessions.insert(h.id);
            place(std::move(p));
        }
    }
    // Notes whose turns are all in the context, if room is left.
    for (const Candidate& c : deferred_notes) {
        if (placed_ids.count(c.hit->id)) continue;
        KASTEN_ASSIGN_OR_RETURN(Placed p, note_item(*c.hit, c.priority));
        p.turn_ids.clear();
        if (fits(p)) place(std::move(p));
    }
    return finish(request, counter, "packed", std::move(placed), std::move(weights));
}

}  // namespace kasten::memory
