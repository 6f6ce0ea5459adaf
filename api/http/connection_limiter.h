#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace kasten::api {

// Caps on the connections a server serves at once. 0 = no cap.
struct ConnectionLimits {
    int max_total = 0;       // connections from all clients together
    int max_per_client = 0;  // connections from one client address
};

// Admission of connections against ConnectionLimits. A connection is admitted by admit() and counted until its
// Slot is destroyed. Thread-safe.
class ConnectionLimiter {
  public:
    enum class Refusal { kNone, kTotal, kPerClient };

    // An admitted connection (released on destruction) or a refusal. Move-only.
    class Slot {
      public:
        Slot() = default;
        Slot(Slot&& other) noexcept;
        Slot& operator=(Slot&& other) noexcept;
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        ~Slot();

        bool admitted() const { return limiter_ != nullptr; }
        Refusal refusal() const { return refusal_; }

      private:
        friend class ConnectionLimiter;
        void release();

        ConnectionLimiter* limiter_ = nullptr;
        std::string address_;
        Refusal refusal_ = Refusal::kNone;
    };

    explicit ConnectionLimiter(ConnectionLimits limits);
    ConnectionLimiter(const ConnectionLimiter&) = delete;
    ConnectionLimiter& operator=(const ConnectionLimiter&) = delete;

    // Admits a connection from `address` (any text naming the client, e.g. "127.0.0.1") unless that would exceed
    // max_per_client for the address or max_total; the per-client cap is checked first.
    Slot admit(const std::string& address);

    const ConnectionLimits& limits() const { return limits_; }
    int active() const;
    int active(const std::string& address) const;

  private:
    void release(const std::string& address);

    const ConnectionLimits limits_;
    mutable std::mutex mu_;
    int total_ = 0;
    std::map<std::string, int> per_client_;  // only addresses with connections
};

}  // namespace kasten::api
