#include "llm/json_logits_mask.h"

#include <cassert>
#include <limits>

#include "llm/json_schema.h"

namespace kasten::llm {
namespace {

constexpr std::size_t kMaxCachedStates = 8192;

}  // namespace

Result<std::unique_ptr<JsonLogitsMask>> JsonLogitsMask::create(std::string_view schema_json, const Tokenizer& tokenizer,
                                                               int token_budget) {
    KASTEN_ASSIGN_OR_RETURN(JsonSchema schema, JsonSchema::parse(schema_json));
    if (tokenizer.end_of_generation_ids().empty()) {
        return Status::failed_precondition("constrained JSON decoding needs an end-of-generation token");
    }
    JsonGrammar grammar(std::make_shared<const JsonSchema>(std::move(schema)));
    return std::unique_ptr<JsonLogitsMask>(new JsonLogitsMask(std::move(grammar), tokenizer, token_budget));
}

JsonLogitsMask::JsonLogitsMask(JsonGrammar grammar, const Tokenizer& tokenizer, int token_budget)
    : grammar_(std::move(grammar)), budget_(token_budget) {
    const int n = tokenizer.vocab_size();
    pieces_.resize(static_cast<std::size_t>(n));
    trie_.emplace_back();
    for (int id = 0; id < n; ++id) {
        if (tokenizer.is_end_of_generation(id)) {
            eog_.push_back(id);
            continue;
        }
        const std::string_view piece = tokenizer.token_to_piece(id);
        if (piece.empty()) continue;
        pieces_[static_cast<std::size_t>(id)] = std::string(piece);
        int at = 0;
        for (char c : piece) {
            const auto b = static_cast<std::uint8_t>(c);
            int next = -1;
            for (const auto& [byte, child] : trie_[static_cast<std::size_t>(at)].children) {
                if (byte == b) next = child;
            }
            if (next < 0) {
                next = static_cast<int>(trie_.size());
                trie_[static_cast<std::size_t>(at)].children.emplace_back(b, next);
                trie_.emplace_back();
            }
            at = next;
        }
        trie_[static_cast<std::size_t>(at)].tokens.push_back(id);
    }
}

void JsonLogitsMask::collect(int node, const JsonGrammar& grammar, Entry& entry) const {
    for (const auto& [byte, child] : trie_[static_cast<std::size_t>(node)].children) {
        JsonGrammar next = grammar;
        if (!next.feed(byte)) continue;
        const TrieNode& c = trie_[static_cast<std::size_t>(child)];
        if (!c.tokens.empty()) {
            const int left = next.min_bytes_to_complete();
            for (int token : c.tokens) entry.tokens.emplace_back(token, left);
        }
        if (!c.children.empty()) collect(child, next, entry);
    }
}

const JsonLogitsMask::Entry& JsonLogitsMask::entry_for_state() {
    key_.clear();
    grammar_.append_state_key(key_);
    auto it = cache_.find(key_);
    if (it != cache_.end()) return it->second;
    if (cache_.size() >= kMaxCachedStates) cache_.clear();
    Entry entry;
    collect(0, grammar_, entry);
    return cache_.emplace(key_, std::move(entry)).first->second;
}

void JsonLogitsMask::apply(std::span<float> logits) {
    allowed_.assign(logits.size(), 0);
    auto allow = [&](int token) {
        if (token >= 0 && static_cast<std::size_t>(token) < allowed_.size())
            allowed_[static_cast<std::size_t>(token)] = 1;
    };
    if (grammar_.is_complete()) {
        for (int t : eog_) allow(t);
    }
    if (!grammar_.is_closed()) {
        const Entry& entry = entry_for_state();
        // Bytes that may still follow the next token: one token each, at worst.
        const int room = budget_ < 0 ? std::numeric_limits<int>::max() : budget_ - used_ - 1;
        bool any = false;
        int fewest = std::numeric_limits<int>::max();
        for (const auto& [token, left] : entry.tokens) {
            fewest = std::min(fewest, left);
            if (left <= room) {
                allow(token);
                any = true;
            }
        }
        if (!any && !grammar_.is_complete()) {
            for (const auto& [token, left] : entry.tokens) {
                if (left == fewest) allow(token);
            }
        }
    }
    const float minus_inf = -std::numeric_limits<float>::infinity();
    for (std::size_t i = 0; i < logits.size(); ++i) {
        if (allowed_[i] == 0) logits[i] = minus_inf;
    }
}

void JsonLogitsMask::accept(int token) {
    ++used_;
    if (token < 0 || static_cast<std::size_t>(token) >= pieces_.size()) return;
    const std::string& piece = pieces_[static_cast<std::size_t>(token)];
    if (piece.empty()) return;  // end of generation (or a token apply() never allows)
    const bool ok = grammar_.feed(piece);
    assert(ok && "accept() of a token apply() did not allow");
    (void)ok;
}

}  // namespace kasten::llm
