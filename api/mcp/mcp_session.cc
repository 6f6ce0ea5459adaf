#include "api/mcp/mcp_session.h"

namespace kasten::api {

bool McpSession::begin(const std::string& protocol_version, const std::string& client_name) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (initialize_received_) return false;
    initialize_received_ = true;
    protocol_version_ = protocol_version;
    client_name_ = client_name;
    return true;
}

void McpSession::mark_initialized() {
    std::lock_guard<std::mutex> lock(mutex_);
    initialized_ = true;
}

std::string McpSession::protocol_version() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return protocol_version_;
}

std::string McpSession::client_name() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return client_name_;
}

bool McpSession::initialize_received() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return initialize_received_;
}

bool McpSession::initialized() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return initialized_;
}

}  // namespace kasten::api
