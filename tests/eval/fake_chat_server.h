#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace kasten::eval::testing {

// A request the fake server received.
struct RecordedRequest {
    std::string path;           // "/v1/chat/completions"
    std::string authorization;  // the Authorization header ("" when absent)
    nlohmann::json body;        // the parsed JSON body (null when it did not parse)
    // The content of the last user message (chat) or the prompt (completions).
    std::string prompt() const;
};

struct FakeResponse {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::map<std::string, std::string> headers;
};

// A loopback HTTP server speaking the OpenAI chat/completions protocol, started by a test: each request is recorded
// and answered by the handler. The only user of cpp-httplib in the tests. Thread-safe.
class FakeChatServer {
  public:
    using Handler = std::function<FakeResponse(const RecordedRequest&)>;

    explicit FakeChatServer(Handler handler);
    ~FakeChatServer();
    FakeChatServer(const FakeChatServer&) = delete;
    FakeChatServer& operator=(const FakeChatServer&) = delete;

    // "http://127.0.0.1:<port>/v1".
    std::string base_url() const;
    int port() const { return port_; }
    std::vector<RecordedRequest> requests() const;
    int request_count() const;

    // A chat completion response carrying `content` (finish_reason "stop", usage 10/5).
    static FakeResponse chat_reply(const std::string& content);
    // A /v1/completions response carrying `text`.
    static FakeResponse completion_reply(const std::string& text);
    // An error response {"error": {"message": message}}.
    static FakeResponse error(int status, const std::string& message);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    int port_ = 0;
    std::thread thread_;
};

}  // namespace kasten::eval::testing
