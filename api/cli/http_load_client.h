#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kasten::api {

// Where an HTTP server listens: "http://127.0.0.1:8420" -> {"127.0.0.1", 8420}.
struct HttpEndpoint {
    std::string host;
    int port = 0;
};

// Parses "http://HOST[:PORT][/]" (port 80 when absent; "[::1]" for IPv6). kInvalidArgument for anything else (https,
// a path, a bad port).
Result<HttpEndpoint> parse_http_url(std::string_view url);

struct HttpClientResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-case; the last value of a repeated header
    std::string body;                            // decoded when the response was chunked
    bool chunked = false;                        // the body came with Transfer-Encoding: chunked
};

struct HttpLoadClientOptions {
    int timeout_ms = 30000;  // connect, and each send/receive on the socket (SO_SNDTIMEO/SO_RCVTIMEO)
};

// A small blocking HTTP/1.1 client on one keep-alive TCP connection, written on POSIX sockets (only
// api/http/http_server.cc may include cpp-httplib): for the load generators of `kasten bench` and their tests.
// TCP_NODELAY is set, so a request written in one send() is never held back by Nagle's algorithm. The connection is
// opened on the first request and reused until the server answers `Connection: close` (or HTTP/1.0 without
// keep-alive), the body ends with the connection, or an error; the next request then opens a new one. A request
// that fails on a reused connection before any byte of the answer arrived (the server closed an idle connection)
// is sent once more on a fresh connection; retries() counts those. Responses are read by Content-Length, chunked
// transfer encoding, or up to the end of the connection. Not thread-safe: one client per thread.
class HttpLoadClient {
  public:
    HttpLoadClient(std::string host, int port, HttpLoadClientOptions options = {});
    ~HttpLoadClient();
    HttpLoadClient(const HttpLoadClient&) = delete;
    HttpLoadClient& operator=(const HttpLoadClient&) = delete;

    // Opens the connection now (requests open it when needed). kIOError when the server cannot be reached.
    Status connect();
    // One request and its whole response. kIOError on a socket error, a timeout or a malformed response (the
    // connection is closed then). Any HTTP status is a response, not an error.
    Result<HttpClientResponse> request(std::string_view method, std::string_view target, std::string_view body = {},
                                       std::string_view content_type = "application/json");
    void close();

    bool connected() const { return fd_ >= 0; }
    std::int64_t connects() const { return connects_; }  // connections opened so far
    std::int64_t retries() const { return retries_; }    // requests re-sent on a fresh connection

  private:
    // Sends the request and reads the response on the open connection; on failure *retryable tells whether the
    // server closed the connection without reading the request (end of stream or reset before any answer).
    Result<HttpClientResponse> exchange(const std::string& request, bool head, bool* retryable);
    // Reads more bytes into buf_ (*eof at the end of the stream); kIOError on error or timeout.
    Status fill(bool* eof);
    Status read_exact(size_t n, std::string* out);
    Result<std::string> read_line();

    std::string host_;
    int port_ = 0;
    HttpLoadClientOptions options_;
    int fd_ = -1;
    std::string buf_;  // received, not yet consumed
    size_t pos_ = 0;   // consumed prefix of buf_
    int last_errno_ = 0;
    std::int64_t connects_ = 0;
    std::int64_t retries_ = 0;
};

}  // namespace kasten::api
