#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kasten::api {

// How long one HTTP connection may take for each part of a request. The header and body deadlines bound the whole
// part, however the client spreads its bytes: a client that sends one byte a second cannot keep a request open past
// them (a per-recv() timeout never fires for such a client).
struct ConnectionTimeouts {
    std::chrono::milliseconds idle{5000};      // wait for the first byte of the next request (keep-alive)
    std::chrono::milliseconds header{10000};   // request line and headers, counted from their first byte
    std::chrono::milliseconds body{60000};     // the body, counted from the end of the headers
    std::chrono::milliseconds io{5000};        // one read or write that makes no progress
    std::size_t max_header_bytes = 64 * 1024;  // request line and headers together
};

// Why reading a request failed, when a limit of ConnectionTimeouts ended it.
enum class ReadLimit { kNone, kHeaderDeadline, kBodyDeadline, kHeaderTooLarge };

// Buffered reads and writes on one accepted TCP socket, with the phases of a request (idle → headers → body) and
// their deadlines. Does not own or close the socket. Used by one thread at a time.
class ConnectionSocket {
  public:
    ConnectionSocket(int fd, ConnectionTimeouts timeouts);
    ConnectionSocket(const ConnectionSocket&) = delete;
    ConnectionSocket& operator=(const ConnectionSocket&) = delete;

    int fd() const { return fd_; }
    const ConnectionTimeouts& timeouts() const { return timeouts_; }

    // Waits (at most timeouts.idle; `stopping` is polled every 100 ms and ends the wait when true) until the next
    // request's first byte can be read, then starts its header phase. False when the wait ended without data; true
    // also when the peer closed or failed (the next read reports it).
    bool wait_for_request(const std::function<bool()>& stopping);
    // The headers were read: the body deadline starts now.
    void headers_done();
    // The request was answered: no read deadline until the next wait_for_request().
    void request_done();

    // Like recv(): > 0 bytes read, 0 at end of stream, -1 on an error, a timeout, or a limit (see limit_hit()).
    ssize_t read(char* out, std::size_t size);
    // Like send() (never raises SIGPIPE): bytes written, or -1 on an error or when the socket accepted nothing for
    // timeouts.io.
    ssize_t write(const char* data, std::size_t size);
    // Writes everything or fails.
    bool write_all(std::string_view data);
    // Whether a write can make progress within timeouts.io and the peer has not closed the connection.
    bool writable() const;
    // Whether bytes are buffered or arrive within timeouts.io.
    bool readable() const;

    // The limit that ended the current request's reading, kNone if none did.
    ReadLimit limit_hit() const { return limit_; }
    // Whether anything was written since the current request's wait_for_request().
    bool wrote() const { return wrote_; }
    // The connection is to be closed after the current response (e.g. the request could not be parsed, so what
    // follows it on the connection cannot be trusted).
    void request_close() { close_requested_ = true; }
    bool close_requested() const { return close_requested_; }

    // Discards what the peer has sent so far (without waiting), so that closing does not reset the connection
    // before the peer reads a response.
    void discard_pending();
    // Ends the sending side and discards what the peer still sends until it closes, at most `max_wait` and 64 KiB:
    // a response written just before is then delivered rather than cut by a reset.
    void close_gracefully(std::chrono::milliseconds max_wait);

    // The peer's IP address as text ("127.0.0.1", "::1"; IPv4-mapped IPv6 addresses as IPv4), "" when unknown.
    static std::string peer_address(int fd);
    // IP address and port of either end of the socket ("" and 0 when unknown).
    static void address_of(int fd, bool peer, std::string& ip, int& port);

  private:
    enum class Phase { kIdle, kHeaders, kBody };
    using Clock = std::chrono::steady_clock;

    // Refills the buffer; false (with the result in `result`) on end of stream, error, timeout or deadline.
    bool fill(ssize_t& result);

    int fd_;
    ConnectionTimeouts timeouts_;
    Phase phase_ = Phase::kIdle;
    Clock::time_point deadline_{};
    std::size_t header_bytes_ = 0;
    ReadLimit limit_ = ReadLimit::kNone;
    bool wrote_ = false;
    bool close_requested_ = false;
    std::vector<char> buffer_;
    std::size_t offset_ = 0;  // next unread byte in buffer_
    std::size_t length_ = 0;  // bytes in buffer_
};

}  // namespace kasten::api
