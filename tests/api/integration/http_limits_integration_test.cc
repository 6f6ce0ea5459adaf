// `kasten serve` against hostile HTTP clients, over raw TCP: Range headers that would multiply a response, clients
// that send their request a byte at a time, more connections than the server will serve, oversized request heads,
// and /metrics behind the API keys. Loopback has a whole /8: connections bound to 127.0.0.2, 127.0.0.3, ... are
// distinct client addresses to the server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/api/integration/http_client.h"
#include "tests/api/integration/kasten_process.h"

namespace kasten::api::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct RawResponse {
    int status = 0;                              // 0 = no complete status line
    std::map<std::string, std::string> headers;  // names lower-case
    std::string body;
    size_t bytes = 0;     // everything received, head included
    bool closed = false;  // the server closed (or reset) the connection

    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

// One TCP connection to 127.0.0.1:port from a chosen loopback source address.
class RawConnection {
  public:
    RawConnection(int port, const std::string& source = "127.0.0.1") {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in src{};
        src.sin_family = AF_INET;
        ::inet_pton(AF_INET, source.c_str(), &src.sin_addr);
        sockaddr_in dst{};
        dst.sin_family = AF_INET;
        dst.sin_port = htons(static_cast<uint16_t>(port));
        ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
        connected_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0 &&
                     ::connect(fd_, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0;
    }
    ~RawConnection() { close(); }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool connected() const { return connected_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    bool send(const std::string& data) {
        std::lock_guard<std::mutex> lock(mu_);
        return fd_ >= 0 && ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
    }

    // Reads until the peer closes or `timeout` passes; the result holds everything received so far.
    RawResponse read_until_closed(std::chrono::milliseconds timeout) { return read(timeout, /*one_response=*/false); }
    // Reads until a whole response (head and Content-Length body) has arrived, the peer closes or `timeout` passes;
    // the result holds everything received so far (status 0 while the status line is incomplete).
    RawResponse read_response(std::chrono::milliseconds timeout) { return read(timeout, /*one_response=*/true); }

  private:
    RawResponse read(std::chrono::milliseconds timeout, bool one_response) {
        RawResponse r;
        r.closed = closed_;
        std::string& data = received_;
        const auto until = Clock::now() + timeout;
        while (!closed_ && Clock::now() < until) {
            if (one_response && complete(data, r)) return r;
            pollfd p{fd_, POLLIN, 0};
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
            if (::poll(&p, 1, static_cast<int>(std::max<long long>(1, left))) <= 0) continue;
            char buf[65536];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                closed_ = r.closed = true;
                break;
            }
            data.append(buf, static_cast<size_t>(n));
        }
        complete(data, r);
        return r;
    }

    // Parses `data` into r; true when it holds a whole response with a Content-Length body.
    static bool complete(const std::string& data, RawResponse& r) {
        r.bytes = data.size();
        const size_t head_end = data.find("\r\n\r\n");
        if (head_end == std::string::npos) return false;
        r.headers.clear();
        size_t line_end = data.find("\r\n");
        const std::string status_line = data.substr(0, line_end);
        if (status_line.rfind("HTTP/1.1 ", 0) == 0) r.status = std::atoi(status_line.c_str() + 9);
        for (size_t pos = line_end + 2; pos < head_end;) {
            const size_t end = data.find("\r\n", pos);
            const std::string line = data.substr(pos, end - pos);
            const size_t colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = line.substr(0, colon);
                std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
                r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
            }
            pos = end + 2;
        }
        r.body = data.substr(head_end + 4);
        auto it = r.headers.find("content-length");
        return it != r.headers.end() && r.body.size() >= std::stoul(it->second);
    }

    int fd_ = -1;
    bool connected_ = false;
    bool closed_ = false;
    std::string received_;  // everything read so far
    std::mutex mu_;
};

// Sends one byte on each of the connections every 200 ms until destroyed: a slowloris client, never idle long
// enough for a per-recv() timeout (5 s) to end its request.
class Trickler {
  public:
    explicit Trickler(std::vector<RawConnection*> connections)
        : connections_(std::move(connections)), thread_([this] {
              while (!stop_.load()) {
                  for (RawConnection* c : connections_) c->send("X");
                  std::this_thread::sleep_for(200ms);
              }
          }) {}
    ~Trickler() {
        stop_.store(true);
        thread_.join();
    }

  private:
    std::vector<RawConnection*> connections_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

class HttpLimitsIntegrationTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }
};

std::string get_request(const std::string& target, const std::string& extra_headers = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: kasten\r\n" + extra_headers + "Connection: close\r\n\r\n";
}

// A request's whole answer (head and body) as the bytes that came back.
RawResponse fetch(int port, const std::string& request) {
    RawConnection c(port);
    EXPECT_TRUE(c.connected());
    EXPECT_TRUE(c.send(request));
    return c.read_until_closed(20s);
}

void expect_error_body(const RawResponse& r, int status, const std::string& type) {
    EXPECT_EQ(r.status, status) << r.body.substr(0, 300);
    json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body.substr(0, 300);
    EXPECT_EQ(j["error"]["code"], status);
    EXPECT_EQ(j["error"]["type"], type) << r.body;
}

// Finding: `Range: bytes=0-,0-,...` made the server send the whole response once per range (2,700 ranges: 2.31 GB
// for an 856 KB export), on every route, errors included. Ranges are now ignored: the answer is the whole
// response, once.
TEST_F(HttpLimitsIntegrationTest, RangeHeadersGetTheWholeResponseOnceOnEveryRoute) {
    TempDir dir("kasten-it-ranges");
    auto server = KastenServer::start(dir.path(), {"--notes", "off"});
    ASSERT_TRUE(server);
    TestClient client(server->port());
    ASSERT_EQ(client.post("/v1/cubes", R"({"id":"alice"})").status, 201);
    for (int i = 0; i < 20; ++i) {
        json add = {{"messages", {{{"role", "user"}, {"content", "turn " + std::to_string(i) + " about quokkas"}}}}};
        ASSERT_EQ(client.post("/v1/cubes/alice/memories", add.dump()).status, 201);
    }
    std::string many = "bytes=0-";
    for (int i = 1; i < 2000; ++i) many += ",0-";
    const std::string range = "Range: " + many + "\r\n";

    for (const std::string target : {"/v1/cubes/alice/export", "/v1/cubes/alice", "/openapi.json", "/metrics",
                                     "/v1/nothing", "/v1/cubes/nobody"}) {
        SCOPED_TRACE(target);
        const RawResponse plain = fetch(server->port(), get_request(target));
        const RawResponse ranged = fetch(server->port(), get_request(target, range));
        ASSERT_NE(plain.status, 0);
        EXPECT_EQ(ranged.status, plain.status);
        // /metrics grows by the requests in between; nothing else changes.
        EXPECT_LE(ranged.bytes, plain.bytes + 4096);
        EXPECT_EQ(ranged.headers.count("content-range"), 0u);
        EXPECT_EQ(ranged.header("content-type").find("multipart"), std::string::npos) << ranged.header("content-type");
        EXPECT_EQ(ranged.header("accept-ranges"), "none");
    }
    // One range is ignored too: the whole export, 200.
    const RawResponse plain = fetch(server->port(), get_request("/v1/cubes/alice/export"));
    const RawResponse one = fetch(server->port(), get_request("/v1/cubes/alice/export", "Range: bytes=0-9\r\n"));
    EXPECT_EQ(one.status, 200);
    EXPECT_EQ(one.body.size(), plain.body.size());
    EXPECT_TRUE(one.body == plain.body);
    // A Range header with an unparsable part (after 2000 good ones) is refused once, with kasten's error body.
    const RawResponse bad = fetch(server->port(), get_request("/v1/cubes/alice/export", "Range: " + many + ",5-1\r\n"));
    expect_error_body(bad, 416, "invalid_argument");
    EXPECT_LT(bad.bytes, 2048u);
}

// Finding: /metrics answered anyone (8 KB in, 17.8 MB out with ranges). With keys configured it needs one.
TEST_F(HttpLimitsIntegrationTest, MetricsNeedAKeyWhenKeysAreConfigured) {
    TempDir dir("kasten-it-metrics-key");
    const std::string key = "key-for-alice-1234";
    auto server = KastenServer::start(dir.path(), {"--api-keys", key + "=alice"});
    ASSERT_TRUE(server);
    TestClient anonymous(server->port());
    HttpReply refused = anonymous.get("/metrics");
    EXPECT_EQ(refused.status, 401) << refused.body;
    EXPECT_EQ(refused.json()["error"]["type"], "unauthenticated");
    EXPECT_EQ(refused.body.find("kasten_http_requests_total"), std::string::npos);
    EXPECT_EQ(anonymous.get("/healthz").status, 200);
    TestClient keyed(server->port(), key);
    HttpReply metrics = keyed.get("/metrics");
    EXPECT_EQ(metrics.status, 200) << metrics.body;
    EXPECT_NE(metrics.body.find("kasten_http_requests_total"), std::string::npos);
}

// Finding: a client sending its headers a byte at a time held its connection (and worker) indefinitely, since
// cpp-httplib's read timeout is per recv(). The header deadline ends it: 408, then the connection is closed.
TEST_F(HttpLimitsIntegrationTest, HeadersTrickledPastTheDeadlineAreAnswered408AndClosed) {
    TempDir dir("kasten-it-slow-headers");
    auto server = KastenServer::start(dir.path(), {"--header-timeout", "1"});
    ASSERT_TRUE(server);
    RawConnection slow(server->port());
    ASSERT_TRUE(slow.connected());
    ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\nHost: kasten\r\nX-Slow: "));
    const auto start = Clock::now();
    Trickler trickle({&slow});
    const RawResponse r = slow.read_until_closed(10s);
    const auto took = Clock::now() - start;
    EXPECT_TRUE(r.closed) << "still open after 10 s";
    EXPECT_LT(took, 6s);
    expect_error_body(r, 408, "invalid_argument");
}

// The same for a body sent a byte at a time after complete headers.
TEST_F(HttpLimitsIntegrationTest, ABodyTrickledPastTheDeadlineIsAnswered408AndClosed) {
    TempDir dir("kasten-it-slow-body");
    auto server = KastenServer::start(dir.path(), {"--body-timeout", "1"});
    ASSERT_TRUE(server);
    RawConnection slow(server->port());
    ASSERT_TRUE(slow.connected());
    ASSERT_TRUE(
        slow.send("POST /v1/cubes HTTP/1.1\r\nHost: kasten\r\nContent-Type: application/json\r\n"
                  "Content-Length: 100000\r\n\r\n{\"id\":\""));
    const auto start = Clock::now();
    Trickler trickle({&slow});
    const RawResponse r = slow.read_until_closed(10s);
    EXPECT_TRUE(r.closed) << "still open after 10 s";
    EXPECT_LT(Clock::now() - start, 6s);
    expect_error_body(r, 408, "invalid_argument");
}

// Finding: 8 slow connections made /healthz time out for everybody. With more slow connections from one address
// than the server has workers, a client from another address is still answered at once (the header deadline is
// long here, so only the per-address cap can be what keeps a worker free), and the slow address's connections
// over its cap get 503 with Retry-After.
TEST_F(HttpLimitsIntegrationTest, SlowClientsFromOneAddressDoNotLockOutOthers) {
    TempDir dir("kasten-it-slowloris");
    auto server = KastenServer::start(
        dir.path(), {"--threads", "4", "--max-connections-per-client", "2", "--header-timeout", "60"});
    ASSERT_TRUE(server);
    std::vector<std::unique_ptr<RawConnection>> attackers;
    std::vector<RawConnection*> raw;
    for (int i = 0; i < 6; ++i) {
        attackers.push_back(std::make_unique<RawConnection>(server->port(), "127.0.0.2"));
        ASSERT_TRUE(attackers.back()->connected());
        ASSERT_TRUE(attackers.back()->send("GET /healthz HTTP/1.1\r\nHost: kasten\r\nX-Slow: "));
        raw.push_back(attackers.back().get());
    }
    Trickler trickle(raw);
    std::this_thread::sleep_for(500ms);

    const auto start = Clock::now();
    RawConnection other(server->port(), "127.0.0.1");
    ASSERT_TRUE(other.connected());
    ASSERT_TRUE(other.send(get_request("/healthz")));
    const RawResponse health = other.read_response(10s);
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_LT(Clock::now() - start, 3s);

    // Four of the six are refused (the two admitted ones are still trickling, unanswered).
    std::vector<RawResponse> answers(attackers.size());
    int refused = 0;
    for (const auto until = Clock::now() + 10s; refused < 4 && Clock::now() < until;) {
        refused = 0;
        for (size_t i = 0; i < attackers.size(); ++i) {
            if (answers[i].status == 0) answers[i] = attackers[i]->read_response(50ms);
            if (answers[i].status != 0) ++refused;
        }
    }
    EXPECT_EQ(refused, 4);
    for (const RawResponse& r : answers) {
        if (r.status == 0) continue;
        expect_error_body(r, 503, "busy");
        EXPECT_EQ(r.header("retry-after"), "1");
        EXPECT_NE(r.body.find("max_connections_per_client 2"), std::string::npos) << r.body;
    }
}

// Over the total cap a connection is refused at once (503 busy, Retry-After) instead of waiting for a worker;
// a slot that frees up is given to the next connection.
TEST_F(HttpLimitsIntegrationTest, ConnectionsOverTheTotalCapAreRefusedAtOnce) {
    TempDir dir("kasten-it-total-cap");
    auto server = KastenServer::start(dir.path(), {"--threads", "8", "--max-connections", "3",
                                                   "--max-connections-per-client", "0", "--header-timeout", "60"});
    ASSERT_TRUE(server);
    std::vector<std::unique_ptr<RawConnection>> held;
    std::vector<RawConnection*> raw;
    for (const char* source : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) {
        held.push_back(std::make_unique<RawConnection>(server->port(), source));
        ASSERT_TRUE(held.back()->connected());
        ASSERT_TRUE(held.back()->send("GET /healthz HTTP/1.1\r\nHost: kasten\r\nX-Slow: "));
        raw.push_back(held.back().get());
    }
    {
        Trickler trickle(raw);
        std::this_thread::sleep_for(500ms);
        const auto start = Clock::now();
        RawConnection extra(server->port(), "127.0.0.5");
        ASSERT_TRUE(extra.connected());
        ASSERT_TRUE(extra.send(get_request("/healthz")));
        const RawResponse r = extra.read_until_closed(10s);
        EXPECT_LT(Clock::now() - start, 3s);
        expect_error_body(r, 503, "busy");
        EXPECT_EQ(r.header("retry-after"), "1");
        EXPECT_NE(r.body.find("max_connections 3"), std::string::npos) << r.body;
    }
    held[0]->close();
    // The server notices the closed connection at its next read; then the slot is free again.
    RawResponse after;
    for (const auto until = Clock::now() + 10s; Clock::now() < until;) {
        after = fetch(server->port(), get_request("/healthz"));
        if (after.status == 200) break;
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(after.status, 200) << after.body;
}

// Finding: 414 answered type "internal". Oversized request lines and heads are the client's doing.
TEST_F(HttpLimitsIntegrationTest, OversizedRequestLinesAndHeadsAreTypedErrors) {
    TempDir dir("kasten-it-oversized");
    auto server = KastenServer::start(dir.path());
    ASSERT_TRUE(server);
    const RawResponse long_uri = fetch(server->port(), get_request("/healthz?q=" + std::string(9000, 'a')));
    expect_error_body(long_uri, 414, "resource_exhausted");
    // Twelve headers of 7000 bytes: each under cpp-httplib's 8 KiB per line, together over the 64 KiB head limit.
    std::string headers;
    for (int i = 0; i < 12; ++i) headers += "X-Pad-" + std::to_string(i) + ": " + std::string(7000, 'p') + "\r\n";
    const RawResponse big_head = fetch(server->port(), get_request("/healthz", headers));
    expect_error_body(big_head, 431, "resource_exhausted");
    EXPECT_TRUE(big_head.closed);
}

}  // namespace
}  // namespace kasten::api::testing
