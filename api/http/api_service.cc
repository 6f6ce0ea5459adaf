#include "api/http/api_service.h"

#include <chrono>
#include <ctime>
#include <exception>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/dto/json_codec.h"
#include "api/dto/mem0_scope.h"
#include "api/http/error_mapping.h"
#include "api/http/openai_embeddings.h"
#include "api/http/openai_models.h"
#include "api/http/openai_response.h"
#include "api/http/openapi_document.h"
#include "api/http/url.h"
#include "api/mcp/mcp_http_endpoint.h"
#include "common/log.h"
#include "memory/extractive_answerer.h"

namespace kasten::api {
namespace {

// Routes that wait for a RequestGate slot (ApiServiceOptions::max_active_requests): the memory work.
bool gated(RouteId id) {
    switch (id) {
        case RouteId::kHealthz:
        case RouteId::kMetrics:
        case RouteId::kOpenApi:
        case RouteId::kExport:  // long, rare administration: never holds a slot the traffic needs
        case RouteId::kImport:
        case RouteId::kChatCompletions:  // generation is serialised by generation_mutex_
        case RouteId::kCompletions:
        case RouteId::kModels:
        case RouteId::kModel:
            return false;
        case RouteId::kCreateCube:
        case RouteId::kListCubes:
        case RouteId::kGetCube:
        case RouteId::kDeleteCube:
        case RouteId::kAddMemories:
        case RouteId::kListMemories:
        case RouteId::kGetMemory:
        case RouteId::kPatchMemory:
        case RouteId::kDeleteMemory:
        case RouteId::kMemoryHistory:
        case RouteId::kMemoryLinks:
        case RouteId::kListSessions:
        case RouteId::kGetSession:
        case RouteId::kDeleteSession:
        case RouteId::kListTurns:
        case RouteId::kGetTurn:
        case RouteId::kDeleteTurn:
        case RouteId::kSearch:
        case RouteId::kContext:
        case RouteId::kListJobs:
        case RouteId::kGetJob:
        case RouteId::kMem0:
        case RouteId::kEmbeddings:
            return true;
    }
    return true;
}

using nlohmann::json;

HttpResponse json_reply(int status, const json& body) {
    HttpResponse r;
    r.status = status;
    r.body = dump_json(body);
    return r;
}

HttpResponse no_content() {
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    return r;
}

std::optional<std::string> header(const HttpRequest& request, const char* name) {
    auto it = request.headers.find(name);
    if (it == request.headers.end()) return std::nullopt;
    return it->second;
}

// Routes whose handler reads the request body; the others accept none (an empty body is fine).
bool takes_body(RouteId id) {
    switch (id) {
        case RouteId::kCreateCube:
        case RouteId::kAddMemories:
        case RouteId::kPatchMemory:
        case RouteId::kSearch:
        case RouteId::kContext:
        case RouteId::kImport:
        case RouteId::kChatCompletions:
        case RouteId::kCompletions:
        case RouteId::kMem0:  // checked per route by Mem0Routes
        case RouteId::kEmbeddings:
            return true;
        default:
            return false;
    }
}

}  // namespace

HttpResponse error_response(const Status& status) {
    HttpResponse r;
    r.status = http_status_for(status.code());
    r.body = error_body(r.status, status);
    if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
}

ApiService::ApiService(memory::MemoryManager& memory, ApiServiceOptions options)
    : memory_(memory),
      options_(std::move(options)),
      auth_(options_.api_keys),
      router_(Router::kasten_routes()),
      mem0_(memory, Mem0Options{options_.notes != "off", options_.limits}),
      memory_chat_(memory, options_.memory_chat) {
    if (options_.max_active_requests > 0) gate_ = std::make_unique<RequestGate>(options_.max_active_requests);
    Mem0Routes::add_routes(router_);
    McpHttpOptions mcp;
    mcp.server.server_version = options_.version;
    mcp.server.tools = {options_.mcp_default_cube, options_.limits, options_.context_counter};
    mcp_ = std::make_unique<McpHttpEndpoint>(memory_, auth_, std::move(mcp));
}

ApiService::~ApiService() = default;

std::vector<RouteInfo> ApiService::routes() const {
    std::vector<RouteInfo> out = router_.routes();
    // The MCP endpoint is dispatched before the router (GET /mcp answers 405 there).
    out.push_back({"POST", "/mcp"});
    out.push_back({"DELETE", "/mcp"});
    return out;
}

HttpResponse ApiService::handle(const HttpRequest& request) {
    const auto start = std::chrono::steady_clock::now();
    HttpResponse response;
    try {
        response = dispatch(request);
    } catch (const std::exception& e) {
        log::error("{} {}: unexpected exception: {}", request.method, request.target.substr(0, 256), e.what());
        response = error_response(Status::internal("internal error while handling the request"));
    } catch (...) {
        log::error("{} {}: unexpected non-standard exception", request.method, request.target.substr(0, 256));
        response = error_response(Status::internal("internal error while handling the request"));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    try {
        metrics_.record(request.method, response.route, response.status, seconds);
    } catch (const std::exception& e) {
        log::error("recording metrics failed: {}", e.what());
    }
    log::debug("{} {} -> {} ({:.1f} ms)", request.method, response.route, response.status, seconds * 1000.0);
    return response;
}

HttpResponse ApiService::transport_error(const std::string& method, int http_status, const std::string& message) {
    HttpResponse r;
    r.status = http_status;
    r.body = error_body(http_status, Status(status_code_for_http(http_status), message));
    try {
        metrics_.record(method, r.route, r.status, 0.0);
    } catch (const std::exception& e) {
        log::error("recording metrics failed: {}", e.what());
    }
    return r;
}

HttpResponse ApiService::dispatch(const HttpRequest& request) {
    const size_t qpos = request.target.find('?');
    const std::string_view raw_path = std::string_view(request.target).substr(0, qpos);
    const std::string_view raw_query =
        qpos == std::string::npos ? std::string_view() : std::string_view(request.target).substr(qpos + 1);

    if (raw_path == "/mcp") {
        HttpResponse r = mcp_->handle(request);
        r.route = "/mcp";
        return r;
    }
    Call call;
    call.request = &request;
    Result<std::vector<std::string>> segments = split_path(raw_path);
    if (!segments.is_ok()) return error_response(segments.status());
    Result<std::map<std::string, std::string>> query = parse_query(raw_query);
    if (!query.is_ok()) return error_response(query.status());
    call.query = std::move(query).value();
    call.route = router_.find(request.method, segments.value());
    if (call.route.outcome == RouteLookup::Outcome::kNotFound) {
        return error_response(
            Status::not_found("no route for " + request.method + " " + std::string(raw_path.substr(0, 256))));
    }
    if (call.route.outcome == RouteLookup::Outcome::kMethodNotAllowed) {
        std::string allow;
        for (const auto& m : call.route.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
        HttpResponse r;
        r.status = 405;
        r.body = error_body(
            405, Status(StatusCode::kNotSupported, "method " + request.method.substr(0, 16) + " is not allowed on " +
                                                       call.route.pattern + " (allowed: " + allow + ")"));
        r.headers.emplace_back("Allow", allow);
        r.route = call.route.pattern;
        return r;
    }

    Result<HttpResponse> result = run(call);
    HttpResponse response = result.is_ok() ? std::move(result).value() : error_response(result.status());
    if (response.status >= 500) {
        log::error("{} {} -> {}: {}", request.method, call.route.pattern, response.status, response.body);
    }
    response.route = call.route.pattern;
    return response;
}

Result<HttpResponse> ApiService::run(Call& call) {
    const HttpRequest& request = *call.request;
    const RouteId id = call.route.id;
    if (static_cast<std::int64_t>(request.body.size()) > options_.max_body_bytes) {
        return Status::resource_exhausted("the request body is larger than " + std::to_string(options_.max_body_bytes) +
                                          " bytes (max_body_bytes)");
    }
    if (!takes_body(id) && request.body.find_first_not_of(" \t\r\n") != std::string::npos) {
        return Status::invalid_argument(std::string("this route takes no request body (") + call.route.pattern + ")");
    }
    switch (id) {
        case RouteId::kHealthz:
            KASTEN_RETURN_IF_ERROR(check_query_names(call.query, {}));
            return healthz();
        case RouteId::kMetrics:  // any valid key when keys are configured: the counters span every cube
            KASTEN_RETURN_IF_ERROR(check_query_names(call.query, {}));
            KASTEN_RETURN_IF_ERROR(
                auth_.authenticate(header(request, "authorization"), header(request, "x-api-key")).status());
            return metrics_text();
        case RouteId::kOpenApi:
            KASTEN_RETURN_IF_ERROR(check_query_names(call.query, {}));
            return openapi();
        default:
            break;
    }

    KASTEN_ASSIGN_OR_RETURN(call.principal,
                            auth_.authenticate(header(request, "authorization"), header(request, "x-api-key")));
    if (call.route.params.count("cube") != 0) {
        KASTEN_RETURN_IF_ERROR(Authenticator::authorize_cube(call.principal, call.cube()));
    }
    switch (id) {
        case RouteId::kListMemories:
            KASTEN_RETURN_IF_ERROR(check_query_names(call.query, {"status", "limit", "offset"}));
            break;
        case RouteId::kListSessions:
        case RouteId::kListTurns:
        case RouteId::kListJobs:
            KASTEN_RETURN_IF_ERROR(check_query_names(call.query, {"limit", "offset"}));
            break;
        case RouteId::kMem0:  // checked per route by Mem0Routes
            break;
        case RouteId::kImport:
            KASTEN_RETURN_IF_ERROR(check_query_names(call.query, {"ids"}));
            break;
        default:
            KASTEN_RETURN_IF_ERROR(check_query_names(call.query, {}));
            break;
    }

    std::optional<RequestGate::Pass> pass;
    if (gate_ && gated(id)) pass.emplace(gate_->enter());
    switch (id) {
        case RouteId::kHealthz:
        case RouteId::kMetrics:
        case RouteId::kOpenApi:
            break;
        case RouteId::kCreateCube:
            return create_cube(call);
        case RouteId::kListCubes:
            return list_cubes(call);
        case RouteId::kGetCube:
            return get_cube(call);
        case RouteId::kDeleteCube:
            return delete_cube(call);
        case RouteId::kAddMemories:
            return add_memories(call);
        case RouteId::kListMemories:
            return list_memories(call);
        case RouteId::kGetMemory:
            return get_memory(call);
        case RouteId::kPatchMemory:
            return patch_memory(call);
        case RouteId::kDeleteMemory:
            return delete_memory(call);
        case RouteId::kMemoryHistory:
            return memory_history(call);
        case RouteId::kMemoryLinks:
            return memory_links(call);
        case RouteId::kListSessions:
            return list_sessions(call);
        case RouteId::kGetSession:
            return get_session(call);
        case RouteId::kDeleteSession:
            return delete_session(call);
        case RouteId::kListTurns:
            return list_turns(call);
        case RouteId::kGetTurn:
            return get_turn(call);
        case RouteId::kDeleteTurn:
            return delete_turn(call);
        case RouteId::kSearch:
            return search(call);
        case RouteId::kContext:
            return context(call);
        case RouteId::kListJobs:
            return list_jobs(call);
        case RouteId::kGetJob:
            return get_job(call);
        case RouteId::kExport:
            return export_cube(call);
        case RouteId::kImport:
            return import_cube(call);
        case RouteId::kChatCompletions:
            return completion(call, /*chat=*/true);
        case RouteId::kCompletions:
            return completion(call, /*chat=*/false);
        case RouteId::kMem0:
            return mem0(call);
        case RouteId::kModels:
        case RouteId::kModel:
            return openai_models(call);
        case RouteId::kEmbeddings:
            return openai_embeddings(call);
    }
    return Status::internal("route without a handler");
}

Result<HttpResponse> ApiService::healthz() {
    // "degraded": a lexical index write failed (disk full) and its repair from the store is pending.
    const memory::IndexHealth index = memory_.index_health();
    return json_reply(
        200, {{"status", index.dirty ? "degraded" : "ok"},
              {"lexical_index", index_health_to_json(index)},
              {"version", options_.version},
              {"embedder", memory_.embedder_id()},
              {"dim", options_.embedder_dim},
              {"data_dir", options_.data_dir},
              {"auth", auth_.enabled()},
              {"notes", options_.notes},
              {"model", options_.language_model != nullptr ? json(options_.language_model->id()) : json(nullptr)}});
}

Result<HttpResponse> ApiService::metrics_text() {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.render(memory_.stats(), options_.version);
    if (gate_) {
        r.body += "# HELP kasten_http_requests_active Requests doing memory work now (at most max_active_requests).\n";
        r.body += "# TYPE kasten_http_requests_active gauge\nkasten_http_requests_active " +
                  std::to_string(gate_->active()) + "\n";
        r.body += "# HELP kasten_http_requests_waiting Requests waiting for a slot (max_active_requests).\n";
        r.body += "# TYPE kasten_http_requests_waiting gauge\nkasten_http_requests_waiting " +
                  std::to_string(gate_->waiting()) + "\n";
        r.body += "# HELP kasten_http_requests_waited_total Requests that waited for a slot since the start.\n";
        r.body += "# TYPE kasten_http_requests_waited_total counter\nkasten_http_requests_waited_total " +
                  std::to_string(gate_->waited_total()) + "\n";
    }
    return r;
}

Result<HttpResponse> ApiService::openapi() {
    HttpResponse r;
    r.body = std::string(openapi_document());
    return r;
}

Result<HttpResponse> ApiService::create_cube(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(CreateCubeBody body, parse_create_cube(call.request->body));
    KASTEN_RETURN_IF_ERROR(Authenticator::authorize_cube(call.principal, body.id));
    KASTEN_ASSIGN_OR_RETURN(store::CubeRecord cube, memory_.create_cube(body.id, body.name, call.principal.actor));
    return json_reply(201, cube_to_json(cube));
}

Result<HttpResponse> ApiService::list_cubes(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(std::vector<store::CubeRecord> cubes, memory_.list_cubes());
    json out = json::array();
    for (const auto& c : cubes) {
        if (Authenticator::may_use(call.principal, c.id)) out.push_back(cube_to_json(c));
    }
    return json_reply(200, {{"cubes", std::move(out)}});
}

Result<HttpResponse> ApiService::get_cube(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(memory::CubeInfo info, memory_.get_cube(call.cube()));
    return json_reply(200, cube_info_to_json(info));
}

Result<HttpResponse> ApiService::delete_cube(const Call& call) {
    KASTEN_RETURN_IF_ERROR(memory_.delete_cube(call.cube(), call.principal.actor));
    return no_content();
}

Result<HttpResponse> ApiService::add_memories(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(AddMemoriesBody body, parse_add_memories(call.request->body, options_.limits));
    if (body.messages) {
        body.messages->cube_id = call.cube();
        body.messages->actor = call.principal.actor;
        KASTEN_ASSIGN_OR_RETURN(memory::AddMessagesResult result,
                                memory_.add_messages(*body.messages, /*create_cube_if_missing=*/true));
        return json_reply(201, add_messages_result_to_json(result));
    }
    KASTEN_ASSIGN_OR_RETURN(store::NoteRecord note, memory_.add_note(call.cube(), *body.note, call.principal.actor));
    return json_reply(201, note_to_json(note));
}

Result<HttpResponse> ApiService::list_memories(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(Paging paging, parse_paging(call.query));
    KASTEN_ASSIGN_OR_RETURN(std::optional<store::NoteStatus> status, parse_status_filter(call.query));
    KASTEN_ASSIGN_OR_RETURN(std::vector<store::NoteRecord> notes,
                            memory_.list_notes(call.cube(), status, paging.limit, paging.offset));
    json out = json::array();
    for (const auto& n : notes) out.push_back(note_to_json(n));
    return json_reply(200, {{"memories", std::move(out)}, {"limit", paging.limit}, {"offset", paging.offset}});
}

Result<HttpResponse> ApiService::get_memory(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(store::NoteRecord note, memory_.get_note(call.cube(), call.route.params.at("id")));
    return json_reply(200, note_to_json(note));
}

Result<HttpResponse> ApiService::patch_memory(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(memory::NotePatch patch, parse_note_patch(call.request->body, options_.limits));
    patch.actor = call.principal.actor;
    KASTEN_ASSIGN_OR_RETURN(store::NoteRecord note, memory_.patch_note(call.cube(), call.route.params.at("id"), patch));
    return json_reply(200, note_to_json(note));
}

Result<HttpResponse> ApiService::delete_memory(const Call& call) {
    KASTEN_RETURN_IF_ERROR(memory_.delete_note(call.cube(), call.route.params.at("id"), call.principal.actor));
    return no_content();
}

Result<HttpResponse> ApiService::memory_history(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(std::vector<store::NoteVersionRecord> versions,
                            memory_.note_history(call.cube(), call.route.params.at("id")));
    json out = json::array();
    for (const auto& v : versions) out.push_back(note_version_to_json(v));
    return json_reply(200, {{"note_id", call.route.params.at("id")}, {"versions", std::move(out)}});
}

Result<HttpResponse> ApiService::memory_links(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(std::vector<store::LinkRecord> links,
                            memory_.note_links(call.cube(), call.route.params.at("id")));
    json out = json::array();
    for (const auto& l : links) out.push_back(link_to_json(l));
    return json_reply(200, {{"note_id", call.route.params.at("id")}, {"links", std::move(out)}});
}

Result<HttpResponse> ApiService::list_sessions(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(Paging paging, parse_paging(call.query));
    KASTEN_ASSIGN_OR_RETURN(std::vector<store::SessionRecord> sessions,
                            memory_.list_sessions(call.cube(), paging.limit, paging.offset));
    json out = json::array();
    for (const auto& s : sessions) out.push_back(session_to_json(s));
    return json_reply(200, {{"sessions", std::move(out)}, {"limit", paging.limit}, {"offset", paging.offset}});
}

Result<HttpResponse> ApiService::get_session(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(memory::SessionView view,
                            memory_.get_session(call.cube(), call.route.params.at("session_id")));
    return json_reply(200, session_view_to_json(view));
}

Result<HttpResponse> ApiService::delete_session(const Call& call) {
    KASTEN_RETURN_IF_ERROR(
        memory_.delete_session(call.cube(), call.route.params.at("session_id"), call.principal.actor));
    return no_content();
}

Result<HttpResponse> ApiService::list_turns(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(Paging paging, parse_paging(call.query));
    KASTEN_ASSIGN_OR_RETURN(std::vector<store::TurnRecord> turns,
                            memory_.list_turns(call.cube(), paging.limit, paging.offset));
    json out = json::array();
    for (const auto& t : turns) out.push_back(turn_to_json(t));
    return json_reply(200, {{"turns", std::move(out)}, {"limit", paging.limit}, {"offset", paging.offset}});
}

Result<HttpResponse> ApiService::get_turn(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(store::TurnRecord turn, memory_.get_turn(call.cube(), call.route.params.at("id")));
    return json_reply(200, turn_to_json(turn));
}

Result<HttpResponse> ApiService::delete_turn(const Call& call) {
    KASTEN_RETURN_IF_ERROR(memory_.delete_turn(call.cube(), call.route.params.at("id"), call.principal.actor));
    return no_content();
}

Result<HttpResponse> ApiService::search(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(memory::SearchRequest req, parse_search(call.request->body, options_.limits));
    req.cube_id = call.cube();
    const auto start = std::chrono::steady_clock::now();
    KASTEN_ASSIGN_OR_RETURN(std::vector<memory::SearchHit> hits, memory_.search(req));
    const double took_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    json out = json::array();
    for (const auto& h : hits) out.push_back(hit_to_json(h));
    return json_reply(200, {{"hits", std::move(out)}, {"took_ms", took_ms}});
}

Result<HttpResponse> ApiService::context(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(memory::ContextRequest req, parse_context(call.request->body, options_.limits));
    req.cube_id = call.cube();
    req.counter = options_.context_counter;
    const auto start = std::chrono::steady_clock::now();
    KASTEN_ASSIGN_OR_RETURN(memory::PackedContext packed, memory_.build_context(req));
    json out = context_to_json(packed);
    out["took_ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return json_reply(200, std::move(out));
}

Result<HttpResponse> ApiService::list_jobs(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(Paging paging, parse_paging(call.query));
    KASTEN_ASSIGN_OR_RETURN(std::vector<store::JobRecord> jobs,
                            memory_.list_jobs(call.cube(), paging.limit, paging.offset));
    json out = json::array();
    for (const auto& j : jobs) out.push_back(job_to_json(j));
    return json_reply(200, {{"jobs", std::move(out)}, {"limit", paging.limit}, {"offset", paging.offset}});
}

Result<HttpResponse> ApiService::get_job(const Call& call) {
    const std::string& id = call.route.params.at("id");
    KASTEN_ASSIGN_OR_RETURN(store::JobRecord job, memory_.get_job(id));
    // The URL names no cube: a job of a cube this key may not use is reported as absent (the same 404 as
    // MemoryManager's), so that job ids do not leak across cubes.
    if (!Authenticator::may_use(call.principal, job.cube_id)) {
        return Status::not_found("job '" + id + "' does not exist");
    }
    return json_reply(200, job_to_json(job));
}

Result<HttpResponse> ApiService::export_cube(const Call& call) {
    std::ostringstream out;
    KASTEN_RETURN_IF_ERROR(memory_.export_cube(call.cube(), out));
    HttpResponse r;
    r.content_type = "application/x-ndjson";
    r.body = std::move(out).str();
    return r;
}

Result<HttpResponse> ApiService::import_cube(const Call& call) {
    if (call.request->body.find_first_not_of(" \t\r\n") == std::string::npos) {
        return Status::invalid_argument("the request body is empty; expected a cube export (JSON Lines)");
    }
    // New ids by default, so a caller learns nothing about ids in other cubes; keeping the archive's ids (a
    // restore, where a clash is refused) is for keys that may use every cube anyway.
    memory::ImportIds ids = memory::ImportIds::kReassign;
    if (auto it = call.query.find("ids"); it != call.query.end()) {
        if (it->second == "keep") {
            if (!call.principal.all_cubes) {
                return Status::permission_denied(
                    "ids=keep needs an API key that may use every cube; omit it to "
                    "import with new ids");
            }
            ids = memory::ImportIds::kKeep;
        } else if (it->second != "new") {
            return Status::invalid_argument("ids: expected 'new' (the default) or 'keep'");
        }
    }
    std::istringstream in(call.request->body);
    KASTEN_ASSIGN_OR_RETURN(memory::ImportSummary summary,
                            memory_.import_cube(in, call.cube(), call.principal.actor, ids));
    return json_reply(201, import_summary_to_json(summary));
}

Result<HttpResponse> ApiService::completion(const Call& call, bool chat) {
    llm::LanguageModel* model = options_.language_model;
    if (model == nullptr) {
        return Status(StatusCode::kNotSupported,
                      "no language model is loaded; start the server with 'kasten serve --model FILE.gguf' to enable "
                      "/v1/chat/completions and /v1/completions");
    }
    KASTEN_ASSIGN_OR_RETURN(CompletionRequest request,
                            chat ? parse_chat_completion_request(call.request->body, options_.completion_limits)
                                 : parse_completion_request(call.request->body, options_.completion_limits));
    CompletionMeta meta;
    meta.kind = chat ? CompletionKind::kChat : CompletionKind::kText;
    meta.created = static_cast<std::int64_t>(std::time(nullptr));
    meta.id = fmt::format("{}-{:x}{:06x}", chat ? "chatcmpl" : "cmpl", meta.created, completion_counter_.fetch_add(1));
    meta.model = model->id();
    meta.logprobs = request.options.logprobs;

    // Chat with memory (docs/chat.md): the context goes into the messages, the exchange is written back after.
    struct MemoryTurn {
        memory::ChatExchange exchange;
        memory::PreparedChat prepared;
    };
    std::shared_ptr<MemoryTurn> remembered;
    HttpResponse response;
    if (chat) {
        std::string cube;
        if (auto h = call.request->headers.find("x-kasten-cube");
            h != call.request->headers.end() && !h->second.empty()) {
            cube = h->second;
        } else if (!request.user.empty()) {
            mem0::Entities entities;
            entities.user_id = request.user;
            auto mapped = mem0::cube_for(entities);
            if (!mapped.is_ok()) return Status::invalid_argument("user: " + mapped.status().message());
            cube = mapped.value();
        }
        if (!cube.empty()) {
            if (!Authenticator::may_use(call.principal, cube)) {
                return Status::permission_denied("this API key may not use cube '" + cube + "'");
            }
            remembered = std::make_shared<MemoryTurn>();
            remembered->exchange.cube_id = cube;
            if (auto h = call.request->headers.find("x-kasten-conversation"); h != call.request->headers.end()) {
                remembered->exchange.conversation_id = h->second;
            } else if (auto m = request.metadata.find("conversation_id"); m != request.metadata.end()) {
                remembered->exchange.conversation_id = m->second;
            }
            remembered->exchange.messages = request.messages;
            KASTEN_ASSIGN_OR_RETURN(remembered->prepared, memory_chat_.prepare(remembered->exchange));
            request.messages = remembered->prepared.messages;
            response.headers.emplace_back("X-Kasten-Cube", cube);
            response.headers.emplace_back("X-Kasten-Session", remembered->prepared.session_id);
            response.headers.emplace_back("X-Kasten-Context-Tokens",
                                          std::to_string(remembered->prepared.context.tokens));
        }
    }
    const bool extractive = dynamic_cast<memory::ExtractiveAnswerer*>(model) != nullptr;
    // Writes the exchange back; "" or the error's message.
    auto remember = [this, remembered, extractive](const std::string& answer) -> std::string {
        if (!remembered) return "";
        auto stored = memory_chat_.remember(remembered->exchange, remembered->prepared, answer, extractive);
        if (stored.is_ok()) return "";
        log::warn("chat exchange not stored in cube '{}': {}", remembered->exchange.cube_id,
                  stored.status().to_string());
        return stored.status().message();
    };

    // Runs the generation with the model to itself.
    auto generate = [this, model, chat, remembered](const CompletionRequest& r,
                                                    const llm::TokenCallback& on_token) -> Result<llm::Generation> {
        std::lock_guard<std::mutex> lock(generation_mutex_);
        if (remembered) memory_chat_.pin_prefix(remembered->exchange, remembered->prepared, *model);
        return chat ? model->chat(r.messages, r.options, on_token) : model->complete(r.prompt, r.options, on_token);
    };

    if (!request.stream) {
        KASTEN_ASSIGN_OR_RETURN(llm::Generation generation, generate(request, {}));
        if (request.echo) generation.text.insert(0, request.prompt);
        response.body = completion_body(meta, generation);
        if (std::string error = remember(generation.text); !error.empty()) {
            response.headers.emplace_back("X-Kasten-Memory-Error", error.substr(0, 200));
        }
        return response;
    }
    response.content_type = "text/event-stream";
    response.headers.emplace_back("Cache-Control", "no-cache");
    response.stream = [generate, request, meta, remember](const ChunkSink& sink) {
        bool open = true;
        const std::string start = stream_start_event(meta);
        if (!start.empty()) open = sink(start);
        if (open && request.echo && !request.prompt.empty()) open = sink(stream_piece_event(meta, request.prompt));
        if (!open) return;
        Result<llm::Generation> generation =
            generate(request, [&](std::string_view piece, std::span<const llm::TokenLogprob> logprobs) {
                open = open && sink(stream_piece_event(meta, piece, logprobs));
                return open;
            });
        if (!open) return;
        if (!generation.is_ok()) {
            log::warn("streamed completion failed: {}", generation.status().to_string());
            const int status = http_status_for(generation.status().code());
            if (!sink(stream_error_event(status, generation.status()))) return;
        } else {
            remember(generation.value().text);
            if (!sink(stream_finish_event(meta, generation.value()))) return;
            if (request.include_usage && !sink(stream_usage_event(meta, generation.value()))) return;
        }
        sink(sse_done());
    };
    return response;
}

Result<HttpResponse> ApiService::mem0(const Call& call) {
    const Mem0Call m{call.request->method, call.route.pattern,  &call.route.params,
                     &call.query,          &call.request->body, &call.principal};
    KASTEN_ASSIGN_OR_RETURN(Mem0Reply reply, mem0_.handle(m));
    return json_reply(reply.status, reply.body);
}

Result<HttpResponse> ApiService::openai_models(const Call& call) {
    std::vector<ModelCard> models;
    if (options_.language_model != nullptr) models.push_back({options_.language_model->id(), started_at_});
    models.push_back({memory_.embedder_id(), started_at_});
    HttpResponse response;
    if (call.route.id == RouteId::kModels) {
        response.body = models_list_body(models);
    } else {
        KASTEN_ASSIGN_OR_RETURN(response.body, model_body(models, call.route.params.at("model")));
    }
    return response;
}

Result<HttpResponse> ApiService::openai_embeddings(const Call& call) {
    KASTEN_ASSIGN_OR_RETURN(EmbeddingRequest request, parse_embedding_request(call.request->body));
    HttpResponse response;
    KASTEN_ASSIGN_OR_RETURN(response.body, embeddings_body(request, *memory_.embedder()));
    return response;
}

}  // namespace kasten::api
