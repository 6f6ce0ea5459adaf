#include "api/cli/http_load_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace kasten::api {
namespace {

constexpr size_t kMaxLine = 64 * 1024;
constexpr size_t kMaxHeaders = 200;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool has_token(const std::string& header_value, std::string_view token) {
    const std::string v = lower(header_value);
    size_t start = 0;
    while (start <= v.size()) {
        size_t comma = v.find(',', start);
        if (comma == std::string::npos) comma = v.size();
        if (trim(std::string_view(v).substr(start, comma - start)) == token) return true;
        start = comma + 1;
    }
    return false;
}

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

Result<HttpEndpoint> parse_http_url(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    if (url.substr(0, kScheme.size()) != kScheme) {
        return Status::invalid_argument("expected http://HOST[:PORT], got '" + std::string(url) + "'");
    }
    std::string_view rest = url.substr(kScheme.size());
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.empty() || rest.find('/') != std::string_view::npos) {
        return Status::invalid_argument("expected http://HOST[:PORT] without a path, got '" + std::string(url) + "'");
    }
    HttpEndpoint ep;
    std::string_view port_text;
    if (rest.front() == '[') {
        const size_t close = rest.find(']');
        if (close == std::string_view::npos)
            return Status::invalid_argument("unclosed '[' in '" + std::string(url) + "'");
        ep.host = std::string(rest.substr(1, close - 1));
        rest.remove_prefix(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return Status::invalid_argument("bad URL '" + std::string(url) + "'");
            port_text = rest.substr(1);
        }
    } else {
        const size_t colon = rest.rfind(':');
        ep.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
    }
    ep.port = 80;
    if (!port_text.empty() || rest.find(':') != std::string_view::npos) {
        int port = 0;
        if (port_text.empty() || port_text.size() > 5)
            return Status::invalid_argument("bad port in '" + std::string(url) + "'");
        for (char c : port_text) {
            if (c < '0' || c > '9') return Status::invalid_argument("bad port in '" + std::string(url) + "'");
            port = port * 10 + (c - '0');
        }
        if (port < 1 || port > 65535) return Status::invalid_argument("bad port in '" + std::string(url) + "'");
        ep.port = port;
    }
    if (ep.host.empty()) return Status::invalid_argument("no host in '" + std::string(url) + "'");
    return ep;
}

HttpLoadClient::HttpLoadClient(std::string host, int port, HttpLoadClientOptions options)
    : host_(std::move(host)), port_(port), options_(options) {}

HttpLoadClient::~HttpLoadClient() {
    close();
}

void HttpLoadClient::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
    pos_ = 0;
}

Status HttpLoadClient::connect() {
    close();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addrs = nullptr;
    const std::string port = std::to_string(port_);
    if (int rc = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &addrs); rc != 0) {
        return Status::io_error("cannot resolve " + host_ + ": " + ::gai_strerror(rc));
    }
    timeval tv{};
    tv.tv_sec = options_.timeout_ms / 1000;
    tv.tv_usec = static_cast<suseconds_t>((options_.timeout_ms % 1000) * 1000);
    std::string last_error = "no address";
    for (addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
        int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last_error = errno_text("socket");
            continue;
        }
        // SO_SNDTIMEO also bounds connect() on Linux.
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int yes = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        int rc;
        do {
            rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
        } while (rc != 0 && errno == EINTR);
        if (rc == 0) {
            fd_ = fd;
            break;
        }
        last_error = errno_text("connect");
        ::close(fd);
    }
    ::freeaddrinfo(addrs);
    if (fd_ < 0) return Status::io_error("cannot connect to " + host_ + ":" + port + ": " + last_error);
    ++connects_;
    return Status::ok();
}

Status HttpLoadClient::fill(bool* eof) {
    *eof = false;
    if (pos_ > 0 && pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    }
    char tmp[65536];
    for (;;) {
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n > 0) {
            buf_.append(tmp, static_cast<size_t>(n));
            return Status::ok();
        }
        if (n == 0) {
            *eof = true;
            return Status::ok();
        }
        if (errno == EINTR) continue;
        last_errno_ = errno;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return Status::io_error("no answer within " + std::to_string(options_.timeout_ms) + " ms");
        }
        return Status::io_error(errno_text("recv"));
    }
}

Result<std::string> HttpLoadClient::read_line() {
    for (;;) {
        const size_t nl = buf_.find("\r\n", pos_);
        if (nl != std::string::npos) {
            std::string line = buf_.substr(pos_, nl - pos_);
            pos_ = nl + 2;
            return line;
        }
        if (buf_.size() - pos_ > kMaxLine) return Status::io_error("response line longer than 64 KiB");
        bool eof = false;
        KASTEN_RETURN_IF_ERROR(fill(&eof));
        if (eof) return Status::io_error("connection closed in the middle of a response line");
    }
}

Status HttpLoadClient::read_exact(size_t n, std::string* out) {
    while (buf_.size() - pos_ < n) {
        bool eof = false;
        KASTEN_RETURN_IF_ERROR(fill(&eof));
        if (eof) return Status::io_error("connection closed in the middle of a response body");
    }
    out->append(buf_, pos_, n);
    pos_ += n;
    return Status::ok();
}

Result<HttpClientResponse> HttpLoadClient::exchange(const std::string& request, bool head, bool* retryable) {
    *retryable = false;
    size_t sent = 0;
    while (sent < request.size()) {
        ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            *retryable = errno == EPIPE || errno == ECONNRESET;
            return Status::io_error(errno_text("send"));
        }
        sent += static_cast<size_t>(n);
    }
    // Wait for the first byte: an end of stream (or a reset) here means the server closed the connection without
    // reading the request. A timeout is not retryable: the server may be working on it.
    if (pos_ == buf_.size()) {
        bool eof = false;
        last_errno_ = 0;
        Status st = fill(&eof);
        if (!st.is_ok()) {
            *retryable = last_errno_ == ECONNRESET;
            return st;
        }
        if (eof) {
            *retryable = true;
            return Status::io_error("connection closed before the response");
        }
    }

    HttpClientResponse resp;
    bool http10 = false;
    for (;;) {  // skips interim 1xx responses
        KASTEN_ASSIGN_OR_RETURN(std::string status_line, read_line());
        // "HTTP/1.1 200 OK"
        if (status_line.size() < 12 || status_line.compare(0, 7, "HTTP/1.") != 0 || status_line[8] != ' ' ||
            !std::isdigit(static_cast<unsigned char>(status_line[9])) ||
            !std::isdigit(static_cast<unsigned char>(status_line[10])) ||
            !std::isdigit(static_cast<unsigned char>(status_line[11]))) {
            return Status::io_error("malformed status line '" + status_line.substr(0, 80) + "'");
        }
        http10 = status_line[7] == '0';
        resp.status = std::stoi(status_line.substr(9, 3));
        resp.headers.clear();
        for (size_t count = 0;; ++count) {
            if (count > kMaxHeaders) return Status::io_error("more than 200 response headers");
            KASTEN_ASSIGN_OR_RETURN(std::string line, read_line());
            if (line.empty()) break;
            const size_t colon = line.find(':');
            if (colon == std::string::npos || colon == 0) {
                return Status::io_error("malformed header line '" + line.substr(0, 80) + "'");
            }
            resp.headers[lower(trim(std::string_view(line).substr(0, colon)))] =
                std::string(trim(std::string_view(line).substr(colon + 1)));
        }
        if (resp.status >= 200 || resp.status == 101) break;
    }

    bool keep = http10 ? false : true;
    if (auto it = resp.headers.find("connection"); it != resp.headers.end()) {
        if (has_token(it->second, "close")) keep = false;
        if (http10 && has_token(it->second, "keep-alive")) keep = true;
    }
    auto te = resp.headers.find("transfer-encoding");
    auto cl = resp.headers.find("content-length");
    if (head || resp.status == 204 || resp.status == 304) {
        // no body
    } else if (te != resp.headers.end() && has_token(te->second, "chunked")) {
        resp.chunked = true;
        for (;;) {
            KASTEN_ASSIGN_OR_RETURN(std::string size_line, read_line());
            const std::string hex(trim(std::string_view(size_line).substr(0, size_line.find(';'))));
            if (hex.empty() || hex.size() > 15 ||
                hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
                return Status::io_error("malformed chunk size '" + size_line.substr(0, 40) + "'");
            }
            const size_t size = std::stoull(hex, nullptr, 16);
            if (size == 0) {
                for (;;) {  // trailers, up to the empty line
                    KASTEN_ASSIGN_OR_RETURN(std::string trailer, read_line());
                    if (trailer.empty()) break;
                }
                break;
            }
            KASTEN_RETURN_IF_ERROR(read_exact(size, &resp.body));
            KASTEN_ASSIGN_OR_RETURN(std::string crlf, read_line());
            if (!crlf.empty()) return Status::io_error("chunk not followed by CRLF");
        }
    } else if (cl != resp.headers.end()) {
        const std::string& v = cl->second;
        if (v.empty() || v.size() > 15 || v.find_first_not_of("0123456789") != std::string::npos) {
            return Status::io_error("malformed Content-Length '" + v.substr(0, 40) + "'");
        }
        KASTEN_RETURN_IF_ERROR(read_exact(std::stoull(v), &resp.body));
    } else {
        // The body ends with the connection.
        resp.body.append(buf_, pos_, std::string::npos);
        pos_ = buf_.size();
        for (;;) {
            bool eof = false;
            KASTEN_RETURN_IF_ERROR(fill(&eof));
            if (eof) break;
            resp.body.append(buf_, pos_, std::string::npos);
            pos_ = buf_.size();
        }
        keep = false;
    }
    if (!keep) {
        close();
    } else {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    return resp;
}

Result<HttpClientResponse> HttpLoadClient::request(std::string_view method, std::string_view target,
                                                   std::string_view body, std::string_view content_type) {
    std::string req;
    req.reserve(160 + target.size() + body.size());
    req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host_);
    req.append(":").append(std::to_string(port_)).append("\r\nConnection: keep-alive\r\n");
    const bool with_body = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
    if (with_body) {
        if (!body.empty()) req.append("Content-Type: ").append(content_type).append("\r\n");
        req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    req.append("\r\n").append(body);
    const bool head = method == "HEAD";

    const bool reused = connected();
    if (!reused) KASTEN_RETURN_IF_ERROR(connect());
    bool retryable = false;
    Result<HttpClientResponse> r = exchange(req, head, &retryable);
    if (!r.is_ok() && reused && retryable) {
        // The server closed the idle connection before reading this request: send it again on a new one.
        close();
        ++retries_;
        KASTEN_RETURN_IF_ERROR(connect());
        r = exchange(req, head, &retryable);
    }
    if (!r.is_ok()) close();
    return r;
}

}  // namespace kasten::api
