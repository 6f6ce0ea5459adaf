#include "retrieval/memory_postings.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

namespace kasten::retrieval {

namespace {

// A node's matches: (document number, weight), ascending by document number.
using Matches = std::vector<std::pair<std::uint32_t, double>>;

}  // namespace

std::uint32_t MemoryPostings::Names::intern(std::string_view name) {
    if (name.empty()) return 0;
    auto it = numbers.find(name);
    if (it != numbers.end()) return it->second;
    const auto number = static_cast<std::uint32_t>(numbers.size() + 1);
    numbers.emplace(std::string(name), number);
    names.emplace_back(name);
    return number;
}

std::uint32_t MemoryPostings::Names::find(std::string_view name) const {
    if (name.empty()) return 0;
    auto it = numbers.find(name);
    return it == numbers.end() ? 0 : it->second;
}

std::string MemoryPostings::unit_key(std::string_view cube_id, UnitType type, std::string_view id) {
    // Unambiguous: the cube's length first, the type as one byte.
    std::string key = std::to_string(cube_id.size());
    key += ':';
    key += cube_id;
    key += static_cast<char>('0' + static_cast<int>(type));
    key += id;
    return key;
}

std::size_t MemoryPostings::term_slot(std::string_view term, std::uint64_t hash) const {
    const std::size_t mask = term_slots_.size() - 1;
    const auto length = static_cast<std::uint8_t>(std::min<std::size_t>(term.size(), 255));
    const std::size_t inline_bytes = std::min(term.size(), TermSlot::kInlineBytes);
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
        const TermSlot& slot = term_slots_[i];
        if (slot.number_plus_one == 0) return i;
        if (slot.length != length || std::memcmp(slot.prefix, term.data(), inline_bytes) != 0) continue;
        if (term.size() <= TermSlot::kInlineBytes || term_names_[slot.number_plus_one - 1] == term) return i;
    }
}

std::uint32_t MemoryPostings::term_number(std::string_view term) {
    if (2 * (term_names_.size() + 1) > term_slots_.size()) {
        // Twice the slots (at least 1,024), every term placed again.
        std::vector<TermSlot> old = std::move(term_slots_);
        term_slots_.assign(std::max<std::size_t>(1024, 2 * old.size()), TermSlot{});
        for (const TermSlot& slot : old) {
            if (slot.number_plus_one == 0) continue;
            const std::string& name = term_names_[slot.number_plus_one - 1];
            term_slots_[term_slot(name, std::hash<std::string_view>{}(name))] = slot;
        }
    }
    const std::size_t at = term_slot(term, std::hash<std::string_view>{}(term));
    TermSlot& slot = term_slots_[at];
    if (slot.number_plus_one != 0) return slot.number_plus_one - 1;
    const auto number = static_cast<std::uint32_t>(term_names_.size());
    slot.number_plus_one = number + 1;
    slot.length = static_cast<std::uint8_t>(std::min<std::size_t>(term.size(), 255));
    std::memcpy(slot.prefix, term.data(), std::min(term.size(), TermSlot::kInlineBytes));
    term_names_.emplace_back(term);
    postings_.emplace_back();
    return number;
}

std::uint32_t MemoryPostings::find_term(std::string_view term) const {
    if (term_slots_.empty()) return kNoTerm;
    const TermSlot& slot = term_slots_[term_slot(term, std::hash<std::string_view>{}(term))];
    return slot.number_plus_one == 0 ? kNoTerm : slot.number_plus_one - 1;
}

void MemoryPostings::link(std::uint32_t doc) {
    Document& d = docs_[doc - 1];
    d.live = true;
    std::uint64_t length = 0;
    for (const auto* it = terms_begin(d); it != terms_begin(d) + d.terms_count; ++it) {
        const auto [term, wdf] = *it;
        auto& list = postings_[term];
        // New documents append; a replaced one keeps its (older) number.
        if (list.empty() || list.back().doc < doc) {
            list.push_back(Posting{doc, wdf});
        } else {
            auto at = std::lower_bound(list.begin(), list.end(), doc,
                                       [](const Posting& p, std::uint32_t n) { return p.doc < n; });
            list.insert(at, Posting{doc, wdf});
        }
        length += wdf;
    }
    ++live_;
    total_length_ += length;
    lengths_[doc - 1] = static_cast<std::uint32_t>(length);
    ++cube_live_[d.cube];
}

void MemoryPostings::unlink(std::uint32_t doc) {
    Document& d = docs_[doc - 1];
    for (const auto* it = terms_begin(d); it != terms_begin(d) + d.terms_count; ++it) {
        auto& list = postings_[it->first];
        auto at = std::lower_bound(list.begin(), list.end(), doc,
                                   [](const Posting& p, std::uint32_t n) { return p.doc < n; });
        if (at != list.end() && at->doc == doc) list.erase(at);
    }
    d.live = false;
    dead_terms_ += d.terms_count;
    d.terms_count = 0;
    --live_;
    total_length_ -= lengths_[doc - 1];
    if (--cube_live_[d.cube] == 0) cube_live_.erase(d.cube);
}

bool MemoryPostings::upsert(const UnitAttrs& attrs, const Terms& terms) {
    std::string key = unit_key(attrs.cube_id, attrs.type, attrs.id);
    std::uint32_t doc = 0;
    bool replaced = false;
    auto it = by_key_.find(key);
    if (it != by_key_.end()) {
        doc = it->second;
        unlink(doc);
        replaced = true;
    } else {
        docs_.emplace_back();
        lengths_.push_back(0);
        doc = static_cast<std::uint32_t>(docs_.size());
        by_key_.emplace(std::move(key), doc);
    }
    Document& d = docs_[doc - 1];
    d.id = attrs.id;
    d.type = attrs.type;
    d.cube = cubes_.intern(attrs.cube_id);
    d.session = sessions_.intern(attrs.session_id);
    d.role = roles_.intern(attrs.role);
    d.time = attrs.time;
    d.terms_at = doc_terms_.size();
    for (const auto& [term, wdf] : terms) {
        if (wdf == 0 || term.empty()) continue;
        doc_terms_.emplace_back(term_number(term), wdf);
    }
    d.terms_count = static_cast<std::uint32_t>(doc_terms_.size() - d.terms_at);
    link(doc);
    if (dead_terms_ > 4096 && 2 * dead_terms_ > doc_terms_.size()) compact_terms();
    return replaced;
}

void MemoryPostings::compact_terms() {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> kept;
    kept.reserve(doc_terms_.size() - dead_terms_);
    for (Document& d : docs_) {
        const auto* first = terms_begin(d);
        d.terms_at = kept.size();
        kept.insert(kept.end(), first, first + d.terms_count);
    }
    doc_terms_ = std::move(kept);
    dead_terms_ = 0;
}

MemoryPostings::Terms MemoryPostings::terms_of(std::string_view cube_id, UnitType type, std::string_view id) const {
    Terms out;
    auto it = by_key_.find(unit_key(cube_id, type, id));
    if (it == by_key_.end()) return out;
    const Document& d = docs_[it->second - 1];
    out.reserve(d.terms_count);
    for (const auto* t = terms_begin(d); t != terms_begin(d) + d.terms_count; ++t) {
        out.emplace_back(term_names_[t->first], t->second);
    }
    return out;
}

bool MemoryPostings::contains(std::string_view cube_id, UnitType type, std::string_view id) const {
    return by_key_.count(unit_key(cube_id, type, id)) > 0;
}

bool MemoryPostings::remove(std::string_view cube_id, UnitType type, std::string_view id) {
    auto it = by_key_.find(unit_key(cube_id, type, id));
    if (it == by_key_.end()) return false;
    unlink(it->second);
    by_key_.erase(it);
    return true;
}

std::size_t MemoryPostings::remove_session(std::string_view cube_id, std::string_view session_id) {
    const std::uint32_t cube = cubes_.find(cube_id);
    const std::uint32_t session = sessions_.find(session_id);
    if (cube == 0 || session == 0) return 0;
    std::size_t removed = 0;
    for (std::uint32_t doc = 1; doc <= docs_.size(); ++doc) {
        Document& d = docs_[doc - 1];
        if (!d.live || d.cube != cube || d.session != session) continue;
        unlink(doc);
        by_key_.erase(unit_key(cubes_.name(d.cube), d.type, d.id));
        ++removed;
    }
    return removed;
}

std::size_t MemoryPostings::remove_cube(std::string_view cube_id) {
    const std::uint32_t cube = cubes_.find(cube_id);
    if (cube == 0) return 0;
    std::size_t removed = 0;
    for (std::uint32_t doc = 1; doc <= docs_.size(); ++doc) {
        Document& d = docs_[doc - 1];
        if (!d.live || d.cube != cube) continue;
        unlink(doc);
        by_key_.erase(unit_key(cubes_.name(d.cube), d.type, d.id));
        ++removed;
    }
    return removed;
}

std::uint64_t MemoryPostings::term_frequency(std::string_view term) const {
    const std::uint32_t t = find_term(term);
    return t == kNoTerm ? 0 : postings_[t].size();
}

std::uint64_t MemoryPostings::cube_documents(std::string_view cube_id) const {
    auto it = cube_live_.find(cubes_.find(cube_id));
    return it == cube_live_.end() ? 0 : it->second;
}

std::uint64_t MemoryPostings::cube_term_frequency(std::string_view cube_id, std::string_view term) const {
    const std::uint32_t cube = cubes_.find(cube_id);
    const std::uint32_t t = find_term(term);
    if (cube == 0 || t == kNoTerm) return 0;
    if (cube_documents(cube_id) == live_) return postings_[t].size();
    std::uint64_t n = 0;
    for (const Posting& p : postings_[t]) n += docs_[p.doc - 1].cube == cube ? 1 : 0;
    return n;
}

std::vector<std::string> MemoryPostings::ids(std::string_view cube_id) const {
    std::vector<std::string> out;
    const std::uint32_t cube = cubes_.find(cube_id);
    if (cube == 0) return out;
    for (const Document& d : docs_) {
        if (d.live && d.cube == cube) out.push_back(d.id);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<ScoredId> MemoryPostings::search(const std::vector<const MemoryPostings*>& statistics,
                                             const MemoryPostings& matched, const TermQuery& query,
                                             const SearchFilter& filter, int k, const Bm25& bm25) {
    std::vector<ScoredId> hits;
    const std::uint32_t cube = matched.cubes_.find(filter.cube_id);
    if (k <= 0 || cube == 0) return hits;
    // Collection statistics, as Xapian's Weight sees them for a database made of `statistics`.
    std::uint64_t collection = 0;
    std::uint64_t total_length = 0;
    for (const MemoryPostings* part : statistics) {
        collection += part->documents();
        total_length += part->total_length();
    }
    const double average_length =
        collection == 0 ? 0.0 : static_cast<double>(total_length) / static_cast<double>(collection);
    // Xapian::BM25Weight(k1, k2 = 0, k3 = 1, b, min_normlen = 0.5): init() then get_sumpart(), step for step.
    const double k1 = bm25.k1;
    const double b = bm25.b;
    constexpr double kK3 = 1.0;
    constexpr double kMinNormlen = 0.5;
    double len_factor = 0;
    if (!(b == 0 || k1 == 0)) {
        len_factor = average_length;
        if (len_factor != 0) len_factor = 1 / len_factor;
    }
    auto term_weight = [&](std::string_view term, unsigned query_wdf, double factor) {
        std::uint64_t tf = 0;
        for (const MemoryPostings* part : statistics) tf += part->term_frequency(term);
        double tw = (static_cast<double>(collection) - static_cast<double>(tf) + 0.5) / (static_cast<double>(tf) + 0.5);
        if (tw < 2) tw = tw * 0.5 + 1;
        double weight = std::log(tw) * factor;
        const double wqf = query_wdf;
        weight *= (kK3 + 1) * wqf / (kK3 + wqf);
        weight *= (k1 + 1);
        return weight;
    };
    auto sum_part = [&](double termweight, std::uint32_t wdf, std::uint64_t length) {
        const double normlen = std::max(static_cast<double>(length) * len_factor, kMinNormlen);
        const double wdf_double = wdf;
        const double denom = k1 * (normlen * b + (1 - b)) + wdf_double;
        return termweight * (wdf_double / denom);
    };

    // Recursive evaluation; `factor` is 0 below the unweighted side of kAndNot.
    std::function<Matches(const TermQuery&, double)> eval = [&](const TermQuery& q, double factor) -> Matches {
        Matches out;
        switch (q.op) {
            case TermQuery::Op::kNothing:
                return out;
            case TermQuery::Op::kTerm: {
                const std::uint32_t t = matched.find_term(q.term);
                if (t == kNoTerm) return out;
                const auto& list = matched.postings_[t];
                if (list.empty()) return out;
                const double tw = term_weight(q.term, q.wqf, factor);
                out.reserve(list.size());
                for (const Posting& p : list) {
                    out.emplace_back(p.doc, sum_part(tw, p.wdf, matched.lengths_[p.doc - 1]));
                }
                return out;
            }
            case TermQuery::Op::kOr:
            case TermQuery::Op::kXor: {
                // Weights summed in child order; Xor keeps the documents matched an odd number of times.
                const bool odd_only = q.op == TermQuery::Op::kXor;
                std::vector<std::uint32_t> times;
                for (std::size_t c = 0; c < q.children.size(); ++c) {
                    Matches child = eval(q.children[c], factor);
                    if (c == 0) {
                        out = std::move(child);
                        times.assign(out.size(), 1);
                        continue;
                    }
                    Matches merged;
                    std::vector<std::uint32_t> merged_times;
                    merged.reserve(out.size() + child.size());
                    merged_times.reserve(out.size() + child.size());
                    std::size_t i = 0, j = 0;
                    while (i < out.size() || j < child.size()) {
                        if (j == child.size() || (i < out.size() && out[i].first < child[j].first)) {
                            merged.push_back(out[i]);
                            merged_times.push_back(times[i]);
                            ++i;
                        } else if (i == out.size() || child[j].first < out[i].first) {
                            merged.push_back(child[j]);
                            merged_times.push_back(1);
                            ++j;
                        } else {
                            merged.emplace_back(out[i].first, out[i].second + child[j].second);
                            merged_times.push_back(times[i] + 1);
                            ++i;
                            ++j;
                        }
                    }
                    out = std::move(merged);
                    times = std::move(merged_times);
                }
                if (odd_only) {
                    std::size_t w = 0;
                    for (std::size_t r = 0; r < out.size(); ++r) {
                        if (times[r] % 2 == 1) out[w++] = out[r];
                    }
                    out.resize(w);
                }
                return out;
            }
            case TermQuery::Op::kAnd: {
                for (std::size_t c = 0; c < q.children.size(); ++c) {
                    Matches child = eval(q.children[c], factor);
                    if (c == 0) {
                        out = std::move(child);
                        continue;
                    }
                    Matches kept;
                    std::size_t i = 0, j = 0;
                    while (i < out.size() && j < child.size()) {
                        if (out[i].first < child[j].first) {
                            ++i;
                        } else if (child[j].first < out[i].first) {
                            ++j;
                        } else {
                            kept.emplace_back(out[i].first, out[i].second + child[j].second);
                            ++i;
                            ++j;
                        }
                    }
                    out = std::move(kept);
                    if (out.empty()) break;
                }
                return out;
            }
            case TermQuery::Op::kAndNot:
            case TermQuery::Op::kAndMaybe: {
                const bool maybe = q.op == TermQuery::Op::kAndMaybe;
                out = eval(q.children[0], factor);
                for (std::size_t c = 1; c < q.children.size() && !out.empty(); ++c) {
                    Matches other = eval(q.children[c], maybe ? factor : 0.0);
                    Matches kept;
                    kept.reserve(out.size());
                    std::size_t j = 0;
                    for (const auto& [doc, weight] : out) {
                        while (j < other.size() && other[j].first < doc) ++j;
                        const bool in_other = j < other.size() && other[j].first == doc;
                        if (maybe) {
                            kept.emplace_back(doc, in_other ? weight + other[j].second : weight);
                        } else if (!in_other) {
                            kept.emplace_back(doc, weight);
                        }
                    }
                    out = std::move(kept);
                }
                return out;
            }
        }
        return out;
    };
    // An OR of terms (every plain query) is summed straight into a per-document array, child by child as eval()
    // adds them (the same sums, bit for bit), instead of merging sorted lists.
    auto or_of_terms = [&]() -> Matches {
        thread_local std::vector<double> sums;
        thread_local std::vector<std::uint32_t> stamps;
        thread_local std::uint32_t stamp = 0;
        const std::size_t n = matched.docs_.size() + 1;
        if (sums.size() < n) {
            sums.resize(n);
            stamps.resize(n, 0);
        }
        if (++stamp == 0) {  // wrapped: every old stamp could collide
            std::fill(stamps.begin(), stamps.end(), 0);
            stamp = 1;
        }
        std::vector<std::uint32_t> touched;
        auto add_leaf = [&](const TermQuery& leaf) {
            const std::uint32_t t = matched.find_term(leaf.term);
            if (t == kNoTerm || matched.postings_[t].empty()) return;
            const double tw = term_weight(leaf.term, leaf.wqf, 1.0);
            for (const Posting& p : matched.postings_[t]) {
                const double part = sum_part(tw, p.wdf, matched.lengths_[p.doc - 1]);
                if (stamps[p.doc] != stamp) {
                    stamps[p.doc] = stamp;
                    sums[p.doc] = part;
                    touched.push_back(p.doc);
                } else {
                    sums[p.doc] += part;
                }
            }
        };
        if (query.op == TermQuery::Op::kTerm) {
            add_leaf(query);
        } else {
            for (const TermQuery& child : query.children) add_leaf(child);
        }
        Matches out;
        out.reserve(touched.size());
        for (std::uint32_t doc : touched) out.emplace_back(doc, sums[doc]);
        return out;
    };
    bool plain = query.op == TermQuery::Op::kTerm;
    if (query.op == TermQuery::Op::kOr) {
        plain = std::all_of(query.children.begin(), query.children.end(),
                            [](const TermQuery& c) { return c.op == TermQuery::Op::kTerm; });
    }
    Matches all = plain ? or_of_terms() : eval(query, 1.0);

    // The filter: cube, role, session, time.
    const bool whole = matched.cube_documents(filter.cube_id) == matched.live_;
    std::uint32_t role = 0, session = 0;
    if (filter.role) {
        role = matched.roles_.find(*filter.role);
        if (role == 0) return hits;
    }
    if (filter.session_id) {
        session = matched.sessions_.find(*filter.session_id);
        if (session == 0) return hits;
    }
    std::size_t w = 0;
    for (const auto& entry : all) {
        const Document& d = matched.docs_[entry.first - 1];
        if (!whole && d.cube != cube) continue;
        if (role != 0 && d.role != role) continue;
        if (session != 0 && d.session != session) continue;
        // Xapian compares sortable_serialise(double(time)): the order of the doubles.
        if (filter.time_from && static_cast<double>(d.time) < static_cast<double>(*filter.time_from)) continue;
        if (filter.time_to && static_cast<double>(d.time) > static_cast<double>(*filter.time_to)) continue;
        all[w++] = entry;
    }
    all.resize(w);
    auto better = [](const std::pair<std::uint32_t, double>& x, const std::pair<std::uint32_t, double>& y) {
        return x.second != y.second ? x.second > y.second : x.first < y.first;
    };
    const std::size_t n = std::min<std::size_t>(all.size(), static_cast<std::size_t>(k));
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), better);
    hits.reserve(n);
    for (std::size_t i = 0; i < n; ++i) hits.push_back(ScoredId{matched.docs_[all[i].first - 1].id, all[i].second});
    return hits;
}

}  // namespace kasten::retrieval
