#include "memory/heuristic_note_builder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "memory/relative_date_resolver.h"
#include "memory/sentence_splitter.h"
#include "memory/topic_lexicon.h"
#include "memory/word_tokenizer.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {
namespace {

using namespace std::string_view_literals;

constexpr std::size_t kStemCacheEntries = 100'000;
constexpr TimeMs kMsPerDay = 86'400'000;

// A set of lower-case words built once from a space-separated list.
class WordSet {
  public:
    explicit WordSet(std::string_view words) {
        while (!words.empty()) {
            const std::size_t space = words.find(' ');
            const std::string_view word = words.substr(0, space);
            if (!word.empty()) set_.insert(word);
            words = space == std::string_view::npos ? std::string_view() : words.substr(space + 1);
        }
    }
    bool contains(std::string_view word) const { return set_.contains(word); }
    template <typename F>
    void for_each(F f) const {
        for (std::string_view word : set_) f(word);
    }

  private:
    std::unordered_set<std::string_view> set_;
};

// Phrases matched against the lower-cased words at the start of a sentence.
class PhraseList {
  public:
    explicit PhraseList(std::initializer_list<std::string_view> phrases) {
        for (std::string_view p : phrases) by_first_word_[p.substr(0, p.find(' '))].push_back(p);
    }
    // `head` is the first words of a sentence, lower-cased, each followed by one space.
    bool starts(std::string_view head) const {
        const auto it = by_first_word_.find(head.substr(0, head.find(' ')));
        if (it == by_first_word_.end()) return false;
        for (std::string_view p : it->second) {
            if (head.size() > p.size() && head.starts_with(p) && head[p.size()] == ' ') return true;
        }
        return false;
    }

  private:
    std::unordered_map<std::string_view, std::vector<std::string_view>> by_first_word_;
};

// Words that carry no topic of their own: never keywords, never context terms, not counted as content.
const WordSet& generic_words() {
    static const WordSet set(
        "also just really actually basically literally definitely probably maybe perhaps certainly totally quite "
        "pretty rather somewhat fairly very much many more most less lot lots bit little some something anything "
        "everything nothing thing things stuff way ways kind sort type types get gets getting got gotten go goes "
        "going went gone come comes coming came make makes making made take takes taking took taken give gives "
        "giving gave given know knows knew known think thinks thought want wants wanted wanna need needs needed let "
        "lets say says said tell tells told ask asks asked use uses using used try tries trying tried see sees "
        "seeing saw seen look looks looking looked find finds found help helps helping helped keep keeps kept put "
        "puts feel feels felt seem seems seemed mean means meant good great nice fine okay ok cool awesome amazing "
        "wonderful fantastic excellent perfect best better well bad new old big small sure yes yeah yep no nope "
        "thanks thank please hi hello hey one two three four five first second third last next today tomorrow "
        "yesterday tonight day days week weeks weekend weekends month months year years time times ago recently "
        "lately currently now soon still even ever always never usually often sometimes already yet right able "
        "around since across among tip tips advice suggestion suggestions recommendation recommendations idea ideas "
        "information info question questions answer answers option options recommend recommended suggest suggested "
        "sound sounds interesting important different specific certain various several few another every either "
        "neither whole entire whatever however though although etc someone anyone everyone somebody anybody lol "
        "haha oh um uh hmm wow can could would should will shall might must may gonna gotta kinda sorta plenty else "
        "anyway anyways alright mind glad happy hope hoping wondering wonder curious appreciate appreciated "
        "morning afternoon evening night monday tuesday wednesday thursday friday saturday sunday january february "
        "march april june july august september october november december tell example examples include includes "
        "including following follow step steps also-known many lot one's also start started starting begin");
    return set;
}

// Content words too common in chat to be good keywords (preference verbs and the like): weight x0.25.
const WordSet& weak_keywords() {
    static const WordSet set(
        "like likes love loves loved prefer prefers preferred enjoy enjoys enjoyed hate hates dislike dislikes adore "
        "favorite favourite fan really lately live lives living moved move moving bought buy buying");
    return set;
}

const WordSet& first_person_words() {
    static const WordSet set(
        "i i'm im i've ive i'd i'll my mine myself me we we're we've we'd we'll our ours ourselves us");
    return set;
}

// The user's own situation ("your flight", "you've booked", "you're in Paris"); plain "you" is mostly impersonal
// advice ("you can book through Hostelworld", "you'll need Form SS-5").
const WordSet& second_person_words() {
    static const WordSet set("you're youre you've your yours yourself yourselves");
    return set;
}

const WordSet& weekday_and_month_words() {
    static const WordSet set(
        "monday tuesday wednesday thursday friday saturday sunday january february march april may june july august "
        "september october november december");
    return set;
}

// Leading words removed from user sentences: always / only when punctuation follows them.
const WordSet& lead_fillers() {
    static const WordSet set(
        "oh and so also well actually basically honestly literally anyway anyways btw hi hello hey um uh umm hmm lol "
        "haha ok okay yeah yes yep alright but plus ah aha oops greetings");
    return set;
}
const WordSet& lead_fillers_before_punctuation() {
    static const WordSet set(
        "great cool awesome sure perfect nice wow no right now first firstly second finally "
        "lastly additionally interesting excellent wonderful amazing fantastic gotcha understood true indeed sorry "
        "please there");
    return set;
}

// Sentence starts of requests, questions and commands: only their first-person clauses can be notes.
const PhraseList& request_starts() {
    static const PhraseList list{"can you",
                                 "could you",
                                 "would you",
                                 "will you",
                                 "can i",
                                 "could i",
                                 "should i",
                                 "do you",
                                 "how do",
                                 "how can",
                                 "how should",
                                 "how to",
                                 "how much",
                                 "how many",
                                 "how long",
                                 "what is",
                                 "what are",
                                 "what's",
                                 "what should",
                                 "what can",
                                 "what would",
                                 "what do",
                                 "what kind",
                                 "what type",
                                 "which",
                                 "where can",
                                 "where should",
                                 "where is",
                                 "any tips",
                                 "any ideas",
                                 "any suggestions",
                                 "any recommendations",
                                 "any advice",
                                 "is there",
                                 "are there",
                                 "is it",
                                 "please",
                                 "i was wondering",
                                 "i wonder",
                                 "i'd like to know",
                                 "i would like to know",
                                 "i want to know",
                                 "i'd like you to",
                                 "i would like you to",
                                 "i want you to",
                                 "i need you to",
                                 "i'd appreciate",
                                 "i would appreciate",
                                 "let me know",
                                 "tell me",
                                 "give me",
                                 "show me",
                                 "help me",
                                 "explain",
                                 "describe",
                                 "list",
                                 "write",
                                 "suggest",
                                 "recommend",
                                 "provide",
                                 "create",
                                 "generate",
                                 "compare",
                                 "summarize",
                                 "summarise",
                                 "translate",
                                 "rewrite",
                                 "draft",
                                 "outline",
                                 "calculate",
                                 "convert",
                                 "imagine",
                                 "pretend",
                                 "act as",
                                 "find",
                                 "make",
                                 "plan",
                                 "design",
                                 "brainstorm",
                                 "share",
                                 "continue",
                                 "edit",
                                 "check",
                                 "fix",
                                 "why",
                                 "who",
                                 "when",
                                 "where",
                                 "how",
                                 "what"};
    return list;
}

// First-person sentence starts that acknowledge, hedge or ask for help: notes only when specific.
const PhraseList& acknowledgement_starts() {
    static const PhraseList list{"i see",
                                 "i understand",
                                 "i agree",
                                 "i think so",
                                 "i appreciate",
                                 "i really appreciate",
                                 "i'm glad",
                                 "i am glad",
                                 "i'll try",
                                 "i will try",
                                 "i'll keep",
                                 "i will keep",
                                 "i'll check",
                                 "i'll look",
                                 "i'll consider",
                                 "i'll give",
                                 "i'll definitely",
                                 "i'll do",
                                 "i hope",
                                 "i'm not sure",
                                 "i am not sure",
                                 "i don't know",
                                 "i got it",
                                 "i have a question",
                                 "i have another question",
                                 "i have some questions",
                                 "i'm curious",
                                 "i think that's",
                                 "i think it's",
                                 "i love that",
                                 "i like that",
                                 "i love it",
                                 "i like it",
                                 "i love this",
                                 "i like this",
                                 "i'm excited to try",
                                 "i'm sorry",
                                 "my apologies",
                                 "i mean",
                                 "i guess",
                                 "i was just",
                                 "i just wanted to",
                                 "i want to make sure",
                                 "i'd love to hear",
                                 "i'd like to hear",
                                 "i'd love some",
                                 "i'd like some",
                                 "i need some",
                                 "i need help",
                                 "i'm looking for some",
                                 "i'm looking for advice",
                                 "i'm looking for tips",
                                 "i'm looking for ideas",
                                 "i'm looking for suggestions",
                                 "i'm looking for recommendations",
                                 "i'm trying to decide",
                                 "i'm trying to figure"};
    return list;
}

// Assistant sentence starts that carry no facts.
const PhraseList& pleasantry_starts() {
    static const PhraseList list{"sure",
                                 "of course",
                                 "certainly",
                                 "absolutely",
                                 "great question",
                                 "good question",
                                 "great",
                                 "i'd be happy",
                                 "i'd be glad",
                                 "i would be happy",
                                 "i'm happy to",
                                 "i am happy to",
                                 "i'm glad",
                                 "i hope",
                                 "hope this",
                                 "let me know",
                                 "feel free",
                                 "here are",
                                 "here's",
                                 "here is",
                                 "good luck",
                                 "enjoy",
                                 "have a",
                                 "i'm sorry",
                                 "sorry",
                                 "i apologize",
                                 "as an ai",
                                 "i'm an ai",
                                 "i am an ai",
                                 "i don't have",
                                 "i do not have",
                                 "i cannot",
                                 "i can't",
                                 "i'm not able",
                                 "i am not able",
                                 "in summary",
                                 "overall",
                                 "ultimately",
                                 "in conclusion",
                                 "that's great",
                                 "that sounds",
                                 "congratulations",
                                 "it's great",
                                 "it's important to",
                                 "it is important to",
                                 "it's always a good idea",
                                 "it's a good idea",
                                 "it's also a good idea",
                                 "don't hesitate",
                                 "thank you",
                                 "thanks",
                                 "you're welcome",
                                 "glad",
                                 "happy to",
                                 "what a",
                                 "remember",
                                 "keep in mind",
                                 "note that",
                                 "i recommend",
                                 "i suggest",
                                 "i would recommend",
                                 "i'd recommend",
                                 "i would suggest",
                                 "i'd suggest",
                                 "by following",
                                 "with these",
                                 "these tips",
                                 "following these",
                                 "i hope",
                                 "wow",
                                 "oh",
                                 "ah",
                                 "hello",
                                 "hi",
                                 "absolutely",
                                 "definitely",
                                 "yes",
                                 "no problem",
                                 "okay",
                                 "ok",
                                 "alright",
                                 "that's a great",
                                 "what a great",
                                 "it sounds like",
                                 "it seems like",
                                 "you're right",
                                 "you are right",
                                 "i understand",
                                 "i see",
                                 "it's understandable",
                                 "it's normal",
                                 "it's completely",
                                 "it's totally",
                                 "it depends",
                                 "additionally",
                                 "furthermore",
                                 "moreover",
                                 "in addition",
                                 "finally",
                                 "lastly",
                                 "first",
                                 "firstly",
                                 "secondly",
                                 "next",
                                 "also"};
    return list;
}

// Words that open an imperative (advice) sentence.
const WordSet& imperative_verbs() {
    static const WordSet set(
        "try consider make use look check visit take keep avoid be start find get ask bring pack plan research set "
        "create include add don't do remember go choose pick focus practice stay drink eat wear read write listen "
        "watch explore join contact call book buy invest save spend limit reduce increase schedule prepare "
        "experiment learn talk reach seek follow think aim allow give let note opt prioritize incorporate "
        "establish identify determine define review compare search browse download install open sign register "
        "apply enjoy celebrate treat store clean wash cook bake mix stir heat place cut remove replace store "
        "leave avoid always never");
    return set;
}

// Cue words of note kinds.
const WordSet& preference_verbs() {
    static const WordSet set(
        "like likes love loves prefer prefers enjoy enjoys hate hates dislike dislikes adore favorite favourite "
        "fan obsessed");
    return set;
}
const WordSet& preference_bridges() {
    static const WordSet set(
        "really also absolutely just do does still always totally definitely generally usually much truly kind "
        "of sort am is are 'm big huge such a an all time personal");
    return set;
}
const WordSet& plan_cues() {
    static const WordSet set("gonna planning plan plans intend intending upcoming soon tomorrow wanna hoping");
    return set;
}
const WordSet& profile_cues() {
    static const WordSet set("name born grew originally profession occupation pronouns retired");
    return set;
}
const WordSet& not_a_role() {
    static const WordSet set(
        "bit little lot big huge fan few great good bad very really total complete bit new first second huge "
        "couple");
    return set;
}
const WordSet& location_motion_words() {
    static const WordSet set(
        "moved move moving relocated relocating relocate trip travel traveling travelling traveled travelled flew "
        "fly flying flight went go going drove drive visit visited visiting back road vacation holiday commute "
        "returned return");
    return set;
}

enum WordFlag : std::uint32_t {
    kGeneric = 1u << 0,
    kWeakKeyword = 1u << 1,
    kFirstPerson = 1u << 2,
    kDateName = 1u << 3,
    kImperative = 1u << 4,
    kPreferenceVerb = 1u << 5,
    kPreferenceBridge = 1u << 6,
    kPlanCue = 1u << 7,
    kLocationMotion = 1u << 8,
    kLeadFiller = 1u << 9,
    kLeadFillerBeforePunctuation = 1u << 10,
    kProfileCue = 1u << 11,
    kNotARole = 1u << 12,
    kSecondPerson = 1u << 13,
};

// Marks a per-batch index that has not been assigned in the current batch.
constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);

// What the builder knows about one index term, and its statistics in the batch being built.
struct StemInfo {
    std::string stem;  // Snowball stem as LexicalIndex analyses it (never "")
    // Per-batch state, valid while `generation` is the current batch's (BatchBuilder::reset_if_stale resets it).
    std::uint64_t generation = 0;
    double idf = -1;  // < 0: not looked up yet
    bool rare = false;
    std::size_t context_slot = kNoSlot;  // index of its aggregate in BatchBuilder::make_context
};

// What the builder knows about one lower-case word: its index term, word-list memberships, topic, and statistics
// of the batch being built. The fields every token's lookup touches share the first cache line.
struct alignas(64) WordInfo {
    std::string word;  // the lower-case word itself (the cache key)
    // Per-batch state, valid while `generation` is the current batch's (WordCache::get resets it).
    std::uint64_t generation = 0;
    std::uint32_t flags = 0;  // WordFlag bits
    int capitalized = 0;      // mid-sentence occurrences in the batch, capitalised / not
    int lowercase = 0;
    std::size_t term = kNoSlot;  // index of its BatchBuilder::TermAgg
    // Constant.
    std::string_view stem;          // stem_info->stem; "" for stopwords
    StemInfo* stem_info = nullptr;  // nullptr for stopwords
    std::string_view topic;         // TopicLexicon label of the stem, "" if none
};

// The per-thread word cache: lower-case word -> WordInfo, and stem -> StemInfo shared by the words of one stem.
// A batch is built on one thread from begin_batch() to its end; entries are never removed during a batch, so
// WordInfo and StemInfo pointers stay valid for the whole batch. Every word of a batch goes through get(), which
// resets the word's per-batch state on its first use in the batch.
class WordCache {
  public:
    static WordCache& local() {
        thread_local WordCache cache;
        return cache;
    }
    std::uint64_t begin_batch() {
        if (words_.size() >= kStemCacheEntries) {
            slots_.assign(slots_.size(), Slot{});
            words_.clear();
            stems_.clear();
            stem_index_.clear();
        }
        return ++generation_;
    }
    // The WordInfo of every token's word, in token order.
    void lookup(const std::vector<WordToken>& tokens, std::vector<WordInfo*>& out) {
        if (slots_.empty()) slots_.resize(kInitialSlots);
        // Most of a batch's words were seen in earlier batches but are no longer in the CPU cache. Three passes make
        // the misses of a sentence's words overlap instead of following one another: hash each word and prefetch
        // its slot, prefetch the entry that slot names, then resolve.
        hashes_.resize(tokens.size());
        for (std::size_t k = 0; k < tokens.size(); ++k) {
            hashes_[k] = hash_of(tokens[k].lower);
            __builtin_prefetch(&slots_[hashes_[k] & (slots_.size() - 1)]);
        }
        for (std::size_t k = 0; k < tokens.size(); ++k) {
            const Slot& slot = slots_[hashes_[k] & (slots_.size() - 1)];
            if (slot.index != 0) __builtin_prefetch(&words_[slot.index - 1]);
        }
        out.resize(tokens.size());
        for (std::size_t k = 0; k < tokens.size(); ++k) out[k] = get(tokens[k].lower, hashes_[k]);
    }

  private:
    // The WordInfo of `lower`, whose hash_of() is `hash`; created on first use.
    WordInfo* get(std::string_view lower, std::uint64_t hash) {
        const auto tag = static_cast<std::uint32_t>(hash >> 32);
        std::size_t i = hash & (slots_.size() - 1);
        WordInfo* info = nullptr;
        for (; slots_[i].index != 0; i = (i + 1) & (slots_.size() - 1)) {
            if (slots_[i].tag != tag) continue;
            WordInfo& candidate = words_[slots_[i].index - 1];
            if (candidate.word == lower) {
                info = &candidate;
                break;
            }
        }
        if (info == nullptr) {
            info = &describe(lower);
            slots_[i] = {tag, static_cast<std::uint32_t>(words_.size())};
            if (words_.size() * 2 > slots_.size()) grow();
        }
        if (info->generation != generation_) {
            info->generation = generation_;
            info->capitalized = 0;
            info->lowercase = 0;
            info->term = kNoSlot;
        }
        return info;
    }

    static constexpr std::size_t kInitialSlots = 1u << 12;  // a power of two; kept at most half full

    // Open addressing with linear probing. 8 bytes, so that the table of a full cache stays small.
    struct Slot {
        std::uint32_t tag = 0;    // high half of the word's hash
        std::uint32_t index = 0;  // 1 + index in words_; 0: empty
    };

    // A multiplicative hash over 8-byte chunks, cheap for short words. Not a security boundary: a batch crafted to
    // collide only makes its own lookups slower.
    static std::uint64_t hash_of(std::string_view word) {
        std::uint64_t h = 0x9E3779B97F4A7C15ull ^ word.size();
        std::size_t i = 0;
        for (; i + 8 <= word.size(); i += 8) {
            std::uint64_t chunk;
            std::memcpy(&chunk, word.data() + i, 8);
            h = (h ^ chunk) * 0xBF58476D1CE4E5B9ull;
            h ^= h >> 31;
        }
        std::uint64_t tail = 0;
        std::memcpy(&tail, word.data() + i, word.size() - i);
        h = (h ^ tail) * 0x94D049BB133111EBull;
        return h ^ (h >> 29);
    }

    void grow() {
        slots_.assign(slots_.size() * 2, Slot{});
        for (std::size_t w = 0; w < words_.size(); ++w) {
            const std::uint64_t hash = hash_of(words_[w].word);
            std::size_t i = hash & (slots_.size() - 1);
            while (slots_[i].index != 0) i = (i + 1) & (slots_.size() - 1);
            slots_[i] = {static_cast<std::uint32_t>(hash >> 32), static_cast<std::uint32_t>(w + 1)};
        }
    }

    WordInfo& describe(std::string_view lower) {
        WordInfo& info = words_.emplace_back();
        info.word = lower;
        const retrieval::LexicalIndex::Analysis analysis = retrieval::LexicalIndex::analyze_text(lower);
        std::string_view stem;
        if (analysis.terms.size() == 1) {
            stem = analysis.terms.front().first;
        } else if (!analysis.terms.empty()) {
            stem = lower;  // CJK and other multi-term words: the word itself
        }
        if (!stem.empty()) {
            auto it = stem_index_.find(stem);
            if (it == stem_index_.end()) {
                StemInfo& created = stems_.emplace_back();
                created.stem = stem;
                it = stem_index_.emplace(created.stem, &created).first;
            }
            info.stem_info = it->second;
            info.stem = it->second->stem;
            info.topic = TopicLexicon::topic_of_stem(info.stem);
        }
        const auto it = flags_by_word().find(lower);
        if (it != flags_by_word().end()) info.flags = it->second;
        return info;
    }

    // Every word of the builder's word lists -> the WordFlag bits of the lists it is in.
    static const std::unordered_map<std::string_view, std::uint32_t>& flags_by_word() {
        static const std::unordered_map<std::string_view, std::uint32_t> table = [] {
            std::unordered_map<std::string_view, std::uint32_t> built;
            const std::pair<const WordSet&, WordFlag> lists[] = {
                {generic_words(), kGeneric},
                {weak_keywords(), kWeakKeyword},
                {first_person_words(), kFirstPerson},
                {second_person_words(), kSecondPerson},
                {weekday_and_month_words(), kDateName},
                {imperative_verbs(), kImperative},
                {preference_verbs(), kPreferenceVerb},
                {preference_bridges(), kPreferenceBridge},
                {plan_cues(), kPlanCue},
                {location_motion_words(), kLocationMotion},
                {lead_fillers(), kLeadFiller},
                {lead_fillers_before_punctuation(), kLeadFillerBeforePunctuation},
                {profile_cues(), kProfileCue},
                {not_a_role(), kNotARole},
            };
            for (const auto& [set, flag] : lists) {
                const auto bit = flag;  // a structured binding cannot be captured before C++20 (clang 14)
                set.for_each([&](std::string_view word) { built[word] |= bit; });
            }
            return built;
        }();
        return table;
    }

    std::vector<Slot> slots_;
    std::vector<std::uint64_t> hashes_;  // lookup()'s scratch space
    std::deque<WordInfo> words_;         // deques: elements never move
    std::deque<StemInfo> stems_;
    std::unordered_map<std::string_view, StemInfo*> stem_index_;  // keys view StemInfo::stem
    std::uint64_t generation_ = 0;
};

// A sentence with its words.
struct Sent {
    std::string text;
    std::vector<WordToken> tokens;
    std::vector<WordInfo*> info;  // per token
    bool has(std::size_t k, std::uint32_t flag) const { return k < info.size() && (info[k]->flags & flag) != 0; }
};

Sent make_sent(std::string text) {
    Sent s;
    s.text = std::move(text);
    s.tokens = WordTokenizer::tokenize(s.text);
    WordCache::local().lookup(s.tokens, s.info);
    return s;
}

// Letters-and-digits words that make keywords ("5k", "iphone14"), unlike ordinals and times ("12th", "5pm").
bool alphanumeric_keyword(const WordToken& t) {
    if (!t.has_digit || t.numeric) return false;
    std::size_t d = 0;
    while (d < t.lower.size() && t.lower[d] >= '0' && t.lower[d] <= '9') ++d;
    if (d == 0) return true;
    static const WordSet units("st nd rd th am pm a p m h hr hrs min mins s x");
    return !units.contains(std::string_view(t.lower).substr(d));
}

// "sarah's" -> "sarah".
std::string surface_of(const WordToken& t) {
    std::string w = t.lower;
    if (w.size() > 3 && w.ends_with("'s")) w.resize(w.size() - 2);
    if (w.size() > 2 && w.back() == '\'') w.pop_back();
    return w;
}

// The first six words, lower-cased, each followed by a space; written to `buffer` (reused to save allocations),
// valid until its next use.
std::string_view head_of(const Sent& s, std::string& buffer) {
    buffer.clear();
    for (std::size_t i = 0; i < s.tokens.size() && i < 6; ++i) {
        buffer += s.tokens[i].lower;
        buffer += ' ';
    }
    return buffer;
}

// Whether `gap`, the few characters between two words, contains one of `marks` (string_view::find_first_of would
// call memchr once per character).
bool gap_has_any(std::string_view gap, std::string_view marks) {
    for (char c : gap) {
        for (char m : marks) {
            if (c == m) return true;
        }
    }
    return false;
}

bool ends_with_question(std::string_view text) {
    while (!text.empty() && (text.back() == '"' || text.back() == ')' || text.back() == '\'' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    return !text.empty() && text.back() == '?';
}

std::string capitalize_first(std::string text) {
    if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 32);
    return text;
}

// Letters and digits, lower-cased: the within-batch duplicate key.
std::string dedup_key(std::string_view text) {
    std::string key;
    key.reserve(text.size());
    for (char c : text) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80) {
            key.push_back(c);
        } else if (c >= 'A' && c <= 'Z') {
            key.push_back(static_cast<char>(c + 32));
        }
    }
    return key;
}

struct Features {
    int content = 0;  // content words (not stopwords, not generic, not numbers)
    int proper = 0;   // proper nouns
    int numbers = 0;  // words with digits
    int rare = 0;     // content words rare in the cube, counted up to 4 (see BatchBuilder::count_rare); assistant only
    bool first_person = false;
    std::vector<char> is_proper;   // per token
    std::vector<char> is_content;  // per token
};

// A note candidate of one turn.
struct Candidate {
    Sent sent;
    std::string prefix;  // "User asked: " or ""
    std::vector<DateMention> dates;
    Features features;
    bool user = true;
    double salience = 0;
    std::size_t order = 0;
};

class BatchBuilder {
  public:
    BatchBuilder(const HeuristicNoteBuilder::Options& options, const NoteBatch& batch, const TermStatistics& stats)
        : options_(options), batch_(batch), stats_(stats), documents_(stats.documents()) {}

    std::vector<NoteDraft> run() {
        collect();
        context_ = make_context();
        std::vector<NoteDraft> drafts;
        std::unordered_map<std::string, std::size_t> seen;  // dedup key -> index in drafts
        for (std::size_t t = 0; t < batch_.turns.size(); ++t) {
            const SourceTurn& turn = batch_.turns[t];
            std::vector<Candidate> candidates;
            if (turn.role == "user") {
                for (Sent& s : sentences_[t]) user_sentence(std::move(s), turn.conv_time, candidates);
                select(candidates, options_.max_user_notes_per_turn, /*further_must_be_specific=*/true);
            } else if (turn.role == "assistant") {
                for (Sent& s : sentences_[t]) assistant_sentence(std::move(s), turn.conv_time, candidates);
                select(candidates, options_.max_assistant_notes_per_turn, /*further_must_be_specific=*/false);
            }
            for (Candidate& c : candidates) {
                NoteDraft draft = make_draft(c, turn);
                const std::string key = dedup_key(draft.content);
                if (key.empty()) continue;
                if (const auto it = seen.find(key); it != seen.end()) {
                    auto& ids = drafts[it->second].source_turn_ids;
                    if (std::find(ids.begin(), ids.end(), turn.id) == ids.end()) ids.push_back(turn.id);
                    continue;
                }
                seen.emplace(key, drafts.size());
                drafts.push_back(std::move(draft));
            }
        }
        return drafts;
    }

  private:
    // Batch statistics of one word (surface form).
    struct TermAgg {
        WordInfo* word = nullptr;
        double tf = 0;        // occurrences weighted by role
        int capitalized = 0;  // mid-sentence capitalised occurrences
        int total = 0;
        std::string surface;  // lower-case, possessive removed
        std::string display;  // the first capitalised mid-sentence spelling, possessive removed
        std::size_t first_seen = 0;
    };

    // Clears a stem's per-batch state on its first use in this batch.
    void reset_if_stale(StemInfo* stem) const {
        if (stem->generation == generation_) return;
        stem->generation = generation_;
        stem->idf = -1;
        stem->rare = false;
        stem->context_slot = kNoSlot;
    }

    // idf = ln((N+1)/(df+1)) + 1 of a term for a document frequency df in [0, N].
    double idf_of_df(std::uint64_t df) const {
        return std::log((static_cast<double>(documents_) + 1) / (static_cast<double>(df) + 1)) + 1;
    }
    // The idf of a stem; TermStatistics is asked once per stem and batch, and only for stems whose idf or rarity
    // the drafts depend on (document_frequency may be an index lookup).
    double idf(StemInfo* stem) {
        reset_if_stale(stem);
        if (stem->idf >= 0) return stem->idf;
        const std::uint64_t df = std::min(stats_.document_frequency(stem->stem), documents_);
        stem->idf = idf_of_df(df);
        stem->rare =
            documents_ >= 10 && static_cast<double>(df) <= std::max(1.0, 0.02 * static_cast<double>(documents_));
        return stem->idf;
    }
    // Rare in the cube: document frequency at most max(1, 2% of documents) in cubes of 10+ documents.
    bool rare(StemInfo* stem) {
        if (documents_ < 10) return false;
        idf(stem);
        return stem->rare;
    }

    static bool is_term_word(const WordToken& t, const WordInfo* w) {
        return !w->stem.empty() && !t.numeric && t.lower.size() >= 2 && (w->flags & kGeneric) == 0;
    }

    // Pass 1: sentences of every turn, capitalisation evidence and the batch's term frequencies.
    void collect() {
        generation_ = WordCache::local().begin_batch();
        sentences_.resize(batch_.turns.size());
        for (std::size_t t = 0; t < batch_.turns.size(); ++t) {
            const SourceTurn& turn = batch_.turns[t];
            const bool user = turn.role == "user";
            if (!user && turn.role != "assistant") continue;
            const double weight = user ? 1.0 : 0.35;
            for (std::string& text : SentenceSplitter::split(turn.content, options_.max_note_chars)) {
                Sent s = make_sent(std::move(text));
                for (std::size_t k = 0; k < s.tokens.size(); ++k) {
                    const WordToken& tok = s.tokens[k];
                    WordInfo* w = s.info[k];
                    if (k > 0 && !after_colon(s, k)) ++(tok.capitalized ? w->capitalized : w->lowercase);
                    if (!is_term_word(tok, w) || tok.lower.size() < 3 || tok.has_digit) continue;
                    if (w->term == kNoSlot) {
                        w->term = terms_.size();
                        TermAgg& created = terms_.emplace_back();
                        created.word = w;
                        created.first_seen = w->term;
                        created.surface = surface_of(tok);
                    }
                    TermAgg& agg = terms_[w->term];
                    agg.tf += weight;
                    ++agg.total;
                    if (tok.capitalized && k > 0) {
                        if (agg.capitalized == 0) {
                            agg.display = s.text.substr(tok.begin, tok.end - tok.begin);
                            if (agg.display.size() > 3 && agg.display.ends_with("'s")) {
                                agg.display.resize(agg.display.size() - 2);
                            }
                        }
                        ++agg.capitalized;
                    }
                }
                sentences_[t].push_back(std::move(s));
            }
        }
    }

    static bool after_colon(const Sent& s, std::size_t k) {
        const std::size_t from = s.tokens[k - 1].end;
        const std::string_view gap = std::string_view(s.text).substr(from, s.tokens[k].begin - from);
        return gap_has_any(gap, ":\"(");
    }

    // "Conversation about a, b, c": the batch's words with the highest idf x log(1 + weighted tf), merged by stem.
    std::string make_context() {
        struct StemAgg {
            StemInfo* stem = nullptr;
            double tf = 0;
            int capitalized = 0;
            int total = 0;
            std::size_t first_seen = 0;
            const TermAgg* display_from = nullptr;  // the most frequent spelling
        };
        // terms_ is in order of first occurrence, so a stem's first word sets its first_seen, on equal counts the
        // earlier spelling stays the display one, and a stem's tf is summed in a fixed order (floating-point sums
        // of three or more spellings depend on the order; a hash order would make near-ties depend on addresses).
        std::vector<StemAgg> stems;
        stems.reserve(terms_.size());
        for (const TermAgg& agg : terms_) {
            StemInfo* stem = agg.word->stem_info;
            reset_if_stale(stem);
            if (stem->context_slot == kNoSlot) {
                stem->context_slot = stems.size();
                stems.push_back({.stem = stem, .first_seen = agg.first_seen});
            }
            StemAgg& st = stems[stem->context_slot];
            if (st.display_from == nullptr || agg.total > st.display_from->total) st.display_from = &agg;
            st.tf += agg.tf;
            st.capitalized += agg.capitalized;
            st.total += agg.total;
        }
        const std::size_t n = std::min(options_.context_terms, stems.size());
        if (n == 0) return "Conversation";
        // Score = idf x log(1 + tf) <= max_idf x log(1 + tf) (max_idf: df 0). Stems are scored in decreasing order
        // of that bound, and only while the bound can still reach the n-th best score: the others cannot be chosen,
        // so their document frequencies are never asked for.
        std::vector<StemAgg*> by_bound;  // a max-heap by tf: popped in decreasing order of the bound
        by_bound.reserve(stems.size());
        for (StemAgg& st : stems) by_bound.push_back(&st);
        const auto lower_tf = [](const StemAgg* a, const StemAgg* b) { return a->tf < b->tf; };
        std::make_heap(by_bound.begin(), by_bound.end(), lower_tf);
        const auto better = [](const auto& a, const auto& b) {
            if (a.first != b.first) return a.first > b.first;
            return a.second->first_seen < b.second->first_seen;
        };
        const double max_idf = idf_of_df(0);
        std::vector<std::pair<double, const StemAgg*>> scored;  // the best n so far, best first
        while (!by_bound.empty()) {
            std::pop_heap(by_bound.begin(), by_bound.end(), lower_tf);
            const StemAgg* st = by_bound.back();
            by_bound.pop_back();
            const double weight = std::log1p(st->tf);
            // The bound carries a relative margin far above rounding error, so a tie is never pruned.
            if (scored.size() == n && max_idf * weight * (1 + 1e-9) < scored.back().first) break;
            const std::pair<double, const StemAgg*> entry(idf(st->stem) * weight, st);
            const auto at = std::upper_bound(scored.begin(), scored.end(), entry, better);
            if (static_cast<std::size_t>(at - scored.begin()) >= n) continue;
            scored.insert(at, entry);
            if (scored.size() > n) scored.pop_back();
        }
        std::string context = "Conversation";
        for (std::size_t i = 0; i < scored.size(); ++i) {
            const StemAgg& st = *scored[i].second;
            context += i == 0 ? " about " : ", ";
            const TermAgg& spelling = *st.display_from;
            if (st.capitalized * 2 > st.total && !spelling.display.empty()) {
                context += spelling.display;
            } else {
                context += spelling.surface;
            }
        }
        return context;
    }

    Features features_of(const Sent& s) {
        Features f;
        f.is_proper.assign(s.tokens.size(), 0);
        f.is_content.assign(s.tokens.size(), 0);
        int alpha = 0;
        int caps = 0;
        for (const WordToken& t : s.tokens) {
            if (!t.numeric) ++alpha;
            if (t.all_caps) ++caps;
        }
        const bool shouting = alpha >= 3 && caps * 2 > alpha;
        for (std::size_t k = 0; k < s.tokens.size(); ++k) {
            const WordToken& t = s.tokens[k];
            WordInfo* w = s.info[k];
            if (w->flags & kFirstPerson) f.first_person = true;
            if (t.has_digit) ++f.numbers;
            const bool content = is_term_word(t, w) && (!t.has_digit || alphanumeric_keyword(t));
            if (content) {
                f.is_content[k] = 1;
                ++f.content;
            }
            const bool upper = t.capitalized || (t.all_caps && !shouting);
            const bool proper_word = w->capitalized > w->lowercase;  // capitalised mid-sentence in this batch
            if (upper && !t.has_digit && (w->flags & (kFirstPerson | kDateName | kGeneric)) == 0 &&
                ((k > 0 && !after_colon(s, k)) || proper_word || (t.all_caps && !shouting))) {
                f.is_proper[k] = 1;
                ++f.proper;
            }
        }
        return f;
    }

    // Content words of `s` rare in the cube, counted up to 4 (the most that salience and importance look at).
    // Only assistant candidates need it, so only they cost document-frequency lookups.
    int count_rare(const Sent& s, const Features& f) {
        int rare_words = 0;
        for (std::size_t k = 0; k < s.tokens.size() && rare_words < 4; ++k) {
            if (f.is_content[k] && rare(s.info[k]->stem_info)) ++rare_words;
        }
        return rare_words;
    }

    std::vector<DateMention> dates_of(const Sent& s, TimeMs conv_time) const {
        std::vector<DateMention> dates = RelativeDateResolver::resolve(s.text, s.tokens, conv_time);
        if (conv_time <= 0) {
            std::erase_if(dates, [](const DateMention& m) { return !m.explicit_date; });
        }
        return dates;
    }

    // Removes leading interjections ("Hi,", "Oh and", "Thanks, …,"); returns false when nothing is left.
    bool strip_fillers(Sent& s) const {
        if (s.tokens.empty()) return false;
        std::string_view first = s.tokens[0].lower;
        std::size_t cut_at = 0;  // byte offset where the remaining sentence starts
        if (first == "thanks" || first == "thank" || first == "thx" || first == "ty") {
            const std::size_t stop = s.text.find_first_of(",;!");
            if (stop == std::string::npos) return false;
            cut_at = stop + 1;
        } else {
            std::size_t k = 0;
            while (k + 1 < s.tokens.size()) {
                const std::size_t from = s.tokens[k].end;
                const std::string_view gap = std::string_view(s.text).substr(from, s.tokens[k + 1].begin - from);
                const bool punct = gap_has_any(gap, ",!.;:-");
                if (s.has(k, kLeadFiller) || (punct && s.has(k, kLeadFillerBeforePunctuation))) {
                    ++k;
                    continue;
                }
                if (k + 3 < s.tokens.size() && s.tokens[k].lower == "by" && s.tokens[k + 1].lower == "the" &&
                    s.tokens[k + 2].lower == "way") {
                    k += 3;
                    continue;
                }
                break;
            }
            if (k == 0) {
                // "i moved here" -> "I moved here"
                if (s.has(0, kFirstPerson) && s.text[0] >= 'a' && s.text[0] <= 'z')
                    s.text[0] = static_cast<char>(s.text[0] - 32);
                return true;
            }
            cut_at = s.tokens[k].begin;
        }
        std::string rest(std::string_view(s.text).substr(cut_at));
        const std::size_t start = rest.find_first_not_of(" \t");
        if (start == std::string::npos) return false;
        s = make_sent(capitalize_first(rest.substr(start)));
        return !s.tokens.empty();
    }

    // The first-person clauses of a question or request, as sentences.
    std::vector<Sent> fact_clauses(const Sent& s) {
        static const WordSet always_split("since because although though considering given cause 'cause");
        static const WordSet split_before_subject("and so but as while now");
        static const WordSet subjects("i i'm im i've i'd i'll we we're we've we'd my our");
        static const WordSet hypothetical("if whether unless when");
        std::vector<Sent> out;
        std::size_t a = 0;
        const auto flush = [&](std::size_t b) {
            if (b <= a) return;
            std::size_t first = a;
            while (first < b &&
                   (always_split.contains(s.tokens[first].lower) ||
                    split_before_subject.contains(s.tokens[first].lower) || s.tokens[first].lower == "that")) {
                ++first;
            }
            if (first >= b || hypothetical.contains(s.tokens[first].lower)) return;
            const std::size_t begin = s.tokens[first].begin;
            std::size_t end = s.tokens[b - 1].end;
            Sent clause = make_sent(capitalize_first(s.text.substr(begin, end - begin)));
            if (request_starts().starts(head_of(clause, head_))) return;
            out.push_back(std::move(clause));
        };
        for (std::size_t k = 1; k < s.tokens.size(); ++k) {
            const std::size_t from = s.tokens[k - 1].end;
            const std::string_view gap = std::string_view(s.text).substr(from, s.tokens[k].begin - from);
            const std::string& w = s.tokens[k].lower;
            const bool punct = gap_has_any(gap, ",;:()") || gap.find(" - ") != gap.npos;
            const bool connector =
                always_split.contains(w) || (split_before_subject.contains(w) && k + 1 < s.tokens.size() &&
                                             subjects.contains(s.tokens[k + 1].lower));
            if (punct || connector) {
                flush(k);
                a = k;
            }
        }
        flush(s.tokens.size());
        return out;
    }

    void user_sentence(Sent s, TimeMs conv_time, std::vector<Candidate>& out) {
        if (!strip_fillers(s)) return;
        const bool question =
            ends_with_question(s.text) || request_starts().starts(head_of(s, head_)) || s.has(0, kImperative);
        if (!question) {
            user_statement(std::move(s), conv_time, out);
            return;
        }
        const std::size_t before = out.size();
        for (Sent& clause : fact_clauses(s)) {
            const bool first_person = std::any_of(clause.info.begin(), clause.info.end(),
                                                  [](const WordInfo* w) { return (w->flags & kFirstPerson) != 0; });
            if (first_person) user_statement(std::move(clause), conv_time, out);
        }
        if (out.size() != before) return;
        // A question that carries a first-person specific detail is remembered as asked.
        Features f = features_of(s);
        if (!f.first_person || f.content < 3) return;
        std::vector<DateMention> dates = dates_of(s, conv_time);
        if (f.proper == 0 && f.numbers == 0 && dates.empty()) return;
        Candidate c;
        c.prefix = "User asked: ";
        c.dates = std::move(dates);
        c.features = std::move(f);
        c.sent = std::move(s);
        c.salience = 0.2;
        c.order = out.size();
        out.push_back(std::move(c));
    }

    void user_statement(Sent s, TimeMs conv_time, std::vector<Candidate>& out) {
        if (s.tokens.empty()) return;
        Features f = features_of(s);
        if (f.content == 0 || (!f.first_person && f.content < 3)) return;
        const bool acknowledgement = acknowledgement_starts().starts(head_of(s, head_));
        if (!f.first_person &&
            (s.has(0, kImperative) || s.tokens[0].lower == "you" || s.tokens[0].lower == "your" ||
             s.tokens[0].lower == "that" || s.tokens[0].lower == "this" || s.tokens[0].lower == "it")) {
            return;
        }
        std::vector<DateMention> dates = dates_of(s, conv_time);
        const bool specific = f.proper > 0 || f.numbers > 0 || !dates.empty();
        // First-person statements need two content words, or one and something specific ("I'm going to Paris").
        if (f.content < 2 && !specific) return;
        if ((acknowledgement || !f.first_person) && !specific) return;
        Candidate c;
        c.dates = std::move(dates);
        c.salience = 0.5 + 0.1 * std::min(f.proper, 2) + 0.05 * std::min(f.numbers, 2) + (c.dates.empty() ? 0 : 0.1) +
                     (f.first_person ? 0.1 : 0);
        c.features = std::move(f);
        c.sent = std::move(s);
        c.order = out.size();
        out.push_back(std::move(c));
    }

    void assistant_sentence(Sent s, TimeMs conv_time, std::vector<Candidate>& out) {
        if (s.tokens.size() < 4 || ends_with_question(s.text)) return;
        std::string_view trimmed = s.text;
        while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '*')) trimmed.remove_suffix(1);
        if (!trimmed.empty() && trimmed.back() == ':') return;
        if (pleasantry_starts().starts(head_of(s, head_))) return;
        Features f = features_of(s);
        if (f.content < 2) return;
        const bool imperative = s.has(0, kImperative);
        if (imperative && f.proper == 0 && f.numbers == 0) return;
        // Memory is about the participants: "Your flight to Lisbon leaves at 9", "I booked the Hilton for you",
        // not the encyclopaedic exposition ("Solar panels convert sunlight …") that makes up most assistant text.
        const bool participant = f.first_person || std::any_of(s.info.begin(), s.info.end(), [](const WordInfo* w) {
                                     return (w->flags & kSecondPerson) != 0;
                                 });
        if (!participant) return;
        std::vector<DateMention> dates = dates_of(s, conv_time);
        if (f.proper == 0 && f.numbers == 0 && dates.empty()) return;
        f.rare = count_rare(s, f);
        Candidate c;
        c.user = false;
        c.salience = 1.0 * std::min(f.proper, 3) + 0.8 * std::min(f.numbers, 2) + (dates.empty() ? 0 : 0.8) +
                     0.5 * std::min(f.rare, 4) + 0.05 * std::min(f.content, 10) - (imperative ? 0.5 : 0);
        c.dates = std::move(dates);
        c.features = std::move(f);
        c.sent = std::move(s);
        c.order = out.size();
        out.push_back(std::move(c));
    }

    // Keeps the `limit` most salient candidates, in text order.
    // Keeps at most `limit` candidates, most salient first, in text order. With further_must_be_specific (user
    // turns) only the most salient one may be general; the others must name something specific (a proper noun,
    // number or date).
    static void select(std::vector<Candidate>& candidates, std::size_t limit, bool further_must_be_specific) {
        if (limit == 0) candidates.clear();
        if (candidates.size() <= (further_must_be_specific ? std::size_t{1} : limit)) return;
        std::stable_sort(candidates.begin(), candidates.end(),
                         [](const Candidate& a, const Candidate& b) { return a.salience > b.salience; });
        const auto eligible = [&](const Candidate& c) {
            return !further_must_be_specific || c.features.proper > 0 || c.features.numbers > 0 || !c.dates.empty();
        };
        auto kept = candidates.begin() + 1;
        for (auto it = candidates.begin() + 1; it != candidates.end(); ++it) {
            if (static_cast<std::size_t>(kept - candidates.begin()) >= limit) break;
            if (!eligible(*it)) continue;
            if (kept != it) *kept = std::move(*it);
            ++kept;
        }
        candidates.erase(kept, candidates.end());
        std::sort(candidates.begin(), candidates.end(),
                  [](const Candidate& a, const Candidate& b) { return a.order < b.order; });
    }

    std::string kind_of(const Candidate& c, TimeMs conv_time) const {
        const Sent& s = c.sent;
        const std::size_t n = s.tokens.size();
        const auto w = [&](std::size_t k) -> std::string_view {
            return k < n ? std::string_view(s.tokens[k].lower) : "";
        };
        if (!c.user) return "fact";
        // profile: my name is / I am a <role> / I work as|at|for / I'm from / years old
        for (std::size_t k = 0; k < n; ++k) {
            std::string_view t = w(k);
            if (t == "my" && (w(k + 1) == "name" || w(k + 1) == "job" || w(k + 1) == "profession" ||
                              w(k + 1) == "pronouns" || w(k + 1) == "occupation")) {
                return "profile";
            }
            const bool i_am = t == "i'm" || t == "im" || (t == "i" && w(k + 1) == "am");
            const std::size_t after = t == "i" ? k + 2 : k + 1;
            if (i_am && (w(after) == "a" || w(after) == "an") && !s.has(after + 1, kNotARole)) {
                return "profile";
            }
            if (i_am && (w(after) == "from" || w(after) == "originally" || w(after) == "retired")) return "profile";
            if ((t == "i" || t == "we") && (w(k + 1) == "work" || w(k + 1) == "worked") &&
                (w(k + 2) == "as" || w(k + 2) == "at" || w(k + 2) == "for")) {
                return "profile";
            }
            if ((t == "i" && (w(k + 1) == "grew" || (w(k + 1) == "was" && w(k + 2) == "born"))) ||
                (t == "years" && w(k + 1) == "old")) {
                return "profile";
            }
            if (s.has(k, kProfileCue) && k > 0 && (w(k - 1) == "my")) return "profile";
        }
        // preference: a first-person word, optional bridging words, a present-tense preference verb
        for (std::size_t k = 0; k < n; ++k) {
            if (!s.has(k, kFirstPerson)) continue;
            if (w(k) == "i'd" || w(k) == "we'd") continue;  // "I'd like to": a wish, not a taste
            for (std::size_t j = k + 1; j < n && j <= k + 4; ++j) {
                if (s.has(j, kPreferenceVerb)) {
                    if (w(j - 1) == "would" || (w(j + 1) == "to" && (w(j) == "like" || w(j) == "love"))) break;
                    if ((w(j) == "fan" && w(j + 1) != "of")) break;
                    return "preference";
                }
                if (!s.has(j, kPreferenceBridge)) break;
            }
        }
        const long long today = conv_time > 0 ? conv_time / kMsPerDay : 0;
        bool future_date = false;
        bool past_date = false;
        for (const DateMention& m : c.dates) {
            if (conv_time <= 0) continue;
            // A period that starts today or earlier (today, this month) counts as past: with a plan cue
            // ("I'm going to Paris this month") the sentence is still a plan.
            (m.day / kMsPerDay > today ? future_date : past_date) = true;
        }
        bool plan_cue = future_date;
        for (std::size_t k = 0; k < n && !plan_cue; ++k) {
            std::string_view t = w(k);
            if (s.has(k, kPlanCue) || t == "will" || t == "i'll" || t == "we'll" ||
                ((t == "going" || t == "about" || t == "hope" || t == "want" || t == "like") && w(k + 1) == "to" &&
                 (t != "like" || w(k - 1) == "would" || w(k - 1) == "i'd")) ||
                (t == "thinking" && (w(k + 1) == "of" || w(k + 1) == "about")) ||
                (t == "looking" && w(k + 1) == "forward")) {
                plan_cue = true;
            }
        }
        if (plan_cue && !(past_date && !future_date && !contains_future_word(s))) return "plan";
        if (past_date) return "event";
        return "fact";
    }

    static bool contains_future_word(const Sent& s) {
        for (const WordToken& t : s.tokens) {
            if (t.lower == "will" || t.lower.ends_with("'ll") || t.lower == "going" || t.lower == "planning" ||
                t.lower == "gonna") {
                return true;
            }
        }
        return false;
    }

    std::vector<std::string> keywords_of(const Candidate& c) {
        const Sent& s = c.sent;
        struct Scored {
            double weight;
            std::size_t position;
            std::string word;
        };
        std::vector<Scored> scored;
        std::vector<const StemInfo*> stems_seen;
        for (std::size_t k = 0; k < s.tokens.size(); ++k) {
            if (!c.features.is_content[k] || s.tokens[k].lower.size() < 2) continue;
            StemInfo* stem = s.info[k]->stem_info;
            if (std::find(stems_seen.begin(), stems_seen.end(), stem) != stems_seen.end()) continue;
            stems_seen.push_back(stem);
            double weight = idf(stem);
            if (c.features.is_proper[k]) weight *= 1.5;
            if (s.has(k, kWeakKeyword)) weight *= 0.25;
            if (s.tokens[k].lower.size() < 3) weight *= 0.5;
            scored.push_back({weight, k, surface_of(s.tokens[k])});
        }
        std::stable_sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
            if (a.weight != b.weight) return a.weight > b.weight;
            return a.position < b.position;
        });
        std::vector<std::string> keywords;
        for (Scored& x : scored) {
            if (keywords.size() >= options_.max_keywords) break;
            if (std::find(keywords.begin(), keywords.end(), x.word) == keywords.end()) {
                keywords.push_back(std::move(x.word));
            }
        }
        if (keywords.empty()) {  // every word generic or a stopword: fall back to the first real word
            for (std::size_t k = 0; k < s.tokens.size() && keywords.empty(); ++k) {
                if (!s.info[k]->stem.empty()) keywords.push_back(surface_of(s.tokens[k]));
            }
            if (keywords.empty() && !s.tokens.empty()) keywords.push_back(surface_of(s.tokens.front()));
        }
        return keywords;
    }

    std::vector<std::string> tags_of(const Candidate& c, const std::string& kind) const {
        const Sent& s = c.sent;
        std::vector<std::pair<std::string_view, int>> counts;  // label, hits; in order of first hit
        const auto hit = [&](std::string_view label) {
            for (auto& [l, n] : counts) {
                if (l == label) {
                    ++n;
                    return;
                }
            }
            counts.emplace_back(label, 1);
        };
        for (std::size_t k = 0; k < s.tokens.size(); ++k) {
            std::string_view t = s.tokens[k].lower;
            // Proper nouns are names, not topics ("Boulder" is a city, not bouldering).
            if (!s.info[k]->topic.empty() && !c.features.is_proper[k]) hit(s.info[k]->topic);
            // A proper noun after in/from/near, or after "to" following a motion word, is a place.
            if (k + 1 < s.tokens.size() && c.features.is_proper[k + 1] &&
                (t == "in" || t == "from" || t == "near" || (t == "to" && k > 0 && s.has(k - 1, kLocationMotion)))) {
                hit("location");
            }
        }
        std::stable_sort(counts.begin(), counts.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        std::vector<std::string> tags;
        const std::size_t topic_limit = options_.max_tags - (kind != "fact" && options_.max_tags > 0 ? 1 : 0);
        for (const auto& [label, n] : counts) {
            if (tags.size() >= topic_limit) break;
            tags.emplace_back(label);
        }
        if (kind != "fact" && tags.size() < options_.max_tags) tags.push_back(kind);
        return tags;
    }

    NoteDraft make_draft(const Candidate& c, const SourceTurn& turn) {
        NoteDraft d;
        d.content = c.prefix + RelativeDateResolver::annotate(c.sent.text, c.dates);
        d.kind = kind_of(c, turn.conv_time);
        d.keywords = keywords_of(c);
        d.tags = tags_of(c, d.kind);
        d.context = context_;
        d.source_turn_ids.push_back(turn.id);
        if (!c.dates.empty()) {
            d.valid_from = c.dates.front().day;
        } else if (turn.conv_time > 0) {
            d.valid_from = turn.conv_time;
        }
        const Features& f = c.features;
        double importance;
        if (c.user) {
            if (d.kind == "profile") {
                importance = 0.8;
            } else if (d.kind == "preference") {
                importance = 0.7;
            } else if (d.kind == "plan" || d.kind == "event") {
                importance = 0.65;
            } else {
                importance = 0.55;
            }
            if (!c.prefix.empty()) importance = 0.35;
            importance += (c.dates.empty() ? 0 : 0.1) + 0.05 * std::min(f.proper, 2) + (f.numbers > 0 ? 0.05 : 0);
            importance = std::min(importance, 0.95);
        } else {
            importance = 0.3 + (f.proper > 0 ? 0.1 : 0) + (f.numbers > 0 ? 0.05 : 0) + (c.dates.empty() ? 0 : 0.05) +
                         (f.rare >= 2 ? 0.05 : 0);
            importance = std::min(importance, 0.55);
        }
        d.importance = std::round(importance * 100) / 100;
        return d;
    }

    const HeuristicNoteBuilder::Options& options_;
    const NoteBatch& batch_;
    const TermStatistics& stats_;
    const std::uint64_t documents_;
    std::vector<std::vector<Sent>> sentences_;  // per turn
    std::uint64_t generation_ = 0;              // WordCache generation of this batch
    std::vector<TermAgg> terms_;                // the batch's term words, in order of first occurrence (WordInfo::term)
    std::string head_;                          // head_of()'s buffer
    std::string context_;
};

}  // namespace

Result<std::vector<NoteDraft>> HeuristicNoteBuilder::build(const NoteBatch& batch, const TermStatistics& stats) {
    return build_drafts(batch, stats);
}

std::vector<NoteDraft> HeuristicNoteBuilder::build_drafts(const NoteBatch& batch, const TermStatistics& stats) const {
    return BatchBuilder(options_, batch, stats).run();
}

}  // namespace kasten::memory
