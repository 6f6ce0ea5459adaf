#include "api/http/connection_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace kasten::api {
namespace {

constexpr std::size_t kBufferBytes = 4096;
constexpr std::chrono::milliseconds kStopPollInterval{100};

// poll() for one socket; the timeout is rounded up to whole milliseconds. Retries on EINTR.
int poll_one(int fd, short events, std::chrono::steady_clock::duration timeout) {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(std::max(timeout, timeout.zero()));
    pollfd p{fd, events, 0};
    for (;;) {
        const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(ms.count(), 1 << 30)));
        if (r < 0 && errno == EINTR) continue;
        return r;
    }
}

}  // namespace

ConnectionSocket::ConnectionSocket(int fd, ConnectionTimeouts timeouts)
    : fd_(fd), timeouts_(timeouts), buffer_(kBufferBytes) {}

bool ConnectionSocket::wait_for_request(const std::function<bool()>& stopping) {
    phase_ = Phase::kIdle;
    limit_ = ReadLimit::kNone;
    wrote_ = false;
    bool ready = offset_ < length_;  // a pipelined request is already buffered
    const auto until = Clock::now() + timeouts_.idle;
    while (!ready) {
        if (stopping && stopping()) return false;
        const auto remaining = until - Clock::now();
        if (remaining <= Clock::duration::zero()) return false;
        const int r = poll_one(fd_, POLLIN, std::min<Clock::duration>(remaining, kStopPollInterval));
        if (r < 0) return false;
        ready = r > 0;
    }
    phase_ = Phase::kHeaders;
    header_bytes_ = 0;
    deadline_ = Clock::now() + timeouts_.header;
    return true;
}

void ConnectionSocket::headers_done() {
    phase_ = Phase::kBody;
    deadline_ = Clock::now() + timeouts_.body;
}

void ConnectionSocket::request_done() {
    phase_ = Phase::kIdle;
}

bool ConnectionSocket::fill(ssize_t& result) {
    for (;;) {
        Clock::duration wait = timeouts_.io;
        bool until_deadline = false;
        if (phase_ != Phase::kIdle) {
            const auto remaining = deadline_ - Clock::now();
            if (remaining <= Clock::duration::zero()) {
                limit_ = phase_ == Phase::kHeaders ? ReadLimit::kHeaderDeadline : ReadLimit::kBodyDeadline;
                result = -1;
                return false;
            }
            until_deadline = remaining < wait;
            wait = std::min(wait, remaining);
        }
        const int r = poll_one(fd_, POLLIN, wait);
        if (r < 0) {
            result = -1;
            return false;
        }
        if (r == 0) {
            if (until_deadline) continue;  // the deadline is reported above
            result = -1;                   // no byte within timeouts.io
            return false;
        }
        const ssize_t n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (n <= 0) {
            result = n;
            return false;
        }
        offset_ = 0;
        length_ = static_cast<std::size_t>(n);
        return true;
    }
}

ssize_t ConnectionSocket::read(char* out, std::size_t size) {
    if (size == 0) return 0;
    if (limit_ != ReadLimit::kNone) return -1;
    if (offset_ >= length_) {
        ssize_t result = -1;
        if (!fill(result)) return result;
    }
    std::size_t n = std::min(size, length_ - offset_);
    if (phase_ == Phase::kHeaders) {
        if (header_bytes_ + n > timeouts_.max_header_bytes) {
            limit_ = ReadLimit::kHeaderTooLarge;
            return -1;
        }
        header_bytes_ += n;
    }
    std::memcpy(out, buffer_.data() + offset_, n);
    offset_ += n;
    return static_cast<ssize_t>(n);
}

ssize_t ConnectionSocket::write(const char* data, std::size_t size) {
    if (size == 0) return 0;
    for (;;) {
        const int r = poll_one(fd_, POLLOUT, timeouts_.io);
        if (r <= 0) return -1;
        const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (n > 0) wrote_ = true;
        return n;
    }
}

bool ConnectionSocket::write_all(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = write(data.data(), data.size());
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool ConnectionSocket::writable() const {
    if (poll_one(fd_, POLLOUT, timeouts_.io) <= 0) return false;
    if (poll_one(fd_, POLLIN, Clock::duration::zero()) == 0) return true;  // nothing to read: still open
    char c;
    return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;  // 0 = closed by the peer, -1 = failed
}

bool ConnectionSocket::readable() const {
    return offset_ < length_ || poll_one(fd_, POLLIN, timeouts_.io) > 0;
}

void ConnectionSocket::discard_pending() {
    offset_ = length_ = 0;
    char sink[4096];
    for (int i = 0; i < 16; ++i) {
        if (::recv(fd_, sink, sizeof sink, MSG_DONTWAIT) <= 0) return;
    }
}

void ConnectionSocket::close_gracefully(std::chrono::milliseconds max_wait) {
    ::shutdown(fd_, SHUT_WR);
    const auto until = Clock::now() + max_wait;
    char sink[4096];
    std::size_t discarded = 0;
    while (discarded < 64 * 1024) {
        const auto remaining = until - Clock::now();
        if (remaining <= Clock::duration::zero() || poll_one(fd_, POLLIN, remaining) <= 0) return;
        const ssize_t n = ::recv(fd_, sink, sizeof sink, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (n <= 0) return;
        discarded += static_cast<std::size_t>(n);
    }
}

void ConnectionSocket::address_of(int fd, bool peer, std::string& ip, int& port) {
    ip.clear();
    port = 0;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                       : ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    if (r != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
        if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) == nullptr) return;
        port = ntohs(in->sin_port);
    } else if (addr.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            in_addr v4{};
            std::memcpy(&v4, in6->sin6_addr.s6_addr + 12, sizeof v4);
            if (::inet_ntop(AF_INET, &v4, text, sizeof text) == nullptr) return;
        } else if (::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text) == nullptr) {
            return;
        }
        port = ntohs(in6->sin6_port);
    } else {
        return;
    }
    ip = text;
}

std::string ConnectionSocket::peer_address(int fd) {
    std::string ip;
    int port = 0;
    address_of(fd, /*peer=*/true, ip, port);
    return ip;
}

}  // namespace kasten::api
