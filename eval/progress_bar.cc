#include "eval/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace kasten::eval {

namespace {

constexpr int kBarWidth = 24;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

}  // namespace

ProgressBar::ProgressBar(std::string label, std::int64_t total, std::string unit, std::FILE* out, bool enabled)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      out_(out),
      enabled_(enabled && out != nullptr),
      tty_(out != nullptr && isatty(fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
    finish();
}

std::string ProgressBar::format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    long long s = std::llround(seconds);
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string ProgressBar::format_line(const std::string& label, std::int64_t done, std::int64_t total,
                                     const std::string& unit, double elapsed_seconds) {
    const double rate = elapsed_seconds > 0 ? static_cast<double>(done) / elapsed_seconds : 0;
    std::string rate_text = fmt::format("{:.1f} {}/s", rate, unit);
    if (total <= 0) {
        return fmt::format("{} {} {}  {}  {}", label, done, unit, rate_text, format_duration(elapsed_seconds));
    }
    const double fraction = std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0);
    const int filled = static_cast<int>(fraction * kBarWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kBarWidth - filled), '.');
    std::string tail;
    if (done >= total) {
        tail = "in " + format_duration(elapsed_seconds);
    } else if (rate > 0) {
        tail = "ETA " + format_duration(static_cast<double>(total - done) / rate);
    } else {
        tail = "ETA ?";
    }
    return fmt::format("{} [{}] {}/{} {:3.0f}%  {}  {}", label, bar, done, total, fraction * 100, rate_text, tail);
}

void ProgressBar::advance(std::int64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    done_ += n;
    if (!enabled_ || finished_) return;
    auto now = std::chrono::steady_clock::now();
    if (tty_) {
        if (now - last_draw_ < kRedrawInterval) return;
    } else {
        if (total_ <= 0) return;
        int decile = static_cast<int>(std::min<std::int64_t>(10, done_ * 10 / total_));
        if (decile == last_decile_ || done_ >= total_) return;  // the final line comes from finish()
        last_decile_ = decile;
    }
    last_draw_ = now;
    draw_locked(false);
}

void ProgressBar::finish() {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    finished_ = true;
    if (enabled_) draw_locked(true);
}

std::int64_t ProgressBar::done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
}

void ProgressBar::draw_locked(bool final_line) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string line = format_line(label_, done_, total_, unit_, elapsed);
    if (tty_) {
        std::fprintf(out_, "\r%s\033[K%s", line.c_str(), final_line ? "\n" : "");
    } else {
        std::fprintf(out_, "%s\n", line.c_str());
    }
    std::fflush(out_);
}

}  // namespace kasten::eval
