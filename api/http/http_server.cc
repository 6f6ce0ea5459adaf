// The only file that includes cpp-httplib (docs/architecture.md: api/ is thin).
#include "api/http/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string_view>

#include <httplib.h>

#include "api/http/connection_limiter.h"
#include "api/http/connection_socket.h"
#include "common/log.h"

namespace kasten::api {
namespace {

const char* reason_for(int status) {
    switch (status) {
        case 400:
            return "the request could not be read (malformed HTTP)";
        case 408:
            return "the request was not received within its read deadline";
        case 416:
            return "the Range header could not be parsed (kasten ignores Range and sends whole responses)";
        case 413:
            return "the request body is larger than max_body_bytes";
        case 414:
            return "the request URI is too long";
        case 431:
            return "the request headers are too large";
        default:
            return "the request failed";
    }
}

// The connection the calling thread serves (set by GuardedServer while it serves one), so that handlers can tell
// a read that failed on a deadline or a size limit from a malformed request.
thread_local ConnectionSocket* t_connection = nullptr;

ReadLimit current_read_limit() {
    return t_connection == nullptr ? ReadLimit::kNone : t_connection->limit_hit();
}

int status_for_limit(ReadLimit limit) {
    return limit == ReadLimit::kHeaderTooLarge ? 431 : 408;
}

std::string message_for_limit(ReadLimit limit, const ConnectionTimeouts& t) {
    switch (limit) {
        case ReadLimit::kHeaderDeadline:
            return "the request line and headers did not arrive within " +
                   std::to_string(std::chrono::duration_cast<std::chrono::seconds>(t.header).count()) +
                   " s (header_timeout_s)";
        case ReadLimit::kBodyDeadline:
            return "the request body did not arrive within " +
                   std::to_string(std::chrono::duration_cast<std::chrono::seconds>(t.body).count()) +
                   " s (body_timeout_s)";
        case ReadLimit::kHeaderTooLarge:
            return "the request line and headers are larger than " + std::to_string(t.max_header_bytes) + " bytes";
        case ReadLimit::kNone:
            break;
    }
    return "the request could not be read";
}

// A whole response written directly on the socket, for answers given outside cpp-httplib's request cycle.
std::string raw_response(const HttpResponse& r, std::string_view reason, std::string_view extra_headers) {
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reason) + "\r\n";
    out += "Content-Type: " + r.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    out += extra_headers;
    out += "Connection: close\r\n\r\n";
    out += r.body;
    return out;
}

// httplib::Stream over a ConnectionSocket: every read of a request is bounded by its header and body deadlines.
class ConnectionStream final : public httplib::Stream {
  public:
    explicit ConnectionStream(ConnectionSocket& socket) : socket_(socket) {}
    using httplib::Stream::write;

    bool is_readable() const override { return socket_.readable(); }
    bool is_writable() const override { return socket_.writable(); }
    ssize_t read(char* ptr, size_t size) override { return socket_.read(ptr, size); }
    ssize_t write(const char* ptr, size_t size) override { return socket_.write(ptr, size); }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        ConnectionSocket::address_of(socket_.fd(), /*peer=*/true, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        ConnectionSocket::address_of(socket_.fd(), /*peer=*/false, ip, port);
    }
    socket_t socket() const override { return socket_.fd(); }

  private:
    ConnectionSocket& socket_;
};

// cpp-httplib's server with kasten's connection handling: every accepted connection is admitted against the
// connection caps (refused with 503 at once when over one), and its requests are read through a ConnectionSocket,
// so that the header and body deadlines bound them however slowly the client sends. Range headers are dropped
// once parsed, so no response is cut into ranges.
class GuardedServer final : public httplib::Server {
  public:
    GuardedServer(ApiService& service, ConnectionLimits limits, ConnectionTimeouts timeouts)
        : service_(service), limiter_(limits), timeouts_(timeouts) {}

    const ConnectionTimeouts& timeouts() const { return timeouts_; }

  private:
    // Runs on a worker thread for each accepted socket (the library's own version serves it without deadlines).
    bool process_and_close_socket(socket_t sock) override {
        bool ret = false;
        try {
            ret = serve_connection(sock);
        } catch (const std::exception& e) {
            log::error("serving a connection failed: {}", e.what());
        } catch (...) {
            log::error("serving a connection failed with a non-standard exception");
        }
        ::shutdown(sock, SHUT_RDWR);
        ::close(sock);
        return ret;
    }

    bool serve_connection(socket_t sock) {
        ConnectionSocket socket(sock, timeouts_);
        const std::string peer = ConnectionSocket::peer_address(sock);
        ConnectionLimiter::Slot slot = limiter_.admit(peer);
        if (!slot.admitted()) {
            refuse(socket, peer, slot.refusal());
            return false;
        }
        ConnectionStream stream(socket);
        t_connection = &socket;
        struct Reset {
            ~Reset() { t_connection = nullptr; }
        } reset;
        const auto stopping = [this] { return svr_sock_ == INVALID_SOCKET; };
        bool ret = false;
        for (size_t left = keep_alive_max_count_; left > 0 && !stopping() && socket.wait_for_request(stopping);
             --left) {
            bool connection_closed = false;
            ret = process_request(stream, left == 1, connection_closed, [&socket](httplib::Request& req) {
                req.ranges.clear();
                socket.headers_done();
            });
            const ReadLimit limit = socket.limit_hit();
            socket.request_done();
            if (limit != ReadLimit::kNone) {
                // Answered by the error handler unless the request line itself was cut off.
                if (!socket.wrote()) answer_limit(socket, limit);
                socket.close_gracefully(std::chrono::milliseconds(500));
                return false;
            }
            if (!ret || connection_closed || socket.close_requested()) break;
        }
        return ret;
    }

    void answer_limit(ConnectionSocket& socket, ReadLimit limit) {
        const int status = status_for_limit(limit);
        const HttpResponse r = service_.transport_error("-", status, message_for_limit(limit, timeouts_));
        socket.discard_pending();
        socket.write_all(raw_response(r, status == 431 ? "Request Header Fields Too Large" : "Request Timeout", ""));
    }

    void refuse(ConnectionSocket& socket, const std::string& peer, ConnectionLimiter::Refusal refusal) {
        const ConnectionLimits& limits = limiter_.limits();
        const std::string message = refusal == ConnectionLimiter::Refusal::kPerClient
                                        ? "too many connections from this address (max_connections_per_client " +
                                              std::to_string(limits.max_per_client) + "); retry later"
                                        : "the server is serving its maximum number of connections (max_connections " +
                                              std::to_string(limits.max_total) + "); retry later";
        log::debug("refused a connection from {}: {}", peer, message);
        const HttpResponse r = service_.transport_error("-", 503, message);
        socket.discard_pending();
        socket.write_all(raw_response(r, "Service Unavailable", "Retry-After: 1\r\n"));
        socket.close_gracefully(std::chrono::milliseconds(500));
    }

    ApiService& service_;
    ConnectionLimiter limiter_;
    const ConnectionTimeouts timeouts_;
};

ConnectionLimits limits_for(const HttpServerOptions& o) {
    return {effective_max_connections(o), std::max(0, o.max_connections_per_client)};
}

ConnectionTimeouts timeouts_for(const HttpServerOptions& o) {
    ConnectionTimeouts t;
    t.idle = std::chrono::seconds(std::max(1, o.keep_alive_timeout_s));
    t.header = std::chrono::seconds(std::max(1, o.header_timeout_s));
    t.body = std::chrono::seconds(std::max(1, o.body_timeout_s));
    return t;
}

HttpRequest to_request(const httplib::Request& req, std::string body) {
    HttpRequest out;
    out.method = req.method;
    out.target = req.target;
    for (const auto& [name, value] : req.headers) {
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        out.headers.emplace(std::move(lower), value);  // keeps the first of repeated headers
    }
    out.body = std::move(body);
    return out;
}

void write_response(const HttpResponse& r, httplib::Response& res) {
    res.status = r.status;
    for (const auto& [name, value] : r.headers) res.set_header(name, value);
    res.set_header("Accept-Ranges", "none");
    if (r.status == 204) {
        res.body.clear();
        return;
    }
    if (r.stream) {
        BodyStream stream = r.stream;
        res.set_chunked_content_provider(r.content_type, [stream](size_t /*offset*/, httplib::DataSink& sink) {
            // The status line is sent: an exception can only end the stream early (never escape into httplib).
            try {
                stream([&sink](std::string_view chunk) {
                    return chunk.empty() || (sink.is_writable() && sink.write(chunk.data(), chunk.size()));
                });
            } catch (const std::exception& e) {
                log::error("streamed response failed: {}", e.what());
            } catch (...) {
                log::error("streamed response failed with a non-standard exception");
            }
            sink.done();
            return true;
        });
        return;
    }
    res.set_content(r.body, r.content_type);
}

}  // namespace

struct HttpServer::Impl {
    ApiService& service;
    HttpServerOptions options;
    GuardedServer server;
    std::atomic<bool> stop_requested{false};
    socket_t listen_socket = INVALID_SOCKET;  // the last socket handed to the socket-options callback

    Impl(ApiService& s, HttpServerOptions o) : service(s), options(o), server(s, limits_for(o), timeouts_for(o)) {}

    // The status and message for a request whose body could not be read.
    HttpResponse body_error(const httplib::Request& req, int status) {
        if (const ReadLimit limit = current_read_limit(); limit != ReadLimit::kNone) {
            return service.transport_error(req.method, status_for_limit(limit),
                                           message_for_limit(limit, server.timeouts()));
        }
        return service.transport_error(req.method, status, reason_for(status));
    }

    void handle(const httplib::Request& req, httplib::Response& res, std::string body) {
        write_response(service.handle(to_request(req, std::move(body))), res);
    }

    // Bodies are read here, bounded by max_body_bytes whatever their transfer encoding, so an oversized body is
    // never buffered whole.
    void handle_with_body(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
        if (req.is_multipart_form_data()) {
            reader([](const httplib::MultipartFormData&) { return false; }, [](const char*, size_t) { return false; });
            res.set_header("Connection", "close");
            write_response(service.transport_error(req.method, 400, "multipart bodies are not accepted; send JSON"),
                           res);
            return;
        }
        std::string body;
        bool too_large = false;
        const auto max = static_cast<size_t>(options.max_body_bytes);
        bool ok = reader([&](const char* data, size_t n) {
            if (body.size() + n > max) {
                too_large = true;
                return false;
            }
            body.append(data, n);
            return true;
        });
        if (!ok) {
            const int status = too_large || res.status == 413 ? 413 : 400;
            res.set_header("Connection", "close");
            write_response(body_error(req, status), res);
            return;
        }
        handle(req, res, std::move(body));
    }
};

HttpServer::HttpServer(ApiService& service, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(service, options)) {
    httplib::Server& svr = impl_->server;
    Impl* impl = impl_.get();
    const int threads = std::max(1, options.threads);
    svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    svr.set_payload_max_length(static_cast<size_t>(std::max<std::int64_t>(0, options.max_body_bytes)));
    // Keep-alive: cpp-httplib serves a connection on one pool thread for its whole life, up to
    // keep_alive_max_requests requests or keep_alive_timeout_s of idleness (see HttpServerOptions). The library's
    // compiled-in count (5) made every client reconnect after 5 requests.
    svr.set_keep_alive_max_count(static_cast<size_t>(std::max(1, options.keep_alive_max_requests)));
    svr.set_keep_alive_timeout(std::max(1, options.keep_alive_timeout_s));
    // TCP_NODELAY: the response goes out in more than one write (headers, then body); with Nagle's algorithm the
    // second write waits for the ACK of the first, which the client delays (~40 ms) on a reused keep-alive
    // connection: 25-40 requests/s per connection. In cpp-httplib 0.11 set_tcp_nodelay applies to the listening
    // socket, and Linux copies TCP_NODELAY from it to every accepted socket.
    svr.set_tcp_nodelay(true);
    // SO_REUSEADDR only: the library default also sets SO_REUSEPORT, which would let two servers share a port.
    svr.set_socket_options([impl](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        impl->listen_socket = sock;
    });
    const std::string any = ".*";
    auto plain = [impl](const httplib::Request& req, httplib::Response& res) { impl->handle(req, res, req.body); };
    auto with_body = [impl](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
        impl->handle_with_body(req, res, reader);
    };
    svr.Get(any, plain);
    svr.Options(any, plain);
    svr.Delete(any, plain);
    svr.Post(any, with_body);
    svr.Put(any, with_body);
    svr.Patch(any, with_body);
    svr.Delete(any, with_body);
    svr.set_exception_handler([impl](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            log::error("{} {}: exception in the HTTP layer: {}", req.method, req.path.substr(0, 256), e.what());
        } catch (...) {
            log::error("{} {}: unknown exception in the HTTP layer", req.method, req.path.substr(0, 256));
        }
        write_response(impl->service.transport_error(req.method, 500, "internal error while handling the request"),
                       res);
    });
    // Called for every response with status >= 400; fills in the error body when the transport produced the error.
    svr.set_error_handler(
        httplib::Server::HandlerWithResponse([impl](const httplib::Request& req, httplib::Response& res) {
            // Ranges parsed before an error (a Range header with an invalid part) would cut the error body into
            // parts; the Request object is cpp-httplib's non-const local, so clearing them is well defined.
            const_cast<httplib::Request&>(req).ranges.clear();
            if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
            const int status = res.status;
            // An error of the transport itself (the request could not be read or parsed): what follows on the
            // connection cannot be trusted, so it is closed after this answer.
            res.set_header("Connection", "close");
            if (t_connection != nullptr) t_connection->request_close();
            if (current_read_limit() != ReadLimit::kNone) {
                write_response(impl->body_error(req, status), res);
                return httplib::Server::HandlerResponse::Handled;
            }
            write_response(impl->service.transport_error(req.method, status, reason_for(status)), res);
            return httplib::Server::HandlerResponse::Handled;
        }));
}

HttpServer::~HttpServer() = default;

int effective_max_connections(const HttpServerOptions& options) {
    const int threads = std::max(1, options.threads);
    if (options.max_connections > 0) return std::min(options.max_connections, threads);
    return std::max(1, threads - std::max(1, threads / 8));
}

Result<int> HttpServer::bind(const std::string& host, int port) {
    int bound = port;
    if (port == 0) {
        bound = impl_->server.bind_to_any_port(host);
        if (bound < 0) return Status::io_error("cannot listen on " + host + " (any port)");
    } else if (!impl_->server.bind_to_port(host, port)) {
        return Status::io_error("cannot listen on " + host + ":" + std::to_string(port) +
                                " (address in use or not local?)");
    }
    // The library listens with a backlog of 5 (compiled in): a burst of new connections (hundreds of clients
    // starting at once) overflows it and the kernel drops SYNs, which clients retry only after a second. Linux
    // lets listen() be called again on a listening socket to change the backlog.
    if (impl_->listen_socket != INVALID_SOCKET && ::listen(impl_->listen_socket, SOMAXCONN) != 0) {
        log::warn("could not raise the listen backlog: {}", std::strerror(errno));
    }
    return bound;
}

Status HttpServer::serve() {
    if (impl_->stop_requested.load()) return Status::ok();
    if (!impl_->server.listen_after_bind()) {
        if (impl_->stop_requested.load()) return Status::ok();
        return Status::io_error("the HTTP server stopped unexpectedly");
    }
    return Status::ok();
}

void HttpServer::stop() {
    impl_->stop_requested.store(true);
    impl_->server.stop();
}

}  // namespace kasten::api
