#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "memory/memory_manager.h"
#include "store/records.h"

namespace kasten::api {

// Records and MemoryManager results as the JSON the REST API and `kasten --json` print. Times are ISO-8601 UTC
// strings (common/timestamp.h), absent optional times are null. Embeddings are never included. Thread-safe.
//
// Session ids: "session_id" is always the caller's (external) session id; the store's own "s_…" id appears only as
// "internal_id" (sessions) and "session_internal_id" (turns, whose records carry only the internal id).

nlohmann::json cube_to_json(const store::CubeRecord& cube);
// The cube plus "counts": {"sessions", "turns", "notes", "links"}.
nlohmann::json cube_info_to_json(const memory::CubeInfo& info);
nlohmann::json session_to_json(const store::SessionRecord& session);
// The session plus "turns": [...], each turn also carrying "session_id" (external).
nlohmann::json session_view_to_json(const memory::SessionView& view);
nlohmann::json turn_to_json(const store::TurnRecord& turn);
nlohmann::json note_to_json(const store::NoteRecord& note);
nlohmann::json note_version_to_json(const store::NoteVersionRecord& version);
nlohmann::json link_to_json(const store::LinkRecord& link);
nlohmann::json hit_to_json(const memory::SearchHit& hit);
// A packed context: {mode, strategy, weights, tokens, budget, token_counter, text, items: [{granularity, id,
// session_id, time, valid_to, score, priority, tokens, text}]}.
nlohmann::json context_to_json(const memory::PackedContext& context);
// {"session_id", "turn_ids", "job_id"}; job_id is null when no note job was queued (notes off).
nlohmann::json add_messages_result_to_json(const memory::AddMessagesResult& result);
// {"id", "cube_id", "kind", "state", "attempts", "error", "created_at", "updated_at", "result"}: result is the job's
// result_json parsed (an object; {} until the job is done). The payload is not shown.
nlohmann::json job_to_json(const store::JobRecord& job);
nlohmann::json import_summary_to_json(const memory::ImportSummary& summary);
nlohmann::json reindex_summary_to_json(const memory::ReindexSummary& summary);
nlohmann::json consistency_report_to_json(const memory::ConsistencyReport& report);
// /healthz's "lexical_index": {"state": "ok"|"repairing", "repairs", and while repairing "error", "dirty_since",
// "failed_repairs"}.
nlohmann::json index_health_to_json(const memory::IndexHealth& health);

// Serialises without throwing: invalid UTF-8 (which validated input never holds) is replaced by U+FFFD.
// indent < 0 = compact.
std::string dump_json(const nlohmann::json& j, int indent = -1);

}  // namespace kasten::api
