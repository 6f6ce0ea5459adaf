#include "api/http/connection_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace kasten::api {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A connected pair of stream sockets: server() is read through a ConnectionSocket, client() is the peer.
class SocketPair {
  public:
    SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0); }
    ~SocketPair() {
        for (int fd : fds_) {
            if (fd >= 0) ::close(fd);
        }
    }
    int server() const { return fds_[0]; }
    int client() const { return fds_[1]; }
    void send(const std::string& s) const {
        ASSERT_EQ(::send(fds_[1], s.data(), s.size(), MSG_NOSIGNAL), (ssize_t)s.size());
    }
    void close_client() {
        ::close(fds_[1]);
        fds_[1] = -1;
    }

  private:
    int fds_[2] = {-1, -1};
};

ConnectionTimeouts short_timeouts() {
    ConnectionTimeouts t;
    t.idle = 1s;
    t.header = 1s;
    t.body = 1s;
    t.io = 5s;
    t.max_header_bytes = 1024;
    return t;
}

// Reads one byte at a time (as cpp-httplib reads request lines and headers) until read() fails or returns 0.
ssize_t read_bytewise(ConnectionSocket& s, std::string& got) {
    for (;;) {
        char c;
        const ssize_t n = s.read(&c, 1);
        if (n <= 0) return n;
        got.push_back(c);
    }
}

TEST(ConnectionSocketTest, AClientTricklingHeadersIsCutAtTheHeaderDeadline) {
    SocketPair pair;
    ConnectionSocket socket(pair.server(), short_timeouts());
    std::atomic<bool> stop{false};
    // One byte every 100 ms: far faster than the 5 s io timeout, so only the deadline can end the read.
    std::thread trickle([&] {
        for (int i = 0; i < 60 && !stop.load(); ++i) {
            ::send(pair.client(), "x", 1, MSG_NOSIGNAL);
            std::this_thread::sleep_for(100ms);
        }
    });
    ASSERT_TRUE(socket.wait_for_request(nullptr));
    const auto start = Clock::now();
    std::string got;
    EXPECT_EQ(read_bytewise(socket, got), -1);
    const auto took = Clock::now() - start;
    stop.store(true);
    trickle.join();
    EXPECT_EQ(socket.limit_hit(), ReadLimit::kHeaderDeadline);
    EXPECT_GE(took, 900ms);
    EXPECT_LT(took, 4s);
    EXPECT_FALSE(got.empty());
}

TEST(ConnectionSocketTest, TheBodyDeadlineStartsAfterTheHeaders) {
    SocketPair pair;
    ConnectionSocket socket(pair.server(), short_timeouts());
    pair.send("GET / HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(socket.wait_for_request(nullptr));
    std::string got;
    char buf[64];
    ssize_t n = socket.read(buf, sizeof buf);
    ASSERT_GT(n, 0);
    socket.headers_done();
    const auto start = Clock::now();
    n = socket.read(buf, sizeof buf);  // no body byte comes
    EXPECT_EQ(n, -1);
    EXPECT_EQ(socket.limit_hit(), ReadLimit::kBodyDeadline);
    EXPECT_GE(Clock::now() - start, 900ms);
    EXPECT_LT(Clock::now() - start, 4s);
}

TEST(ConnectionSocketTest, HeadersOverTheByteLimitAreRefused) {
    SocketPair pair;
    ConnectionSocket socket(pair.server(), short_timeouts());
    pair.send(std::string(2000, 'h'));
    ASSERT_TRUE(socket.wait_for_request(nullptr));
    std::string got;
    EXPECT_EQ(read_bytewise(socket, got), -1);
    EXPECT_EQ(socket.limit_hit(), ReadLimit::kHeaderTooLarge);
    EXPECT_EQ(got.size(), 1024u);
}

TEST(ConnectionSocketTest, APipelinedRequestIsKeptForTheNextWait) {
    SocketPair pair;
    ConnectionSocket socket(pair.server(), short_timeouts());
    pair.send("AB");
    ASSERT_TRUE(socket.wait_for_request(nullptr));
    char c;
    ASSERT_EQ(socket.read(&c, 1), 1);
    EXPECT_EQ(c, 'A');
    socket.request_done();
    ASSERT_TRUE(socket.wait_for_request(nullptr));  // 'B' is buffered: no wait
    ASSERT_EQ(socket.read(&c, 1), 1);
    EXPECT_EQ(c, 'B');
    EXPECT_EQ(socket.limit_hit(), ReadLimit::kNone);
}

TEST(ConnectionSocketTest, AnIdleConnectionEndsAfterTheIdleTimeoutOrWhenStopping) {
    SocketPair pair;
    ConnectionSocket socket(pair.server(), short_timeouts());
    auto start = Clock::now();
    EXPECT_FALSE(socket.wait_for_request(nullptr));
    EXPECT_GE(Clock::now() - start, 900ms);
    start = Clock::now();
    EXPECT_FALSE(socket.wait_for_request([] { return true; }));
    EXPECT_LT(Clock::now() - start, 500ms);
}

TEST(ConnectionSocketTest, EndOfStreamAndWrites) {
    SocketPair pair;
    ConnectionSocket socket(pair.server(), short_timeouts());
    EXPECT_TRUE(socket.write_all("hello"));
    EXPECT_TRUE(socket.wrote());
    char buf[16];
    ASSERT_EQ(::recv(pair.client(), buf, sizeof buf, 0), 5);
    EXPECT_EQ(std::string(buf, 5), "hello");
    pair.close_client();
    ASSERT_TRUE(socket.wait_for_request(nullptr));  // readable: the end of stream
    EXPECT_EQ(socket.read(buf, sizeof buf), 0);
    EXPECT_FALSE(socket.writable());
    EXPECT_EQ(socket.write("x", 1), -1);
}

}  // namespace
}  // namespace kasten::api
