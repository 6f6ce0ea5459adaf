#include "eval/locomo_runner.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>

#include "eval/bm25_okapi.h"
#include "eval/dialogue_haystack.h"
#include "eval/dialogue_ranking.h"
#include "eval/dialogue_run_checks.h"
#include "eval/evidence_recall.h"
#include "eval/file_digest.h"
#include "eval/locomo_f1.h"
#include "eval/locomo_prompts.h"
#include "eval/parallel_for.h"
#include "eval/progress_bar.h"

namespace kasten::eval {

namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t0) {
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// Everything prepared for one sample before its questions run.
struct PreparedSample {
    const LocomoSample* sample = nullptr;
    std::vector<std::pair<int, int>> turn_positions;  // flat turn index -> (session, turn)
    std::vector<std::string> dia_ids;                 // flat turn index -> dia_id
    std::unique_ptr<Bm25Okapi> bm25_turns;
    std::unique_ptr<Bm25Okapi> bm25_sessions;
    std::unique_ptr<DialogueHaystack> haystack;
    std::string full_context;
};

Status validate(const LocomoOptions& o) {
    if (o.data_path.empty()) return Status::invalid_argument("no data file given");
    KASTEN_RETURN_IF_ERROR(
        check_dialogue_retrievers(o.retrievers, o.embedder != nullptr, o.notes.builder && o.notes.decider));
    if (o.threads < 1) return Status::invalid_argument("threads must be at least 1");
    if (o.limit < 0) return Status::invalid_argument("limit must not be negative");
    for (int c : o.categories) {
        if (c < 1 || c > 5) return Status::invalid_argument("LoCoMo categories are 1..5, not " + std::to_string(c));
    }
    if (o.reader) {
        KASTEN_RETURN_IF_ERROR(
            check_reader_settings(o.reader_top_k, o.reader_contexts, o.reader_retriever, o.retrievers));
    }
    return Status::ok();
}

Result<LocomoQaPath> answer(const LocomoOptions& o, const PreparedSample& ps, const LocomoQuestion& q,
                            const std::string& context_kind, const std::vector<int>& reader_ranking) {
    LocomoQaPath path;
    path.context = context_kind;
    const bool nm_first = locomo_not_mentioned_first(ps.sample->sample_id, q.index);
    std::string context;
    if (context_kind == "full") {
        context = ps.full_context;
    } else {
        std::vector<std::pair<int, int>> turns;
        for (size_t i = 0; i < reader_ranking.size() && static_cast<int>(i) < o.reader_top_k; ++i) {
            turns.push_back(ps.turn_positions[static_cast<size_t>(reader_ranking[i])]);
        }
        context = locomo_rag_context(*ps.sample, turns);
    }
    const std::string prompt = locomo_reader_prompt(context, q, nm_first);
    path.prompt_chars = prompt.size();
    KASTEN_ASSIGN_OR_RETURN(QaReply reply, o.reader->ask(prompt, o.reader_max_tokens));
    path.reply = reply.text;
    path.reader_cached = reply.cached;
    path.answer = locomo_recorded_answer(q, reply.text, nm_first);
    path.f1 = locomo_answer_score(q.category, path.answer, q.answer);
    if (o.judge && q.category != 5) {
        const std::string jp = locomo_judge_prompt(q.question, q.answer, path.answer);
        KASTEN_ASSIGN_OR_RETURN(QaReply verdict, o.judge->ask(jp, o.judge_max_tokens));
        path.judge_reply = verdict.text;
        path.judge_cached = verdict.cached;
        const auto label = locomo_judge_label(verdict.text);
        path.judge_unparsed = !label.has_value();
        path.judge_correct = label.value_or(false);
    }
    return path;
}

}  // namespace

std::string locomo_indexed_text(const LocomoTurn& turn) {
    std::string t = locomo_dialog_text(turn);
    if (!turn.blip_caption.empty()) t += "\n[shares " + turn.blip_caption + "]";
    return t;
}

Result<LocomoRun> run_locomo(const LocomoOptions& options) {
    KASTEN_RETURN_IF_ERROR(validate(options));
    const auto start = SteadyClock::now();
    LocomoRun run;
    run.options = options;
    if (run.options.reader && run.options.reader_retriever.empty())
        run.options.reader_retriever = options.retrievers.back();
    const LocomoOptions& o = run.options;
    for (const auto& r : o.retrievers) {
        if (r != "bm25") run.embedder_id = o.embedder->id();
    }
    KASTEN_ASSIGN_OR_RETURN(run.data_sha256, file_sha256(o.data_path));
    KASTEN_ASSIGN_OR_RETURN(std::vector<LocomoSample> samples, parse_locomo_file(o.data_path));
    run.samples = static_cast<std::int64_t>(samples.size());

    // The selected questions, in file order.
    const std::set<int> cats(o.categories.begin(), o.categories.end());
    std::vector<std::pair<size_t, size_t>> selected;  // (sample, qa)
    for (size_t s = 0; s < samples.size(); ++s) {
        run.sessions += static_cast<std::int64_t>(samples[s].sessions.size());
        for (const auto& session : samples[s].sessions) run.turns += static_cast<std::int64_t>(session.turns.size());
        for (size_t q = 0; q < samples[s].qa.size(); ++q) {
            ++run.questions_in_file;
            if (!cats.empty() && !cats.count(samples[s].qa[q].category)) continue;
            if (o.limit > 0 && static_cast<std::int64_t>(selected.size()) >= o.limit) continue;
            selected.emplace_back(s, q);
        }
    }
    std::vector<bool> needed(samples.size(), false);
    for (const auto& [s, q] : selected) needed[s] = true;

    // Prepare the samples (in parallel): bm25 indexes, kasten cubes, full context.
    bool kasten = false;
    for (const auto& r : o.retrievers) kasten = kasten || r != "bm25";
    std::vector<PreparedSample> prepared(samples.size());
    std::mutex ingest_mu;
    Status prepared_ok =
        parallel_for(static_cast<std::int64_t>(samples.size()), o.threads, [&](std::int64_t i) -> Status {
            if (!needed[static_cast<size_t>(i)]) return Status::ok();
            const LocomoSample& sample = samples[static_cast<size_t>(i)];
            PreparedSample& ps = prepared[static_cast<size_t>(i)];
            ps.sample = &sample;
            std::vector<std::vector<std::string>> turn_docs, session_docs;
            std::vector<DialogueSession> sessions;
            for (size_t s = 0; s < sample.sessions.size(); ++s) {
                const LocomoSession& ls = sample.sessions[s];
                DialogueSession ds;
                ds.id = "session_" + std::to_string(ls.number);
                ds.time = ls.time;
                std::string session_text;
                for (size_t t = 0; t < ls.turns.size(); ++t) {
                    const LocomoTurn& turn = ls.turns[t];
                    const std::string text = locomo_indexed_text(turn);
                    ps.turn_positions.emplace_back(static_cast<int>(s), static_cast<int>(t));
                    ps.dia_ids.push_back(turn.dia_id);
                    turn_docs.push_back(split_on_spaces(text));
                    if (!session_text.empty()) session_text += "\n";
                    session_text += text;
                    // Both speakers are people whose words are the memory (questions ask about either): both are
                    // added as "user". The assistant role is for a model's replies, which kasten keeps out of
                    // session keys and notes only when specific; giving it to one speaker hid half the conversation
                    // (development split, hybrid session recall@5 0.748 with speaker B as assistant, 0.843 without).
                    ds.turns.push_back(DialogueTurn{"user", text});
                }
                session_docs.push_back(split_on_spaces(session_text));
                sessions.push_back(std::move(ds));
            }
            if (!turn_docs.empty()) ps.bm25_turns = std::make_unique<Bm25Okapi>(turn_docs);
            if (!session_docs.empty()) ps.bm25_sessions = std::make_unique<Bm25Okapi>(session_docs);
            if (kasten) {
                const auto t0 = SteadyClock::now();
                auto h = DialogueHaystack::ingest(sessions, o.embedder,
                                                  needs_notes(o.retrievers) ? o.notes : NoteBuilding{}, o.tuning);
                if (!h) return h.status().with_context("sample '" + sample.sample_id + "'");
                ps.haystack = std::move(h).value();
                std::lock_guard<std::mutex> lock(ingest_mu);
                run.notes_seconds += ps.haystack->notes_seconds();
                run.ingest_seconds += seconds_since(t0) - ps.haystack->notes_seconds();
            }
            if (o.reader) ps.full_context = locomo_full_context(sample);
            return Status::ok();
        });
    KASTEN_RETURN_IF_ERROR(prepared_ok);

    std::vector<LocomoQuestionResult> results(selected.size());
    ProgressBar bar("locomo", static_cast<std::int64_t>(selected.size()), "q", stderr, o.progress);
    const int max_dialogue_k = kLocomoDialogueCutoffs.back();
    Status questions_ok =
        parallel_for(static_cast<std::int64_t>(selected.size()), o.threads, [&](std::int64_t i) -> Status {
            const auto [s, qi] = selected[static_cast<size_t>(i)];
            const PreparedSample& ps = prepared[s];
            const LocomoSample& sample = samples[s];
            const LocomoQuestion& q = sample.qa[qi];
            LocomoQuestionResult& r = results[static_cast<size_t>(i)];
            r.id = sample.sample_id + ":" + std::to_string(q.index);
            r.sample_id = sample.sample_id;
            r.qa_index = q.index;
            r.category = q.category;
            r.question = q.question;
            r.answer = q.category == 5 && !q.adversarial_answer.empty() ? q.adversarial_answer : q.answer;
            r.evidence = q.evidence;
            std::vector<std::string> evidence_sessions;
            for (const auto& e : q.evidence) evidence_sessions.push_back(locomo_evidence_session(e));
            std::vector<int> reader_ranking;
            for (const auto& name : o.retrievers) {
                LocomoRetrieverResult rr;
                rr.retriever = name;
                KASTEN_ASSIGN_OR_RETURN(
                    DialogueRanking ranking,
                    rank_dialogue(name, q.question, ps.bm25_turns.get(), ps.bm25_sessions.get(), ps.haystack.get()));
                rr.retrieved = ranking.retrieved;
                rr.seconds = ranking.seconds;
                const std::vector<int>& turns = ranking.turns;
                const std::vector<int>& sessions = ranking.sessions;
                std::vector<std::string> dia, sess, sess_numbers;
                for (int t : turns) dia.push_back(ps.dia_ids[static_cast<size_t>(t)]);
                for (int x : sessions) {
                    const int number = sample.sessions[static_cast<size_t>(x)].number;
                    sess.push_back("S" + std::to_string(number));
                    sess_numbers.push_back(std::to_string(number));
                }
                rr.dialogue = score_evidence_ranking(dia, q.evidence, kLocomoDialogueCutoffs);
                rr.session = score_evidence_ranking(sess_numbers, evidence_sessions, kLocomoSessionCutoffs);
                if (dia.size() > static_cast<size_t>(max_dialogue_k)) dia.resize(static_cast<size_t>(max_dialogue_k));
                rr.dialogue_ranked = std::move(dia);
                rr.session_ranked = std::move(sess);
                if (name == o.reader_retriever) reader_ranking = turns;
                r.retrievers.push_back(std::move(rr));
            }
            if (o.context.budget > 0 && ps.haystack) {
                EvidencePositions evidence;
                for (const auto& e : q.evidence) {
                    for (size_t t = 0; t < ps.dia_ids.size(); ++t) {
                        if (ps.dia_ids[t] != e) continue;
                        evidence.turns.insert(ps.turn_positions[t]);
                        evidence.sessions.insert(ps.turn_positions[t].first);
                    }
                }
                const DialogueHaystack& h = *ps.haystack;
                PackedContextSource source;
                source.build = [&](memory::ContextRequest request) { return h.build_context(std::move(request)); };
                source.session_position = [&](const std::string& id) { return h.session_index(id); };
                source.turn_position = [&](const std::string& id) {
                    const int flat = h.flat_turn(id);
                    return flat < 0 ? std::pair<int, int>{-1, -1} : h.position(flat);
                };
                std::optional<TimeMs> asked;
                if (!sample.sessions.empty()) asked = sample.sessions.back().time;
                KASTEN_ASSIGN_OR_RETURN(r.contexts,
                                        measure_strategy_coverage(q.question, asked, evidence, o.context, source));
            }
            if (o.reader) {
                for (const auto& kind : o.reader_contexts) {
                    auto path = answer(o, ps, q, kind, reader_ranking);
                    if (!path) return path.status().with_context("question " + r.id);
                    r.qa.push_back(std::move(path).value());
                }
            }
            bar.advance();
            return Status::ok();
        });
    bar.finish();
    KASTEN_RETURN_IF_ERROR(questions_ok);
    run.questions = std::move(results);
    run.wall_seconds = seconds_since(start);
    return run;
}

}  // namespace kasten::eval
