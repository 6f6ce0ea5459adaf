#pragma once

#include "eval/longmemeval_qa.h"
#include "eval/longmemeval_runner.h"

namespace kasten::eval {

// The QA stage of a LongMemEval run as a QuestionHook: after retrieval, the reader gets the official history built
// from `options.retriever`'s ranking (longmemeval_history, top_k items) in the Chain-of-Note prompt, greedy, at most
// reader_max_tokens tokens; its stripped reply is the hypothesis. With a judge, the official per-type prompt is sent
// (temperature 0, judge_max_tokens) and the verdict is 'yes' in the reply. Both go through their QaModel (cached).
// Sets QuestionResult::qa. Errors: kInvalidArgument when the retriever did not run; the models' errors otherwise.
QuestionHook make_longmemeval_qa_hook(LongMemEvalQaOptions options, CorpusGranularity granularity);

}  // namespace kasten::eval
