#include "api/dto/json_codec.h"

#include "common/timestamp.h"

namespace kasten::api {
namespace {

using nlohmann::json;

json optional_time(const std::optional<TimeMs>& t) {
    return t ? json(format_timestamp(*t)) : json(nullptr);
}

}  // namespace

json cube_to_json(const store::CubeRecord& cube) {
    json metadata = json::object();
    if (!cube.metadata_json.empty()) {
        // Stored by the store as JSON text; shown as-is if it is not an object.
        json parsed = json::parse(cube.metadata_json, nullptr, /*allow_exceptions=*/false);
        metadata = parsed.is_discarded() ? json(cube.metadata_json) : parsed;
    }
    return {{"id", cube.id},
            {"name", cube.name},
            {"embedder_id", cube.embedder_id},
            {"created_at", format_timestamp(cube.created_at)},
            {"metadata", metadata}};
}

json cube_info_to_json(const memory::CubeInfo& info) {
    json j = cube_to_json(info.cube);
    j["counts"] = {{"sessions", info.sessions}, {"turns", info.turns}, {"notes", info.notes}, {"links", info.links}};
    return j;
}

json session_to_json(const store::SessionRecord& session) {
    return {{"session_id", session.external_id},
            {"internal_id", session.id},
            {"cube_id", session.cube_id},
            {"started_at", format_timestamp(session.started_at)},
            {"summary", session.summary}};
}

json turn_to_json(const store::TurnRecord& turn) {
    return {{"id", turn.id},
            {"cube_id", turn.cube_id},
            {"session_internal_id", turn.session_id},
            {"index", turn.index},
            {"role", turn.role},
            {"content", turn.content},
            {"time", format_timestamp(turn.conv_time)},
            {"ingested_at", format_timestamp(turn.ingested_at)}};
}

json session_view_to_json(const memory::SessionView& view) {
    json j = session_to_json(view.session);
    json turns = json::array();
    for (const auto& t : view.turns) {
        json tj = turn_to_json(t);
        tj["session_id"] = view.session.external_id;
        turns.push_back(std::move(tj));
    }
    j["turns"] = std::move(turns);
    return j;
}

json note_to_json(const store::NoteRecord& note) {
    return {{"id", note.id},
            {"cube_id", note.cube_id},
            {"content", note.content},
            {"kind", note.kind},
            {"keywords", note.keywords},
            {"tags", note.tags},
            {"context", note.context},
            {"source_turn_ids", note.source_turn_ids},
            {"valid_from", optional_time(note.valid_from)},
            {"valid_to", optional_time(note.valid_to)},
            {"recorded_at", format_timestamp(note.recorded_at)},
            {"superseded_at", optional_time(note.superseded_at)},
            {"superseded_by", note.superseded_by},
            {"status", store::note_status_name(note.status)},
            {"version", note.version},
            {"importance", note.importance},
            {"strength", note.strength},
            {"last_access", format_timestamp(note.last_access)},
            {"content_hash", note.content_hash},
            {"embedder_id", note.embedder_id},
            {"updated_at", format_timestamp(note.updated_at)}};
}

json note_version_to_json(const store::NoteVersionRecord& v) {
    return {{"note_id", v.note_id},
            {"version", v.version},
            {"content", v.content},
            {"kind", v.kind},
            {"keywords", v.keywords},
            {"tags", v.tags},
            {"context", v.context},
            {"status", store::note_status_name(v.status)},
            {"valid_from", optional_time(v.valid_from)},
            {"valid_to", optional_time(v.valid_to)},
            {"reason", v.reason},
            {"actor", v.actor},
            {"created_at", format_timestamp(v.created_at)}};
}

json link_to_json(const store::LinkRecord& link) {
    return {{"src", link.src_note_id},
            {"dst", link.dst_note_id},
            {"relation", link.relation},
            {"weight", link.weight},
            {"reason", link.reason},
            {"cube_id", link.cube_id},
            {"created_at", format_timestamp(link.created_at)}};
}

json hit_to_json(const memory::SearchHit& hit) {
    return {{"granularity", memory::granularity_name(hit.granularity)},
            {"id", hit.id},
            {"score", hit.score},
            {"text", hit.text},
            {"time", format_timestamp(hit.time)},
            {"session_id", hit.session_id},
            {"role", hit.role},
            {"turn_ids", hit.turn_ids},
            {"lexical_rank", hit.lexical_rank < 0 ? json(nullptr) : json(hit.lexical_rank)},
            {"vector_rank", hit.vector_rank < 0 ? json(nullptr) : json(hit.vector_rank)}};
}

json context_to_json(const memory::PackedContext& context) {
    json items = json::array();
    for (const auto& it : context.items) {
        items.push_back({{"granularity", memory::granularity_name(it.granularity)},
                         {"id", it.id},
                         {"session_id", it.session_id},
                         {"time", format_timestamp(it.time)},
                         {"valid_to", it.valid_to ? json(format_timestamp(*it.valid_to)) : json(nullptr)},
                         {"score", it.score},
                         {"priority", it.priority},
                         {"tokens", it.tokens},
                         {"text", it.text}});
    }
    return {{"mode", context.mode},       {"strategy", memory::context_strategy_name(context.strategy)},
            {"weights", context.weights}, {"tokens", context.tokens},
            {"budget", context.budget},   {"token_counter", context.token_counter},
            {"text", context.text},       {"items", std::move(items)}};
}

json add_messages_result_to_json(const memory::AddMessagesResult& result) {
    return {{"session_id", result.session_id},
            {"turn_ids", result.turn_ids},
            {"job_id", result.job_id.empty() ? json(nullptr) : json(result.job_id)}};
}

json job_to_json(const store::JobRecord& job) {
    json result = json::object();
    if (!job.result_json.empty()) {
        // Written by the memory layer as a JSON object; anything else is shown as its text.
        json parsed = json::parse(job.result_json, nullptr, /*allow_exceptions=*/false);
        result = parsed.is_discarded() ? json(job.result_json) : parsed;
    }
    return {{"id", job.id},
            {"cube_id", job.cube_id},
            {"kind", job.kind},
            {"state", store::job_state_name(job.state)},
            {"attempts", job.attempts},
            {"error", job.error},
            {"created_at", format_timestamp(job.created_at)},
            {"updated_at", format_timestamp(job.updated_at)},
            {"result", std::move(result)}};
}

json import_summary_to_json(const memory::ImportSummary& s) {
    return {{"cube_id", s.cube_id},
            {"sessions", s.sessions},
            {"turns", s.turns},
            {"notes", s.notes},
            {"note_versions", s.note_versions},
            {"links", s.links},
            {"id_map", s.id_map},
            {"dropped_references", s.dropped_references}};
}

json reindex_summary_to_json(const memory::ReindexSummary& s) {
    return {{"cubes", s.cubes}, {"units", s.units}, {"reembedded", s.reembedded}};
}

json consistency_report_to_json(const memory::ConsistencyReport& report) {
    json mismatches = json::array();
    for (const auto& e : report.mismatches) {
        mismatches.push_back({{"cube_id", e.cube_id},
                              {"unit_type", e.unit_type},
                              {"store", e.store_count},
                              {"lexical", e.lexical_count},
                              {"vector", e.vector_count},
                              {"missing_lexical", e.missing_lexical},
                              {"extra_lexical", e.extra_lexical},
                              {"missing_vector", e.missing_vector},
                              {"extra_vector", e.extra_vector}});
    }
    return {{"consistent", report.consistent()}, {"mismatches", std::move(mismatches)}};
}

json index_health_to_json(const memory::IndexHealth& h) {
    json out = {{"state", h.dirty ? "repairing" : "ok"}, {"repairs", h.repairs}};
    if (h.dirty) {
        out["error"] = h.error;
        out["dirty_since"] = format_timestamp(h.dirty_since_ms);
        out["failed_repairs"] = h.failed_repairs;
    }
    return out;
}

std::string dump_json(const json& j, int indent) {
    return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace kasten::api
