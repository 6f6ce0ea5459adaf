#include "memory/llm_link_decider.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <iterator>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/timestamp.h"
#include "memory/llm_reply.h"

namespace kasten::memory {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr const char* kRelations[] = {"none", "related", "supports", "updates", "contradicts", "follows"};

// The instructions of every call (A-MEM's link generation and memory evolution, addressed by id, never by rank).
constexpr std::string_view kInstructions =
    "You link notes in a memory. You get a new note and older notes close to it, each with its id. For each older "
    "note say how the new note relates to it: \"updates\" (same subject, the new note's statement replaces it), "
    "\"contradicts\" (same subject, they cannot both be true), \"supports\" (confirms it or adds evidence), "
    "\"follows\" (happens after it or continues it), \"related\" (shares a subject) or \"none\". Give a short "
    "reason. When the new note changes what an older note is about, give that older note new tags or a new "
    "one-line context; otherwise leave them empty. Name older notes by their id only. Reply with JSON only.";

// The instructions of calls whose budget is too small for kInstructions (small context windows).
constexpr std::string_view kCompactInstructions =
    "Say how the new note relates to each older note (by id): updates, contradicts, supports, follows, related or "
    "none.";

// kInstructions when they take at most half the budget, else kCompactInstructions.
std::string_view instructions_for(std::size_t budget) {
    return kInstructions.size() * 2 <= budget ? kInstructions : kCompactInstructions;
}

constexpr std::string_view kNewNoteHeader = "New note:\n";
constexpr std::string_view kNeighboursHeader = "\nOlder notes:\n";
constexpr std::string_view kUserFooter = "\nAnswer for each older note in JSON.";

// Content limits (code points) tried in turn until the prompt fits the budget; contexts get half.
constexpr int kContentLimits[] = {-1, 300, 200, 120, 80, 48};

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) {
        if (!out.empty()) out += ", ";
        out += one_line(item);
    }
    return out;
}

// "[n_1] 2023-05-20: content\n  keywords: a, b; tags: c; context: d\n" (empty fields left out).
std::string render_note(const store::NoteRecord& note, int content_limit) {
    const std::string date = note.valid_from.has_value() ? format_timestamp(*note.valid_from).substr(0, 10) : "undated";
    const int context_limit = content_limit < 0 ? -1 : content_limit / 2;
    std::string details;
    const auto add = [&](std::string_view name, const std::string& value) {
        if (value.empty()) return;
        details += details.empty() ? "  " : "; ";
        details += std::string(name) + ": " + value;
    };
    add("keywords", join(note.keywords));
    add("tags", join(note.tags));
    add("context", truncate_chars(one_line(note.context), context_limit, true));
    std::string text = "[" + note.id + "] " + date + ": " + truncate_chars(one_line(note.content), content_limit, true);
    text += "\n";
    if (!details.empty()) text += details + "\n";
    return text;
}

struct Prompt {
    std::string user;
    std::vector<const NeighbourNote*> shown;  // the neighbours the prompt shows, best first
};

std::string user_message(const store::NoteRecord& new_note, const std::vector<NeighbourNote>& neighbours,
                         std::size_t count, int content_limit) {
    std::string text(kNewNoteHeader);
    text += render_note(new_note, content_limit);
    text += kNeighboursHeader;
    for (std::size_t i = 0; i < count; ++i) text += render_note(neighbours[i].note, content_limit);
    text += kUserFooter;
    return text;
}

// The largest rendering that fits `budget`: full texts, then shorter ones, then fewer neighbours (at least one).
Prompt make_prompt(const store::NoteRecord& new_note, const std::vector<NeighbourNote>& neighbours,
                   std::size_t budget) {
    const auto fits = [&](const std::string& user) { return instructions_for(budget).size() + user.size() <= budget; };
    Prompt prompt;
    std::size_t count = neighbours.size();
    for (int limit : kContentLimits) {
        prompt.user = user_message(new_note, neighbours, count, limit);
        if (fits(prompt.user)) break;
    }
    const int smallest = kContentLimits[std::size(kContentLimits) - 1];
    while (!fits(prompt.user) && count > 1) {
        --count;
        prompt.user = user_message(new_note, neighbours, count, smallest);
    }
    for (std::size_t i = 0; i < count; ++i) prompt.shown.push_back(&neighbours[i]);
    return prompt;
}

double link_weight(const std::string& relation, double cosine) {
    if (relation == "updates" || relation == "contradicts") return 1.0;
    if (std::isnan(cosine)) return LlmLinkDecider::kMinWeight;
    return std::clamp(cosine, LlmLinkDecider::kMinWeight, 1.0);
}

LinkPlan parse_reply(const std::string& text, const store::NoteRecord& new_note, const Prompt& prompt,
                     const std::string& model_id) {
    LinkPlan plan;
    const std::optional<Json> reply = parse_reply_object(text);
    const Json* decisions = reply.has_value() ? member(*reply, "decisions") : nullptr;
    if (decisions == nullptr || !decisions->is_array()) {
        log::warn("llm link decider: the reply of {} for note '{}' is not a decisions object ({} bytes); no links",
                  model_id, new_note.id, text.size());
        return plan;
    }

    std::unordered_map<std::string, const NeighbourNote*> shown;
    for (const NeighbourNote* n : prompt.shown) shown.emplace(n->note.id, n);
    std::unordered_set<std::string> decided;
    for (const Json& item : *decisions) {
        if (!item.is_object()) continue;
        const std::string id = one_line(string_member(item, "neighbour_id"));
        const auto it = shown.find(id);
        if (it == shown.end() || !decided.insert(id).second) continue;  // unknown id, or not the first decision
        const store::NoteRecord& neighbour = it->second->note;

        const std::string relation = ascii_lower(one_line(string_member(item, "relation")));
        const bool known = std::find(std::begin(kRelations), std::end(kRelations), relation) != std::end(kRelations);
        if (!known || relation == "none") continue;  // no link, and so no rewrite of an unrelated note

        std::string reason = truncate_chars(one_line(string_member(item, "reason")), LlmLinkDecider::kMaxReasonChars);
        if (reason.empty()) reason = relation;
        plan.links.push_back({id, relation, link_weight(relation, it->second->cosine), reason});

        NeighbourRewrite rewrite;
        rewrite.neighbour_id = id;
        std::vector<std::string> tags =
            clean_labels(member(item, "new_tags"), LlmLinkDecider::kMaxTags, LlmLinkDecider::kMaxLabelChars);
        if (!tags.empty() && tags != neighbour.tags) rewrite.tags = std::move(tags);
        std::string context =
            truncate_chars(one_line(string_member(item, "new_context")), LlmLinkDecider::kMaxContextChars);
        if (!context.empty() && context != neighbour.context) rewrite.context = std::move(context);
        if (rewrite.tags.has_value() || rewrite.context.has_value()) {
            rewrite.reason = "evolution: " + relation + " by " + new_note.id + ": " + reason;
            plan.rewrites.push_back(std::move(rewrite));
        }
    }
    return plan;
}

}  // namespace

LlmLinkDecider::LlmLinkDecider(std::shared_ptr<llm::LanguageModel> model, LlmLinkDeciderOptions options)
    : model_(std::move(model)), options_(options) {
    assert(model_ != nullptr);
}

std::string LlmLinkDecider::id() const {
    return "llm:" + model_->id();
}

std::string LlmLinkDecider::json_schema(const std::vector<std::string>& neighbour_ids) {
    OrderedJson ids = OrderedJson::array();
    for (const std::string& id : neighbour_ids) {
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    OrderedJson relations = OrderedJson::array();
    for (const char* relation : kRelations) relations.push_back(relation);
    const OrderedJson decision = {
        {"type", "object"},
        {"properties",
         {{"neighbour_id", {{"enum", ids}}},
          {"relation", {{"enum", relations}}},
          {"reason", {{"type", "string"}, {"maxLength", kMaxReasonChars}}},
          {"new_tags",
           {{"type", "array"},
            {"maxItems", kMaxTags},
            {"items", {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxLabelChars}}}}},
          {"new_context", {{"type", "string"}, {"maxLength", kMaxContextChars}}}}},
        {"required", {"neighbour_id", "relation", "reason"}},
        {"additionalProperties", false}};
    const OrderedJson schema = {
        {"type", "object"},
        {"properties",
         {{"decisions", {{"type", "array"}, {"minItems", ids.size()}, {"maxItems", ids.size()}, {"items", decision}}}}},
        {"required", {"decisions"}},
        {"additionalProperties", false}};
    return schema.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

Result<LinkPlan> LlmLinkDecider::decide(const store::NoteRecord& new_note,
                                        const std::vector<NeighbourNote>& neighbours) {
    if (neighbours.empty()) return LinkPlan{};
    const Prompt prompt = make_prompt(new_note, neighbours, options_.prompt_char_budget);
    std::vector<std::string> ids;
    ids.reserve(prompt.shown.size());
    for (const NeighbourNote* n : prompt.shown) ids.push_back(n->note.id);

    llm::GenerationOptions generation;
    generation.max_tokens = options_.max_tokens;
    generation.fit_context = true;  // the reply answers the whole prompt: never shift it out
    generation.temperature = options_.temperature;
    generation.seed = options_.seed;
    generation.json_schema = json_schema(ids);
    const std::vector<llm::ChatMessage> messages = {
        {"system", std::string(instructions_for(options_.prompt_char_budget))}, {"user", prompt.user}};
    Result<llm::Generation> reply = model_->chat(messages, generation);
    if (!reply.is_ok()) return reply.status().with_context("llm link decider: note '" + new_note.id + "'");
    return parse_reply(reply->text, new_note, prompt, model_->id());
}

}  // namespace kasten::memory
