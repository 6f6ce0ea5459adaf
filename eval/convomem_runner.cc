#include "eval/convomem_runner.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "common/sha256.h"
#include "common/timestamp.h"
#include "eval/bm25_okapi.h"
#include "eval/dialogue_haystack.h"
#include "eval/dialogue_ranking.h"
#include "eval/dialogue_run_checks.h"
#include "eval/evidence_recall.h"
#include "eval/file_digest.h"
#include "eval/parallel_for.h"
#include "eval/progress_bar.h"

namespace kasten::eval {

namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t0) {
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

constexpr TimeMs kDayMs = 24LL * 3600 * 1000;

std::string strip(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

std::string message_key(const ConvoMemConversation& c, int m) {
    return c.id + "#" + std::to_string(m);
}

struct PreparedCase {
    const ConvoMemTestCase* test_case = nullptr;
    std::vector<std::pair<int, int>> positions;  // flat message index -> (conversation, message)
    std::vector<std::string> keys;               // flat message index -> key
    std::unique_ptr<Bm25Okapi> bm25_messages;
    std::unique_ptr<Bm25Okapi> bm25_conversations;
    std::unique_ptr<DialogueHaystack> haystack;
};

Status validate(const ConvoMemOptions& o) {
    if (o.data_path.empty()) return Status::invalid_argument("no data given");
    KASTEN_RETURN_IF_ERROR(
        check_dialogue_retrievers(o.retrievers, o.embedder != nullptr, o.notes.builder && o.notes.decider));
    if (o.threads < 1) return Status::invalid_argument("threads must be at least 1");
    if (o.limit < 0) return Status::invalid_argument("limit must not be negative");
    if (o.reader) {
        KASTEN_RETURN_IF_ERROR(
            check_reader_settings(o.reader_top_k, o.reader_contexts, o.reader_retriever, o.retrievers));
    }
    return Status::ok();
}

// The retrieved messages as conversations for the answer prompt: grouped by conversation, in conversation order,
// messages in their original order.
std::vector<ConvoMemConversation> retrieved_context(const ConvoMemTestCase& tc,
                                                    const std::vector<std::pair<int, int>>& top) {
    std::map<int, std::set<int>> chosen;
    for (const auto& [c, m] : top) chosen[c].insert(m);
    std::vector<ConvoMemConversation> out;
    for (const auto& [c, msgs] : chosen) {
        ConvoMemConversation conv;
        conv.id = tc.conversations[static_cast<size_t>(c)].id;
        for (int m : msgs)
            conv.messages.push_back(tc.conversations[static_cast<size_t>(c)].messages[static_cast<size_t>(m)]);
        out.push_back(std::move(conv));
    }
    return out;
}

}  // namespace

Result<std::string> convomem_data_sha256(const std::string& path, std::int64_t* files) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
        if (files) *files = 1;
        return file_sha256(path);
    }
    std::vector<fs::path> all;
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().extension() == ".json") all.push_back(it->path());
    }
    if (ec) return Status::io_error("listing '" + path + "' failed: " + ec.message());
    std::sort(all.begin(), all.end());
    Sha256 sha;
    for (const auto& f : all) {
        KASTEN_ASSIGN_OR_RETURN(std::string d, file_sha256(f.string()));
        sha.update(fs::relative(f, path).generic_string() + " " + d + "\n");
    }
    if (files) *files = static_cast<std::int64_t>(all.size());
    return sha.hex_digest();
}

Result<ConvoMemRun> run_convomem(const ConvoMemOptions& options) {
    KASTEN_RETURN_IF_ERROR(validate(options));
    const auto start = SteadyClock::now();
    ConvoMemRun run;
    run.options = options;
    if (run.options.reader_retriever.empty()) run.options.reader_retriever = options.retrievers.back();
    const ConvoMemOptions& o = run.options;
    for (const auto& r : o.retrievers) {
        if (r != "bm25") run.embedder_id = o.embedder->id();
    }
    KASTEN_ASSIGN_OR_RETURN(run.data_sha256, convomem_data_sha256(o.data_path, &run.files));
    KASTEN_ASSIGN_OR_RETURN(std::vector<ConvoMemTestCase> cases, load_convomem(o.data_path));
    run.test_cases = static_cast<std::int64_t>(cases.size());

    std::vector<std::pair<size_t, size_t>> selected;
    for (size_t c = 0; c < cases.size(); ++c) {
        for (size_t i = 0; i < cases[c].items.size(); ++i) {
            ++run.items_in_data;
            if (o.limit > 0 && static_cast<std::int64_t>(selected.size()) >= o.limit) continue;
            selected.emplace_back(c, i);
        }
    }
    std::vector<bool> needed(cases.size(), false);
    for (const auto& [c, i] : selected) needed[c] = true;

    bool kasten = false;
    for (const auto& r : o.retrievers) kasten = kasten || r != "bm25";
    const TimeMs base_time = days_from_civil(2024, 1, 1) * kDayMs;
    std::vector<PreparedCase> prepared(cases.size());
    std::mutex ingest_mu;
    ProgressBar ingest_bar("convomem ingest", static_cast<std::int64_t>(cases.size()), "case", stderr,
                           o.progress && kasten);
    Status prepared_ok =
        parallel_for(static_cast<std::int64_t>(cases.size()), o.threads, [&](std::int64_t ci) -> Status {
            if (!needed[static_cast<size_t>(ci)]) {
                ingest_bar.advance();
                return Status::ok();
            }
            const ConvoMemTestCase& tc = cases[static_cast<size_t>(ci)];
            PreparedCase& pc = prepared[static_cast<size_t>(ci)];
            pc.test_case = &tc;
            std::vector<std::vector<std::string>> msg_docs, conv_docs;
            std::vector<DialogueSession> sessions;
            for (size_t c = 0; c < tc.conversations.size(); ++c) {
                const auto& conv = tc.conversations[c];
                DialogueSession ds;
                ds.id = "c" + std::to_string(c);
                ds.time = base_time + static_cast<TimeMs>(c) * kDayMs;
                std::string conv_text;
                for (size_t m = 0; m < conv.messages.size(); ++m) {
                    const auto& msg = conv.messages[m];
                    pc.positions.emplace_back(static_cast<int>(c), static_cast<int>(m));
                    pc.keys.push_back(message_key(conv, static_cast<int>(m)));
                    msg_docs.push_back(split_on_spaces(msg.text));
                    if (!conv_text.empty()) conv_text += "\n";
                    conv_text += msg.text;
                    std::string role = msg.speaker;
                    std::transform(role.begin(), role.end(), role.begin(),
                                   [](unsigned char ch) { return std::tolower(ch); });
                    ds.turns.push_back(DialogueTurn{role == "user" ? "user" : "assistant", msg.text});
                }
                conv_docs.push_back(split_on_spaces(conv_text));
                sessions.push_back(std::move(ds));
            }
            if (!msg_docs.empty()) pc.bm25_messages = std::make_unique<Bm25Okapi>(msg_docs);
            if (!conv_docs.empty()) pc.bm25_conversations = std::make_unique<Bm25Okapi>(conv_docs);
            if (kasten) {
                const auto t0 = SteadyClock::now();
                auto h = DialogueHaystack::ingest(sessions, o.embedder,
                                                  needs_notes(o.retrievers) ? o.notes : NoteBuilding{}, o.tuning);
                if (!h) return h.status().with_context(tc.source);
                pc.haystack = std::move(h).value();
                std::lock_guard<std::mutex> lock(ingest_mu);
                run.notes_seconds += pc.haystack->notes_seconds();
                run.ingest_seconds += seconds_since(t0) - pc.haystack->notes_seconds();
            }
            ingest_bar.advance();
            return Status::ok();
        });
    ingest_bar.finish();
    KASTEN_RETURN_IF_ERROR(prepared_ok);

    std::vector<ConvoMemItemResult> results(selected.size());
    ProgressBar bar("convomem", static_cast<std::int64_t>(selected.size()), "q", stderr, o.progress);
    const size_t max_message_k = static_cast<size_t>(kConvoMemMessageCutoffs.back());
    Status items_ok =
        parallel_for(static_cast<std::int64_t>(selected.size()), o.threads, [&](std::int64_t n) -> Status {
            const size_t ci = selected[static_cast<size_t>(n)].first;
            const size_t ii = selected[static_cast<size_t>(n)].second;
            const ConvoMemTestCase& tc = cases[ci];
            const PreparedCase& pc = prepared[ci];
            const ConvoMemItem& item = tc.items[ii];
            ConvoMemItemResult& r = results[static_cast<size_t>(n)];
            r.id = tc.source + ":" + std::to_string(ii);
            r.label = tc.label;
            r.category = item.category;
            r.judge = convomem_judge_for(item.category, tc.label);
            r.context_size = tc.context_size;
            r.question = item.question;
            r.answer = item.answer;
            r.evidence_messages = static_cast<int>(item.evidence.size());
            std::vector<std::string> evidence_keys, evidence_convs;
            for (size_t e = 0; e < item.evidence_positions.size(); ++e) {
                const auto& pos = item.evidence_positions[e];
                if (!pos) {
                    ++r.evidence_unlocated;
                    evidence_keys.push_back("unlocated#" + std::to_string(e));  // never retrieved: a miss
                    evidence_convs.push_back("unlocated#" + std::to_string(e));
                    continue;
                }
                const auto& conv = tc.conversations[static_cast<size_t>(pos->first)];
                evidence_keys.push_back(message_key(conv, pos->second));
                evidence_convs.push_back(conv.id);
            }
            r.evidence_keys = evidence_keys;
            std::vector<int> reader_ranking;
            for (const auto& name : o.retrievers) {
                ConvoMemRetrieverResult rr;
                rr.retriever = name;
                KASTEN_ASSIGN_OR_RETURN(DialogueRanking ranking,
                                        rank_dialogue(name, item.question, pc.bm25_messages.get(),
                                                      pc.bm25_conversations.get(), pc.haystack.get()));
                rr.retrieved = ranking.retrieved;
                rr.seconds = ranking.seconds;
                const std::vector<int>& msgs = ranking.turns;
                const std::vector<int>& convs = ranking.sessions;
                std::vector<std::string> mk, ck;
                for (int m : msgs) mk.push_back(pc.keys[static_cast<size_t>(m)]);
                for (int c : convs) ck.push_back(tc.conversations[static_cast<size_t>(c)].id);
                rr.message = score_evidence_ranking(mk, evidence_keys, kConvoMemMessageCutoffs);
                rr.conversation = score_evidence_ranking(ck, evidence_convs, kConvoMemConversationCutoffs);
                if (mk.size() > max_message_k) mk.resize(max_message_k);
                rr.message_ranked = std::move(mk);
                rr.conversation_ranked = std::move(ck);
                if (name == o.reader_retriever) reader_ranking = msgs;
                r.retrievers.push_back(std::move(rr));
            }
            // The two answer contexts (the paper's comparison), measured with or without a reader.
            std::vector<std::pair<int, int>> top;
            std::vector<std::string> top_keys;
            for (size_t i = 0; i < reader_ranking.size() && static_cast<int>(i) < o.reader_top_k; ++i) {
                top.push_back(pc.positions[static_cast<size_t>(reader_ranking[i])]);
                top_keys.push_back(pc.keys[static_cast<size_t>(reader_ranking[i])]);
            }
            const std::string full_prompt = convomem_answer_prompt(tc.conversations, item.question);
            const std::string retrieval_prompt = convomem_answer_prompt(retrieved_context(tc, top), item.question);
            r.full_prompt_chars = full_prompt.size();
            r.retrieval_prompt_chars = retrieval_prompt.size();
            r.retrieval_evidence_recall = evidence_recall(evidence_keys, top_keys);
            if (o.reader) {
                for (const auto& kind : o.reader_contexts) {
                    ConvoMemQaPath path;
                    path.context = kind;
                    const std::string& prompt = kind == "full" ? full_prompt : retrieval_prompt;
                    path.prompt_chars = prompt.size();
                    auto reply = o.reader->ask(prompt, o.reader_max_tokens);
                    if (!reply) return reply.status().with_context("item " + r.id);
                    path.hypothesis = strip(reply->text);
                    path.reader_cached = reply->cached;
                    if (o.judge) {
                        const std::string jp =
                            convomem_judge_prompt(r.judge, item.question, item.answer, path.hypothesis, item.evidence);
                        auto verdict = o.judge->ask(jp, o.judge_max_tokens);
                        if (!verdict) return verdict.status().with_context("item " + r.id);
                        path.judge_reply = strip(verdict->text);
                        path.judge_cached = verdict->cached;
                        const auto v = convomem_judge_verdict(path.judge_reply);
                        path.judge_unparsed = !v.has_value();
                        path.correct = v.value_or(false);
                    }
                    r.qa.push_back(std::move(path));
                }
            }
            bar.advance();
            return Status::ok();
        });
    bar.finish();
    KASTEN_RETURN_IF_ERROR(items_ok);
    run.items = std::move(results);
    run.wall_seconds = seconds_since(start);
    return run;
}

}  // namespace kasten::eval
