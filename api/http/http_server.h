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
};

// The HTTP/1.1 transport (cpp-httplib) in front of an ApiService: every request, on any path and method, is handed
// to ApiService::handle; errors the transport detects itself (oversized or unreadable bodies, malformed requests)
// get the same JSON error body. Responses with HttpResponse::stream are sent with chunked transfer encoding as the
// producer writes them. The service must outlive the server.
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
