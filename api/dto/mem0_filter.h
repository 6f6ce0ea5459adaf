#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/dto/mem0_scope.h"
#include "common/clock.h"
#include "common/result.h"

namespace kasten::api::mem0 {

// A memory as Mem0's filters see it.
struct FilterSubject {
    std::string id;
    std::string memory;
    NoteScope scope;
    TimeMs created_at = 0;
    TimeMs updated_at = 0;
};

// Mem0's filters (the v2 shape and the plain one):
//   {"user_id": "alice"}                                     field equality (several keys: all must hold)
//   {"AND": [f, ...]}, {"OR": [f, ...]}, {"NOT": [f, ...]}    logic ("NOT": none of them holds)
//   {"field": {"op": value, ...}}                             ops: eq, ne, in, nin, gt, gte, lt, lte, contains,
//                                                             icontains; "*" as a value: the field is set
// Fields: user_id, agent_id, app_id, run_id (strings); created_at, updated_at (ISO-8601 or ms; gt/gte/lt/lte/eq);
// categories (eq/contains: has the category, in: has one of them); metadata ({"metadata": {"key": value}}: every
// key equal); memory / keywords (contains, icontains on the memory text); memory_ids or id (in, eq).
// Unknown fields or operators are kInvalidArgument naming them. Immutable after parse(); thread-safe.
class Mem0Filter {
  public:
    // `filters` null or {} = matches everything.
    static Result<Mem0Filter> parse(const nlohmann::json& filters);

    // The entities every matching memory must have: equalities at the top level or inside (nested) "AND".
    Entities required_entities() const;
    bool matches(const FilterSubject& subject) const;
    bool empty() const { return root_ == nullptr; }

    // Adds a condition that must hold too (AND).
    void require(Mem0Filter other);

    struct Node;

  private:
    std::shared_ptr<const Node> root_;
};

}  // namespace kasten::api::mem0
