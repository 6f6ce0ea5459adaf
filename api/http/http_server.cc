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

#include <httplib.h>

#include "common/log.h"

namespace kasten::api {
namespace {

const char* reason_for(int status) {
    switch (status) {
        case 400:
            return "the request could not be read (malformed HTTP)";
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
    httplib::Server server;
    std::atomic<bool> stop_requested{false};
    socket_t listen_socket = INVALID_SOCKET;  // the last socket handed to the socket-options callback

    Impl(ApiService& s, HttpServerOptions o) : service(s), options(o) {}

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
            write_response(service.transport_error(req.method, status, reason_for(status)), res);
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
            if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
            const int status = res.status;
            write_response(impl->service.transport_error(req.method, status, reason_for(status)), res);
            return httplib::Server::HandlerResponse::Handled;
        }));
}

HttpServer::~HttpServer() = default;

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
