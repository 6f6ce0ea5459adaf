#pragma once

#include <atomic>
#include <cstdint>

namespace kasten {

// Milliseconds since the Unix epoch, UTC. Every persisted time in kasten uses this unit.
using TimeMs = std::int64_t;

// Source of "now". Injected wherever time matters so tests can control it. Thread-safe.
class Clock {
  public:
    virtual ~Clock() = default;
    virtual TimeMs now_ms() const = 0;
};

// Wall-clock time (std::chrono::system_clock).
class SystemClock final : public Clock {
  public:
    TimeMs now_ms() const override;
    // A process-wide instance.
    static const SystemClock& instance();
};

// A clock that only moves when told to. For tests.
class FakeClock final : public Clock {
  public:
    explicit FakeClock(TimeMs start = 1700000000000) : now_(start) {}
    TimeMs now_ms() const override { return now_.load(); }
    void set(TimeMs t) { now_.store(t); }
    void advance(TimeMs delta) { now_.fetch_add(delta); }

  private:
    std::atomic<TimeMs> now_;
};

}  // namespace kasten
