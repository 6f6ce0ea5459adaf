#pragma once

#include <mutex>
#include <string>

namespace kasten::api {

// The protocol state of one MCP client connection (stdio: the process; streamable HTTP: one Mcp-Session-Id):
// the protocol version agreed at `initialize` and whether the client has sent `notifications/initialized`.
// Thread-safe: requests of one HTTP session may be handled concurrently.
class McpSession {
  public:
    // Records the initialize exchange. false (and nothing changes) when initialize was already received.
    bool begin(const std::string& protocol_version, const std::string& client_name);
    // Records `notifications/initialized`.
    void mark_initialized();

    // "" before initialize.
    std::string protocol_version() const;
    std::string client_name() const;
    bool initialize_received() const;
    bool initialized() const;

  private:
    mutable std::mutex mutex_;
    std::string protocol_version_;
    std::string client_name_;
    bool initialize_received_ = false;
    bool initialized_ = false;
};

}  // namespace kasten::api
