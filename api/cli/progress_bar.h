#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace kasten::api {

// A progress bar on stderr: redrawn in place ("\r") on a terminal; otherwise one line per 10% step so logs stay
// readable. Not thread-safe: update from one thread.
class ProgressBar {
  public:
    explicit ProgressBar(std::string label, std::FILE* out = stderr);
    ~ProgressBar();

    // fraction in [0, 1]; detail is shown after the percentage (e.g. "1200/5000 units").
    void update(double fraction, const std::string& detail = "");
    // Draws 100% (when not yet drawn) and ends the line. Idempotent.
    void finish();

  private:
    std::string label_;
    std::FILE* out_;
    bool tty_;
    int last_permille_ = -1;
    int last_decile_ = -1;
    bool finished_ = false;
};

}  // namespace kasten::api
