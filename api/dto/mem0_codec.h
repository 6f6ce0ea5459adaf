#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/dto/mem0_filter.h"
#include "api/dto/mem0_scope.h"
#include "api/dto/request_parser.h"
#include "common/result.h"
#include "memory/memory_types.h"
#include "store/records.h"

namespace kasten::api::mem0 {

// Mem0 platform request bodies (as the official clients send them) and the JSON kasten answers with. Parsing is
// strict about unknown fields (kInvalidArgument naming the field) but accepts every field the clients send; fields
// without a kasten counterpart are accepted and have no effect (docs/mem0.md lists them). Thread-safe.

// POST /v3/memories/add/
struct AddRequest {
    std::vector<memory::MessageInput> messages;  // a string body becomes one user message
    Entities entities;
    nlohmann::json metadata;     // object, or null
    bool infer = true;           // false: each message is stored as a memory as it is
    bool async_mode = false;     // true: answer at once with the note job as a PENDING event
    std::optional<TimeMs> time;  // "timestamp" (Unix seconds): the conversation time of the messages
};
Result<AddRequest> parse_add(std::string_view body, const RequestLimits& limits);

// POST /v3/memories/search/
struct SearchRequest {
    std::string query;
    Mem0Filter filter;  // filters, plus the top-level entity ids, "categories" and "metadata"
    int top_k = 10;
    std::optional<double> threshold;   // minimum score
    std::optional<TimeMs> query_time;  // "reference_date"
};
Result<SearchRequest> parse_search(std::string_view body, const RequestLimits& limits);

// POST /v3/memories/ (getAll): the filter (filters, "categories", "start_date"/"end_date" on created_at).
Result<Mem0Filter> parse_get_all(std::string_view body);

// PUT /v1/memories/{id}/
struct UpdateRequest {
    std::optional<std::string> text;
    std::optional<nlohmann::json> metadata;  // an object, or null to remove it
    std::optional<TimeMs> timestamp;         // -> valid_from
    std::optional<TimeMs> expiration_date;   // -> valid_to
};
Result<UpdateRequest> parse_update(std::string_view body, const RequestLimits& limits);

// A note as a Mem0 memory: {"id", "memory", "user_id", "agent_id", "app_id", "run_id", "metadata", "categories",
// "created_at", "updated_at", "expiration_date", "hash", "immutable", "status"}; entities absent are null.
nlohmann::json memory_to_json(const store::NoteRecord& note);
// The same view for filters.
FilterSubject filter_subject(const store::NoteRecord& note);
// A note's versions as Mem0 history: ADD for the first, UPDATE for each later version whose content changed
// (versions that change only tags, status or times are not Mem0 events). Oldest first.
nlohmann::json history_to_json(const store::NoteRecord& note, const std::vector<store::NoteVersionRecord>& versions);

}  // namespace kasten::api::mem0
