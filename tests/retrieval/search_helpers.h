#pragma once

#include <string>
#include <utility>
#include <vector>

#include "retrieval/unit.h"

namespace kasten::retrieval::test_support {

// The filter of a search of one cube and unit type.
inline SearchFilter in_cube(std::string cube, UnitType type = UnitType::kTurn) {
    SearchFilter f;
    f.cube_id = std::move(cube);
    f.type = type;
    return f;
}

// The ids of a ranking, in its order.
inline std::vector<std::string> ids_of(const std::vector<ScoredId>& hits) {
    std::vector<std::string> out;
    out.reserve(hits.size());
    for (const auto& h : hits) out.push_back(h.id);
    return out;
}

}  // namespace kasten::retrieval::test_support
