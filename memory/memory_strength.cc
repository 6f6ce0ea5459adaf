#include "memory/memory_strength.h"

#include <algorithm>
#include <cmath>

namespace kasten::memory {
namespace {

double clamp_strength(double strength) {
    if (!std::isfinite(strength)) return strength > 0 ? kMaxStrength : kInitialStrength;
    return std::clamp(strength, kInitialStrength, kMaxStrength);
}

}  // namespace

double retention(double strength, TimeMs last_access, TimeMs now) {
    const double s = clamp_strength(strength);
    // In double: the difference of two arbitrary int64 values may not fit in an int64.
    const double dt_ms = static_cast<double>(now) - static_cast<double>(last_access);
    const double t_days = dt_ms > 0 ? dt_ms / kMsPerDay : 0.0;
    return std::exp(-t_days / (s * kTimeScaleDays));
}

double refreshed_strength(double strength) {
    return std::min(clamp_strength(strength) + kStrengthIncrement, kMaxStrength);
}

double rank_weight(double retention) {
    const double r = std::isnan(retention) ? 0.0 : std::clamp(retention, 0.0, 1.0);
    return kRankFloor + (1.0 - kRankFloor) * r;
}

double ranking_factor(double strength, TimeMs last_access, TimeMs now) {
    return rank_weight(retention(strength, last_access, now));
}

}  // namespace kasten::memory
