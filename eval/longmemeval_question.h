#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kasten::eval {

// One turn of a haystack session, as in the official file.
struct LongMemEvalTurn {
    std::string role;  // "user" | "assistant" (any string is kept as given)
    std::string content;
    std::optional<bool> has_answer;  // absent in S outside evidence sessions
};

// One LongMemEval question with its own history (REFERENCE.md §1.1). Both the `_s`/`_m` and the `_oracle` files have
// this shape; the haystack lists are parallel (same length, validated).
struct LongMemEvalQuestion {
    std::string question_id;    // "_abs" inside it marks an abstention question
    std::string question_type;  // single-session-user, ..., temporal-reasoning
    std::string question;
    std::string answer;  // a JSON number is kept as its JSON text ("3")
    bool answer_is_number = false;
    std::string question_date;  // "2023/05/30 (Tue) 23:40"
    std::vector<std::string> haystack_session_ids;
    std::vector<std::string> haystack_dates;
    std::vector<std::vector<LongMemEvalTurn>> haystack_sessions;
    std::vector<std::string> answer_session_ids;

    // "_abs" occurs in the question id (the official test).
    bool is_abstention() const;
    // Some user turn anywhere in the haystack has has_answer == true. The official strict average skips questions
    // without one (run_retrieval.py).
    bool has_user_side_evidence() const;
};

// Parses one element of the official JSON array. kInvalidArgument naming the question id (or the element number when
// the id is unreadable) and the field on a missing or mistyped field or unequal haystack lists. Never throws.
Result<LongMemEvalQuestion> parse_longmemeval_question(std::string_view json_text, std::int64_t element_index);

// Short and full names of the six question types: "ssu" → "single-session-user", ... (also accepts the full name
// itself); std::nullopt for anything else.
std::optional<std::string> canonical_question_type(std::string_view name);
// The six types in the order reports list them.
const std::vector<std::string>& longmemeval_question_types();

}  // namespace kasten::eval
