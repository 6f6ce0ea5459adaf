#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/http/api_service.h"
#include "common/result.h"

namespace kasten::api {

struct HttpServerOptions {
    int threads = 8;                        // worker threads
    std::int64_t max_body_bytes = 8 << 20;  // larger bodies get 413 without being buffered
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
