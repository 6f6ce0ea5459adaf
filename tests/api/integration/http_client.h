#pragma once

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace kasten::api::testing {

struct HttpReply {
    int status = 0;  // 0 = no response (connection failed or reset)
    std::string body;
    std::string content_type;
    std::map<std::string, std::string> headers;
    // The body as JSON (discarded value when it is not JSON).
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// A blocking HTTP/1.1 client for one server (127.0.0.1:port), sending the API key (when set) as a Bearer token.
// Not thread-safe: use one client per thread. The only test file that includes cpp-httplib is http_client.cc.
class TestClient {
  public:
    explicit TestClient(int port, std::string api_key = "");
    ~TestClient();

    HttpReply get(const std::string& path);
    HttpReply post(const std::string& path, const std::string& body,
                   const std::string& content_type = "application/json");
    HttpReply patch(const std::string& path, const std::string& body);
    HttpReply del(const std::string& path);
    // Any method, with extra headers.
    HttpReply send(const std::string& method, const std::string& path, const std::string& body,
                   const std::map<std::string, std::string>& headers = {});

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace kasten::api::testing
