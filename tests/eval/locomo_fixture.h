#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace kasten::eval::testing {

// A two-sample LoCoMo file in the official format (locomo10.json shape), written by the tests themselves:
//   conv-a: Alice & Bob; session_1 (1:56 pm on 8 May, 2023): D1:1 Alice "I adopted a puppy named Biscuit",
//           D1:2 Bob "What breed is Biscuit", D1:3 Alice "Biscuit is a corgi" (+ image caption);
//           session_2 (10:04 am on 19 June, 2023): D2:1 Bob "I started pottery classes",
//           D2:2 Alice "Pottery sounds relaxing", D2:3 Bob "My teacher's name was Rosa";
//   qa: 0 cat 4 "What breed is Biscuit?" → "corgi" [D1:3]; 1 cat 2 "When did Bob start pottery classes?" → 2023
//       [D2:1]; 2 cat 1 "What are the names of Alice's puppy and Bob's teacher?" → "Biscuit, Rosa" [D1:1, D2:3];
//       3 cat 5 "What is Alice's cat named?" adversarial "Whiskers" [D1:1]; 4 cat 3 without evidence.
//   conv-b: Carol & Dan, one session (12:00 am on 1 January, 2024), one question.
nlohmann::json locomo_fixture();

}  // namespace kasten::eval::testing
