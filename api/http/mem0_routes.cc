#include "api/http/mem0_routes.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>
#include <unordered_map>

#include "api/dto/mem0_codec.h"
#include "common/log.h"
#include "common/timestamp.h"

namespace kasten::api {
namespace {

using nlohmann::json;
namespace m0 = mem0;

constexpr int kPageSize = 500;               // notes read per list_notes call
constexpr int kDefaultPageSize = 100;        // getAll
constexpr int kMaxPageSize = 1000;           // getAll, entities
constexpr int kRecentNotesScanned = 2000;    // add: the newest notes searched for the job's new ones
constexpr size_t kMaxPendingScopes = 10000;  // adds whose note jobs the worker waits for

Mem0Reply reply(json body, int status = 200) {
    return Mem0Reply{status, std::move(body)};
}

Status check_query(const Mem0Call& call, std::initializer_list<const char*> allowed) {
    for (const auto& entry : *call.query) {
        const std::string& name = entry.first;  // not a structured binding: clang 14 cannot capture those
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return name == a; })) {
            return Status::invalid_argument("unknown query parameter '" + name + "'");
        }
    }
    return Status::ok();
}

Status no_body(const Mem0Call& call) {
    if (call.body->find_first_not_of(" \t\r\n") != std::string::npos) {
        return Status::invalid_argument("this route takes no request body (" + call.pattern + ")");
    }
    return Status::ok();
}

Result<int> int_param(const Mem0Call& call, const char* name, int fallback, int lo, int hi) {
    auto it = call.query->find(name);
    if (it == call.query->end() || it->second.empty()) return fallback;
    try {
        size_t used = 0;
        const long long v = std::stoll(it->second, &used);
        if (used == it->second.size() && v >= lo && v <= hi) return static_cast<int>(v);
    } catch (const std::exception&) {
    }
    return Status::invalid_argument("query parameter '" + std::string(name) + "': expected an integer in " +
                                    std::to_string(lo) + ".." + std::to_string(hi));
}

const char* event_status(store::JobState state) {
    switch (state) {
        case store::JobState::kQueued:
            return "PENDING";
        case store::JobState::kRunning:
            return "RUNNING";
        case store::JobState::kDone:
            return "SUCCEEDED";
        case store::JobState::kFailed:
            return "FAILED";
    }
    return "PENDING";
}

// The cube a filter selects; the error says what the client must send.
Result<std::string> filter_cube(const m0::Mem0Filter& filter) {
    const m0::Entities entities = filter.required_entities();
    if (!entities.any()) {
        return Status::invalid_argument(
            "filters must name a user_id (or an agent_id, app_id or run_id), e.g. {\"user_id\": \"alice\"}; kasten "
            "keeps each entity's memories in its own cube and does not search across them");
    }
    return m0::cube_for(entities);
}

json add_result(const store::NoteRecord& note) {
    json out = m0::memory_to_json(note);
    out["event"] = "ADD";
    out["data"] = {{"memory", note.content}};
    return out;
}

}  // namespace

Mem0Routes::Mem0Routes(memory::MemoryManager& memory, Mem0Options options)
    : memory_(memory), options_(std::move(options)) {}

Mem0Routes::~Mem0Routes() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
}

void Mem0Routes::add_routes(Router& router) {
    router.add("GET", "/v1/ping", RouteId::kMem0);
    router.add("POST", "/v3/memories/add", RouteId::kMem0);
    router.add("POST", "/v3/memories", RouteId::kMem0);
    router.add("POST", "/v3/memories/search", RouteId::kMem0);
    router.add("GET", "/v1/memories/{id}", RouteId::kMem0);
    router.add("PUT", "/v1/memories/{id}", RouteId::kMem0);
    router.add("DELETE", "/v1/memories/{id}", RouteId::kMem0);
    router.add("DELETE", "/v1/memories", RouteId::kMem0);
    router.add("GET", "/v1/memories/{id}/history", RouteId::kMem0);
    router.add("GET", "/v1/entities", RouteId::kMem0);
    router.add("DELETE", "/v1/entities/{type}/{name}", RouteId::kMem0);
    router.add("DELETE", "/v2/entities/{type}/{name}", RouteId::kMem0);
    router.add("GET", "/v1/event/{id}", RouteId::kMem0);
}

Result<Mem0Reply> Mem0Routes::handle(const Mem0Call& call) {
    const std::string& p = call.pattern;
    const std::string& m = call.method == "HEAD" ? std::string("GET") : call.method;
    if (p == "/v1/ping") return ping();
    if (p == "/v3/memories/add") return add(call);
    if (p == "/v3/memories") return get_all(call);
    if (p == "/v3/memories/search") return search(call);
    if (p == "/v1/memories/{id}") {
        if (m == "GET") return get(call);
        if (m == "PUT") return update(call);
        return remove(call);
    }
    if (p == "/v1/memories") return remove_all(call);
    if (p == "/v1/memories/{id}/history") return history(call);
    if (p == "/v1/entities") return entities(call);
    if (p == "/v1/entities/{type}/{name}" || p == "/v2/entities/{type}/{name}") return remove_entity(call);
    if (p == "/v1/event/{id}") return event(call);
    return Status::internal("Mem0 route without a handler: " + p);
}

Result<bool> Mem0Routes::cube_exists(const std::string& cube_id) {
    Result<memory::CubeInfo> info = memory_.get_cube(cube_id);
    if (info.is_ok()) return true;
    if (info.status().code() == StatusCode::kNotFound) return false;
    return info.status();
}

Result<std::string> Mem0Routes::memory_cube(const Mem0Call& call) {
    const std::string& id = call.params->at("id");
    KASTEN_ASSIGN_OR_RETURN(std::string cube, memory_.note_cube(id));
    // As for jobs: a memory of a cube this key may not use is reported as absent.
    if (!Authenticator::may_use(*call.principal, cube)) return Status::not_found("memory '" + id + "' not found");
    return cube;
}

Result<Mem0Reply> Mem0Routes::ping() {
    return reply({{"status", "ok"},
                  {"message", "kasten (Mem0-compatible API)"},
                  {"org_id", nullptr},
                  {"project_id", nullptr},
                  {"user_email", nullptr}});
}

Result<Mem0Reply> Mem0Routes::add(const Mem0Call& call) {
    KASTEN_RETURN_IF_ERROR(check_query(call, {}));
    KASTEN_ASSIGN_OR_RETURN(m0::AddRequest req, m0::parse_add(*call.body, options_.limits));
    KASTEN_ASSIGN_OR_RETURN(std::string cube, m0::cube_for(req.entities));
    KASTEN_RETURN_IF_ERROR(Authenticator::authorize_cube(*call.principal, cube));
    const std::vector<std::string> tags = m0::tags_with_scope({}, req.entities, cube, req.metadata);

    if (!req.infer) {
        // Each message is a memory as it stands (Mem0's infer: false); no turns are stored.
        KASTEN_ASSIGN_OR_RETURN(bool exists, cube_exists(cube));
        if (!exists) {
            Result<store::CubeRecord> created = memory_.create_cube(cube, cube, call.principal->actor);
            if (!created.is_ok() && created.status().code() != StatusCode::kAlreadyExists) return created.status();
        }
        json results = json::array();
        for (const auto& message : req.messages) {
            if (message.role == "system") continue;
            memory::NoteInput in;
            in.content = message.content;
            in.tags = tags;
            in.valid_from = req.time;
            KASTEN_ASSIGN_OR_RETURN(store::NoteRecord note, memory_.add_note(cube, in, call.principal->actor));
            results.push_back(add_result(note));
        }
        return reply({{"results", std::move(results)},
                      {"status", "SUCCEEDED"},
                      {"event_id", nullptr},
                      {"message", "Memories stored as given (infer: false)."}});
    }

    if (!options_.notes_enabled) {
        return Status(StatusCode::kNotSupported,
                      "notes are off on this server, so messages cannot become memories: start 'kasten serve' with "
                      "--notes heuristic (the default) or --notes llm, or add with infer: false");
    }
    memory::AddMessagesRequest add;
    add.cube_id = cube;
    if (req.entities.run_id && cube.rfind("run:", 0) != 0) {
        KASTEN_ASSIGN_OR_RETURN(add.session_id, m0::session_for_run(*req.entities.run_id));
    }
    add.time = req.time;
    add.messages = req.messages;
    add.actor = call.principal->actor;
    KASTEN_ASSIGN_OR_RETURN(memory::AddMessagesResult added,
                            memory_.add_messages(add, /*create_cube_if_missing=*/true));
    if (added.job_id.empty()) return Status::internal("no note job was queued for the added messages");

    PendingScope scope{cube, added.job_id, added.turn_ids, req.entities, req.metadata, call.principal->actor};
    json pending = {{"results", json::array()},
                    {"status", "PENDING"},
                    {"event_id", added.job_id},
                    {"message", "Memory processing has been queued (kasten note job " + added.job_id +
                                    "); GET /v1/event/" + added.job_id + "/ tells when it is done."}};
    if (req.async_mode) {
        defer_scope(std::move(scope));
        return reply(std::move(pending));
    }

    // Wait (bounded) for the note job, so that add answers with the memories it made, as Mem0's synchronous add.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.add_wait_ms);
    auto pause = std::chrono::milliseconds(5);
    store::JobRecord job;
    while (true) {
        KASTEN_ASSIGN_OR_RETURN(job, memory_.get_job(added.job_id));
        if (job.state == store::JobState::kDone || job.state == store::JobState::kFailed) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            defer_scope(std::move(scope));
            return reply(std::move(pending));
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    if (job.state == store::JobState::kFailed) {
        return Status::internal("the note job " + job.id + " failed: " + job.error);
    }

    KASTEN_ASSIGN_OR_RETURN(json results, apply_scope(scope));
    return reply({{"results", std::move(results)},
                  {"status", "SUCCEEDED"},
                  {"event_id", added.job_id},
                  {"message", "Memories added."}});
}

Result<json> Mem0Routes::apply_scope(const PendingScope& scope) {
    // The job's new notes are the newest ones citing the added turns; they get the request's entities and metadata.
    const std::set<std::string> turns(scope.turn_ids.begin(), scope.turn_ids.end());
    KASTEN_ASSIGN_OR_RETURN(memory::CubeInfo info, memory_.get_cube(scope.cube));
    const std::int64_t offset = std::max<std::int64_t>(0, info.notes - kRecentNotesScanned);
    KASTEN_ASSIGN_OR_RETURN(
        std::vector<store::NoteRecord> recent,
        memory_.list_notes(scope.cube, std::nullopt, kRecentNotesScanned, static_cast<int>(offset)));
    json results = json::array();
    for (const store::NoteRecord& note : recent) {
        const bool cites = std::any_of(note.source_turn_ids.begin(), note.source_turn_ids.end(),
                                       [&](const std::string& t) { return turns.count(t) != 0; });
        if (!cites || note.version != 1 || note.status != store::NoteStatus::kActive) continue;
        memory::NotePatch patch;
        patch.tags = m0::tags_with_scope(note.tags, scope.entities, scope.cube, scope.metadata);
        patch.reason = "mem0_scope";
        patch.actor = scope.actor;
        if (*patch.tags == note.tags) {
            results.push_back(add_result(note));
            continue;
        }
        KASTEN_ASSIGN_OR_RETURN(store::NoteRecord scoped, memory_.patch_note(scope.cube, note.id, patch));
        results.push_back(add_result(scoped));
    }
    return results;
}

void Mem0Routes::defer_scope(PendingScope scope) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.size() >= kMaxPendingScopes) {
        log::warn("mem0: {} adds wait for their note jobs; the oldest one's memories stay without its entity tags",
                  pending_.size());
        pending_.erase(pending_.begin());
    }
    pending_.push_back(std::move(scope));
    if (!worker_.joinable()) worker_ = std::thread([this] { finish_scopes(); });
    cv_.notify_one();
}

void Mem0Routes::finish_scopes() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
        cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
        if (stop_) break;
        std::vector<PendingScope> work;
        work.swap(pending_);
        lock.unlock();
        std::vector<PendingScope> waiting;
        for (PendingScope& scope : work) {
            Result<store::JobRecord> job = memory_.get_job(scope.job_id);
            if (job.is_ok() && job->state != store::JobState::kDone && job->state != store::JobState::kFailed) {
                waiting.push_back(std::move(scope));
                continue;
            }
            if (!job.is_ok() || job->state == store::JobState::kFailed) continue;  // nothing to tag
            Result<json> applied = apply_scope(scope);
            if (!applied.is_ok() && applied.status().code() != StatusCode::kNotFound) {
                log::warn("mem0: tagging the memories of note job {} failed: {}", scope.job_id,
                          applied.status().to_string());
            }
        }
        lock.lock();
        pending_.insert(pending_.begin(), std::make_move_iterator(waiting.begin()),
                        std::make_move_iterator(waiting.end()));
        if (!waiting.empty()) cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stop_; });
    }
}

Result<Mem0Reply> Mem0Routes::get_all(const Mem0Call& call) {
    KASTEN_RETURN_IF_ERROR(check_query(call, {"page", "page_size"}));
    KASTEN_ASSIGN_OR_RETURN(int page, int_param(call, "page", 1, 1, 1000000));
    KASTEN_ASSIGN_OR_RETURN(int page_size, int_param(call, "page_size", kDefaultPageSize, 1, kMaxPageSize));
    KASTEN_ASSIGN_OR_RETURN(m0::Mem0Filter filter, m0::parse_get_all(*call.body));
    KASTEN_ASSIGN_OR_RETURN(std::string cube, filter_cube(filter));
    KASTEN_RETURN_IF_ERROR(Authenticator::authorize_cube(*call.principal, cube));
    KASTEN_ASSIGN_OR_RETURN(bool exists, cube_exists(cube));
    std::vector<store::NoteRecord> matching;
    for (int offset = 0; exists;) {
        KASTEN_ASSIGN_OR_RETURN(std::vector<store::NoteRecord> notes,
                                memory_.list_notes(cube, store::NoteStatus::kActive, kPageSize, offset));
        for (auto& n : notes) {
            if (filter.matches(m0::filter_subject(n))) matching.push_back(std::move(n));
        }
        if (static_cast<int>(notes.size()) < kPageSize) break;
        offset += kPageSize;
    }
    std::reverse(matching.begin(), matching.end());  // newest first
    const std::int64_t count = static_cast<std::int64_t>(matching.size());
    const std::int64_t begin = std::min<std::int64_t>(count, static_cast<std::int64_t>(page - 1) * page_size);
    const std::int64_t end = std::min<std::int64_t>(count, begin + page_size);
    json results = json::array();
    for (std::int64_t i = begin; i < end; ++i) results.push_back(m0::memory_to_json(matching[i]));
    auto page_url = [&](int n) {
        return json("/v3/memories/?page=" + std::to_string(n) + "&page_size=" + std::to_string(page_size));
    };
    return reply({{"count", count},
                  {"next", end < count ? page_url(page + 1) : json(nullptr)},
                  {"previous", page > 1 && begin > 0 ? page_url(page - 1) : json(nullptr)},
                  {"results", std::move(results)}});
}

Result<Mem0Reply> Mem0Routes::search(const Mem0Call& call) {
    KASTEN_RETURN_IF_ERROR(check_query(call, {}));
    KASTEN_ASSIGN_OR_RETURN(m0::SearchRequest req, m0::parse_search(*call.body, options_.limits));
    KASTEN_ASSIGN_OR_RETURN(std::string cube, filter_cube(req.filter));
    KASTEN_RETURN_IF_ERROR(Authenticator::authorize_cube(*call.principal, cube));
    KASTEN_ASSIGN_OR_RETURN(bool exists, cube_exists(cube));
    json results = json::array();
    if (!exists) return reply({{"results", std::move(results)}});
    memory::SearchRequest s;
    s.cube_id = cube;
    s.query = req.query;
    s.granularity = memory::Granularity::kNote;
    // Filters apply after retrieval: ask for more than top_k so that filtered-out notes leave enough.
    s.top_k = std::min(options_.limits.max_top_k, std::max(req.top_k * 4, 50));
    s.query_time = req.query_time;
    KASTEN_ASSIGN_OR_RETURN(std::vector<memory::SearchHit> hits, memory_.search(s));
    for (const memory::SearchHit& hit : hits) {
        if (static_cast<int>(results.size()) >= req.top_k) break;
        if (req.threshold && hit.score < *req.threshold) continue;
        Result<store::NoteRecord> note = memory_.get_note(cube, hit.id);
        if (!note.is_ok()) {
            if (note.status().code() == StatusCode::kNotFound) continue;  // deleted since the search
            return note.status();
        }
        if (!req.filter.matches(m0::filter_subject(note.value()))) continue;
        json memory = m0::memory_to_json(note.value());
        memory["score"] = hit.score;
        results.push_back(std::move(memory));
    }
    return reply({{"results", std::move(results)}});
}

Result<Mem0Reply> Mem0Routes::get(const Mem0Call& call) {
    KASTEN_RETURN_IF_ERROR(check_query(call, {}));
    KASTEN_RETURN_IF_ERROR(no_body(call));
    KASTEN_ASSIGN_OR_RETURN(std::string cube, memory_cube(call));
    KASTEN_ASSIGN_OR_RETURN(store::NoteRecord note, memory_.get_note(cube, call.params->at("id")));
    return reply(m0::memory_to_json(note));
}

Result<Mem0Reply> Mem0Routes::update(const Mem0Call& call) {
    KASTEN_RETURN_IF_ERROR(check_query(call, {}));
    KASTEN_ASSIGN_OR_RETURN(m0::UpdateRequest req, m0::parse_update(*call.body, options_.limits));
    KASTEN_ASSIGN_OR_RETURN(std::string cube, memory_cube(call));
    const std::string& id = call.params->at("id");
    memory::NotePatch patch;
    patch.content = req.text;
    patch.valid_from = req.timestamp;
    patch.valid_to = req.expiration_date;
    patch.actor = call.principal->actor;
    if (req.metadata) {
        KASTEN_ASSIGN_OR_RETURN(store::NoteRecord current, memory_.get_note(cube, id));
        patch.tags = m0::tags_with_metadata(current.tags, *req.metadata);
    }
    KASTEN_ASSIGN_OR_RETURN(store::NoteRecord note, memory_.patch_note(cube, id, patch));
    return reply(m0::memory_to_json(note));
}

Result<Mem0Reply> Mem0Routes::remove(const Mem0Call& call) {
    KASTEN_RETURN_IF_ERROR(check_query(call, {"delete_linked"}));
    KASTEN_RETURN_IF_ERROR(no_body(call));
    bool linked = false;
    if (auto it = call.query->find("delete_linked"); it != call.query->end()) {
        if (it->second != "true" && it->second != "false") {
            return Status::invalid_argument("query parameter 'delete_linked': expected true or false");
        }
        linked = it->second == "true";
    }
    KASTEN_ASSIGN_OR_RETURN(std::string cube, memory_cube(call));
    const std::string& id = call.params->at("id");
    std::vector<std::string> doomed = {id};
    if (linked) {
        // The notes this one superseded, transitively (each names its successor in superseded_by).
        std::unordered_map<std::string, std::vector<std::string>> predecessors;
        for (int offset = 0;;) {
            KASTEN_ASSIGN_OR_RETURN(std::vector<store::NoteRecord> notes,
                                    memory_.list_notes(cube, std::nullopt, kPageSize, offset));
            for (const auto& n : notes) {
                if (!n.superseded_by.empty()) predecessors[n.superseded_by].push_back(n.id);
            }
            if (static_cast<int>(notes.size()) < kPageSize) break;
            offset += kPageSize;
        }
        std::set<std::string> seen = {id};
        for (size_t i = 0; i < doomed.size(); ++i) {
            for (const auto& p : predecessors[doomed[i]]) {
                if (seen.insert(p).second) doomed.push_back(p);
            }
        }
    }
    for (const auto& note_id : doomed) {
        Status st = memory_.delete_note(cube, note_id, call.principal->actor);
        if (!st.is_ok() && !(note_id != id && st.code() == StatusCode::kNotFound)) return st;
    }
    return reply({{"message", "Memory deleted successfully!"}});
}

Result<Mem0Reply> Mem0Routes::remove_all(const Mem0Call& call) {
    KASTEN_RETURN_IF_ERROR(check_query(call, {"user_id", "agent_id", "app_id", "run_id", "org_id", "project_id"}));
    KASTEN_RETURN_IF_ERROR(no_body(call));
    m0::Entities entities;
    json equalities = json::object();
    for (const char* name : m0::kEntityFields) {
        auto it = call.query->find(name);
        if (it == call.query->end()) continue;
        *m0::entity_slot(entities, name) = it->second;
        equalities[name] = it->second;
    }
    if (!entities.any()) {
        return Status::invalid_argument("deleting all memories needs a user_id, agent_id, app_id or run_id");
    }
    KASTEN_ASSIGN_OR_RETURN(std::string cube, m0::cube_for(entities));
    KASTEN_RETURN_IF_ERROR(Authenticator::authorize_cube(*call.principal, cube));
    KASTEN_ASSIGN_OR_RETURN(bool exists, cube_exists(cube));
    const json done = {{"message", "Memories deleted successfully!"}};
    if (!exists) return reply(done);
    int given = 0;
    for (const char* name : m0::kEntityFields) given += m0::entity_slot(entities, name)->has_value() ? 1 : 0;
    if (given == 1) {
        // Everything of the entity: its cube, with the conversation turns its memories came from.
        KASTEN_RETURN_IF_ERROR(memory_.delete_cube(cube, call.principal->actor));
        return reply(done);
    }
    KASTEN_ASSIGN_OR_RETURN(m0::Mem0Filter filter, m0::Mem0Filter::parse(equalities));
    std::vector<std::string> doomed;
    for (int offset = 0;;) {
        KASTEN_ASSIGN_OR_RETURN(std::vector<store::NoteRecord> notes,
                                memory_.list_notes(cube, std::nullopt, kPageSize, offset));
        for (const auto& n : notes) {
            if (filter.matches(m0::filter_subject(n))) doomed.push_back(n.id);
        }
        if (static_cast<int>(notes.size()) < kPageSize) break;
        offset += kPageSize;
    }
    for (const auto& id : doomed) {
        Status st = memory_.delete_note(cube, id, call.principal->actor);
        if (!st.is_ok() && st.code() != StatusCode::kNotFound) return st;
    }
    if (entities.run_id && cube.rfind("run:", 0) != 0) {
        // The run's conversation (its session) goes too.
        KASTEN_ASSIGN_OR_RETURN(std::string session, m0::session_for_run(*entities.run_id));
        Status st = memory_.delete_session(cube, session, call.principal->actor);
        if (!st.is_ok() && st.code() != StatusCode::kNotFound) return st;
    }
    return reply(done);
}

Result<Mem0Reply> Mem0Routes::history(const Mem0Call& call) {
    KASTEN_RETURN_IF_ERROR(check_query(call, {}));
    KASTEN_RETURN_IF_ERROR(no_body(call));
    KASTEN_ASSIGN_OR_RETURN(std::string cube, memory_cube(call));
    const std::string& id = call.params->at("id");
    KASTEN_ASSIGN_OR_RETURN(store::NoteRecord note, memory_.get_note(cube, id));
    KASTEN_ASSIGN_OR_RETURN(std::vector<store::NoteVersionRecord> versions, memory_.note_history(cube, id));
    return reply(m0::history_to_json(note, versions));
}

Result<Mem0Reply> Mem0Routes::entities(const Mem0Call& call) {
    KASTEN_RETURN_IF_ERROR(check_query(call, {"page", "page_size", "org_id", "project_id"}));
    KASTEN_RETURN_IF_ERROR(no_body(call));
    KASTEN_ASSIGN_OR_RETURN(int page, int_param(call, "page", 1, 1, 1000000));
    KASTEN_ASSIGN_OR_RETURN(int page_size, int_param(call, "page_size", kDefaultPageSize, 1, kMaxPageSize));
    KASTEN_ASSIGN_OR_RETURN(std::vector<store::CubeRecord> cubes, memory_.list_cubes());
    std::vector<std::pair<store::CubeRecord, m0::CubeEntity>> found;
    for (auto& c : cubes) {
        if (!Authenticator::may_use(*call.principal, c.id)) continue;
        if (std::optional<m0::CubeEntity> e = m0::entity_of_cube(c.id)) found.emplace_back(std::move(c), *e);
    }
    const std::int64_t count = static_cast<std::int64_t>(found.size());
    const std::int64_t begin = std::min<std::int64_t>(count, static_cast<std::int64_t>(page - 1) * page_size);
    const std::int64_t end = std::min<std::int64_t>(count, begin + page_size);
    json results = json::array();
    for (std::int64_t i = begin; i < end; ++i) {
        const auto& [cube, entity] = found[i];
        KASTEN_ASSIGN_OR_RETURN(memory::CubeInfo info, memory_.get_cube(cube.id));
        results.push_back({{"id", cube.id},
                           {"name", entity.name},
                           {"type", entity.type},
                           {"total_memories", info.notes},
                           {"created_at", format_timestamp(cube.created_at)},
                           {"updated_at", format_timestamp(cube.created_at)},
                           {"owner", nullptr},
                           {"metadata", nullptr}});
    }
    return reply({{"count", count}, {"next", nullptr}, {"previous", nullptr}, {"results", std::move(results)}});
}

Result<Mem0Reply> Mem0Routes::remove_entity(const Mem0Call& call) {
    KASTEN_RETURN_IF_ERROR(check_query(call, {"org_id", "project_id"}));
    KASTEN_RETURN_IF_ERROR(no_body(call));
    const std::string& type = call.params->at("type");
    if (type != "user" && type != "agent" && type != "app" && type != "run") {
        return Status::invalid_argument("entity type '" + type + "': expected user, agent, app or run");
    }
    m0::Entities entities;
    *m0::entity_slot(entities, type + "_id") = call.params->at("name");
    KASTEN_ASSIGN_OR_RETURN(std::string cube, m0::cube_for(entities));
    KASTEN_RETURN_IF_ERROR(Authenticator::authorize_cube(*call.principal, cube));
    KASTEN_RETURN_IF_ERROR(memory_.delete_cube(cube, call.principal->actor));
    return reply({{"message", "Entity deleted successfully."}});
}

Result<Mem0Reply> Mem0Routes::event(const Mem0Call& call) {
    KASTEN_RETURN_IF_ERROR(check_query(call, {}));
    KASTEN_RETURN_IF_ERROR(no_body(call));
    const std::string& id = call.params->at("id");
    KASTEN_ASSIGN_OR_RETURN(store::JobRecord job, memory_.get_job(id));
    if (!Authenticator::may_use(*call.principal, job.cube_id)) return Status::not_found("event '" + id + "' not found");
    json result = json::parse(job.result_json, nullptr, /*allow_exceptions=*/false);
    if (result.is_discarded()) result = json::object();
    return reply({{"id", job.id},
                  {"event_type", "ADD"},
                  {"status", event_status(job.state)},
                  {"payload", json::object()},
                  {"metadata", {{"cube_id", job.cube_id}, {"job", result}}},
                  {"results", json::array()},
                  {"error", job.error.empty() ? json(nullptr) : json(job.error)},
                  {"created_at", format_timestamp(job.created_at)},
                  {"updated_at", format_timestamp(job.updated_at)}});
}

}  // namespace kasten::api
