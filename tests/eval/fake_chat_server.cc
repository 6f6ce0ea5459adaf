#include "fake_chat_server.h"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

namespace kasten::eval::testing {

struct FakeChatServer::Impl {
    httplib::Server server;
    Handler handler;
    mutable std::mutex mu;
    std::vector<RecordedRequest> requests;
};

std::string RecordedRequest::prompt() const {
    if (!body.is_object()) return "";
    if (body.contains("messages") && body["messages"].is_array() && !body["messages"].empty()) {
        return body["messages"].back().value("content", "");
    }
    return body.value("prompt", "");
}

FakeChatServer::FakeChatServer(Handler handler) : impl_(std::make_unique<Impl>()) {
    impl_->handler = std::move(handler);
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
        RecordedRequest r;
        r.path = req.path;
        r.authorization = req.get_header_value("Authorization");
        r.body = nlohmann::json::parse(req.body, nullptr, false);
        if (r.body.is_discarded()) r.body = nullptr;
        {
            std::lock_guard<std::mutex> lock(impl_->mu);
            impl_->requests.push_back(r);
        }
        FakeResponse out = impl_->handler(r);
        res.status = out.status;
        for (const auto& [k, v] : out.headers) res.set_header(k, v);
        res.set_content(out.body, out.content_type);
    };
    impl_->server.Post("/v1/chat/completions", handle);
    impl_->server.Post("/v1/completions", handle);
    port_ = impl_->server.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("fake chat server: cannot bind a loopback port");
    thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
    for (int i = 0; i < 2000 && !impl_->server.is_running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

FakeChatServer::~FakeChatServer() {
    impl_->server.stop();
    if (thread_.joinable()) thread_.join();
}

std::string FakeChatServer::base_url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
}

std::vector<RecordedRequest> FakeChatServer::requests() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    return impl_->requests;
}

int FakeChatServer::request_count() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    return static_cast<int>(impl_->requests.size());
}

FakeResponse FakeChatServer::chat_reply(const std::string& content) {
    nlohmann::json j = {
        {"id", "chatcmpl-test"},
        {"object", "chat.completion"},
        {"choices",
         {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}}}},
        {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 5}, {"total_tokens", 15}}}};
    FakeResponse r;
    r.body = j.dump();
    return r;
}

FakeResponse FakeChatServer::completion_reply(const std::string& text) {
    nlohmann::json j = {{"id", "cmpl-test"},
                        {"object", "text_completion"},
                        {"choices", {{{"index", 0}, {"text", text}, {"finish_reason", "length"}}}},
                        {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 4}, {"total_tokens", 7}}}};
    FakeResponse r;
    r.body = j.dump();
    return r;
}

FakeResponse FakeChatServer::error(int status, const std::string& message) {
    nlohmann::json j = {{"error", {{"message", message}, {"type", "test"}}}};
    FakeResponse r;
    r.status = status;
    r.body = j.dump();
    return r;
}

}  // namespace kasten::eval::testing
