#include "memory/llm_note_builder.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cmath>
#include <iterator>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/timestamp.h"
#include "llm/english_stopwords.h"
#include "memory/llm_reply.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr TimeMs kDayMs = 86'400'000;
constexpr const char* kKinds[] = {"fact", "preference", "event", "plan", "profile"};
constexpr const char* kWeekdays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};

// The instructions of every call. The prompt is ours to word; the tasks are A-MEM's note construction (keywords,
// tags, one-line context) and Mem0's fact extraction (self-contained facts, dates resolved against the
// conversation's own date).
constexpr std::string_view kInstructions =
    "You write memory notes from a conversation between a user and an assistant. Each note is one short "
    "self-contained fact someone could understand without the conversation: say who (\"The user\", \"The "
    "assistant\"), what, and when. Note facts about the user (preferences, plans, events, people, things, "
    "background) and facts the assistant stated. Skip greetings and small talk. Resolve relative dates "
    "(\"yesterday\", \"last Friday\", \"next month\") against the date of the turn they appear in and write the "
    "absolute date in brackets after them, e.g. \"last Friday (2023-05-12)\"; give the date the note is about as "
    "YYYY-MM-DD in \"date\", or \"\". Per note: source_turn_ids (the ids of the turns it comes from), kind "
    "(fact, preference, event, plan or profile), up to 8 salient keywords (no speaker names, no dates), up "
    "to 5 broad tags, and a one-line context of the conversation. Reply with JSON only; {\"notes\": []} when nothing "
    "is worth remembering.";

// The instructions of calls whose budget is too small for kInstructions (small context windows).
constexpr std::string_view kCompactInstructions =
    "Note facts about the user and facts the assistant stated, as JSON. Dates as YYYY-MM-DD, from the turn's date.";

// kInstructions when they take at most half the budget, else kCompactInstructions.
std::string_view instructions_for(std::size_t budget) {
    return kInstructions.size() * 2 <= budget ? kInstructions : kCompactInstructions;
}

bool is_continuation_byte(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// `s` cut to at most `max_bytes` bytes at a code point boundary, "…" marking the cut.
std::string truncate_bytes(std::string_view s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return std::string(s);
    static constexpr std::string_view kEllipsis = "\xE2\x80\xA6";
    std::size_t cut = max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0;
    while (cut > 0 && is_continuation_byte(s[cut])) --cut;
    return std::string(s.substr(0, cut)) + std::string(kEllipsis);
}

// "2023-05-20 Sat": the UTC calendar day of `t` and its weekday.
std::string format_day(TimeMs t) {
    const long long days = t >= 0 ? t / kDayMs : -((-t + kDayMs - 1) / kDayMs);
    const long long weekday = ((days % 7) + 7) % 7;
    return format_timestamp(days * kDayMs).substr(0, 10) + " " + kWeekdays[weekday];
}

// Start of day (UTC) of a strict "YYYY-MM-DD" naming a real calendar day; nullopt otherwise.
std::optional<TimeMs> parse_day(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    int parts[3] = {0, 0, 0};
    const std::size_t starts[3] = {0, 5, 8};
    const std::size_t lengths[3] = {4, 2, 2};
    for (int p = 0; p < 3; ++p) {
        for (std::size_t i = starts[p]; i < starts[p] + lengths[p]; ++i) {
            if (text[i] < '0' || text[i] > '9') return std::nullopt;
            parts[p] = parts[p] * 10 + (text[i] - '0');
        }
    }
    if (parts[0] < 1 || parts[1] < 1 || parts[1] > 12 || parts[2] < 1 || parts[2] > 31) return std::nullopt;
    const TimeMs start = days_from_civil(parts[0], parts[1], parts[2]) * kDayMs;
    // days_from_civil normalises days past the month's end (Feb 30 → Mar 2): a round trip rejects them.
    if (format_timestamp(start).substr(0, 10) != text) return std::nullopt;
    return start;
}

// Up to kMaxKeywords distinct lower-case words of `content`, rarest in the cube's corpus first (ties: first
// occurrence). Stopwords, numbers and words under 3 bytes are skipped unless nothing else is left.
std::vector<std::string> fallback_keywords(std::string_view content, const TermStatistics& stats) {
    std::vector<std::string> words;
    std::string word;
    const auto flush = [&] {
        if (!word.empty() && std::find(words.begin(), words.end(), word) == words.end()) words.push_back(word);
        word.clear();
    };
    for (char c : content) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || u >= 0x80) {
            word.push_back(c);
        } else {
            flush();  // "user's" → "user", "s"
        }
    }
    flush();
    for (std::string& w : words) w = ascii_lower(w);

    struct Scored {
        std::string word;
        double idf = 0;
        std::size_t order = 0;
    };
    std::vector<Scored> scored;
    std::set<std::string> stems;
    const double n = static_cast<double>(stats.documents());
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string& w = words[i];
        const bool numeric = std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (w.size() < 3 || numeric || llm::is_english_stopword(w)) continue;
        const std::vector<std::string> analysed = retrieval::LexicalIndex::analyze(w);
        if (analysed.empty() || !stems.insert(analysed.front()).second) continue;
        const double df = static_cast<double>(stats.document_frequency(analysed.front()));
        scored.push_back({w, std::log((n + 1.0) / (df + 1.0)), i});
    }
    std::stable_sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) { return a.idf > b.idf; });
    std::vector<std::string> out;
    for (const Scored& s : scored) {
        if (static_cast<int>(out.size()) >= LlmNoteBuilder::kMaxKeywords) break;
        out.push_back(truncate_chars(s.word, LlmNoteBuilder::kMaxLabelChars));
    }
    if (out.empty() && !words.empty()) out.push_back(truncate_chars(words.front(), LlmNoteBuilder::kMaxLabelChars));
    return out;
}

// One call's share of a batch.
struct Chunk {
    std::vector<const SourceTurn*> turns;
    std::vector<std::string> lines;  // one rendered line per turn
};

std::string turn_line(const SourceTurn& turn, std::string_view content) {
    return "[" + turn.id + "] " + format_day(turn.conv_time) + " " + turn.role + ": " + std::string(content) + "\n";
}

std::string user_header(const Chunk& chunk) {
    return "Conversation date: " + format_day(chunk.turns.front()->conv_time) + "\nTurns:\n";
}

constexpr std::string_view kUserFooter = "\nWrite the notes as JSON.";

std::string user_message(const Chunk& chunk) {
    std::string text = user_header(chunk);
    for (const std::string& line : chunk.lines) text += line;
    text += kUserFooter;
    return text;
}

// Splits `turns` into chunks whose prompt stays within `budget` bytes where possible (see LlmNoteBuilderOptions).
std::vector<Chunk> split(const std::vector<SourceTurn>& turns, std::size_t budget) {
    std::vector<Chunk> chunks;
    Chunk current;
    std::size_t used = 0;
    for (const SourceTurn& turn : turns) {
        const std::string content = one_line(turn.content);
        std::string line = turn_line(turn, content);
        if (!current.turns.empty() && used + line.size() > budget) {
            chunks.push_back(std::move(current));
            current = Chunk{};
        }
        if (current.turns.empty()) {
            current.turns.push_back(&turn);
            used = instructions_for(budget).size() + user_header(current).size() + kUserFooter.size();
            const std::size_t room = budget > used ? budget - used : 0;
            if (line.size() > room) {
                const std::size_t frame = line.size() - content.size();
                const std::size_t content_room =
                    std::max(LlmNoteBuilder::kMinTurnBytes, room > frame ? room - frame : 0);
                line = turn_line(turn, truncate_bytes(content, content_room));
            }
        } else {
            current.turns.push_back(&turn);
        }
        used += line.size();
        current.lines.push_back(std::move(line));
    }
    if (!current.turns.empty()) chunks.push_back(std::move(current));
    return chunks;
}

// Drafts from one call's reply; an unusable reply gives none (logged).
std::vector<NoteDraft> parse_reply(const std::string& text, const Chunk& chunk, const TermStatistics& stats,
                                   const std::string& model_id, const std::string& session_id) {
    std::vector<NoteDraft> drafts;
    // Remote models sometimes wrap the object in prose or a code fence: parse_reply_object takes the outermost braces.
    const std::optional<Json> reply = parse_reply_object(text);
    const Json* notes = reply.has_value() ? member(*reply, "notes") : nullptr;
    if (notes == nullptr || !notes->is_array()) {
        log::warn(
            "llm note builder: the reply of {} for session '{}' is not a notes object ({} bytes); no notes "
            "from its {} turns",
            model_id, session_id, text.size(), chunk.turns.size());
        return drafts;
    }

    std::unordered_map<std::string, std::size_t> position;  // turn id → position in the chunk
    for (std::size_t i = 0; i < chunk.turns.size(); ++i) position.emplace(chunk.turns[i]->id, i);

    std::unordered_set<std::string> seen_contents;
    std::size_t dropped = 0;
    for (const Json& item : *notes) {
        if (!item.is_object()) {
            ++dropped;
            continue;
        }
        NoteDraft draft;
        draft.content = truncate_chars(one_line(string_member(item, "content")), LlmNoteBuilder::kMaxContentChars);

        std::vector<std::size_t> sources;
        if (const Json* ids = member(item, "source_turn_ids"); ids != nullptr && ids->is_array()) {
            for (const Json& id : *ids) {
                if (!id.is_string()) continue;
                const auto it = position.find(std::string(trim(id.get_ref<const std::string&>())));
                if (it != position.end() && std::find(sources.begin(), sources.end(), it->second) == sources.end()) {
                    sources.push_back(it->second);
                }
            }
        }
        if (draft.content.empty() || sources.empty() || !seen_contents.insert(draft.content).second) {
            ++dropped;
            continue;
        }
        std::sort(sources.begin(), sources.end());
        for (std::size_t s : sources) draft.source_turn_ids.push_back(chunk.turns[s]->id);

        const std::string kind = ascii_lower(trim(string_member(item, "kind")));
        if (std::find(std::begin(kKinds), std::end(kKinds), kind) != std::end(kKinds)) draft.kind = kind;
        draft.keywords =
            clean_labels(member(item, "keywords"), LlmNoteBuilder::kMaxKeywords, LlmNoteBuilder::kMaxLabelChars);
        if (draft.keywords.empty()) draft.keywords = fallback_keywords(draft.content, stats);
        draft.tags = clean_labels(member(item, "tags"), LlmNoteBuilder::kMaxTags, LlmNoteBuilder::kMaxLabelChars);
        draft.context = truncate_chars(one_line(string_member(item, "context")), LlmNoteBuilder::kMaxContextChars);
        const std::optional<TimeMs> day = parse_day(trim(string_member(item, "date")));
        draft.valid_from = day.has_value() ? *day : chunk.turns[sources.front()]->conv_time;
        drafts.push_back(std::move(draft));
    }
    if (dropped > 0) {
        log::debug(
            "llm note builder: dropped {} of {} notes of {} for session '{}' (no content, no known source "
            "turn, or repeated)",
            dropped, notes->size(), model_id, session_id);
    }
    return drafts;
}

}  // namespace

LlmNoteBuilder::LlmNoteBuilder(std::shared_ptr<llm::LanguageModel> model, LlmNoteBuilderOptions options)
    : model_(std::move(model)), options_(options) {
    assert(model_ != nullptr);
}

std::string LlmNoteBuilder::id() const {
    return "llm:" + model_->id();
}

std::string LlmNoteBuilder::json_schema(const std::vector<std::string>& turn_ids) const {
    const auto string_array = [](int max_items) {
        return OrderedJson{{"type", "array"},
                           {"maxItems", max_items},
                           {"items", {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxLabelChars}}}};
    };
    OrderedJson ids = OrderedJson::array();
    for (const std::string& id : turn_ids) {
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    OrderedJson kinds = OrderedJson::array();
    for (const char* kind : kKinds) kinds.push_back(kind);
    OrderedJson note = {{"type", "object"},
                        {"properties",
                         {{"source_turn_ids",
                           {{"type", "array"}, {"minItems", 1}, {"maxItems", ids.size()}, {"items", {{"enum", ids}}}}},
                          {"content", {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxContentChars}}},
                          {"kind", {{"enum", kinds}}},
                          {"date", {{"type", "string"}, {"maxLength", 10}}},
                          {"keywords", string_array(kMaxKeywords)},
                          {"tags", string_array(kMaxTags)},
                          {"context", {{"type", "string"}, {"maxLength", kMaxContextChars}}}}},
                        {"required", {"source_turn_ids", "content", "kind", "date", "keywords", "tags", "context"}},
                        {"additionalProperties", false}};
    const OrderedJson schema = {
        {"type", "object"},
        {"properties",
         {{"notes", {{"type", "array"}, {"maxItems", std::max(0, options_.max_notes)}, {"items", note}}}}},
        {"required", {"notes"}},
        {"additionalProperties", false}};
    return schema.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

Result<std::vector<NoteDraft>> LlmNoteBuilder::build(const NoteBatch& batch, const TermStatistics& stats) {
    std::vector<NoteDraft> drafts;
    const std::vector<Chunk> chunks = split(batch.turns, options_.prompt_char_budget);
    for (const Chunk& chunk : chunks) {
        std::vector<std::string> ids;
        ids.reserve(chunk.turns.size());
        for (const SourceTurn* turn : chunk.turns) ids.push_back(turn->id);

        llm::GenerationOptions generation;
        generation.max_tokens = options_.max_tokens;
        generation.fit_context = true;  // the reply answers the whole prompt: never shift it out
        generation.temperature = options_.temperature;
        generation.seed = options_.seed;
        generation.json_schema = json_schema(ids);
        const std::vector<llm::ChatMessage> messages = {
            {"system", std::string(instructions_for(options_.prompt_char_budget))}, {"user", user_message(chunk)}};
        Result<llm::Generation> reply = model_->chat(messages, generation);
        if (!reply.is_ok()) {
            return reply.status().with_context("llm note builder: session '" + batch.session_id + "'");
        }
        std::vector<NoteDraft> part = parse_reply(reply->text, chunk, stats, model_->id(), batch.session_id);
        std::move(part.begin(), part.end(), std::back_inserter(drafts));
    }
    return drafts;
}

}  // namespace kasten::memory
