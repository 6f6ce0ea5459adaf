#pragma once

#include <nlohmann/json.hpp>

namespace kasten::eval::testing {

// A ConvoMem TestCase ({"evidenceItems", "conversations", "contextSize"}) written by the tests themselves:
//   conversations s1: User "I just moved to Denver last month" / Assistant "How do you like Denver so far?" /
//                     User "My favorite coffee shop is Blue Bottle on Main Street";
//                 s2: User "I work as a nurse at the city hospital" / Assistant "That sounds demanding";
//                 s3: User "My sister  Ana lives in Lisbon" (two spaces) / User "That sounds demanding";
//   items: 0 locomo_category_4 "Where did I move last month?" — evidence exact (s1#0);
//          1 locomo_category_1 — evidence s2#0 exact and "My sister Ana lives in Lisbon" (whitespace-collapsed, s3#0);
//          2 locomo_category_5 — evidence "My dog is called Rex" (found nowhere);
//          3 locomo_category_3 — no evidence;
//          4 locomo_category_2 — evidence "favorite coffee shop is Blue Bottle" (inside s1#2) and User "That sounds
//            demanding" (two matches: the User one, s3#1, is chosen).
nlohmann::json convomem_test_case_fixture();

// The evidence-file shape ({"evidence_items": [...]}) with two items, each with its own conversations.
nlohmann::json convomem_evidence_fixture();

}  // namespace kasten::eval::testing
