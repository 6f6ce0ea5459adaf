#include "eval/longmemeval_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "eval/bm25_okapi.h"
#include "eval/file_digest.h"
#include "eval/kasten_haystack.h"
#include "eval/longmemeval_reader.h"
#include "eval/progress_bar.h"
#include "memory/memory_manager.h"

namespace kasten::eval {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// What the prescan learns: the file's element count and which elements are evaluated (file indices, ascending).
struct Selection {
    std::int64_t elements = 0;
    std::vector<std::int64_t> selected;
};

Result<Selection> select_questions(const LongMemEvalOptions& options) {
    KASTEN_ASSIGN_OR_RETURN(auto reader, LongMemEvalReader::open(options.data_path));
    Selection sel;
    const std::set<std::string> types(options.types.begin(), options.types.end());
    auto want_more = [&] {
        return options.limit <= 0 || static_cast<std::int64_t>(sel.selected.size()) < options.limit;
    };
    for (;;) {
        if (types.empty()) {
            KASTEN_ASSIGN_OR_RETURN(bool more, reader->skip());
            if (!more) break;
            if (want_more()) sel.selected.push_back(sel.elements);
        } else {
            KASTEN_ASSIGN_OR_RETURN(auto element, reader->next_element());
            if (!element) break;
            if (want_more()) {
                KASTEN_ASSIGN_OR_RETURN(auto q, parse_longmemeval_question(element->text, element->index));
                if (types.count(q.question_type)) sel.selected.push_back(sel.elements);
            }
        }
        ++sel.elements;
    }
    return sel;
}

Result<KastenRetrieverSpec> kasten_retriever(const std::string& name) {
    KastenRetrieverSpec r;
    if (!parse_kasten_retriever_spec(name, &r)) return Status::invalid_argument("unknown retriever '" + name + "'");
    return r;
}

Status validate(const LongMemEvalOptions& options) {
    if (options.data_path.empty()) return Status::invalid_argument("no data file given");
    if (options.retrievers.empty()) return Status::invalid_argument("no retriever given");
    std::set<std::string> seen;
    bool needs_embedder = false;
    for (const auto& r : options.retrievers) {
        if (!is_longmemeval_retriever(r)) {
            return Status::invalid_argument("unknown retriever '" + r +
                                            "' (available: bm25, lexical, vector, hybrid, each kasten one also with "
                                            "+notes)");
        }
        if (!seen.insert(r).second) return Status::invalid_argument("retriever '" + r + "' given twice");
        needs_embedder = needs_embedder || r != "bm25";
        KastenRetrieverSpec spec;
        if (parse_kasten_retriever_spec(r, &spec) && spec.notes && (!options.notes.builder || !options.notes.decider)) {
            return Status::invalid_argument("retriever '" + r + "' needs a note builder and link decider");
        }
    }
    for (const auto& t : options.types) {
        if (canonical_question_type(t) != t) return Status::invalid_argument("unknown question type '" + t + "'");
    }
    if (needs_embedder && !options.embedder) {
        return Status::invalid_argument("kasten retrievers need an embedder");
    }
    if (options.threads < 1) return Status::invalid_argument("threads must be at least 1");
    if (options.limit < 0) return Status::invalid_argument("limit must not be negative");
    return Status::ok();
}

}  // namespace

const std::vector<std::string>& longmemeval_retriever_names() {
    static const std::vector<std::string> kNames = {"bm25",          "lexical",      "vector",      "hybrid",
                                                    "lexical+notes", "vector+notes", "hybrid+notes"};
    return kNames;
}

bool is_longmemeval_retriever(const std::string& name) {
    const auto& names = longmemeval_retriever_names();
    return std::find(names.begin(), names.end(), name) != names.end();
}

Result<QuestionResult> evaluate_longmemeval_question(const LongMemEvalQuestion& question,
                                                     const LongMemEvalOptions& options) {
    QuestionResult result;
    result.question_id = question.question_id;
    result.question_type = question.question_type;
    result.question = question.question;
    result.answer = question.answer;
    result.question_date = question.question_date;
    result.abstention = question.is_abstention();
    result.user_side_evidence = question.has_user_side_evidence();

    const OfficialCorpus corpus = build_official_corpus(question, options.granularity);
    const std::vector<std::string> ids = corpus.ids();
    result.documents = static_cast<int>(corpus.documents.size());
    result.gold_ids = corpus.gold_ids;

    const bool with_notes = needs_notes(options.retrievers);
    std::unique_ptr<KastenHaystack> haystack;
    for (const auto& name : options.retrievers) {
        RetrieverResult rr;
        rr.retriever = name;
        std::vector<int> ranking;
        if (name == "bm25") {
            auto t0 = Clock::now();
            std::vector<std::vector<std::string>> tokenized;
            tokenized.reserve(corpus.documents.size());
            for (const auto& d : corpus.documents) tokenized.push_back(split_on_spaces(d.text));
            if (!tokenized.empty()) {
                Bm25Okapi bm25(tokenized);
                ranking = rank_by_descending_score(bm25.scores(split_on_spaces(question.question)));
            }
            rr.retrieved = static_cast<int>(ranking.size());
            rr.seconds = seconds_since(t0);
        } else {
            KASTEN_ASSIGN_OR_RETURN(KastenRetrieverSpec retriever, kasten_retriever(name));
            if (!haystack) {
                if (!options.embedder) return Status::invalid_argument("kasten retrievers need an embedder");
                auto t0 = Clock::now();
                KASTEN_ASSIGN_OR_RETURN(
                    haystack, KastenHaystack::ingest(question, options.embedder,
                                                     with_notes ? options.notes : NoteBuilding{}, options.tuning));
                result.notes_seconds = haystack->notes_seconds();
                result.notes_construction_seconds = haystack->notes_construction_seconds();
                result.notes_built = haystack->notes_built();
                result.ingest_seconds = seconds_since(t0) - result.notes_seconds;
            }
            auto t0 = Clock::now();
            KASTEN_ASSIGN_OR_RETURN(KastenRanking kr, haystack->rank(retriever, question.question, corpus));
            rr.seconds = seconds_since(t0);
            ranking = std::move(kr.ranking);
            rr.retrieved = kr.retrieved;
        }
        rr.ranked_ids.reserve(ranking.size());
        for (int d : ranking) rr.ranked_ids.push_back(ids[static_cast<size_t>(d)]);
        if (options.granularity == CorpusGranularity::kSession) {
            rr.metrics["session"] = score_ranking(ranking, corpus.gold_ids, ids);
        } else {
            rr.metrics["turn"] = score_ranking(ranking, corpus.gold_ids, ids);
            rr.metrics["session"] = score_ranking_turn2session(ranking, corpus.gold_ids, ids);
        }
        result.retrievers.push_back(std::move(rr));
    }
    if (options.context.budget > 0 && haystack) {
        KASTEN_ASSIGN_OR_RETURN(result.contexts, measure_context_coverage(question, *haystack, options.context));
    }
    return result;
}

Result<LongMemEvalRun> run_longmemeval(const LongMemEvalOptions& options) {
    KASTEN_RETURN_IF_ERROR(validate(options));
    const auto start = Clock::now();
    LongMemEvalRun run;
    run.options = options;
    for (const auto& r : options.retrievers) {
        if (r != "bm25") run.embedder_id = options.embedder->id();
    }

    // Prescan: the data hash and the selection (for the progress total), hashing in parallel with counting.
    Result<std::string> digest = Status::internal("not computed");
    std::thread hasher([&] { digest = file_sha256(options.data_path); });
    Result<Selection> selection = select_questions(options);
    hasher.join();
    if (!selection) return selection.status();
    if (!digest) return digest.status();
    run.data_sha256 = *digest;
    run.questions_in_file = selection->elements;
    run.prescan_seconds = seconds_since(start);

    const std::vector<std::int64_t>& selected = selection->selected;
    const std::int64_t total = static_cast<std::int64_t>(selected.size());
    KASTEN_ASSIGN_OR_RETURN(auto reader, LongMemEvalReader::open(options.data_path));
    std::vector<std::optional<QuestionResult>> slots(static_cast<size_t>(total));
    ProgressBar bar("longmemeval", total, "q", stderr, options.progress);

    std::mutex reader_mu;
    std::int64_t next_slot = 0;
    std::atomic<bool> failed{false};
    std::mutex error_mu;
    Status first_error;
    auto fail = [&](Status st) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!failed.exchange(true)) first_error = std::move(st);
    };
    auto worker = [&] {
        for (;;) {
            std::int64_t slot = 0;
            LongMemEvalElement element;
            {
                std::lock_guard<std::mutex> lock(reader_mu);
                if (failed || next_slot >= total) return;
                slot = next_slot++;
                const std::int64_t wanted = selected[static_cast<size_t>(slot)];
                while (reader->elements() < wanted) {
                    auto skipped = reader->skip();
                    if (!skipped) return fail(skipped.status());
                    if (!*skipped) return fail(Status::corruption(options.data_path + " changed during the run"));
                }
                auto e = reader->next_element();
                if (!e) return fail(e.status());
                if (!*e) return fail(Status::corruption(options.data_path + " changed during the run"));
                element = std::move(**e);
            }
            auto question = parse_longmemeval_question(element.text, element.index);
            element.text.clear();
            element.text.shrink_to_fit();
            if (!question) return fail(question.status());
            auto result = evaluate_longmemeval_question(*question, options);
            if (!result) return fail(result.status());
            result->file_index = element.index;
            if (options.hook) {
                Status st = options.hook(*question, *result);
                if (!st.is_ok()) return fail(st.with_context("question '" + question->question_id + "'"));
            }
            slots[static_cast<size_t>(slot)] = std::move(result).value();
            bar.advance();
        }
    };
    const int threads = static_cast<int>(std::min<std::int64_t>(options.threads, std::max<std::int64_t>(total, 1)));
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    bar.finish();
    if (failed) return first_error;

    run.questions.reserve(slots.size());
    for (auto& s : slots) run.questions.push_back(std::move(*s));
    run.wall_seconds = seconds_since(start);
    return run;
}

}  // namespace kasten::eval
