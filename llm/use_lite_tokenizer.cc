#include "llm/use_lite_tokenizer.h"

#include <algorithm>

#include "llm/unicode_nfkc.h"
#include "llm/unicode_text.h"
#include "llm/use_lite_model.h"

namespace kasten::llm {
namespace {

int utf16_units(std::string_view utf8) {
    int units = 0;
    for (std::uint32_t cp : unicode::decode_utf8(utf8)) units += cp >= 0x10000 ? 2 : 1;
    return units;
}

std::vector<std::pair<std::string, double>> pieces_of(const UseLiteModel& model) {
    std::vector<std::pair<std::string, double>> pieces;
    pieces.reserve(model.piece_count());
    for (std::size_t i = 0; i < model.piece_count(); ++i) pieces.emplace_back(model.piece(i), model.score(i));
    return pieces;
}

}  // namespace

UseLiteTokenizer::UseLiteTokenizer(const std::vector<std::pair<std::string, double>>& pieces, int reserved_ids) {
    build(pieces, reserved_ids);
}

UseLiteTokenizer::UseLiteTokenizer(const UseLiteModel& model) {
    build(pieces_of(model), 6);
}

void UseLiteTokenizer::build(const std::vector<std::pair<std::string, double>>& pieces, int reserved_ids) {
    nodes_.assign(1, Node{});
    utf16_length_.clear();
    for (std::size_t id = 0; id < pieces.size(); ++id) {
        utf16_length_.push_back(utf16_units(pieces[id].first));
        if (static_cast<int>(id) < reserved_ids) continue;
        const std::vector<std::uint32_t> cps = unicode::decode_utf8(pieces[id].first);
        if (cps.empty()) continue;
        std::uint32_t node = 0;
        for (std::uint32_t cp : cps) {
            const std::uint64_t key = (static_cast<std::uint64_t>(node) << 21) | cp;
            auto it = children_.find(key);
            if (it == children_.end()) {
                nodes_.push_back(Node{});
                it = children_.emplace(key, static_cast<std::uint32_t>(nodes_.size() - 1)).first;
            }
            node = it->second;
        }
        // A piece listed twice keeps its last id and score, as the reference's trie does.
        nodes_[node].id = static_cast<int>(id);
        nodes_[node].score = pieces[id].second;
    }
    // The unknown id steps back one code unit, like every piece in the backward pass.
    if (utf16_length_.empty()) utf16_length_.push_back(1);
    if (utf16_length_[kUnknownId] < 1) utf16_length_[kUnknownId] = 1;
}

std::uint32_t UseLiteTokenizer::child(std::uint32_t node, std::uint32_t cp) const {
    auto it = children_.find((static_cast<std::uint64_t>(node) << 21) | cp);
    return it == children_.end() ? 0 : it->second;
}

std::vector<int> UseLiteTokenizer::encode(std::string_view text) const {
    std::vector<std::uint32_t> symbols;
    {
        const std::string normalized = to_nfkc(text);
        if (normalized.empty()) return {};
        const std::vector<std::uint32_t> cps = unicode::decode_utf8(normalized);
        symbols.reserve(cps.size() + 1);
        symbols.push_back(kSeparator);
        for (std::uint32_t cp : cps) symbols.push_back(cp == 0x20 ? kSeparator : cp);
    }
    const std::size_t n = symbols.size();
    std::vector<double> best(n + 1, 0.0);
    std::vector<int> words(n + 1, 0);
    // Relaxing arcs by start position is the reference's order (by end, then start): best[start] is final when
    // start is reached, and the arcs into one end are met in increasing start order.
    for (std::size_t start = 0; start < n; ++start) {
        bool matched = false;
        std::uint32_t node = child(0, symbols[start]);
        for (std::size_t end = start + 1; node != 0; ++end) {
            if (nodes_[node].id >= 0) {
                matched = true;
                const double score = nodes_[node].score + best[start];
                if (best[end] == 0.0 || score >= best[end]) {
                    best[end] = score;
                    words[end] = nodes_[node].id;
                }
            }
            if (end >= n) break;
            node = child(node, symbols[end]);
        }
        if (!matched) {
            const double score = best[start];
            if (best[start + 1] == 0.0 || score >= best[start + 1]) {
                best[start + 1] = score;
                words[start + 1] = kUnknownId;
            }
        }
    }
    std::vector<int> reversed;
    for (std::ptrdiff_t at = static_cast<std::ptrdiff_t>(n); at > 0;) {
        const int id = words[static_cast<std::size_t>(at)];
        reversed.push_back(id);
        const int step =
            static_cast<std::size_t>(id) < utf16_length_.size() ? utf16_length_[static_cast<std::size_t>(id)] : 1;
        at -= std::max(step, 1);
    }
    std::vector<int> ids;
    ids.reserve(reversed.size());
    bool previous_unknown = false;
    for (int id : reversed) {
        if (!(previous_unknown && id == kUnknownId)) ids.push_back(id);
        previous_unknown = id == kUnknownId;
    }
    std::reverse(ids.begin(), ids.end());
    return ids;
}

}  // namespace kasten::llm
