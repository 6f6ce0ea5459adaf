#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/http/api_service.h"
#include "common/result.h"

namespace kasten::api {

struct HttpServerOptions {
    // Worker threads. cpp-httplib serves each connection on one worker for the connection's whole keep-alive life,
    // so this is how many connections are served at once; further connections are accepted but wait, unanswered,
    // for a free worker (with 8 workers, 200 keep-alive clients saw seconds of latency). 256 serves 200 concurrent
    // keep-alive clients with room to spare. An idle worker is a blocked thread whose stack is reserved but barely
    // touched (tens of KiB resident); CPU-bound work is bounded by the cores whatever this number. The `http_threads`
    // setting (common/config.h) has the same default.
    int threads = 256;
    std::int64_t max_body_bytes = 8 << 20;  // larger bodies get 413 without being buffered
    // A keep-alive connection is closed after this many requests (the last answer says `Connection: close` and the
    // client reconnects). High, so clients rarely pay a reconnect; finite, so that when there are more connections
    // than workers a busy connection still yields its worker now and then.
    int keep_alive_max_requests = 1000;
    // An idle keep-alive connection is closed after this many seconds, freeing its worker.
    int keep_alive_timeout_s = 5;
    // Read deadlines per request, however slowly the client sends: the request line and headers must arrive within
    // header_timeout_s of their first byte, the body within body_timeout_s of the end of the headers. A request that
    // misses one is answered 408 and its connection closed (api/http/connection_socket.h).
    int header_timeout_s = 10;
    int body_timeout_s = 60;
    // Connections served at once from all clients; 0 = threads - max(1, threads / 8). Kept below `threads` so that
    // free workers remain to answer connections over a cap at once (503 busy, Retry-After: 1, closed) instead of
    // letting them wait unanswered; clamped to `threads` (a value of `threads` keeps no worker free: connections
    // over it wait for one). See effective_max_connections().
    int max_connections = 0;
    // Connections served at once from one client IP address; 0 = no cap. Below max_connections, so that one
    // address cannot take every connection (behind a reverse proxy every client has the proxy's address).
    int max_connections_per_client = 64;
};

// The total connection cap HttpServer applies for these options (max_connections resolved and clamped).
int effective_max_connections(const HttpServerOptions& options);

// The HTTP/1.1 transport (cpp-httplib) in front of an ApiService: every request, on any path and method, is handed
// to ApiService::handle; errors the transport detects itself (oversized or unreadable bodies, malformed requests,
// missed read deadlines, connections over a cap) get the same JSON error body. Range headers are ignored: every
// response is sent whole (cpp-httplib would otherwise cut any response, errors included, into as many parts as
// the request names ranges); a Range header cpp-httplib cannot parse is answered 416. Responses with
// HttpResponse::stream are sent with chunked transfer encoding as the producer writes them. The service must outlive
// the server.
class HttpServer {
  public:
    HttpServer(ApiService& service, HttpServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds the listening socket; port 0 picks a free port. Returns the bound port. kIOError when the address cannot
    // be bound (in use, not local, ...).
    Result<int> bind(const std::string& host, int port);
    // Serves until stop(); requests in flight are finished before it returns. Call after bind(), once.
    Status serve();
    // Makes serve() return. Thread-safe; a stop() that comes before serve() has started listening may be missed, so
    // callers that stop from another thread repeat it until serve() has returned.
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace kasten::api
