#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace kasten::eval {

// A progress bar with rate and ETA for long evaluation runs, drawn on a FILE (stderr by default):
//   "longmemeval [#########.........]  49/98  50%  3.2 q/s  ETA 15s"
// On a terminal the line is redrawn in place at most every 100 ms; otherwise one line is printed per 10% step so logs
// stay readable. Thread-safe: workers call advance() concurrently.
class ProgressBar {
  public:
    // total <= 0 means unknown (no bar, percentage or ETA). `unit` is the rate's unit ("q" → "q/s").
    ProgressBar(std::string label, std::int64_t total, std::string unit = "q", std::FILE* out = stderr,
                bool enabled = true);
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    void advance(std::int64_t n = 1);
    // Draws the final state and ends the line. Idempotent; the destructor calls it.
    void finish();
    std::int64_t done() const;

    // The line for a state (no "\r" or newline): pure, for tests.
    static std::string format_line(const std::string& label, std::int64_t done, std::int64_t total,
                                   const std::string& unit, double elapsed_seconds);
    // "45s", "3m07s", "1h02m".
    static std::string format_duration(double seconds);

  private:
    void draw_locked(bool final_line);

    const std::string label_;
    const std::int64_t total_;
    const std::string unit_;
    std::FILE* const out_;
    const bool enabled_;
    const bool tty_;
    const std::chrono::steady_clock::time_point start_;
    mutable std::mutex mu_;
    std::int64_t done_ = 0;
    std::chrono::steady_clock::time_point last_draw_{};
    int last_decile_ = 0;  // no line before the first 10%
    bool finished_ = false;
};

}  // namespace kasten::eval
