// The only test file that includes cpp-httplib.
#include "tests/api/integration/http_client.h"

#include <httplib.h>

namespace kasten::api::testing {

struct TestClient::Impl {
    httplib::Client client;
    std::string api_key;
    Impl(int port, std::string key) : client("127.0.0.1", port), api_key(std::move(key)) {
        client.set_connection_timeout(10);
        client.set_read_timeout(60);
        client.set_write_timeout(60);
    }
};

TestClient::TestClient(int port, std::string api_key) : impl_(std::make_unique<Impl>(port, std::move(api_key))) {}
TestClient::~TestClient() = default;

HttpReply TestClient::send(const std::string& method, const std::string& path, const std::string& body,
                           const std::map<std::string, std::string>& headers) {
    httplib::Request req;
    req.method = method;
    req.path = path;
    if (!impl_->api_key.empty()) req.set_header("Authorization", "Bearer " + impl_->api_key);
    for (const auto& [k, v] : headers) req.set_header(k, v);
    if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
        req.body = body;
        if (!req.has_header("Content-Type")) req.set_header("Content-Type", "application/json");
    }
    httplib::Result res = impl_->client.send(req);
    HttpReply reply;
    if (!res) return reply;
    reply.status = res->status;
    reply.body = res->body;
    reply.content_type = res->get_header_value("Content-Type");
    for (const auto& [k, v] : res->headers) reply.headers.emplace(k, v);
    return reply;
}

HttpReply TestClient::get(const std::string& path) {
    return send("GET", path, "");
}

HttpReply TestClient::post(const std::string& path, const std::string& body, const std::string& content_type) {
    return send("POST", path, body, {{"Content-Type", content_type}});
}

HttpReply TestClient::patch(const std::string& path, const std::string& body) {
    return send("PATCH", path, body);
}

HttpReply TestClient::del(const std::string& path) {
    return send("DELETE", path, "");
}

}  // namespace kasten::api::testing
