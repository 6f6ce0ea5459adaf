#pragma once

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "memory/turn_place_index.h"
#include "retrieval/fusion.h"
#include "store/records.h"

namespace kasten::memory {

// Scores units lend each other through the structure of a conversation (docs/retrieval.md, "Turns and sessions lend
// each other context"). Every function reads the scores of `fused` as they are when it is called (lenders never
// lend what they borrowed) and is pure.

// Unit id -> the score it borrows (before weighting).
using Credit = std::unordered_map<std::string, double>;
// The same as a list of (unit id, score) with each id once; the ids are views of strings the caller keeps alive.
using CreditList = std::vector<std::pair<std::string_view, double>>;

// For every turn in `places`, the best score in `lenders` of another turn of its session at most `radius` positions
// away (turns absent from `lenders` lend 0; turns that borrow nothing are absent). `places` holds the candidates and
// the turns around them, in any order.
Credit neighbour_credit(const std::vector<retrieval::FusedHit>& lenders, const std::vector<store::TurnPlace>& places,
                        int radius);
// The same for the places as TurnPlaceIndex::visit_near passes them (no string copied; the list views their ids).
CreditList neighbour_credit(const std::vector<retrieval::FusedHit>& lenders,
                            std::span<const TurnPlaceIndex::PlaceView> places, int radius);

// For every session with a turn in `turns` (a turn search's fused hits) whose place is in `places`: its best turn's
// score.
Credit rollup_credit(const std::vector<retrieval::FusedHit>& turns, const std::vector<store::TurnPlace>& places);

// For every turn in `places` whose session is in `sessions` (a session search's fused hits): its session's score.
Credit session_credit(const std::vector<retrieval::FusedHit>& sessions, const std::vector<store::TurnPlace>& places);

// Adds weight × credit to each unit's score; credited units missing from `fused` join it with that score. `fused`
// ends best-first (stable: equal scores keep their order, joiners after the units already listed).
void add_credit(std::vector<retrieval::FusedHit>& fused, const Credit& credit, double weight);
void add_credit(std::vector<retrieval::FusedHit>& fused, const CreditList& credit, double weight);
// How a credit combines with a listed unit's score: added, or the better of the two (an alternative key).
enum class CreditMode { kAdd, kBest };
// add_credit with a choice of mode: kBest sets a listed unit's score to max(score, weight × credit); joiners as
// add_credit's.
void apply_credit(std::vector<retrieval::FusedHit>& fused, const CreditList& credit, double weight, CreditMode mode);

}  // namespace kasten::memory
