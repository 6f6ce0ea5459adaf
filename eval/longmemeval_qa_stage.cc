#include "eval/longmemeval_qa_stage.h"

#include <cctype>

namespace kasten::eval {

namespace {

std::string strip(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

}  // namespace

QuestionHook make_longmemeval_qa_hook(LongMemEvalQaOptions options, CorpusGranularity granularity) {
    return [options = std::move(options), granularity](const LongMemEvalQuestion& q, QuestionResult& result) -> Status {
        const RetrieverResult* rr = nullptr;
        for (const auto& r : result.retrievers) {
            if (r.retriever == options.retriever) rr = &r;
        }
        if (!rr) return Status::invalid_argument("the reader's retriever '" + options.retriever + "' did not run");
        LongMemEvalQaResult qa;
        qa.retriever = options.retriever;
        const std::string history = longmemeval_history(q, rr->ranked_ids, options.top_k, granularity);
        qa.context_items = std::min<int>(options.top_k, static_cast<int>(rr->ranked_ids.size()));
        const std::string prompt = longmemeval_reader_prompt(history, q.question_date, q.question);
        qa.prompt_chars = prompt.size();
        KASTEN_ASSIGN_OR_RETURN(QaReply reply, options.reader->ask(prompt, options.reader_max_tokens));
        qa.hypothesis = strip(reply.text);
        qa.reader_cached = reply.cached;
        if (options.judge) {
            KASTEN_ASSIGN_OR_RETURN(std::string jp, longmemeval_judge_prompt(q.question_type, q.is_abstention(),
                                                                             q.question, q.answer, qa.hypothesis));
            KASTEN_ASSIGN_OR_RETURN(QaReply verdict, options.judge->ask(jp, options.judge_max_tokens));
            qa.judge_reply = strip(verdict.text);
            qa.judge_cached = verdict.cached;
            qa.correct = longmemeval_judge_correct(qa.judge_reply);
        }
        result.qa = std::move(qa);
        return Status::ok();
    };
}

}  // namespace kasten::eval
