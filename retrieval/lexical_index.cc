#include "retrieval/lexical_index.h"

#include <xapian.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/sha256.h"
#include "common/string_hash.h"
#include "retrieval/cube_term_counts.h"
#include "retrieval/memory_postings.h"
#include "retrieval/word_splitter.h"

namespace kasten::retrieval {
namespace {

// The value slot holding sortable_serialise(UnitAttrs::time).
constexpr Xapian::valueno kTimeSlot = 0;
// Xapian's glass backend rejects terms longer than 245 bytes; longer filter values are hashed.
constexpr std::size_t kMaxTermBytes = 240;
// Words longer than this are not indexed (and so never searched for).
constexpr unsigned kMaxWordBytes = 64;
// Queries longer than this skip the query parser: their terms are ORed (at most kMaxQueryTerms of them).
constexpr std::size_t kMaxParsedQueryBytes = 4096;
constexpr std::size_t kMaxQueryTerms = 256;
constexpr std::size_t kMaxMetadataKeyBytes = 200;
// No FLAG_PHRASE: the index keeps no positions, and a quoted phrase would keep its stopwords, which are not indexed.
constexpr unsigned kQueryFlags =
    Xapian::QueryParser::FLAG_BOOLEAN | Xapian::QueryParser::FLAG_LOVEHATE | Xapian::QueryParser::FLAG_CJK_NGRAM;
// Distinct words whose stems are remembered per index (a conversation vocabulary fits easily).
constexpr std::size_t kStemCacheWords = 200000;
// One Xapian database ("part") per unit type, indexed by static_cast<size_t>(UnitType), each in the subdirectory
// named after its type; commit() commits them in this order.
constexpr std::size_t kParts = 3;
constexpr UnitType kPartTypes[kParts] = {UnitType::kTurn, UnitType::kSession, UnitType::kNote};
// Whether searches of `type` rank by the statistics of every type of the cube (notes: they are keys to the
// conversation, so a word weighs what it weighs in the conversation) rather than by their own type's only (turns and
// sessions: nothing else changes their scores).
constexpr bool ranks_by_all_types(UnitType type) {
    return type == UnitType::kNote;
}
// The on-disk layout version, stored in every part's metadata. 1 (unrecorded): one database for all unit types,
// directly in the index directory. 2: one database per unit type.
constexpr char kLayoutKey[] = "kasten.lexical_layout";
constexpr char kLayoutVersion[] = "2";

// The Snowball English stopword list (with its contractions), 174 words.
constexpr const char* kEnglishStopwords[] = {
    "i",       "me",         "my",       "myself",     "we",      "our",    "ours",     "ourselves", "you",
    "your",    "yours",      "yourself", "yourselves", "he",      "him",    "his",      "himself",   "she",
    "her",     "hers",       "herself",  "it",         "its",     "itself", "they",     "them",      "their",
    "theirs",  "themselves", "what",     "which",      "who",     "whom",   "this",     "that",      "these",
    "those",   "am",         "is",       "are",        "was",     "were",   "be",       "been",      "being",
    "have",    "has",        "had",      "having",     "do",      "does",   "did",      "doing",     "would",
    "should",  "could",      "ought",    "i'm",        "you're",  "he's",   "she's",    "it's",      "we're",
    "they're", "i've",       "you've",   "we've",      "they've", "i'd",    "you'd",    "he'd",      "she'd",
    "we'd",    "they'd",     "i'll",     "you'll",     "he'll",   "she'll", "we'll",    "they'll",   "isn't",
    "aren't",  "wasn't",     "weren't",  "hasn't",     "haven't", "hadn't", "doesn't",  "don't",     "didn't",
    "won't",   "wouldn't",   "shan't",   "shouldn't",  "can't",   "cannot", "couldn't", "mustn't",   "let's",
    "that's",  "who's",      "what's",   "here's",     "there's", "when's", "where's",  "why's",     "how's",
    "a",       "an",         "the",      "and",        "but",     "if",     "or",       "because",   "as",
    "until",   "while",      "of",       "at",         "by",      "for",    "with",     "about",     "against",
    "between", "into",       "through",  "during",     "before",  "after",  "above",    "below",     "to",
    "from",    "up",         "down",     "in",         "out",     "on",     "off",      "over",      "under",
    "again",   "further",    "then",     "once",       "here",    "there",  "when",     "where",     "why",
    "how",     "all",        "any",      "both",       "each",    "few",    "more",     "most",      "other",
    "some",    "such",       "no",       "nor",        "not",     "only",   "own",      "same",      "so",
    "than",    "too",        "very",
};

// Immutable after construction, so one instance is shared by every index and thread.
const Xapian::SimpleStopper& english_stopper() {
    static const Xapian::SimpleStopper stopper(std::begin(kEnglishStopwords), std::end(kEnglishStopwords));
    return stopper;
}

// The same list as a hash set (SimpleStopper's std::set costs a string comparison per level).
bool is_english_stopword(std::string_view word) {
    static const std::unordered_set<std::string_view> words(std::begin(kEnglishStopwords), std::end(kEnglishStopwords));
    return words.count(word) > 0;
}

// `prefix + value`, or, when that would exceed Xapian's term limit, `prefix + "\xff" + sha256(value)`.
// ("\xff" never starts valid UTF-8, so a hashed term cannot equal a literal one of UTF-8 text.)
std::string bounded_term(std::string_view prefix, std::string_view value) {
    std::string term(prefix);
    if (prefix.size() + value.size() <= kMaxTermBytes) {
        term.append(value);
    } else {
        term.push_back('\xff');
        term.append(Sha256::hex(value));
    }
    return term;
}

std::string cube_term(std::string_view cube_id) {
    return bounded_term("XC", cube_id);
}
std::string type_term(UnitType type) {
    return std::string("XT") + unit_type_name(type);
}
std::string role_term(std::string_view role) {
    return bounded_term("XR", role);
}
std::string session_term(std::string_view session_id) {
    return bounded_term("XS", session_id);
}
// Unique per (cube, type, id); the cube's length prefix keeps the concatenation unambiguous.
std::string unique_term(std::string_view cube_id, UnitType type, std::string_view id) {
    std::string key = std::to_string(cube_id.size());
    key.push_back(':');
    key.append(cube_id);
    key.append(id);
    return bounded_term(std::string("Q") + unit_type_name(type) + ":", key);
}

// Word -> Snowball English stem, shared by every thread: stemming is a third of the analysis CPU otherwise, and a
// server spreads its searches over hundreds of threads, each of which would see a small share of the words.
// Thread-safe: sharded, readers share a shard's lock; a shard is emptied when it reaches its share of
// kStemCacheWords.
class SharedStemCache {
  public:
    std::string stem(const std::string& word) { return stem(word, std::hash<std::string>{}(word)); }

    // `hash` = std::hash<std::string>{}(word).
    std::string stem(const std::string& word, std::size_t hash) {
        Shard& shard = shards_[hash % kShards];
        {
            std::shared_lock lock(shard.mu);
            auto it = shard.stems.find(word);
            if (it != shard.stems.end()) return it->second;
        }
        thread_local Xapian::Stem english("english");  // Snowball stemmers keep state: one per thread
        std::string stem = english(word);
        std::unique_lock lock(shard.mu);
        if (shard.stems.size() >= kStemCacheWords / kShards) shard.stems.clear();
        shard.stems.emplace(word, stem);
        return stem;
    }

    static constexpr std::size_t kShards = 16;

  private:
    struct Shard {
        std::shared_mutex mu;
        std::unordered_map<std::string, std::string> stems;
    };
    std::array<Shard, kShards> shards_;
};

SharedStemCache& stem_cache() {
    static SharedStemCache cache;
    return cache;
}

// In front of the shared cache, for the analysis paths (analyze_text, analyze_text_among): a per-thread two-way
// set-associative memo of words and what indexing makes of them (a stem, or nothing for a stopword), for words and
// stems of up to kInlineBytes bytes. The frequent words of a text hit it without a lock and without touching a cache
// line another core writes; longer words and misses go to the stopword list and the shared cache. A thread's memo
// starts at kMinSlots x 32 bytes = 256 KiB (allocated by its first analysis); a thread whose words keep evicting each
// other (bulk analysis: an evaluation run's 100,000 words per haystack) doubles it, up to kMaxSlots (2 MiB), and at
// most kMaxGrownMemos threads of the process hold more than the minimum, so a server's hundreds of request threads
// stay small. (Direct-mapped at 8,192 slots, its misses sent a fifth of an evaluation run's analysis to the shared
// cache.)
class ThreadStemMemo {
  public:
    // What analysis indexes for `word` (lower-cased, at most kMaxWordBytes bytes): its stem, or "" for a stopword
    // (checked on the unstemmed word, as TermGenerator does) or an empty stem. The view is valid until the next call.
    std::string_view index_term(const std::string& word) {
        const std::size_t hash = std::hash<std::string>{}(word);
        if (word.empty() || word.size() > kInlineBytes) return uncached(word, hash);
        if (!slots_) slots_ = std::make_unique<Slot[]>(slot_count_);
        Slot* set = &slots_[2 * ((hash / SharedStemCache::kShards) % (slot_count_ / 2))];
        if (set[0].holds(word)) return set[0].term();
        if (set[1].holds(word)) {
            std::swap(set[0], set[1]);  // most recently used first
            return set[0].term();
        }
        const bool stop = is_english_stopword(word);
        std::string stem = stop ? std::string() : stem_cache().stem(word, hash);
        if (stem.size() > kInlineBytes) {
            long_ = std::move(stem);
            return long_;
        }
        if (set[1].word_size != 0 && ++evictions_ > slot_count_ / 2) set = grow(hash);
        set[1] = set[0];
        Slot& slot = set[0];
        slot.word_size = static_cast<std::uint8_t>(word.size());
        std::memcpy(slot.word, word.data(), word.size());
        slot.stem_size = static_cast<std::uint8_t>(stem.size());
        std::memcpy(slot.stem, stem.data(), stem.size());
        return slot.term();
    }

    ThreadStemMemo() = default;
    ThreadStemMemo(const ThreadStemMemo&) = delete;
    ThreadStemMemo& operator=(const ThreadStemMemo&) = delete;
    ~ThreadStemMemo() {
        if (slot_count_ > kMinSlots) grown_memos().fetch_sub(1);
    }

  private:
    static constexpr std::size_t kInlineBytes = 15;
    static constexpr std::size_t kMinSlots = 8192;
    static constexpr std::size_t kMaxSlots = 65536;
    static constexpr int kMaxGrownMemos = 4;
    struct Slot {
        std::uint8_t word_size = 0;  // 0: empty
        std::uint8_t stem_size = 0;  // 0: a stopword or an empty stem
        char word[kInlineBytes];
        char stem[kInlineBytes];
        bool holds(const std::string& w) const {
            return word_size == w.size() && std::memcmp(word, w.data(), w.size()) == 0;
        }
        std::string_view term() const { return {stem, stem_size}; }
    };
    static_assert(sizeof(Slot) == 32);

    std::string_view uncached(const std::string& word, std::size_t hash) {
        if (word.empty() || is_english_stopword(word)) return {};
        long_ = stem_cache().stem(word, hash);
        return long_;
    }

    static std::atomic<int>& grown_memos() {
        static std::atomic<int> count{0};
        return count;
    }

    // After more evictions than half the slots: twice the slots (empty) when allowed, else the evictions count
    // again from 0. The set `hash` maps to, for the caller to fill.
    Slot* grow(std::size_t hash) {
        evictions_ = 0;
        if (slot_count_ < kMaxSlots) {
            bool allowed = slot_count_ > kMinSlots;  // this thread already counts as grown
            if (!allowed) {
                int grown = grown_memos().load();
                while (grown < kMaxGrownMemos && !grown_memos().compare_exchange_weak(grown, grown + 1)) {
                }
                allowed = grown < kMaxGrownMemos;
            }
            if (allowed) {
                slot_count_ *= 2;
                slots_ = std::make_unique<Slot[]>(slot_count_);
            }
        }
        return &slots_[2 * ((hash / SharedStemCache::kShards) % (slot_count_ / 2))];
    }

    std::size_t slot_count_ = kMinSlots;
    std::size_t evictions_ = 0;  // since the memo was allocated or last grew
    std::unique_ptr<Slot[]> slots_;
    std::string long_;  // the last result that did not fit a slot
};

// The distinct terms of one text and their counts, collected in text order and handed out sorted by term: a hash
// table of the distinct terms instead of sorting every occurrence (the sort's string comparisons were a sixth of the
// analysis). Reused by a thread's analyses.
class TermCounter {
  public:
    void clear() {
        terms_.clear();
        counts_.clear();
        if (table_.size() > kKeptSlots) {
            // After a long text: start small again rather than refill (and keep) its table for every short one.
            table_ = {};
            terms_.shrink_to_fit();
            counts_.shrink_to_fit();
        } else {
            std::fill(table_.begin(), table_.end(), kEmpty);
        }
    }

    void add(std::string_view term) {
        if (table_.empty() || 2 * (terms_.size() + 1) > table_.size()) grow();
        const std::size_t mask = table_.size() - 1;
        for (std::size_t i = std::hash<std::string_view>{}(term)&mask;; i = (i + 1) & mask) {
            const std::uint32_t at = table_[i];
            if (at == kEmpty) {
                table_[i] = static_cast<std::uint32_t>(terms_.size());
                terms_.emplace_back(term);
                counts_.push_back(1);
                return;
            }
            if (terms_[at] == term) {
                ++counts_[at];
                return;
            }
        }
    }

    // The terms with their counts, ascending by term (bytewise, as std::string orders them); leaves the counter
    // to be cleared.
    LexicalIndex::Analysis take_sorted() {
        std::vector<std::pair<std::uint64_t, std::uint32_t>> order;  // (first 8 bytes big-endian, index)
        order.reserve(terms_.size());
        for (std::uint32_t i = 0; i < terms_.size(); ++i) order.emplace_back(prefix_key(terms_[i]), i);
        // Keys zero-pad short terms: keys that differ order their terms the same way; equal keys compare in full.
        std::sort(order.begin(), order.end(), [this](const auto& a, const auto& b) {
            if (a.first != b.first) return a.first < b.first;
            return terms_[a.second] < terms_[b.second];
        });
        LexicalIndex::Analysis out;
        out.terms.reserve(order.size());
        for (const auto& [key, i] : order) out.terms.emplace_back(std::move(terms_[i]), counts_[i]);
        return out;
    }

  private:
    static constexpr std::uint32_t kEmpty = 0xffffffffu;
    static constexpr std::size_t kKeptSlots = 1024;  // a table this size (512 distinct terms) is kept between texts

    static std::uint64_t prefix_key(const std::string& term) {
        std::uint64_t key = 0;
        const std::size_t n = std::min<std::size_t>(term.size(), 8);
        for (std::size_t i = 0; i < n; ++i) key |= std::uint64_t{static_cast<unsigned char>(term[i])} << (56 - 8 * i);
        return key;
    }

    void grow() {
        const std::size_t size = std::max<std::size_t>(64, 2 * table_.size());
        table_.assign(size, kEmpty);
        const std::size_t mask = size - 1;
        for (std::uint32_t at = 0; at < terms_.size(); ++at) {
            std::size_t i = std::hash<std::string_view>{}(terms_[at]) & mask;
            while (table_[i] != kEmpty) i = (i + 1) & mask;
            table_[i] = at;
        }
    }

    std::vector<std::string> terms_;
    std::vector<std::uint32_t> counts_;
    std::vector<std::uint32_t> table_;  // indices into terms_, kEmpty where free; a power of two, at most half full
};

// The calling thread's memo and word buffer, shared by its analyses.
ThreadStemMemo& thread_stem_memo() {
    thread_local ThreadStemMemo memo;
    return memo;
}
TermCounter& thread_term_counter() {
    thread_local TermCounter counter;
    return counter;
}
std::vector<std::string>& thread_words() {
    thread_local std::vector<std::string> words;
    return words;
}

// The Snowball English stemmer behind the shared cache, for Xapian's TermGenerator and QueryParser.
class CachingEnglishStemmer final : public Xapian::StemImplementation {
  public:
    std::string operator()(const std::string& word) override { return stem_cache().stem(word); }
    std::string get_description() const override { return "english (cached)"; }
};

// The lower-cased, non-stopword words of `text`, distinct, in order of first occurrence.
std::vector<std::string> distinct_words(std::string_view text) {
    Xapian::TermGenerator generator;
    generator.set_stopper(&english_stopper());
    generator.set_stopper_strategy(Xapian::TermGenerator::STOP_ALL);
    generator.set_max_word_length(kMaxWordBytes);
    generator.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
    Xapian::Document scratch;
    generator.set_document(scratch);
    generator.index_text(Xapian::Utf8Iterator(text.data(), text.size()));
    std::vector<std::pair<Xapian::termpos, std::string>> first;
    for (auto it = scratch.termlist_begin(); it != scratch.termlist_end(); ++it) {
        auto pos = it.positionlist_begin();
        first.emplace_back(pos != it.positionlist_end() ? *pos : 0, *it);
    }
    std::sort(first.begin(), first.end());
    std::vector<std::string> words;
    words.reserve(first.size());
    for (auto& [pos, word] : first) words.push_back(std::move(word));
    return words;
}

Status from_xapian(const Xapian::Error& e, std::string_view what) {
    // Xapian::Error is not polymorphic; its type name tells the subclass.
    const std::string_view type = e.get_type();
    std::string message = std::string(what) + ": " + e.get_description();
    if (type == "DatabaseLockError") return Status::busy(std::move(message));
    if (type == "DatabaseCorruptError" || type == "DatabaseVersionError") return Status::corruption(std::move(message));
    if (type == "InvalidArgumentError") return Status::invalid_argument(std::move(message));
    // A write the disk refused (full, over quota or a file size limit, failing): retryable once space is freed.
    // (Xapian names the cause in the description, sometimes nested: "Modifications failed (... (No space left on
    // device))".)
    for (int err : {ENOSPC, EDQUOT, EFBIG, EIO}) {
        if (message.find(std::strerror(err)) != std::string::npos)
            return Status::insufficient_storage(std::move(message));
    }
    return Status::io_error(std::move(message));
}

Status from_std(const std::exception& e, std::string_view what) {
    if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
        return Status::resource_exhausted(std::string(what) + ": out of memory");
    }
    return Status::internal(std::string(what) + ": " + e.what());
}

// Whether Xapian's QueryParser may see `query`: true when it uses no boolean syntax (brackets, or AND OR NOT XOR NEAR
// ADJ as upper-case words), or uses it well formed — brackets balanced and never empty, every AND/OR/XOR/NOT between
// two operands — and without NEAR/ADJ (they need positions the index does not keep). Xapian 1.4's parser leaks
// memory whenever a query is a syntax error ("a OR NEAR/3", "OR(" with stray bytes), which any client could repeat;
// a query this refuses is searched as an OR of its words instead.
bool parser_may_see(std::string_view query) {
    enum class Token { kOpen, kClose, kOperator, kWord };
    // Words are runs of ASCII letters and digits: splitting more finely than Xapian does can only find more operators
    // and fewer operands than it sees, so the check errs towards the OR of words.
    auto is_word_byte = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 && (c & 0x80) == 0; };
    const bool brackets = query.find_first_of("()") != std::string_view::npos;
    if (brackets && query.find_first_of("+-\"") != std::string_view::npos)
        return false;  // love/hate or quotes on groups
    std::vector<Token> tokens;
    for (std::size_t i = 0; i < query.size();) {
        const char c = query[i];
        if (c == '(' || c == ')') {
            tokens.push_back(c == '(' ? Token::kOpen : Token::kClose);
            ++i;
            continue;
        }
        if (!is_word_byte(c)) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < query.size() && is_word_byte(query[end])) ++end;
        const std::string_view word = query.substr(i, end - i);
        if (word == "NEAR" || word == "ADJ") return false;
        tokens.push_back(word == "AND" || word == "OR" || word == "NOT" || word == "XOR" ? Token::kOperator
                                                                                         : Token::kWord);
        i = end;
    }
    int depth = 0;
    Token previous = Token::kOpen;  // the start of the query acts as an opening bracket
    for (Token t : tokens) {
        switch (t) {
            case Token::kOpen:
                ++depth;
                break;
            case Token::kClose:
                if (--depth < 0 || previous == Token::kOpen || previous == Token::kOperator) return false;
                break;
            case Token::kOperator:
                if (previous == Token::kOpen || previous == Token::kOperator) return false;
                break;
            case Token::kWord:
                break;
        }
        previous = t;
    }
    return depth == 0 && previous != Token::kOperator;
}

}  // namespace

namespace {

// `q` as the in-memory engine's query tree; false when it holds an operator that engine does not evaluate.
bool to_term_query(const Xapian::Query& q, TermQuery& out) {
    auto branch = [&](TermQuery::Op op) {
        std::vector<TermQuery> children(q.get_num_subqueries());
        for (std::size_t i = 0; i < children.size(); ++i) {
            if (!to_term_query(q.get_subquery(i), children[i])) return false;
        }
        out = TermQuery::of(op, std::move(children));
        return true;
    };
    switch (q.get_type()) {
        case Xapian::Query::LEAF_TERM:
            out = TermQuery::leaf(*q.get_terms_begin(), q.get_length());
            return true;
        case Xapian::Query::LEAF_MATCH_NOTHING:
            out = TermQuery{};
            return true;
        case Xapian::Query::OP_OR:
            return branch(TermQuery::Op::kOr);
        case Xapian::Query::OP_AND:
        // (The parser makes a phrase of hyphenated words: "5-day". Without positions in the database, Xapian
        // matches a phrase or a NEAR as an AND.)
        case Xapian::Query::OP_PHRASE:
        case Xapian::Query::OP_NEAR:
            return branch(TermQuery::Op::kAnd);
        case Xapian::Query::OP_AND_NOT:
            return branch(TermQuery::Op::kAndNot);
        case Xapian::Query::OP_AND_MAYBE:
            return branch(TermQuery::Op::kAndMaybe);
        case Xapian::Query::OP_XOR:
            return branch(TermQuery::Op::kXor);
        default:
            return false;
    }
}

// What a search of `type` runs on among the per-type databases `parts`: its own, or every one read as one (their
// statistics summed) for a type that ranks by all types.
template <typename Parts>
Xapian::Database searched_in(const Parts& parts, UnitType type) {
    if (!ranks_by_all_types(type)) return parts[static_cast<std::size_t>(type)];
    Xapian::Database all;
    for (const auto& part : parts) all.add_database(part);
    return all;
}

}  // namespace

// The unit id (document data) of each document a search has listed, by part and document id, so that a search
// reads no document to name its hits (a read of the record table per hit, ~6 % of a search's CPU).
// Sound because a document id names one unit for the life of a database: ids are never reused (glass and the
// in-memory backend allocate past the highest ever used), and a unit's document is replaced in place under its
// unique term. The exception is a failed commit, after which the next documents take the ids of the discarded
// ones: reopen_locked() clears the cache. Entries of deleted documents are never asked for again (searches do not
// return them). At most kMaxPerPart entries per part (about 10 MB at 18-byte ids); a full part is cleared.
// Thread-safe.
class UnitIdCache {
  public:
    static constexpr std::size_t kMaxPerPart = std::size_t{1} << 17;

    // The part and the part's document id of `docid` in a search of `type` (a search of every type reads the parts
    // as one database, whose ids interleave theirs).
    static std::pair<std::size_t, Xapian::docid> locate(UnitType type, Xapian::docid docid) {
        if (!ranks_by_all_types(type)) return {static_cast<std::size_t>(type), docid};
        return {static_cast<std::size_t>((docid - 1) % kParts), (docid - 1) / kParts + 1};
    }
    // For each (part, docid) of `where`: its id into `ids` (same index) if known; returns whether all were.
    bool find(const std::vector<std::pair<std::size_t, Xapian::docid>>& where, std::vector<std::string>& ids) const {
        bool all = true;
        std::shared_lock lock(mu_);
        for (std::size_t i = 0; i < where.size(); ++i) {
            auto it = ids_[where[i].first].find(where[i].second);
            if (it == ids_[where[i].first].end()) {
                all = false;
            } else {
                ids[i] = it->second;
            }
        }
        return all;
    }
    void store(const std::vector<std::pair<std::size_t, Xapian::docid>>& where, const std::vector<std::string>& ids) {
        std::unique_lock lock(mu_);
        for (std::size_t i = 0; i < where.size(); ++i) {
            auto& part = ids_[where[i].first];
            if (part.size() >= kMaxPerPart) part.clear();
            part.emplace(where[i].second, ids[i]);
        }
    }
    void clear() {
        std::unique_lock lock(mu_);
        for (auto& part : ids_) part.clear();
    }

  private:
    mutable std::shared_mutex mu_;
    std::array<std::unordered_map<Xapian::docid, std::string>, kParts> ids_;
};

struct LexicalIndex::Impl {
    // Index and query analysis must agree: STEM_ALL (every word indexed as its stem only, no prefix), stopwords
    // never indexed, no positions. (STEM_SOME would double the postings for little gain: ~1.6x slower indexing.)
    Impl(std::array<Xapian::WritableDatabase, kParts> databases, std::string location)
        : dbs(std::move(databases)), dir(std::move(location)), stemmer(new CachingEnglishStemmer()) {
        parser.set_stemmer(stemmer);
        parser.set_stemming_strategy(Xapian::QueryParser::STEM_ALL);
        parser.set_stopper(&english_stopper());
        parser.set_default_op(Xapian::Query::OP_OR);
    }

    // A plain OR of the stems of `words`, as indexed.
    Xapian::Query or_of_terms(const std::vector<std::string>& words) {
        std::vector<Xapian::Query> terms;
        terms.reserve(std::min(words.size(), kMaxQueryTerms));
        for (const auto& word : words) {
            if (terms.size() == kMaxQueryTerms) break;
            terms.emplace_back(stemmer(word));
        }
        return Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end());
    }

    // The text part of a search; empty when the query has no searchable term. Never throws QueryParserError.
    Xapian::Query text_query(std::string_view query) {
        std::vector<std::string> words = distinct_words(query);
        if (words.empty()) return {};
        if (query.size() > kMaxParsedQueryBytes || !parser_may_see(query)) return or_of_terms(words);
        try {
            std::lock_guard<std::mutex> parsing(parse_mu);  // searches of committed state parse without `mu`
            Xapian::Query parsed = parser.parse_query(std::string(query), kQueryFlags);
            if (!parsed.empty()) return parsed;
        } catch (const Xapian::QueryParserError&) {
            // Not valid query syntax: search for the words instead.
        }
        return or_of_terms(words);
    }

    // The database of a unit type: its documents, and the statistics (document count, lengths, term frequencies)
    // its BM25 scores read unless ranks_by_all_types(type).
    Xapian::WritableDatabase& db(UnitType type) { return dbs[static_cast<std::size_t>(type)]; }
    // What a search of `type` runs on: its own database, or every database (read as one, with their statistics
    // summed) for a type that ranks by all types.
    Xapian::Database searched(UnitType type) { return searched_in(dbs, type); }

    // A read-only handle per type on the committed databases (on-disk indexes), at the commit numbered `revision`
    // or later.
    //
    // Why a reader never sees a block change under it: glass writes a revision's changes into blocks that the
    // previous revision freed, never into blocks live in the committed one. So a reader of disk revision D is safe
    // while the writer builds D+1, but once D+1 is committed, the writes towards D+2 may overwrite D's blocks; Xapian
    // notices that only when a block's revision number is read whole, and a read that races the write can see a torn
    // block and answer wrongly (caught by the Concurrent... tests: documents missing, DocNotFoundError). Hence
    // advance_readers(): after each commit, before anything is written again, the writer waits until no reader of an
    // older commit is in use (a search takes milliseconds; idle readers are reopened when taken, not waited for).
    struct SnapshotReader {
        std::array<Xapian::Database, kParts> parts;
        std::uint64_t revision = 0;
        Xapian::Database searched(UnitType type) const { return searched_in(parts, type); }
    };
    static constexpr int kMaxSnapshotReaders = 4;  // bounds the open files: a busy server reads through the lock

    // An idle reader brought to the last commit, a new one, or null when kMaxSnapshotReaders are in use or a
    // database cannot be opened (the caller then reads the latest state under `mu`). The caller hands it back with
    // give_back() or, after a failure, drop_reader().
    std::unique_ptr<SnapshotReader> take_reader() {
        std::unique_ptr<SnapshotReader> reader;
        std::uint64_t now = 0;
        {
            // The revision is read and the reader counted in use in one step, so advance_readers() either waits for
            // this reader or has already published the revision it reads.
            std::lock_guard<std::mutex> g(readers_mu);
            if (!idle_readers.empty()) {
                reader = std::move(idle_readers.back());
                idle_readers.pop_back();
            } else if (open_readers < kMaxSnapshotReaders) {
                ++open_readers;
            } else {
                return nullptr;
            }
            now = revision.load(std::memory_order_acquire);
            ++in_use[now];
        }
        try {
            if (!reader) {
                reader = std::make_unique<SnapshotReader>();
                for (std::size_t i = 0; i < kParts; ++i) {
                    reader->parts[i] =
                        Xapian::Database(dir + "/" + unit_type_name(kPartTypes[i]), Xapian::DB_BACKEND_GLASS);
                }
            } else if (reader->revision != now) {
                for (auto& part : reader->parts) part.reopen();
            }
            reader->revision = now;
            return reader;
        } catch (const Xapian::Error& e) {
            log::warn("lexical index: cannot open a reader of {}: {}", dir, e.get_description());
            release_reader(nullptr, now);
            return nullptr;
        }
    }
    void give_back(std::unique_ptr<SnapshotReader> reader) {
        const std::uint64_t used_at = reader->revision;
        release_reader(std::move(reader), used_at);
    }
    // Forgets a reader that failed (it is closed here).
    void drop_reader(std::unique_ptr<SnapshotReader> reader) {
        const std::uint64_t used_at = reader->revision;
        reader.reset();
        release_reader(nullptr, used_at);
    }
    // Ends a use of a reader taken at `used_at`: keeps `reader` for reuse, or (null) forgets one.
    void release_reader(std::unique_ptr<SnapshotReader> reader, std::uint64_t used_at) {
        bool last_of_revision = false;
        {
            std::lock_guard<std::mutex> g(readers_mu);
            if (reader) {
                idle_readers.push_back(std::move(reader));
            } else {
                --open_readers;
            }
            auto it = in_use.find(used_at);
            if (--it->second == 0) {
                in_use.erase(it);
                last_of_revision = true;
            }
        }
        if (last_of_revision) readers_cv.notify_all();
    }
    // Publishes a new commit to readers, and returns once no reader of an older one is in use. Called with `mu`
    // held for writing, after a commit and before the next change (readers of snapshots never take `mu`).
    void advance_readers() {
        std::unique_lock<std::mutex> g(readers_mu);
        const std::uint64_t now = revision.fetch_add(1, std::memory_order_acq_rel) + 1;
        readers_cv.wait(g, [&] { return in_use.empty() || in_use.begin()->first >= now; });
    }

    std::array<Xapian::WritableDatabase, kParts> dbs;  // unused with `memory`
    std::string dir;                                   // "" for in-memory
    // The in-memory engine's parts (by part number), instead of `dbs`; null for Xapian. Guarded by `mu`.
    std::unique_ptr<std::array<MemoryPostings, kParts>> memory;
    std::map<std::string, std::string> memory_metadata;  // its committed metadata; guarded by `mu`

    // An upsert's bookkeeping, engine apart: `held` marks the terms of `analysis` that the document held before
    // (merge_existing), `exists` whether it existed.
    void count_upsert(const UnitAttrs& attrs, std::size_t part, const LexicalIndex::Analysis& analysis,
                      const std::vector<bool>& held, bool exists, bool merge_existing) {
        ++pending;
        if (exists && !merge_existing) {
            term_counts.invalidate(attrs.cube_id);  // the replaced document's terms are not known
            return;
        }
        // The terms the document gained: all of them for a new document, else those the old one lacked.
        std::vector<std::string_view> gained;
        gained.reserve(analysis.terms.size());
        for (std::size_t a = 0; a < analysis.terms.size(); ++a) {
            if (!held[a]) gained.push_back(analysis.terms[a].first);
        }
        term_counts.add_document(attrs.cube_id, part, gained, /*new_document=*/!exists);
    }

    // upsert_analyzed() on the in-memory engine, under the write lock after touch_for_upsert().
    Status memory_upsert(const UnitAttrs& attrs, const LexicalIndex::Analysis& analysis, bool merge_existing,
                         bool known_new) {
        const std::size_t p = static_cast<std::size_t>(attrs.type);
        MemoryPostings& postings = (*memory)[p];
        try {
            const bool exists = !known_new && postings.contains(attrs.cube_id, attrs.type, attrs.id);
            std::vector<bool> held(analysis.terms.size(), false);
            if (exists && merge_existing) {
                // The old document's terms plus the new ones (both ascending: one merge walk).
                MemoryPostings::Terms old = postings.terms_of(attrs.cube_id, attrs.type, attrs.id);
                MemoryPostings::Terms merged;
                merged.reserve(old.size() + analysis.terms.size());
                const auto& add = analysis.terms;
                std::size_t a = 0, o = 0;
                while (a < add.size() || o < old.size()) {
                    if (o == old.size() || (a < add.size() && add[a].first < old[o].first)) {
                        merged.push_back(add[a++]);
                    } else if (a == add.size() || old[o].first < add[a].first) {
                        merged.push_back(std::move(old[o++]));
                    } else {
                        held[a] = true;
                        merged.emplace_back(std::move(old[o].first), old[o].second + add[a].second);
                        ++a;
                        ++o;
                    }
                }
                postings.upsert(attrs, merged);
            } else {
                postings.upsert(attrs, analysis.terms);
            }
            count_upsert(attrs, p, analysis, held, exists, merge_existing);
            return Status::ok();
        } catch (const std::exception& e) {
            term_counts.invalidate(attrs.cube_id);
            return from_std(e, "lexical index: upsert " + attrs.id);
        }
    }

    // A search on the in-memory engine, under the read lock: `text` as parsed, over the type's part with the
    // statistics a search of the type ranks by.
    std::vector<ScoredId> memory_match(const Xapian::Query& text, const SearchFilter& filter, int k,
                                       const LexicalIndex::Bm25Params& bm25) const {
        TermQuery query;
        if (!to_term_query(text, query)) {
            std::vector<TermQuery> terms;
            for (auto it = text.get_unique_terms_begin(); it != text.get_unique_terms_end(); ++it) {
                terms.push_back(TermQuery::leaf(*it));
            }
            query = TermQuery::of(TermQuery::Op::kOr, std::move(terms));
        }
        std::vector<const MemoryPostings*> statistics;
        if (ranks_by_all_types(filter.type)) {
            for (const MemoryPostings& part : *memory) statistics.push_back(&part);
        } else {
            statistics.push_back(&(*memory)[static_cast<std::size_t>(filter.type)]);
        }
        return MemoryPostings::search(statistics, (*memory)[static_cast<std::size_t>(filter.type)], query, filter, k,
                                      MemoryPostings::Bm25{bm25.k1, bm25.b});
    }
    Xapian::Stem stemmer;
    std::mutex parse_mu;  // guards `parser` (text_query runs with and without `mu`)
    Xapian::QueryParser parser;
    // Whether the cube's documents are all committed (on-disk indexes only). Thread-safe.
    bool clean(const std::string& cube_id) const {
        if (dir.empty()) return false;
        std::lock_guard<std::mutex> g(dirty_mu);
        return dirty_cubes.count(cube_id) == 0;
    }
    // Records an uncommitted change of `cube_id` (callers hold `mu` for writing) whose effect on term counts is
    // not known: the cube's counts are dropped. Marked dirty before its term counts generation moves on: a reader
    // that sees the new generation also sees the cube dirty, so it never stores counts of a commit without this
    // change under that generation (term_counts()).
    void touch(const std::string& cube_id) {
        mark_dirty(cube_id);
        term_counts.invalidate(cube_id);
    }
    // The same for an upsert, which reports its effect on the counts held when it is done (CubeTermCounts).
    void touch_for_upsert(const std::string& cube_id) {
        mark_dirty(cube_id);
        term_counts.begin_change(cube_id);
    }
    void mark_dirty(const std::string& cube_id) {
        std::lock_guard<std::mutex> g(dirty_mu);
        dirty_cubes.insert(cube_id);
    }
    CubeTermCounts term_counts{kParts};  // the counts term_counts() have read, kept exact through upserts
    UnitIdCache unit_ids;                // the ids of documents searches have listed
    std::atomic<double> bm25_k1{1.0};
    std::atomic<double> bm25_b{0.5};
    std::atomic<std::uint64_t> revision{0};  // commits and reopens so far: a reader older than this reopens
    std::atomic<std::uint64_t> committed_reads{0};
    mutable std::mutex dirty_mu;
    std::unordered_set<std::string> dirty_cubes;  // guarded by dirty_mu: cubes with uncommitted changes
    std::mutex readers_mu;
    std::condition_variable readers_cv;                         // signalled when a revision's last reader ends
    std::vector<std::unique_ptr<SnapshotReader>> idle_readers;  // guarded by readers_mu
    int open_readers = 0;                                       // guarded by readers_mu
    std::map<std::uint64_t, int> in_use;  // guarded by readers_mu: readers in use, by the revision they read
    std::uint64_t pending = 0;
    // Metadata written since the last commit. commit() writes it into each database just before committing that
    // one, so the committed databases always hold the new values in a prefix of the commit order and the old ones
    // after it: the last database (notes) holds the oldest value, which is what metadata() reads.
    std::map<std::string, std::string> pending_metadata;
    mutable std::mutex mu;
    // Reads are not starved by writes: a write first lets every read that was already waiting for `mu` take it. A
    // background writer applies changes back to back, and std::mutex lets the thread that releases it take it
    // again at once, so without this a search could wait behind a whole batch. Reads arriving after the write do
    // not delay it further, so writes are not starved either. Nothing spins.
    mutable std::mutex gate;
    mutable std::condition_variable gate_cv;
    mutable std::uint64_t reads_arrived = 0;   // guarded by gate
    mutable std::uint64_t reads_acquired = 0;  // guarded by gate
    mutable int writes_waiting = 0;            // guarded by gate

    std::unique_lock<std::mutex> lock_for_read() const {
        {
            std::lock_guard<std::mutex> g(gate);
            ++reads_arrived;
        }
        std::unique_lock<std::mutex> lock(mu);
        bool notify = false;
        {
            std::lock_guard<std::mutex> g(gate);
            ++reads_acquired;
            notify = writes_waiting > 0;
        }
        if (notify) gate_cv.notify_all();
        return lock;
    }
    std::unique_lock<std::mutex> lock_for_write() const {
        {
            std::unique_lock<std::mutex> g(gate);
            const std::uint64_t target = reads_arrived;
            if (reads_acquired < target) {
                ++writes_waiting;
                gate_cv.wait(g, [&] { return reads_acquired >= target; });
                --writes_waiting;
            }
        }
        return std::unique_lock<std::mutex>(mu);
    }
};

LexicalIndex::LexicalIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LexicalIndex::~LexicalIndex() = default;

namespace {

std::array<Xapian::WritableDatabase, kParts> open_parts(const std::filesystem::path& dir) {
    std::array<Xapian::WritableDatabase, kParts> parts;
    for (std::size_t i = 0; i < kParts; ++i) {
        parts[i] = Xapian::WritableDatabase((dir / unit_type_name(kPartTypes[i])).string(),
                                            Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
    }
    return parts;
}

// The part a document of the version-1 layout belongs to (by its type term); kParts when it has none.
std::size_t part_of_document(const Xapian::Document& doc) {
    for (std::size_t i = 0; i < kParts; ++i) {
        const std::string term = type_term(kPartTypes[i]);
        auto t = doc.termlist_begin();
        t.skip_to(term);
        if (t != doc.termlist_end() && *t == term) return i;
    }
    return kParts;
}

// Splits a version-1 index (one glass database directly in `dir`, marked by its "iamglass" file) into one database
// per unit type, copying every document and metadata entry unchanged, then deletes the old database's files. Its
// "iamglass" is deleted first, after the parts are committed: until then an interrupted migration starts over (the
// parts it left are discarded), after it the rest are leftovers. Throws Xapian and filesystem errors.
void migrate_single_database(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    log::info(
        "lexical index: {} has the version-1 layout (one database for all unit types); migrating it to one "
        "database per unit type (version {})",
        dir.string(), kLayoutVersion);
    for (UnitType type : kPartTypes) fs::remove_all(dir / unit_type_name(type));
    std::uint64_t copied[kParts] = {};
    std::uint64_t untyped = 0;
    {
        Xapian::WritableDatabase old(dir.string(), Xapian::DB_OPEN | Xapian::DB_BACKEND_GLASS);  // takes its lock
        auto parts = open_parts(dir);
        for (auto key = old.metadata_keys_begin(); key != old.metadata_keys_end(); ++key) {
            const std::string value = old.get_metadata(*key);
            for (auto& part : parts) part.set_metadata(*key, value);
        }
        for (auto it = old.postlist_begin(""); it != old.postlist_end(""); ++it) {
            Xapian::Document doc = old.get_document(*it);
            const std::size_t part = part_of_document(doc);
            if (part == kParts) {
                ++untyped;
                continue;
            }
            parts[part].add_document(doc);
            ++copied[part];
        }
        for (auto& part : parts) {
            part.set_metadata(kLayoutKey, kLayoutVersion);
            part.commit();
            part.close();
        }
        old.close();
    }
    fs::remove(dir / "iamglass");
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.is_regular_file()) fs::remove(entry.path());
    }
    log::info("lexical index: migrated {} turn, {} session and {} note document(s){}", copied[0], copied[1], copied[2],
              untyped > 0 ? fmt::format(" ({} without a unit type dropped)", untyped) : std::string());
}

}  // namespace

Result<std::unique_ptr<LexicalIndex>> LexicalIndex::open(const std::string& dir) {
    if (dir.empty()) return Status::invalid_argument("lexical index: empty directory");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::io_error("lexical index: cannot create " + dir + ": " + ec.message());
    try {
        if (std::filesystem::exists(std::filesystem::path(dir) / "iamglass")) migrate_single_database(dir);
        auto parts = open_parts(dir);
        bool created = false;
        for (std::size_t i = 0; i < kParts; ++i) {
            const std::string layout = parts[i].get_metadata(kLayoutKey);
            if (layout.empty() && parts[i].get_doccount() == 0) {
                parts[i].set_metadata(kLayoutKey, kLayoutVersion);
                created = true;
            } else if (layout != kLayoutVersion) {
                return Status::corruption("lexical index: " + dir + "/" + unit_type_name(kPartTypes[i]) +
                                          " has layout version '" + layout + "', this build reads version " +
                                          kLayoutVersion);
            }
        }
        if (created) {
            for (auto& part : parts) part.commit();
        }
        return std::unique_ptr<LexicalIndex>(new LexicalIndex(std::make_unique<Impl>(std::move(parts), dir)));
    } catch (const Xapian::DatabaseLockError&) {
        return Status::busy("lexical index at " + dir +
                            " is locked by another kasten process (is `kasten serve` running?)");
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical index: cannot open " + dir);
    } catch (const std::filesystem::filesystem_error& e) {
        return Status::io_error(std::string("lexical index: cannot migrate ") + dir + ": " + e.what());
    } catch (const std::exception& e) {
        return from_std(e, "lexical index: cannot open " + dir);
    }
}

std::unique_ptr<LexicalIndex> LexicalIndex::in_memory(InMemoryEngine engine) {
    try {
        std::array<Xapian::WritableDatabase, kParts> parts;
        if (engine == InMemoryEngine::kPostings) {
            auto impl = std::make_unique<Impl>(std::move(parts), std::string());
            impl->memory = std::make_unique<std::array<MemoryPostings, kParts>>();
            return std::unique_ptr<LexicalIndex>(new LexicalIndex(std::move(impl)));
        }
        for (auto& part : parts) part = Xapian::WritableDatabase(std::string(), Xapian::DB_BACKEND_INMEMORY);
        return std::unique_ptr<LexicalIndex>(new LexicalIndex(std::make_unique<Impl>(std::move(parts), std::string())));
    } catch (const Xapian::Error& e) {
        // Only a Xapian build without the in-memory backend gets here: an installation error, not a runtime one.
        log::error("lexical index: in-memory backend unavailable: {}", e.get_description());
        std::abort();
    }
}

namespace {

// Per-thread analyser (TermGenerator and stem cache are not thread-safe): STEM_ALL, the stopword list, FLAG_CJK_NGRAM.
struct ThreadAnalyzer {
    ThreadAnalyzer() : stemmer(new CachingEnglishStemmer()) {
        generator.set_stemmer(stemmer);
        generator.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL);
        generator.set_stopper(&english_stopper());
        generator.set_stopper_strategy(Xapian::TermGenerator::STOP_ALL);
        generator.set_max_word_length(kMaxWordBytes);
        generator.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
    }
    Xapian::Stem stemmer;
    Xapian::TermGenerator generator;
};

void fill_document(Xapian::Document& doc, const LexicalIndex::Analysis& analysis) {
    for (const auto& [term, wdf] : analysis.terms) doc.add_term(term, wdf);
}

}  // namespace

LexicalIndex::Analysis LexicalIndex::analyze_text(std::string_view text) {
    std::vector<std::string>& words = thread_words();
    ThreadStemMemo& memo = thread_stem_memo();
    if (!split_index_words(text, words)) return analyze_text_reference(text);
    TermCounter& counter = thread_term_counter();
    counter.clear();
    try {
        for (const std::string& word : words) {
            // TermGenerator's order: the length limit, then the stopword list (on the unstemmed word), then the stem.
            if (word.size() > kMaxWordBytes) continue;
            const std::string_view term = memo.index_term(word);
            if (!term.empty()) counter.add(term);
        }
    } catch (const Xapian::Error& e) {
        // Stemming in-memory words cannot fail short of memory exhaustion; index nothing rather than crash.
        log::error("lexical analysis failed: {}", e.get_description());
        counter.clear();
        return {};
    }
    return counter.take_sorted();
}

LexicalIndex::Analysis LexicalIndex::analyze_text_among(std::string_view text, const std::vector<std::string>& terms) {
    Analysis out;
    if (terms.empty()) return out;
    std::vector<std::string> wanted = terms;
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    std::vector<std::string>& words = thread_words();
    if (!split_index_words(text, words)) {
        Analysis all = analyze_text_reference(text);
        for (auto& entry : all.terms) {
            if (std::binary_search(wanted.begin(), wanted.end(), entry.first)) out.terms.push_back(std::move(entry));
        }
        return out;
    }
    ThreadStemMemo& memo = thread_stem_memo();
    std::vector<std::uint32_t> counts(wanted.size(), 0);
    // The Snowball English stemmer changes a word's end only (its prelude drops a leading apostrophe, which the
    // splitter never leaves): a word can stem to a wanted term only if it starts with the term's first byte. Most
    // words of a text are skipped without stemming.
    std::array<bool, 256> first_bytes{};
    for (const std::string& t : wanted) {
        if (!t.empty()) first_bytes[static_cast<unsigned char>(t[0])] = true;
    }
    first_bytes[static_cast<unsigned char>('\'')] = true;
    try {
        for (const std::string& word : words) {
            if (word.empty() || !first_bytes[static_cast<unsigned char>(word[0])]) continue;
            // As analyze_text: the length limit, then the stopword list (on the unstemmed word), then the stem.
            if (word.size() > kMaxWordBytes) continue;
            const std::string_view stem = memo.index_term(word);
            if (stem.empty()) continue;
            for (std::size_t i = 0; i < wanted.size(); ++i) {
                if (stem == wanted[i]) {
                    ++counts[i];
                    break;
                }
            }
        }
    } catch (const Xapian::Error& e) {
        log::error("lexical analysis failed: {}", e.get_description());
        return out;
    }
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        if (counts[i] > 0) out.terms.emplace_back(std::move(wanted[i]), counts[i]);
    }
    return out;
}

LexicalIndex::Analysis LexicalIndex::analyze_text_reference(std::string_view text) {
    thread_local ThreadAnalyzer analyzer;
    Analysis out;
    try {
        Xapian::Document doc;
        analyzer.generator.set_document(doc);
        analyzer.generator.index_text_without_positions(Xapian::Utf8Iterator(text.data(), text.size()));
        out.terms.reserve(doc.termlist_count());
        for (auto it = doc.termlist_begin(); it != doc.termlist_end(); ++it) {
            out.terms.emplace_back(*it, it.get_wdf());
        }
    } catch (const Xapian::Error& e) {
        // Analysis of in-memory text cannot fail short of memory exhaustion; index nothing rather than crash.
        log::error("lexical analysis failed: {}", e.get_description());
        out.terms.clear();
    }
    return out;
}

LexicalIndex::Analysis LexicalIndex::merge(const std::vector<const Analysis*>& parts) {
    Analysis out;
    size_t total = 0;
    for (const auto* p : parts) total += p->terms.size();
    out.terms.reserve(total);
    for (const auto* p : parts) out.terms.insert(out.terms.end(), p->terms.begin(), p->terms.end());
    std::sort(out.terms.begin(), out.terms.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    size_t w = 0;
    for (size_t r = 0; r < out.terms.size(); ++r) {
        if (w > 0 && out.terms[w - 1].first == out.terms[r].first) {
            out.terms[w - 1].second += out.terms[r].second;
        } else {
            if (w != r) out.terms[w] = std::move(out.terms[r]);
            ++w;
        }
    }
    out.terms.resize(w);
    return out;
}

Status LexicalIndex::upsert_analyzed(const UnitAttrs& attrs, const Analysis& analysis, bool merge_existing,
                                     bool known_new) {
    if (attrs.cube_id.empty()) return Status::invalid_argument("lexical index: empty cube id");
    if (attrs.id.empty()) return Status::invalid_argument("lexical index: empty unit id");
    auto lock = impl_->lock_for_write();
    impl_->touch_for_upsert(attrs.cube_id);  // before the change: a search of the committed state must not miss it
    const std::size_t part = static_cast<std::size_t>(attrs.type);
    if (impl_->memory) return impl_->memory_upsert(attrs, analysis, merge_existing, known_new);
    try {
        Xapian::Document doc;
        fill_document(doc, analysis);
        std::string unique = unique_term(attrs.cube_id, attrs.type, attrs.id);
        Xapian::WritableDatabase& db = impl_->db(attrs.type);
        const bool exists = !known_new && db.term_exists(unique);
        // Which of `analysis`'s terms the merged document held already (both lists ascend: one merge walk).
        std::vector<bool> held(analysis.terms.size(), false);
        if (exists && merge_existing) {
            Xapian::PostingIterator p = db.postlist_begin(unique);
            if (p != db.postlist_end(unique)) {
                Xapian::Document old = db.get_document(*p);
                std::size_t a = 0;
                for (auto it = old.termlist_begin(); it != old.termlist_end(); ++it) {
                    Xapian::termcount wdf = it.get_wdf();
                    if (wdf == 0) continue;  // boolean (filter) terms have wdf 0 and are re-added below
                    const std::string term = *it;
                    while (a < analysis.terms.size() && analysis.terms[a].first < term) ++a;
                    if (a < analysis.terms.size() && analysis.terms[a].first == term) held[a] = true;
                    doc.add_term(term, wdf);
                }
            }
        }
        doc.add_boolean_term(unique);
        doc.add_boolean_term(cube_term(attrs.cube_id));
        doc.add_boolean_term(type_term(attrs.type));
        if (!attrs.role.empty()) doc.add_boolean_term(role_term(attrs.role));
        if (!attrs.session_id.empty()) doc.add_boolean_term(session_term(attrs.session_id));
        doc.add_value(kTimeSlot, Xapian::sortable_serialise(static_cast<double>(attrs.time)));
        doc.set_data(attrs.id);
        if (exists) {
            db.replace_document(unique, doc);
        } else {
            db.add_document(doc);
        }
        impl_->count_upsert(attrs, part, analysis, held, exists, merge_existing);
        return Status::ok();
    } catch (const Xapian::Error& e) {
        impl_->term_counts.invalidate(attrs.cube_id);
        return from_xapian(e, "lexical index: upsert " + attrs.id);
    } catch (const std::exception& e) {
        impl_->term_counts.invalidate(attrs.cube_id);
        return from_std(e, "lexical index: upsert " + attrs.id);
    }
}

Status LexicalIndex::upsert(const UnitAttrs& attrs, std::string_view text, bool known_new) {
    // Analysed before the index lock is taken: the same terms TermGenerator would add.
    return upsert_analyzed(attrs, analyze_text(text), /*merge_existing=*/false, known_new);
}

Status LexicalIndex::remove(const std::string& cube_id, UnitType type, const std::string& id) {
    auto lock = impl_->lock_for_write();
    impl_->touch(cube_id);  // before the change: a search of the committed state must not miss it
    try {
        if (impl_->memory) {
            (*impl_->memory)[static_cast<std::size_t>(type)].remove(cube_id, type, id);
        } else {
            impl_->db(type).delete_document(unique_term(cube_id, type, id));
        }
        ++impl_->pending;
        return Status::ok();
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical index: remove " + id);
    } catch (const std::exception& e) {
        return from_std(e, "lexical index: remove " + id);
    }
}

Status LexicalIndex::remove_session(const std::string& cube_id, const std::string& session_id) {
    auto lock = impl_->lock_for_write();
    impl_->touch(cube_id);  // before the change: a search of the committed state must not miss it
    try {
        if (impl_->memory) {
            for (MemoryPostings& part : *impl_->memory) impl_->pending += part.remove_session(cube_id, session_id);
            return Status::ok();
        }
        const std::string cube = cube_term(cube_id);
        const std::string session = session_term(session_id);
        for (Xapian::WritableDatabase& db : impl_->dbs) {
            std::vector<Xapian::docid> docs;
            for (auto it = db.postlist_begin(session); it != db.postlist_end(session); ++it) docs.push_back(*it);
            for (Xapian::docid id : docs) {
                Xapian::Document doc = db.get_document(id);
                auto t = doc.termlist_begin();
                t.skip_to(cube);
                if (t == doc.termlist_end() || *t != cube) continue;
                db.delete_document(id);
                ++impl_->pending;
            }
        }
        return Status::ok();
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical index: remove session " + session_id);
    } catch (const std::exception& e) {
        return from_std(e, "lexical index: remove session " + session_id);
    }
}

Status LexicalIndex::remove_cube(const std::string& cube_id) {
    auto lock = impl_->lock_for_write();
    impl_->touch(cube_id);  // before the change: a search of the committed state must not miss it
    try {
        if (impl_->memory) {
            for (MemoryPostings& part : *impl_->memory) {
                impl_->pending += std::max<std::size_t>(1, part.remove_cube(cube_id));
            }
            return Status::ok();
        }
        std::string term = cube_term(cube_id);
        for (Xapian::WritableDatabase& db : impl_->dbs) {
            impl_->pending += std::max<std::uint64_t>(1, db.get_termfreq(term));
            db.delete_document(term);
        }
        return Status::ok();
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical index: remove cube " + cube_id);
    } catch (const std::exception& e) {
        return from_std(e, "lexical index: remove cube " + cube_id);
    }
}

Status LexicalIndex::set_bm25(const Bm25Params& params) {
    if (!(params.k1 >= 0) || !std::isfinite(params.k1)) {
        return Status::invalid_argument("lexical index: BM25 k1 must be a finite number >= 0");
    }
    if (!(params.b >= 0 && params.b <= 1)) return Status::invalid_argument("lexical index: BM25 b must be in [0, 1]");
    impl_->bm25_k1.store(params.k1);
    impl_->bm25_b.store(params.b);
    return Status::ok();
}

LexicalIndex::Bm25Params LexicalIndex::bm25() const {
    return Bm25Params{impl_->bm25_k1.load(), impl_->bm25_b.load()};
}

Result<std::vector<ScoredId>> LexicalIndex::search(std::string_view query, const SearchFilter& filter, int k,
                                                   ReadFrom from) const {
    return run_search(filter, k, from, [&] { return impl_->text_query(query); });
}

Result<std::vector<ScoredId>> LexicalIndex::search_terms(const std::vector<std::string>& terms,
                                                         const SearchFilter& filter, int k, ReadFrom from) const {
    return run_search(filter, k, from, [&] {
        std::vector<Xapian::Query> parts;
        parts.reserve(std::min(terms.size(), kMaxQueryTerms));
        for (const auto& term : terms) {
            if (parts.size() == kMaxQueryTerms) break;
            if (!term.empty()) parts.emplace_back(term);
        }
        return parts.empty() ? Xapian::Query() : Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
    });
}

namespace {

// The best k documents of `db` for `text` under `filter`, by BM25.
std::vector<ScoredId> match(const Xapian::Database& db, const Xapian::Query& text, const SearchFilter& filter, int k,
                            const LexicalIndex::Bm25Params& bm25, UnitIdCache& unit_ids) {
    std::vector<Xapian::Query> conditions;
    // A cube that holds every document of the database (an evaluation's or a single-user store) needs no filter.
    const std::string cube_key = cube_term(filter.cube_id);
    if (db.get_termfreq(cube_key) != db.get_doccount()) conditions.emplace_back(cube_key);
    // (The type's own database holds only documents of that type.)
    if (ranks_by_all_types(filter.type)) conditions.emplace_back(type_term(filter.type));
    if (filter.role) conditions.emplace_back(role_term(*filter.role));
    if (filter.session_id) conditions.emplace_back(session_term(*filter.session_id));
    if (filter.time_from && filter.time_to) {
        conditions.emplace_back(Xapian::Query::OP_VALUE_RANGE, kTimeSlot,
                                Xapian::sortable_serialise(static_cast<double>(*filter.time_from)),
                                Xapian::sortable_serialise(static_cast<double>(*filter.time_to)));
    } else if (filter.time_from) {
        conditions.emplace_back(Xapian::Query::OP_VALUE_GE, kTimeSlot,
                                Xapian::sortable_serialise(static_cast<double>(*filter.time_from)));
    } else if (filter.time_to) {
        conditions.emplace_back(Xapian::Query::OP_VALUE_LE, kTimeSlot,
                                Xapian::sortable_serialise(static_cast<double>(*filter.time_to)));
    }
    Xapian::Enquire enquire(db);
    if (conditions.empty()) {
        enquire.set_query(text);
    } else {
        Xapian::Query restrict(Xapian::Query::OP_AND, conditions.begin(), conditions.end());
        enquire.set_query(Xapian::Query(Xapian::Query::OP_FILTER, text, restrict));
    }
    enquire.set_weighting_scheme(Xapian::BM25Weight(bm25.k1, 0, 1, bm25.b, 0.5));
    Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(k));
    std::vector<ScoredId> hits;
    hits.reserve(mset.size());
    std::vector<std::pair<std::size_t, Xapian::docid>> where;
    where.reserve(mset.size());
    for (auto it = mset.begin(); it != mset.end(); ++it) where.push_back(UnitIdCache::locate(filter.type, *it));
    std::vector<std::string> ids(where.size());
    if (!unit_ids.find(where, ids)) {
        std::vector<std::pair<std::size_t, Xapian::docid>> read_where;
        std::vector<std::string> read_ids;
        std::size_t i = 0;
        for (auto it = mset.begin(); it != mset.end(); ++it, ++i) {
            if (!ids[i].empty()) continue;  // (a unit id is never empty)
            ids[i] = it.get_document().get_data();
            read_where.push_back(where[i]);
            read_ids.push_back(ids[i]);
        }
        unit_ids.store(read_where, read_ids);
    }
    std::size_t i = 0;
    for (auto it = mset.begin(); it != mset.end(); ++it, ++i) {
        hits.push_back(ScoredId{std::move(ids[i]), it.get_weight()});
    }
    return hits;
}

}  // namespace

template <typename MakeQuery>
Result<std::vector<ScoredId>> LexicalIndex::run_search(const SearchFilter& filter, int k, ReadFrom from,
                                                       MakeQuery make_text) const {
    if (filter.cube_id.empty()) return Status::invalid_argument("lexical search: empty cube id");
    std::vector<ScoredId> hits;
    if (k <= 0) return hits;
    if (filter.time_from && filter.time_to && *filter.time_from > *filter.time_to) return hits;
    if (from == ReadFrom::kCommittedIfClean && impl_->clean(filter.cube_id)) {
        if (auto reader = impl_->take_reader()) {
            try {
                Xapian::Query text = make_text();
                if (!text.empty())
                    hits = match(reader->searched(filter.type), text, filter, k, bm25(), impl_->unit_ids);
                impl_->give_back(std::move(reader));
                impl_->committed_reads.fetch_add(1, std::memory_order_relaxed);
                return hits;
            } catch (const Xapian::DatabaseModifiedError&) {
                // Commits overtook the reader's revision: read the latest state instead (it holds the committed one).
                impl_->drop_reader(std::move(reader));
            } catch (const Xapian::Error& e) {
                impl_->drop_reader(std::move(reader));
                return from_xapian(e, "lexical search");
            } catch (const std::exception& e) {
                impl_->drop_reader(std::move(reader));
                return from_std(e, "lexical search");
            }
        }
    }
    auto lock = impl_->lock_for_read();
    try {
        Xapian::Query text = make_text();
        if (text.empty()) return hits;
        if (impl_->memory) return impl_->memory_match(text, filter, k, bm25());
        return match(impl_->searched(filter.type), text, filter, k, bm25(), impl_->unit_ids);
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical search");
    } catch (const std::exception& e) {
        return from_std(e, "lexical search");
    }
}

Status LexicalIndex::commit() {
    auto lock = impl_->lock_for_write();
    try {
        if (impl_->memory) {
            for (auto& [key, value] : impl_->pending_metadata) impl_->memory_metadata[key] = std::move(value);
            impl_->pending_metadata.clear();
            impl_->pending = 0;
            return Status::ok();
        }
        // In part order, stopping at the first failure, each with the pending metadata.
        for (Xapian::WritableDatabase& db : impl_->dbs) {
            for (const auto& [key, value] : impl_->pending_metadata) db.set_metadata(key, value);
            db.commit();
        }
        impl_->pending_metadata.clear();
        impl_->pending = 0;
        impl_->advance_readers();  // before any cube reads as clean, and before the next change
        {
            std::lock_guard<std::mutex> g(impl_->dirty_mu);
            impl_->dirty_cubes.clear();
        }
        return Status::ok();
    } catch (const Xapian::Error& e) {
        impl_->pending_metadata.clear();  // dropped like the failed database's changes: it stays at its old values
        Status failed = from_xapian(e, "lexical index: commit " + impl_->dir);
        reopen_after_failed_commit();
        return failed;
    } catch (const std::exception& e) {
        impl_->pending_metadata.clear();
        Status failed = from_std(e, "lexical index: commit " + impl_->dir);
        reopen_after_failed_commit();
        return failed;
    }
}

Status LexicalIndex::reopen() {
    if (impl_->dir.empty()) return Status::ok();
    auto lock = impl_->lock_for_write();
    return reopen_locked();
}

void LexicalIndex::reopen_after_failed_commit() {
    // Still under the write lock: no reader sees the database that Xapian closed after the failure (it would answer
    // DatabaseClosedError) between the failure and the caller's own reopen().
    Status st = reopen_locked();
    if (!st.is_ok()) log::error("lexical index: reopening after a failed commit: {}", st.to_string());
}

Status LexicalIndex::reopen_locked() {
    if (impl_->dir.empty()) return Status::ok();
    // First, so that they hold even when a database fails to open again.
    impl_->term_counts.invalidate_all();  // uncommitted changes may be gone
    impl_->unit_ids.clear();              // ... and their document ids will be given to other units
    try {
        for (std::size_t i = 0; i < kParts; ++i) {
            Xapian::WritableDatabase& db = impl_->dbs[i];
            const std::string part_dir = impl_->dir + "/" + unit_type_name(kPartTypes[i]);
            // After a failed write Xapian has discarded the uncommitted changes or closed the database; close() may
            // still commit what is pending (that is harmless: the caller re-indexes from its committed watermark).
            try {
                db.close();
            } catch (const Xapian::Error& e) {
                log::warn("lexical index: closing {} after a failed write: {}", part_dir, e.get_description());
            }
            db = Xapian::WritableDatabase();  // releases the write lock before it is taken again
            db = Xapian::WritableDatabase(part_dir, Xapian::DB_OPEN | Xapian::DB_BACKEND_GLASS);
        }
        impl_->pending_metadata.clear();
        impl_->pending = 0;
        impl_->advance_readers();  // a failed commit may have committed some parts: read them anew
        return Status::ok();
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical index: reopen " + impl_->dir);
    } catch (const std::exception& e) {
        return from_std(e, "lexical index: reopen " + impl_->dir);
    }
}

Status LexicalIndex::set_metadata(const std::string& key, const std::string& value) {
    if (key.empty() || key.size() > kMaxMetadataKeyBytes) {
        return Status::invalid_argument("lexical index: metadata key must be 1-200 bytes");
    }
    auto lock = impl_->lock_for_write();
    try {
        impl_->pending_metadata[key] = value;
        ++impl_->pending;
        return Status::ok();
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical index: set metadata " + key);
    } catch (const std::exception& e) {
        return from_std(e, "lexical index: set metadata " + key);
    }
}

Result<std::string> LexicalIndex::metadata(const std::string& key) const {
    if (key.empty() || key.size() > kMaxMetadataKeyBytes) {
        return Status::invalid_argument("lexical index: metadata key must be 1-200 bytes");
    }
    auto lock = impl_->lock_for_read();
    try {
        auto pending = impl_->pending_metadata.find(key);
        if (pending != impl_->pending_metadata.end()) return pending->second;
        if (impl_->memory) {
            auto held = impl_->memory_metadata.find(key);
            return held == impl_->memory_metadata.end() ? std::string() : held->second;
        }
        return impl_->dbs[kParts - 1].get_metadata(key);
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical index: metadata " + key);
    } catch (const std::exception& e) {
        return from_std(e, "lexical index: metadata " + key);
    }
}

namespace {

// All documents matching the boolean query, unranked.
Xapian::MSet all_matches(const Xapian::Database& db, const Xapian::Query& query, bool want_documents) {
    Xapian::Enquire enquire(db);
    enquire.set_query(query);
    enquire.set_weighting_scheme(Xapian::BoolWeight());
    enquire.set_docid_order(Xapian::Enquire::ASCENDING);
    Xapian::doccount total = db.get_doccount();
    return enquire.get_mset(0, want_documents ? total : 0, total);
}

// How many documents of `db` contain both `a` and `b`: the two posting lists walked together, each skipping to the
// other's next document.
Xapian::doccount documents_with_both(const Xapian::Database& db, const std::string& a, const std::string& b) {
    Xapian::doccount count = 0;
    Xapian::PostingIterator x = db.postlist_begin(a);
    Xapian::PostingIterator y = db.postlist_begin(b);
    const Xapian::PostingIterator x_end = db.postlist_end(a);
    const Xapian::PostingIterator y_end = db.postlist_end(b);
    while (x != x_end && y != y_end) {
        const Xapian::docid dx = *x;
        const Xapian::docid dy = *y;
        if (dx == dy) {
            ++count;
            ++x;
            ++y;
        } else if (dx < dy) {
            x.skip_to(dy);
        } else {
            y.skip_to(dx);
        }
    }
    return count;
}

// The number of documents of `cube` in `db` and, for each of `terms`, how many of them contain it (added to `out`).
void add_term_counts(const Xapian::Database& db, const std::string& cube_key, const std::vector<std::string>& terms,
                     LexicalIndex::TermCounts& out) {
    const Xapian::doccount documents = db.get_termfreq(cube_key);  // every document carries its cube's term once
    out.documents += documents;
    const bool only_cube = documents == db.get_doccount();
    for (std::size_t i = 0; i < terms.size(); ++i) {
        const std::string& term = terms[i];
        if (term.empty() || documents == 0) continue;
        out.frequencies[i] += only_cube ? db.get_termfreq(term) : documents_with_both(db, term, cube_key);
    }
}

// The same for a part of the in-memory engine.
void add_term_counts(const MemoryPostings& part, const std::string& cube_id, const std::vector<std::string>& terms,
                     LexicalIndex::TermCounts& out) {
    const std::uint64_t documents = part.cube_documents(cube_id);
    out.documents += documents;
    for (std::size_t i = 0; i < terms.size(); ++i) {
        if (terms[i].empty() || documents == 0) continue;
        out.frequencies[i] += part.cube_term_frequency(cube_id, terms[i]);
    }
}

}  // namespace

Result<std::uint64_t> LexicalIndex::total_documents() const {
    auto lock = impl_->lock_for_read();
    try {
        std::uint64_t total = 0;
        if (impl_->memory) {
            for (const MemoryPostings& part : *impl_->memory) total += part.documents();
            return total;
        }
        for (const Xapian::WritableDatabase& db : impl_->dbs) total += db.get_doccount();
        return total;
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical index: document count");
    } catch (const std::exception& e) {
        return from_std(e, "lexical index: document count");
    }
}

Result<std::uint64_t> LexicalIndex::count(const std::string& cube_id, UnitType type) const {
    auto lock = impl_->lock_for_read();
    try {
        if (impl_->memory) return (*impl_->memory)[static_cast<std::size_t>(type)].cube_documents(cube_id);
        // Every document of the type's database carries its cube's term once.
        return static_cast<std::uint64_t>(impl_->db(type).get_termfreq(cube_term(cube_id)));
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical index: count " + cube_id);
    } catch (const std::exception& e) {
        return from_std(e, "lexical index: count " + cube_id);
    }
}

Result<std::vector<std::string>> LexicalIndex::ids(const std::string& cube_id, UnitType type) const {
    auto lock = impl_->lock_for_read();
    try {
        if (impl_->memory) return (*impl_->memory)[static_cast<std::size_t>(type)].ids(cube_id);
        Xapian::MSet mset = all_matches(impl_->db(type), Xapian::Query(cube_term(cube_id)), true);
        std::vector<std::string> out;
        out.reserve(mset.size());
        for (auto it = mset.begin(); it != mset.end(); ++it) out.push_back(it.get_document().get_data());
        std::sort(out.begin(), out.end());
        return out;
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical index: ids " + cube_id);
    } catch (const std::exception& e) {
        return from_std(e, "lexical index: ids " + cube_id);
    }
}

Result<LexicalIndex::TermCounts> LexicalIndex::term_counts(const std::string& cube_id,
                                                           const std::vector<std::string>& terms) const {
    if (cube_id.empty()) return Status::invalid_argument("lexical index: term_counts needs a cube id");
    return part_counts(cube_id, 0, kParts, terms, ReadFrom::kLatest);
}

Result<LexicalIndex::TermCounts> LexicalIndex::term_counts(const std::string& cube_id, UnitType type,
                                                           const std::vector<std::string>& terms, ReadFrom from) const {
    if (cube_id.empty()) return Status::invalid_argument("lexical index: term_counts needs a cube id");
    const std::size_t first = ranks_by_all_types(type) ? 0 : static_cast<std::size_t>(type);
    const std::size_t last = ranks_by_all_types(type) ? kParts : first + 1;
    return part_counts(cube_id, first, last, terms, from);
}

Result<LexicalIndex::TermCounts> LexicalIndex::part_counts(const std::string& cube_id, std::size_t first,
                                                           std::size_t last, const std::vector<std::string>& terms,
                                                           ReadFrom from) const {
    // Per part: what the cache holds, and the terms it lacks with their positions in `terms`.
    std::vector<CubeTermCounts::Lookup> cached(last - first);
    std::vector<std::vector<std::string>> missing(last - first);
    std::vector<std::vector<std::size_t>> missing_at(last - first);
    auto look_up = [&] {
        bool complete = true;
        for (std::size_t p = 0; p < cached.size(); ++p) {
            cached[p] = impl_->term_counts.find(cube_id, first + p, terms);
            missing[p].clear();
            missing_at[p].clear();
            for (std::size_t i = 0; i < terms.size(); ++i) {
                if (cached[p].frequencies[i] || terms[i].empty()) continue;
                missing[p].push_back(terms[i]);
                missing_at[p].push_back(i);
            }
            complete = complete && cached[p].documents && missing[p].empty();
        }
        return complete;
    };
    auto total = [&] {
        TermCounts out;
        out.frequencies.assign(terms.size(), 0);
        for (const auto& c : cached) {
            out.documents += c.documents.value_or(0);
            for (std::size_t i = 0; i < terms.size(); ++i) out.frequencies[i] += c.frequencies[i].value_or(0);
        }
        return out;
    };
    // Counts the cache lacks, read from `dbs` (indexed by part) and stored under the generation looked up.
    auto fill = [&](const auto& dbs) {
        const std::string cube_key = cube_term(cube_id);
        for (std::size_t p = 0; p < cached.size(); ++p) {
            if (cached[p].documents && missing[p].empty()) continue;
            TermCounts part;
            part.frequencies.assign(missing[p].size(), 0);
            if (impl_->memory) {
                add_term_counts((*impl_->memory)[first + p], cube_id, missing[p], part);
            } else {
                add_term_counts(dbs[first + p], cube_key, missing[p], part);
            }
            impl_->term_counts.store(cube_id, first + p, cached[p].generation, part.documents, missing[p],
                                     part.frequencies);
            cached[p].documents = part.documents;
            for (std::size_t m = 0; m < missing_at[p].size(); ++m) {
                cached[p].frequencies[missing_at[p][m]] = part.frequencies[m];
            }
        }
    };
    if (from == ReadFrom::kCommittedIfClean) {
        // The counts held are exact but for a write in progress: enough for a read that does not wait for writes.
        if (look_up()) return total();
        // A cube without uncommitted changes: the rest read from the last commit. (The generation is read before
        // the cube is checked clean again: Impl::mark_dirty() comes before the generation moves on, so counts
        // stored under a generation hold its changes.)
        auto reader = impl_->clean(cube_id) ? impl_->take_reader() : nullptr;
        if (reader) {
            try {
                fill(reader->parts);
                impl_->give_back(std::move(reader));
                impl_->committed_reads.fetch_add(1, std::memory_order_relaxed);
                return total();
            } catch (const Xapian::DatabaseModifiedError&) {
                impl_->drop_reader(std::move(reader));  // read the latest state instead
            } catch (const Xapian::Error& e) {
                impl_->drop_reader(std::move(reader));
                return from_xapian(e, "lexical index: term counts " + cube_id);
            } catch (const std::exception& e) {
                impl_->drop_reader(std::move(reader));
                return from_std(e, "lexical index: term counts " + cube_id);
            }
        }
    }
    // Under the lock no write is in progress: the counts held are exact and the generation stays put.
    auto lock = impl_->lock_for_read();
    try {
        if (look_up()) return total();
        fill(impl_->dbs);
        return total();
    } catch (const Xapian::Error& e) {
        return from_xapian(e, "lexical index: term counts " + cube_id);
    } catch (const std::exception& e) {
        return from_std(e, "lexical index: term counts " + cube_id);
    }
}

std::uint64_t LexicalIndex::committed_reads() const {
    return impl_->committed_reads.load(std::memory_order_relaxed);
}

std::uint64_t LexicalIndex::pending_changes() const {
    auto lock = impl_->lock_for_read();
    return impl_->pending;
}

std::vector<std::string> LexicalIndex::analyze(std::string_view text) {
    std::vector<std::string>& words = thread_words();
    if (!split_index_words(text, words)) return analyze_reference(text);
    ThreadStemMemo& memo = thread_stem_memo();
    std::vector<std::string> out;
    // Distinct in order of first occurrence: a linear look while there are few terms (queries), then a set.
    constexpr std::size_t kLinear = 32;
    std::unordered_set<std::string, StringHash, std::equal_to<>> seen;
    try {
        for (const std::string& word : words) {
            // As analyze_text: the length limit, then the stopword list (on the unstemmed word), then the stem.
            if (word.size() > kMaxWordBytes) continue;
            const std::string_view term = memo.index_term(word);
            if (term.empty()) continue;
            if (out.size() < kLinear) {
                if (std::find(out.begin(), out.end(), term) != out.end()) continue;
            } else {
                if (seen.empty()) seen.insert(out.begin(), out.end());
                if (!seen.emplace(term).second) continue;
            }
            out.emplace_back(term);
        }
    } catch (const Xapian::Error&) {
        return {};  // stemming in-memory words cannot fail short of memory exhaustion
    } catch (const std::exception&) {
        return {};  // only bad_alloc can get here
    }
    return out;
}

std::vector<std::string> LexicalIndex::analyze_reference(std::string_view text) {
    try {
        Xapian::Stem stemmer("english");
        std::vector<std::string> out;
        std::unordered_set<std::string> seen;
        for (const auto& word : distinct_words(text)) {
            std::string term = stemmer(word);
            if (!term.empty() && seen.insert(term).second) out.push_back(std::move(term));
        }
        return out;
    } catch (const std::exception&) {
        return {};  // only bad_alloc can get here
    } catch (const Xapian::Error&) {
        return {};
    }
}

}  // namespace kasten::retrieval
