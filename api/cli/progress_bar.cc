#include "api/cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace kasten::api {

ProgressBar::ProgressBar(std::string label, std::FILE* out)
    : label_(std::move(label)), out_(out), tty_(isatty(fileno(out)) == 1) {}

ProgressBar::~ProgressBar() {
    if (tty_ && last_permille_ >= 0 && !finished_) std::fputc('\n', out_);
}

void ProgressBar::update(double fraction, const std::string& detail) {
    if (finished_) return;
    fraction = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0);
    const int permille = static_cast<int>(fraction * 1000);
    if (tty_) {
        if (permille == last_permille_) return;
        last_permille_ = permille;
        constexpr int kWidth = 30;
        const int filled = static_cast<int>(fraction * kWidth);
        std::string bar(static_cast<size_t>(filled), '#');
        bar.append(static_cast<size_t>(kWidth - filled), '.');
        std::fprintf(out_, "\r%s [%s] %5.1f%% %s\033[K", label_.c_str(), bar.c_str(), fraction * 100.0, detail.c_str());
        std::fflush(out_);
        return;
    }
    const int decile = permille / 100;
    if (decile == last_decile_) return;
    last_decile_ = decile;
    last_permille_ = permille;
    std::fprintf(out_, "%s %3d%% %s\n", label_.c_str(), decile * 10, detail.c_str());
    std::fflush(out_);
}

void ProgressBar::finish() {
    if (finished_) return;
    if (last_permille_ < 1000) update(1.0);
    if (tty_) std::fputc('\n', out_);
    finished_ = true;
}

}  // namespace kasten::api
