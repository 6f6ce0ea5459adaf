#include "api/cli/http_load_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/http/api_service.h"
#include "api/http/http_server.h"
#include "llm/hashing_embedder.h"

namespace kasten::api {
namespace {

// A tiny HTTP server on 127.0.0.1 that serves one connection at a time and answers the n-th request it reads with
// the n-th scripted response, closing the connection after it when the step says so.
class ScriptedServer {
  public:
    struct Step {
        std::string response;
        bool close_after = false;
    };

    explicit ScriptedServer(std::vector<Step> script) : script_(std::move(script)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(fd_, 16), 0);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~ScriptedServer() {
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }

    int port() const { return port_; }
    int accepted() const { return accepted_.load(); }
    std::vector<std::string> requests() {
        std::lock_guard<std::mutex> lock(mu_);
        return requests_;
    }

  private:
    // Reads one request (head + Content-Length body); false at the end of the connection.
    static bool read_request(int c, std::string* buf, std::string* request) {
        for (;;) {
            const size_t end = buf->find("\r\n\r\n");
            if (end != std::string::npos) {
                size_t length = 0;
                const size_t cl = buf->find("Content-Length: ");
                if (cl != std::string::npos && cl < end) length = std::stoul(buf->substr(cl + 16));
                if (buf->size() >= end + 4 + length) {
                    *request = buf->substr(0, end + 4 + length);
                    buf->erase(0, end + 4 + length);
                    return true;
                }
            }
            char tmp[4096];
            ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
            if (n <= 0) return false;
            buf->append(tmp, static_cast<size_t>(n));
        }
    }

    void run() {
        size_t step = 0;
        for (;;) {
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            ++accepted_;
            std::string buf, request;
            while (step < script_.size() && read_request(c, &buf, &request)) {
                {
                    std::lock_guard<std::mutex> lock(mu_);
                    requests_.push_back(request);
                }
                const Step& s = script_[step++];
                ::send(c, s.response.data(), s.response.size(), MSG_NOSIGNAL);
                if (s.close_after) break;
            }
            ::close(c);
        }
    }

    std::vector<Step> script_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<int> accepted_{0};
    std::mutex mu_;
    std::vector<std::string> requests_;
    std::thread thread_;
};

TEST(HttpLoadClientTest, ContentLengthChunkedAndEmptyBodiesOnOneConnection) {
    ScriptedServer server({
        {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"bcd\"}"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: "
         "1\r\n\r\n"},
        {"HTTP/1.1 204 No Content\r\n\r\n"},
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\nX-Id: 7\r\n\r\nok"},
    });
    HttpLoadClient client("127.0.0.1", server.port());
    auto a = client.request("GET", "/one");
    ASSERT_TRUE(a.is_ok()) << a.status().to_string();
    EXPECT_EQ(a->status, 200);
    EXPECT_EQ(a->body, "{\"a\":\"bcd\"}");
    EXPECT_FALSE(a->chunked);
    EXPECT_EQ(a->headers["content-type"], "application/json");

    auto b = client.request("POST", "/two", R"({"x":1})");
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    EXPECT_EQ(b->body, "hello, world");
    EXPECT_TRUE(b->chunked);

    auto c = client.request("DELETE", "/three");
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    EXPECT_EQ(c->status, 204);
    EXPECT_EQ(c->body, "");

    auto d = client.request("POST", "/four", "");
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
    EXPECT_EQ(d->status, 201);
    EXPECT_EQ(d->body, "ok");
    EXPECT_EQ(d->headers["x-id"], "7");

    EXPECT_EQ(client.connects(), 1);
    EXPECT_EQ(server.accepted(), 1);
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 4u);
    EXPECT_EQ(reqs[0].rfind("GET /one HTTP/1.1\r\n", 0), 0u);
    EXPECT_NE(reqs[1].find("Content-Length: 7\r\n"), std::string::npos);
    EXPECT_NE(reqs[1].find("Content-Type: application/json\r\n"), std::string::npos);
    EXPECT_EQ(reqs[1].substr(reqs[1].size() - 7), R"({"x":1})");
    EXPECT_NE(reqs[3].find("Content-Length: 0\r\n"), std::string::npos);
}

TEST(HttpLoadClientTest, ConnectionCloseAndBodyToEndOfStreamOpenANewConnection) {
    ScriptedServer server({
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\none", true},
        {"HTTP/1.1 200 OK\r\n\r\nuntil the end", true},
        {"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nthree", true},
        {"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfour"},
    });
    HttpLoadClient client("127.0.0.1", server.port());
    for (const char* want : {"one", "until the end", "three", "four"}) {
        auto r = client.request("GET", "/");
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        EXPECT_EQ(r->body, want);
    }
    EXPECT_EQ(client.connects(), 4);
    EXPECT_EQ(client.retries(), 0);
    EXPECT_TRUE(client.connected());
}

TEST(HttpLoadClientTest, RequestOnAConnectionTheServerClosedIsSentAgain) {
    // The first answer says nothing about closing, but the server closes the connection after it (an idle timeout).
    ScriptedServer server({
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", true},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"},
    });
    HttpLoadClient client("127.0.0.1", server.port());
    auto a = client.request("GET", "/a");
    ASSERT_TRUE(a.is_ok()) << a.status().to_string();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto b = client.request("GET", "/b");
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    EXPECT_EQ(b->body, "b");
    EXPECT_EQ(client.connects(), 2);
    EXPECT_EQ(client.retries(), 1);
}

TEST(HttpLoadClientTest, MalformedResponsesAndUnreachableServersAreErrors) {
    ScriptedServer server({{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true},
                           {"garbage\r\n\r\n", true},
                           {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", true}});
    HttpLoadClient client("127.0.0.1", server.port(), {2000});
    for (int i = 0; i < 3; ++i) {
        auto r = client.request("GET", "/");
        EXPECT_FALSE(r.is_ok()) << i;
        EXPECT_FALSE(client.connected());
    }
    HttpLoadClient nowhere("127.0.0.1", 1, {2000});
    EXPECT_FALSE(nowhere.request("GET", "/").is_ok());
}

TEST(HttpLoadClientTest, ParsesHttpUrls) {
    auto a = parse_http_url("http://127.0.0.1:8420");
    ASSERT_TRUE(a.is_ok());
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 8420);
    auto b = parse_http_url("http://localhost/");
    ASSERT_TRUE(b.is_ok());
    EXPECT_EQ(b->host, "localhost");
    EXPECT_EQ(b->port, 80);
    auto c = parse_http_url("http://[::1]:9000");
    ASSERT_TRUE(c.is_ok());
    EXPECT_EQ(c->host, "::1");
    EXPECT_EQ(c->port, 9000);
    for (const char* bad : {"https://x:1", "127.0.0.1:8420", "http://x:0", "http://x:99999", "http://x:1/path",
                            "http://", "http://x:", "http://x:1a"}) {
        EXPECT_FALSE(parse_http_url(bad).is_ok()) << bad;
    }
}

// Against the real transport: kasten's HttpServer (cpp-httplib) in front of an ApiService.
class HttpLoadClientServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        memory::MemoryOptions options;
        options.in_memory = true;
        options.embedder = std::make_shared<llm::HashingEmbedder>(64);
        auto m = memory::MemoryManager::open(std::move(options));
        ASSERT_TRUE(m.is_ok()) << m.status().to_string();
        memory_ = std::move(m).value();
        ApiServiceOptions o;
        o.version = "test";
        o.data_dir = "/nowhere";
        o.embedder_dim = 64;
        service_ = std::make_unique<ApiService>(*memory_, o);
        server_ = std::make_unique<HttpServer>(*service_, HttpServerOptions{4, 1 << 20});
        auto port = server_->bind("127.0.0.1", 0);
        ASSERT_TRUE(port.is_ok()) << port.status().to_string();
        port_ = port.value();
        thread_ = std::thread([this] {
            EXPECT_TRUE(server_->serve().is_ok());
            served_.store(true);
        });
    }
    void TearDown() override {
        while (thread_.joinable() && !served_.load()) {
            server_->stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (thread_.joinable()) thread_.join();
    }

    std::unique_ptr<memory::MemoryManager> memory_;
    std::unique_ptr<ApiService> service_;
    std::unique_ptr<HttpServer> server_;
    std::thread thread_;
    std::atomic<bool> served_{false};
    int port_ = 0;
};

TEST_F(HttpLoadClientServerTest, KeepAliveConnectionIsReusedAndFast) {
    HttpLoadClient client("127.0.0.1", port_);
    auto add = client.request("POST", "/v1/cubes/c/memories",
                              R"({"session_id":"s","messages":[{"role":"user","content":"my parrot is called Kiwi"}]})");
    ASSERT_TRUE(add.is_ok()) << add.status().to_string();
    ASSERT_EQ(add->status, 201) << add->body;
    const auto turn_id = nlohmann::json::parse(add->body)["turn_ids"][0].get<std::string>();
    auto search = client.request("POST", "/v1/cubes/c/search",
                                 R"({"query":"parrot","retriever":"lexical","granularity":"turn"})");
    ASSERT_TRUE(search.is_ok()) << search.status().to_string();
    ASSERT_EQ(search->status, 200) << search->body;
    EXPECT_EQ(nlohmann::json::parse(search->body)["hits"][0]["id"], turn_id);
    auto missing = client.request("GET", "/v1/nothing");
    ASSERT_TRUE(missing.is_ok());
    EXPECT_EQ(missing->status, 404);

    // 200 sequential requests on one connection: the server keeps it open (keep-alive limit above 200) and, with
    // TCP_NODELAY on both ends, no request waits for a delayed ACK (~40 ms each before the fix).
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; ++i) {
        auto r = client.request("GET", "/healthz");
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        ASSERT_EQ(r->status, 200);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(client.connects(), 1);
    EXPECT_EQ(client.retries(), 0);
    EXPECT_LT(s, 4.0 * KASTEN_TEST_SLOWDOWN) << "200 keep-alive requests took " << s << " s";
}

}  // namespace
}  // namespace kasten::api
