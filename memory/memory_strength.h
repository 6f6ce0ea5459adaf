#pragma once

#include "common/clock.h"

namespace kasten::memory {

// MemoryBank's forgetting curve (Zhong et al. 2023, after Ebbinghaus), used to reorder — never to hide — notes.
//
//   retention R = exp(-t / (S * kTimeScaleDays))
//
// t: days (fractional) since the note's last access, clamped to >= 0 (a last access after `now` counts as t = 0).
// S: the note's strength (NoteRecord::strength): kInitialStrength when the note is created, raised by
//    kStrengthIncrement on every access (refreshed_strength), at most kMaxStrength.
// With S = 1 a note keeps 37% (1/e) of its retention after kTimeScaleDays untouched; with S = 10, after 300 days.
//
// Ranking uses rank_weight(R) = kRankFloor + (1 - kRankFloor) * R, in [kRankFloor, 1]: a forgotten note scores at
// worst half of a fresh one, so decay changes the order of results but never removes a note from them.
//
// All functions are pure (the caller passes `now`; nothing reads a clock) and thread-safe. Non-finite or
// out-of-range strengths (e.g. from an older row) are clamped into [kInitialStrength, kMaxStrength].
// Callers pass the note's recorded_at as last_access when a note has never been accessed.

inline constexpr double kTimeScaleDays = 30.0;     // days for R to fall to 1/e at S = 1
inline constexpr double kInitialStrength = 1.0;    // S of a new note
inline constexpr double kStrengthIncrement = 1.0;  // added to S on each access
inline constexpr double kMaxStrength = 30.0;       // cap on S (R = 1/e after 900 days)
inline constexpr double kRankFloor = 0.5;          // rank_weight of a fully forgotten note
inline constexpr double kMsPerDay = 86'400'000.0;

// R in (0, 1]: 1 at t = 0, strictly decreasing in t, increasing in S.
double retention(double strength, TimeMs last_access, TimeMs now);

// S after one more access: min(S + kStrengthIncrement, kMaxStrength). The caller also sets last_access = now.
double refreshed_strength(double strength);

// kRankFloor + (1 - kRankFloor) * R, in [kRankFloor, 1]; R outside [0, 1] (or NaN) is clamped first (NaN → 0).
double rank_weight(double retention);

// rank_weight(retention(strength, last_access, now)): the factor a note's retrieval score is multiplied by.
double ranking_factor(double strength, TimeMs last_access, TimeMs now);

}  // namespace kasten::memory
