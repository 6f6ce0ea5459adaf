#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/dto/request_parser.h"
#include "api/http/auth.h"
#include "api/http/http_metrics.h"
#include "api/http/mem0_routes.h"
#include "api/http/openai_request.h"
#include "api/http/request_gate.h"
#include "api/http/router.h"
#include "common/result.h"
#include "llm/language_model.h"
#include "memory/memory_chat.h"
#include "memory/memory_manager.h"

namespace kasten::api {

class McpHttpEndpoint;

// One HTTP request as the transport hands it over.
struct HttpRequest {
    std::string method;                          // "GET", "POST", ...
    std::string target;                          // raw request target: "/v1/cubes/x/turns?limit=5"
    std::map<std::string, std::string> headers;  // names lower-case; the first value of a repeated header
    std::string body;
};

// Receives one chunk of a streamed body; false when the client is gone (the producer should stop).
using ChunkSink = std::function<bool(std::string_view chunk)>;
// Produces a streamed body chunk by chunk (called once, on the transport's thread, after handle() returned).
using BodyStream = std::function<void(const ChunkSink& sink)>;

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;                                          // empty for 204
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, WWW-Authenticate)
    std::string route = "unmatched";                           // matched pattern, the metrics label
    // When set, the body is streamed (chunked transfer encoding) from this producer instead of `body`.
    BodyStream stream;
};

struct ApiServiceOptions {
    std::string version;
    std::string data_dir;       // shown by /healthz
    int embedder_dim = 0;       // shown by /healthz
    std::string notes = "off";  // the note pipeline (NotePipeline::description()), shown by /healthz
    RequestLimits limits;
    std::int64_t max_body_bytes = 8 << 20;
    ApiKeys api_keys;  // empty = no authentication
    // Backs /v1/chat/completions and /v1/completions; null: those routes answer 501. Not owned; must outlive the
    // service. Calls into it are serialised by the service (one generation at a time).
    llm::LanguageModel* language_model = nullptr;
    CompletionLimits completion_limits;
    // Counts the tokens of packed contexts (POST /v1/cubes/{cube}/context): the model's tokenizer when there is one;
    // null = the estimate (memory/token_counter.h).
    std::shared_ptr<const memory::TokenCounter> context_counter;
    // The cube MCP tool calls on /mcp use when they name none (api/mcp/mcp_http_endpoint.h).
    std::string mcp_default_cube = "default";
    // Chat with memory on /v1/chat/completions (docs/chat.md): the cube from the X-Kasten-Cube header or the
    // request's `user` (cube "user:<user>"), the conversation from X-Kasten-Conversation or
    // metadata.conversation_id. Requests naming no cube chat without memory.
    memory::MemoryChatOptions memory_chat;
    // Requests doing memory work at once (RequestGate): the others wait in arrival order. 0 = no limit. Applies to
    // the /v1 memory routes, Mem0 routes and /v1/embeddings; not to /healthz, /metrics, /openapi, export, import,
    // completions (generation is serialised anyway) or /mcp.
    int max_active_requests = 0;
};

// The REST API (docs/api.md) without the transport: request in → one MemoryManager call → response out.
// Routing (404/405), authentication (401), per-cube authorisation (403 on every cube route; GET /v1/jobs/{id}, whose
// URL names no cube, answers 404 for a job of a cube the key may not use, exactly as for an absent job, so job ids
// do not reveal other cubes' jobs), strict parsing (4xx naming the field) and error mapping (api/http/error_mapping.h)
// happen here; every error response carries
// {"error":{"code","type","message"}}. handle() never throws: anything unexpected becomes a logged 500.
// Thread-safe: handle() may run concurrently (the MemoryManager is thread-safe). Counts every request in metrics().
// The OpenAI-compatible routes (POST /v1/chat/completions, /v1/completions) run options.language_model; streamed
// responses (stream: true) are Server-Sent Events produced by HttpResponse::stream (the metrics time them until the
// stream starts). GET /v1/models lists options.language_model (when set) and the memory's embedder; POST
// /v1/embeddings runs that embedder.
class ApiService {
  public:
    ApiService(memory::MemoryManager& memory, ApiServiceOptions options);
    ~ApiService();

    HttpResponse handle(const HttpRequest& request);

    // The response for an error the transport detected before handle() could run (e.g. 413 for a body over the
    // limit, 400 for an unreadable request), counted in the metrics under route "unmatched".
    HttpResponse transport_error(const std::string& method, int http_status, const std::string& message);

    // Every (method, path pattern) handle() answers; docs/openapi.yaml describes exactly these.
    std::vector<RouteInfo> routes() const;

    bool auth_enabled() const { return auth_.enabled(); }
    HttpMetrics& metrics() { return metrics_; }

  private:
    struct Call {
        const HttpRequest* request = nullptr;
        RouteLookup route;
        std::map<std::string, std::string> query;
        Principal principal;
        const std::string& cube() const { return route.params.at("cube"); }
    };

    HttpResponse dispatch(const HttpRequest& request);
    Result<HttpResponse> run(Call& call);

    Result<HttpResponse> healthz();
    Result<HttpResponse> metrics_text();
    Result<HttpResponse> openapi();
    Result<HttpResponse> create_cube(const Call& call);
    Result<HttpResponse> list_cubes(const Call& call);
    Result<HttpResponse> get_cube(const Call& call);
    Result<HttpResponse> delete_cube(const Call& call);
    Result<HttpResponse> add_memories(const Call& call);
    Result<HttpResponse> list_memories(const Call& call);
    Result<HttpResponse> get_memory(const Call& call);
    Result<HttpResponse> patch_memory(const Call& call);
    Result<HttpResponse> delete_memory(const Call& call);
    Result<HttpResponse> memory_history(const Call& call);
    Result<HttpResponse> memory_links(const Call& call);
    Result<HttpResponse> list_sessions(const Call& call);
    Result<HttpResponse> get_session(const Call& call);
    Result<HttpResponse> delete_session(const Call& call);
    Result<HttpResponse> list_turns(const Call& call);
    Result<HttpResponse> get_turn(const Call& call);
    Result<HttpResponse> delete_turn(const Call& call);
    Result<HttpResponse> search(const Call& call);
    Result<HttpResponse> context(const Call& call);
    Result<HttpResponse> list_jobs(const Call& call);
    Result<HttpResponse> get_job(const Call& call);
    Result<HttpResponse> export_cube(const Call& call);
    Result<HttpResponse> import_cube(const Call& call);
    Result<HttpResponse> completion(const Call& call, bool chat);
    Result<HttpResponse> mem0(const Call& call);
    Result<HttpResponse> openai_models(const Call& call);  // GET /v1/models, /v1/models/{model}
    Result<HttpResponse> openai_embeddings(const Call& call);

    memory::MemoryManager& memory_;
    ApiServiceOptions options_;
    Authenticator auth_;
    Router router_;
    HttpMetrics metrics_;
    std::unique_ptr<RequestGate> gate_;  // null: no limit
    std::mutex generation_mutex_;        // held while options_.language_model generates
    std::atomic<std::uint64_t> completion_counter_{0};
    Mem0Routes mem0_;
    memory::MemoryChat memory_chat_;
    std::unique_ptr<McpHttpEndpoint> mcp_;  // POST/DELETE /mcp: the MCP streamable HTTP transport
    const std::int64_t started_at_ = static_cast<std::int64_t>(std::time(nullptr));  // "created" of /v1/models
};

// The response for a failed request: the mapped HTTP status and the error body.
HttpResponse error_response(const Status& status);

}  // namespace kasten::api
