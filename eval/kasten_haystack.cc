#include "eval/kasten_haystack.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "common/timestamp.h"

namespace kasten::eval {

namespace {

constexpr char kCubeId[] = "longmemeval";
constexpr size_t kMaxMessagesPerAdd = 1000;  // MemoryManager's limit per add_messages call
constexpr size_t kMaxSessionIdBytes = 100;   // leaves room for the ":<position>" suffix within 128

bool allowed_id_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '-';
}

// MemoryManager accepts user | assistant | system | tool. Any other role is not "user" for the official corpus
// either, so it is stored as an assistant turn.
std::string kasten_role(const std::string& role) {
    if (role == "user" || role == "assistant" || role == "system" || role == "tool") return role;
    return "assistant";
}

}  // namespace

std::string KastenHaystack::sanitize_session_id(std::string_view official_id) {
    std::string out;
    for (char c : official_id.substr(0, std::min(official_id.size(), kMaxSessionIdBytes))) {
        out.push_back(allowed_id_char(c) ? c : '_');
    }
    if (out.empty()) out = "_";
    return out;
}

Result<std::unique_ptr<KastenHaystack>> KastenHaystack::ingest(const LongMemEvalQuestion& question,
                                                               std::shared_ptr<const llm::Embedder> embedder,
                                                               const NoteBuilding& notes,
                                                               const SearchTuning& tuning) {
    const size_t n = question.haystack_sessions.size();
    std::vector<TimeMs> times(n);
    for (size_t s = 0; s < n; ++s) {
        auto t = parse_timestamp(question.haystack_dates[s]);
        if (!t) {
            return Status::invalid_argument("question '" + question.question_id + "': haystack_dates[" +
                                            std::to_string(s) + "]: " + t.status().message());
        }
        times[s] = *t;
    }
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return times[a] < times[b]; });

    auto haystack = std::unique_ptr<KastenHaystack>(new KastenHaystack());
    if (auto asked = parse_timestamp(question.question_date)) haystack->query_time_ = *asked;
    memory::MemoryOptions options;
    options.in_memory = true;
    options.embedder = std::move(embedder);
    options.verify_on_open = false;
    options.note_builder = notes.builder;
    options.link_decider = notes.decider;
    options.background_jobs = false;
    tuning.apply(options);
    KASTEN_ASSIGN_OR_RETURN(haystack->manager_, memory::MemoryManager::open(std::move(options)));

    std::set<std::string> used;
    for (size_t s : order) {
        std::string sid = sanitize_session_id(question.haystack_session_ids[s]);
        if (!used.insert(sid).second) {
            sid += ":" + std::to_string(s);
            used.insert(sid);
        }
        haystack->session_index_[sid] = static_cast<int>(s);
        const auto& turns = question.haystack_sessions[s];
        std::vector<int> turn_index;  // of each message sent, in order
        memory::AddMessagesRequest request;
        request.cube_id = kCubeId;
        request.session_id = sid;
        request.time = times[s];
        request.actor = "eval";
        auto flush = [&]() -> Status {
            if (request.messages.empty()) return Status::ok();
            KASTEN_ASSIGN_OR_RETURN(auto added, haystack->manager_->add_messages(request));
            for (size_t m = 0; m < added.turn_ids.size() && m < turn_index.size(); ++m) {
                haystack->turn_position_[added.turn_ids[m]] = TurnPosition{static_cast<int>(s), turn_index[m]};
            }
            request.messages.clear();
            turn_index.clear();
            return Status::ok();
        };
        for (size_t i = 0; i < turns.size(); ++i) {
            std::string content = turns[i].content;
            std::replace(content.begin(), content.end(), '\0', ' ');
            // Empty turns cannot be stored (nor found); their official documents rank after the retrieved ones.
            if (content.find_first_not_of(" \t\r\n") == std::string::npos) continue;
            request.messages.push_back(memory::MessageInput{kasten_role(turns[i].role), std::move(content), times[s]});
            turn_index.push_back(static_cast<int>(i));
            if (request.messages.size() == kMaxMessagesPerAdd) KASTEN_RETURN_IF_ERROR(flush());
        }
        KASTEN_RETURN_IF_ERROR(flush().with_context("question '" + question.question_id + "', session '" +
                                                    question.haystack_session_ids[s] + "'"));
    }
    if (notes.builder) {
        const auto t0 = std::chrono::steady_clock::now();
        KASTEN_RETURN_IF_ERROR(haystack->manager_->run_jobs().status().with_context("building notes for question '" +
                                                                                    question.question_id + "'"));
        haystack->notes_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        auto cube = haystack->manager_->get_cube(kCubeId);  // absent for an empty haystack
        if (cube) {
            haystack->notes_built_ = cube->notes;
            // Construction alone (the builder), from each job's result.
            KASTEN_ASSIGN_OR_RETURN(auto jobs, haystack->manager_->list_jobs(kCubeId, -1, 0));
            for (const auto& job : jobs) {
                const auto result = nlohmann::json::parse(job.result_json, nullptr, /*allow_exceptions=*/false);
                if (result.is_object() && result.contains("build_ms") && result["build_ms"].is_number()) {
                    haystack->notes_construction_seconds_ += result["build_ms"].get<double>() / 1000.0;
                }
            }
        }
    }
    return haystack;
}

Result<KastenRanking> KastenHaystack::rank(const KastenRetrieverSpec& retriever, const std::string& query,
                                           const OfficialCorpus& corpus) {
    const bool turns = corpus.granularity == CorpusGranularity::kTurn;
    // Official document index of each (session, turn) position.
    std::map<std::pair<int, int>, int> doc_of;
    for (size_t d = 0; d < corpus.documents.size(); ++d) {
        const auto& doc = corpus.documents[d];
        doc_of[{doc.session_index, turns ? doc.turn_index : -1}] = static_cast<int>(d);
    }

    KastenRanking out;
    std::vector<bool> taken(corpus.documents.size(), false);
    if (!corpus.documents.empty() && query.find_first_not_of(" \t\r\n") != std::string::npos) {
        memory::SearchRequest request;
        request.cube_id = kCubeId;
        request.query = query;
        request.granularity = turns ? memory::Granularity::kTurn : memory::Granularity::kSession;
        request.retriever = retriever.retriever;
        request.note_keys = retriever.notes;
        request.query_time = query_time_;
        request.top_k = static_cast<int>(corpus.documents.size());
        if (turns) request.role = "user";
        KASTEN_ASSIGN_OR_RETURN(auto hits, manager_->search(request));
        for (const auto& hit : hits) {
            std::pair<int, int> key;
            if (turns) {
                if (hit.role != "user") continue;
                auto it = turn_position_.find(hit.id);
                if (it == turn_position_.end()) continue;
                key = {it->second.session_index, it->second.turn_index};
            } else {
                auto it = session_index_.find(hit.id);
                if (it == session_index_.end()) continue;
                key = {it->second, -1};
            }
            auto d = doc_of.find(key);
            if (d == doc_of.end() || taken[static_cast<size_t>(d->second)]) continue;
            taken[static_cast<size_t>(d->second)] = true;
            out.ranking.push_back(d->second);
        }
    }
    out.retrieved = static_cast<int>(out.ranking.size());
    for (size_t d = 0; d < corpus.documents.size(); ++d) {
        if (!taken[d]) out.ranking.push_back(static_cast<int>(d));
    }
    return out;
}

Result<memory::PackedContext> KastenHaystack::build_context(memory::ContextRequest request) {
    if (!manager_) return memory::PackedContext{"empty"};
    request.cube_id = kCubeId;
    if (!request.query_time) request.query_time = query_time_;
    auto cube = manager_->get_cube(kCubeId);
    if (!cube.is_ok()) return memory::PackedContext{"empty"};
    return manager_->build_context(request);
}

Result<std::vector<int>> KastenHaystack::top_sessions(const std::string& query, int k) {
    std::vector<int> out;
    if (!manager_ || !manager_->get_cube(kCubeId).is_ok()) return out;
    memory::SearchRequest request;
    request.cube_id = kCubeId;
    request.query = query;
    request.granularity = memory::Granularity::kSession;
    request.retriever = memory::Retriever::kHybrid;
    request.query_time = query_time_;
    request.top_k = k;
    KASTEN_ASSIGN_OR_RETURN(auto hits, manager_->search(request));
    for (const auto& hit : hits) {
        const int position = session_position(hit.id);
        if (position >= 0) out.push_back(position);
    }
    return out;
}

int KastenHaystack::session_position(const std::string& session_id) const {
    auto it = session_index_.find(session_id);
    return it == session_index_.end() ? -1 : it->second;
}

std::pair<int, int> KastenHaystack::turn_position(const std::string& turn_id) const {
    auto it = turn_position_.find(turn_id);
    if (it == turn_position_.end()) return {-1, -1};
    return {it->second.session_index, it->second.turn_index};
}

}  // namespace kasten::eval
