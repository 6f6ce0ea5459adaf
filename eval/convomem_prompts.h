#pragma once

#include <optional>
#include <string>
#include <vector>

#include "eval/convomem_test_case.h"

namespace kasten::eval {

// ConvoMem's answer and judge prompts, verbatim from SalesforceAIResearch/ConvoMem (EvaluationUtils.scala,
// AnsweringEvaluation.scala; Apache-2.0).

// getModelAnswerPrompt: the answerer instruction, then "Conversation k:" blocks (1-based) of "Speaker: text" lines
// separated by blank lines, then "Question: …" and "Answer:".
std::string convomem_answer_prompt(const std::vector<ConvoMemConversation>& conversations, const std::string& question);

// The judge a category is graded with (the official evaluator wiring):
//   kDefault     factual (DefaultAnsweringEvaluation: partial answers are wrong) — user/assistant facts' default,
//                changing facts, LoCoMo categories 1 and 4;
//   kUserFacts   user facts (UserFactsAnsweringEvaluation, single- or multi-evidence form);
//   kRubric      preferences, implicit connections, LoCoMo category 3 (all rubric criteria);
//   kTemporal    temporal (off-by-one days not accepted), LoCoMo category 2;
//   kAbstention  abstention, LoCoMo category 5.
enum class ConvoMemJudge { kDefault, kUserFacts, kRubric, kTemporal, kAbstention };
const char* convomem_judge_name(ConvoMemJudge j);

// Chooses the judge from an item's `category` ("locomo_category_<id>" maps by LoCoMo id; otherwise by the words
// abstention, preference, implicit, temporal, user_fact/user facts) and, failing that, the test case's folder label.
ConvoMemJudge convomem_judge_for(const std::string& category, const std::string& label);

// The judge prompt for one answer. `evidence` feeds the user-facts prompt (its single-evidence form when there is
// exactly one message).
std::string convomem_judge_prompt(ConvoMemJudge judge, const std::string& question, const std::string& correct_answer,
                                  const std::string& model_answer, const std::vector<ConvoMemMessage>& evidence);

// The official verdict rule on the trimmed, lower-cased reply: "right" and not "wrong" → true; "wrong" (alone or with
// "right") → false; neither → std::nullopt (the official code retries such replies).
std::optional<bool> convomem_judge_verdict(const std::string& reply);

}  // namespace kasten::eval
