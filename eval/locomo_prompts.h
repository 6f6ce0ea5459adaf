#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eval/locomo_sample.h"

namespace kasten::eval {

// The official LoCoMo reader prompts (snap-research/locomo task_eval/evaluate_gpts.py, batch size 1) and the J judge
// of the Mem0 line (mem0ai/mem0 evaluation/metrics/llm_judge.py), verbatim.

// The question as the reader sees it: category 2 gets " Use DATE of CONVERSATION to answer with an approximate
// date." appended; category 5 gets " Select the correct answer: (a) {} (b) {}. " with "Not mentioned in the
// conversation" and the adversarial answer in an order drawn per question (`not_mentioned_first`).
std::string locomo_reader_question(const LocomoQuestion& q, bool not_mentioned_first);

// The official draw of the category-5 option order (random.random() < 0.5 puts "Not mentioned" first), made
// deterministic: from the SHA-256 of "<sample_id>:<qa index>".
bool locomo_not_mentioned_first(const std::string& sample_id, int qa_index);

// QA_PROMPT (categories 1–4) or QA_PROMPT_CAT_5 filled with the reader question, appended to `context` after "\n\n".
std::string locomo_reader_prompt(const std::string& context, const LocomoQuestion& q, bool not_mentioned_first);

// One retrieved dialogue as the official RAG database holds it: `<speaker> said, "<text>"`.
std::string locomo_dialog_text(const LocomoTurn& turn);
// The RAG context (dialog mode): "<date_time>: <dialog text>" lines joined by "\n", in retrieval order.
// `turns` holds (session index, turn index) pairs.
std::string locomo_rag_context(const LocomoSample& sample, const std::vector<std::pair<int, int>>& turns);
// The full-context prompt head: CONV_START_PROMPT with the two speakers, then every session as get_input_context
// builds it ("DATE: …\nCONVERSATION:\n" + `<speaker> said, "<text>"` lines, image turns followed by "[shares
// <blip_caption>]"), without the token-budget truncation.
std::string locomo_full_context(const LocomoSample& sample);

// The reader's answer as the official code records it: stripped; for category 5 a bare "a"/"b" or "(a)"/"(b)" reply
// is mapped to the option's text (get_cat_5_answer, which also lower-cases other replies).
std::string locomo_recorded_answer(const LocomoQuestion& q, const std::string& reply, bool not_mentioned_first);

// Mem0's ACCURACY_PROMPT for the J judge (categories 1–4; category 5 is not judged).
std::string locomo_judge_prompt(const std::string& question, const std::string& gold_answer,
                                const std::string& generated_answer);
// The judge's label: the JSON object (inside ``` fences or bare) with "label" == "CORRECT" → true, any other label →
// false; std::nullopt when no JSON label can be read.
std::optional<bool> locomo_judge_label(const std::string& response);

}  // namespace kasten::eval
