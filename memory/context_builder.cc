#include "memory/context_builder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <queue>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/timestamp.h"
#include "memory/memory_manager.h"
#include "memory/query_time_windows.h"

namespace kasten::memory {
namespace {

constexpr int kRouterTopScores = 10;   // scores whose distribution the router reads
constexpr double kRouterFloor = 0.05;  // weight every granularity keeps (a flat list can still hold the answer)
constexpr int kMinTurnTokens = 8;      // a rendered turn line costs at least this ({"role":"user","content":"…"})
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

// Normalised entropy in [0, 1] of the top ranking scores' distribution (p_i = s_i / Σ s); 0 for one hit.
double normalised_entropy(const std::vector<SearchHit>& hits) {
    const size_t m = std::min<size_t>(hits.size(), kRouterTopScores);
    if (m <= 1) return 0.0;
    double sum = 0;
    for (size_t i = 0; i < m; ++i) sum += std::max(0.0, hits[i].rank_score);
    if (sum <= 0) return 1.0;
    double h = 0;
    for (size_t i = 0; i < m; ++i) {
        const double p = std::max(0.0, hits[i].rank_score) / sum;
        if (p > 0) h -= p * std::log(p);
    }
    return h / std::log(static_cast<double>(m));
}


int experiment_flag(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

// Normalised entropy of the softmax of the top scores over the best one, at temperature tau.
double softmax_entropy(const std::vector<SearchHit>& hits, double tau) {
    const size_t m = std::min<size_t>(hits.size(), kRouterTopScores);
    if (m <= 1) return 0.0;
    const double best = hits.front().rank_score;
    if (best <= 0) return 1.0;
    std::vector<double> e(m);
    double sum = 0;
    for (size_t i = 0; i < m; ++i) {
        e[i] = std::exp((std::max(0.0, hits[i].rank_score) / best - 1.0) / tau);
        sum += e[i];
    }
    double h = 0;
    for (size_t i = 0; i < m; ++i) {
        const double p = e[i] / sum;
        if (p > 0) h -= p * std::log(p);
    }
    return h / std::log(static_cast<double>(m));
}

double router_entropy(const std::vector<SearchHit>& hits) {
    const int tau_milli = experiment_flag("KASTEN_CTX_TAU", 0);
    if (tau_milli <= 0) return normalised_entropy(hits);
    return softmax_entropy(hits, tau_milli / 1000.0);
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
    const std::vector<TimeWindow> windows =
        experiment_flag("KASTEN_CTX_TIME", 1) != 0
            ? query_time_windows(query, request.query_time.value_or(clock_.now_ms()))
            : std::vector<TimeWindow>{};
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

    if (std::getenv("KASTEN_CTX_DEBUG") && query.find(std::getenv("KASTEN_CTX_DEBUG")) != std::string::npos) {
        fprintf(stderr, "DEBUG q=%s strategy=%s windows=%zu qt=%lld\n", query.c_str(), context_strategy_name(request.strategy), windows.size(), (long long)request.query_time.value_or(-1));
        for (auto& [g, l] : window_hits) for (auto& h : l) fprintf(stderr, "  W %s %s %s %.4f %s\n", granularity_name(g), h.id.c_str(), h.session_id.c_str(), h.rank_score, h.text.substr(0, 80).c_str());
    }
    // Relevance of a hit within its granularity: its ranking score over the best one's, and, for an item inside a time
    // the query names, at least its ranking score over the best one's of a search restricted to that time.
    std::map<Granularity, std::unordered_map<std::string, double>> relevance_of;
    for (const auto& [g, list] : hits) {
        const double best = list.front().rank_score;
        auto& rel = relevance_of[g];
        for (const auto& h : list) rel[h.id] = h.rank_score / best;
    }
    for (auto& [g, list] : window_hits) {
        if (list.empty()) continue;
        double best = 0;
        for (const auto& h : list) best = std::max(best, h.rank_score);
        if (best <= 0) continue;
        auto& rel = relevance_of[g];
        auto& into = hits[g];
        for (auto& h : list) {
            auto it = rel.find(h.id);
            const double r = h.rank_score / best;
            if (it == rel.end()) {
                rel[h.id] = r;
                into.push_back(std::move(h));
            } else {
                it->second = std::max(it->second, r);
            }
        }
    }

    // The router: decisive score distributions get more weight.
    std::map<std::string, double> weights;
    std::map<Granularity, double> weight_of;
    double total = 0;
    for (const auto& [g, list] : hits) {
        const double w = (1.0 - router_entropy(list)) + kRouterFloor;
        weight_of[g] = w;
        total += w;
    }
    for (auto& [g, w] : weight_of) {
        w /= total;
        weights[granularity_name(g)] = w;
    }
    const bool fused_router = request.strategy == ContextStrategy::kAuto && experiment_flag("KASTEN_CTX_ROUTER", 2) == 2;

    struct Candidate {
        Granularity granularity;
        const SearchHit* hit;
        double priority;
        // Fused router turns: the part of the priority owed to the turn's session, which a turn adds only while no
        // item of that session is in the context (then the rest is the turn's own evidence).
        double session_part = 0;
    };
    std::vector<Candidate> candidates;
    // The fused router's turn candidates: turn hits and the source turns of note hits, each turn scored by its own
    // relevance, its session's and its notes', weighted by the granularities' weights.
    std::vector<SearchHit> note_source_turns;
    const int fuse = experiment_flag("KASTEN_CTX_FUSE", 5);
    const bool lazy_sessions = experiment_flag("KASTEN_CTX_LAZY", 0) != 0;
    if (fused_router) {
        std::unordered_map<std::string, double> session_rel;
        if (hits.count(Granularity::kSession)) {
            for (const auto& h : hits[Granularity::kSession]) session_rel[h.id] = relevance_of[Granularity::kSession][h.id];
        }
        std::unordered_map<std::string, double> note_rel;  // turn id -> best relevance of its notes
        std::unordered_set<std::string> turn_hit_ids;
        if (hits.count(Granularity::kTurn)) {
            for (const auto& h : hits[Granularity::kTurn]) turn_hit_ids.insert(h.id);
        }
        if (hits.count(Granularity::kNote)) {
            for (const auto& h : hits[Granularity::kNote]) {
                const double r = relevance_of[Granularity::kNote][h.id];
                for (const auto& id : h.turn_ids) {
                    double& best = note_rel[id];
                    if (r > best) best = r;
                    if (!turn_hit_ids.count(id) && !h.session_id.empty()) {
                        KASTEN_ASSIGN_OR_RETURN(store::TurnRecord t, memory_.get_turn(request.cube_id, id));
                        SearchHit sh;
                        sh.granularity = Granularity::kTurn;
                        sh.id = id;
                        sh.text = t.content;
                        sh.role = t.role;
                        sh.time = t.conv_time;
                        sh.session_id = h.session_id;
                        sh.score = h.score;
                        note_source_turns.push_back(std::move(sh));
                        turn_hit_ids.insert(id);
                    }
                }
            }
        }
        auto turn_candidate = [&](const SearchHit& h, double own) {
            auto s = session_rel.find(h.session_id);
            auto n = note_rel.find(h.id);
            double session_part =
                (fuse & 1) ? weight_of[Granularity::kSession] * (s == session_rel.end() ? 0.0 : s->second) : 0.0;
            double fused = weight_of[Granularity::kTurn] * own + session_part +
                                 ((fuse & 2) ? weight_of[Granularity::kNote] * (n == note_rel.end() ? 0.0 : n->second) : 0.0);
            if (fuse & 4) {
                const double key = std::max(own, n == note_rel.end() ? 0.0 : n->second);
                session_part = key * weight_of[Granularity::kSession] * (s == session_rel.end() ? 0.0 : s->second);
                fused = key + session_part;
            }
            const double root = std::sqrt(static_cast<double>(std::max(counter.count(turn_line(h.role, h.text)), 1)));
            candidates.push_back({Granularity::kTurn, &h, fused / root, lazy_sessions ? session_part / root : 0.0});
        };
        if (hits.count(Granularity::kTurn)) {
            for (const auto& h : hits[Granularity::kTurn]) turn_candidate(h, relevance_of[Granularity::kTurn][h.id]);
        }
        for (const auto& h : note_source_turns) turn_candidate(h, 0.0);
    }
    const int items_flag = experiment_flag("KASTEN_CTX_ITEMS", 3);  // fused router: 1 notes, 2 sessions as items
    for (const auto& [g, list] : hits) {
        if (fused_router && g == Granularity::kTurn) continue;
        if (fused_router && g == Granularity::kNote && !(items_flag & 1)) continue;
        if (fused_router && g == Granularity::kSession && !(items_flag & 2)) continue;
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
            candidates.push_back({g, &h, relevance / std::sqrt(static_cast<double>(std::max(cost, 1)))});
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

    const bool marginal = experiment_flag("KASTEN_CTX_MARGINAL", 1) != 0;
    std::vector<Candidate> deferred_notes;
    // Lazy greedy: a turn whose session entered the context since its priority was set goes back without the session
    // part (priorities only fall, so the first up-to-date candidate on top is the best one).
    auto lower = [](const Candidate& a, const Candidate& b) { return a.priority < b.priority; };
    std::priority_queue<Candidate, std::vector<Candidate>, decltype(lower)> queue(lower, candidates);
    while (!queue.empty()) {
        Candidate c = queue.top();
        queue.pop();
        const SearchHit& h = *c.hit;
        if (placed_ids.count(h.id)) continue;
        if (c.session_part > 0 && opened_groups.count(h.session_id)) {
            c.priority -= c.session_part;
            c.session_part = 0;
            queue.push(c);
            continue;
        }
        if (c.granularity == Granularity::kTurn) {
            if (placed_turns.count(h.id) || placed_sessions.count(h.session_id)) continue;
            KASTEN_ASSIGN_OR_RETURN(Placed p, turn_item(h, h.session_id, c.priority));
            if (fits(p)) place(std::move(p));
        } else if (c.granularity == Granularity::kNote) {
            KASTEN_ASSIGN_OR_RETURN(Placed p, note_item(h, c.priority));
            const bool covered =
                !p.turn_ids.empty() && std::all_of(p.turn_ids.begin(), p.turn_ids.end(),
                                                   [&](const std::string& id) { return placed_turns.count(id) > 0; });
            // The fused router's marginal gain: the note's source turns already scored its turns, so it adds
            // evidence only for a session the context does not draw from yet.
            const bool session_covered = fused_router && marginal && opened_groups.count(h.session_id) > 0;
            if (covered || session_covered) {
                deferred_notes.push_back(c);
                continue;
            }
            p.turn_ids.clear();  // a note does not stand in for its turns
            if (fits(p)) place(std::move(p));
        } else {
            if (placed_sessions.count(h.id)) continue;
            if (fused_router && marginal && opened_groups.count(h.id)) continue;  // its turns already scored
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
