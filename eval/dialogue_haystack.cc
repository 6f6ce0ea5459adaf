#include "eval/dialogue_haystack.h"

#include <algorithm>
#include <chrono>

namespace kasten::eval {

namespace {

constexpr char kCubeId[] = "dialogue";
constexpr size_t kMaxMessagesPerAdd = 1000;  // MemoryManager's limit per add_messages call

bool blank(const std::string& s) {
    return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

Result<std::unique_ptr<DialogueHaystack>> DialogueHaystack::ingest(const std::vector<DialogueSession>& sessions,
                                                                   std::shared_ptr<const llm::Embedder> embedder,
                                                                   const NoteBuilding& notes,
                                                                   const SearchTuning& tuning) {
    auto h = std::unique_ptr<DialogueHaystack>(new DialogueHaystack());
    memory::MemoryOptions options;
    options.in_memory = true;
    options.embedder = std::move(embedder);
    options.verify_on_open = false;
    options.note_builder = notes.builder;
    options.link_decider = notes.decider;
    options.background_jobs = false;
    tuning.apply(options);
    KASTEN_ASSIGN_OR_RETURN(h->manager_, memory::MemoryManager::open(std::move(options)));

    for (size_t s = 0; s < sessions.size(); ++s) {
        const DialogueSession& session = sessions[s];
        if (!h->session_of_id_.emplace(session.id, static_cast<int>(s)).second) {
            return Status::invalid_argument("session id '" + session.id + "' repeats");
        }
        h->session_offset_.push_back(static_cast<int>(h->turn_position_.size()));
        for (size_t t = 0; t < session.turns.size(); ++t) {
            h->turn_position_.emplace_back(static_cast<int>(s), static_cast<int>(t));
        }
        memory::AddMessagesRequest request;
        request.cube_id = kCubeId;
        request.session_id = session.id;
        request.time = session.time;
        request.actor = "eval";
        std::vector<int> flat;  // flat index of each message in the request
        auto flush = [&]() -> Status {
            if (request.messages.empty()) return Status::ok();
            KASTEN_ASSIGN_OR_RETURN(auto added, h->manager_->add_messages(request));
            for (size_t m = 0; m < added.turn_ids.size() && m < flat.size(); ++m) {
                h->flat_of_turn_id_[added.turn_ids[m]] = flat[m];
            }
            request.messages.clear();
            flat.clear();
            return Status::ok();
        };
        for (size_t t = 0; t < session.turns.size(); ++t) {
            const DialogueTurn& turn = session.turns[t];
            if (blank(turn.content)) continue;
            std::string content = turn.content;
            std::replace(content.begin(), content.end(), '\0', ' ');
            request.messages.push_back(memory::MessageInput{turn.role, std::move(content), session.time});
            flat.push_back(h->session_offset_.back() + static_cast<int>(t));
            if (request.messages.size() == kMaxMessagesPerAdd) KASTEN_RETURN_IF_ERROR(flush());
        }
        KASTEN_RETURN_IF_ERROR(flush().with_context("session '" + session.id + "'"));
    }
    if (notes.builder) {
        const auto t0 = std::chrono::steady_clock::now();
        KASTEN_RETURN_IF_ERROR(h->manager_->run_jobs().status().with_context("building notes"));
        h->notes_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return h;
}

Result<std::vector<memory::SearchHit>> DialogueHaystack::search(const KastenRetrieverSpec& retriever,
                                                                const std::string& query,
                                                                memory::Granularity granularity, int top_k) const {
    if (top_k <= 0 || blank(query)) return std::vector<memory::SearchHit>{};
    memory::SearchRequest request;
    request.cube_id = kCubeId;
    request.query = query;
    request.granularity = granularity;
    request.retriever = retriever.retriever;
    request.note_keys = retriever.notes;
    request.top_k = top_k;
    return manager_->search(request);
}

Result<KastenRanking> DialogueHaystack::rank_turns(const KastenRetrieverSpec& retriever,
                                                   const std::string& query) const {
    KASTEN_ASSIGN_OR_RETURN(auto hits, search(retriever, query, memory::Granularity::kTurn, turn_count()));
    KastenRanking out;
    std::vector<bool> taken(turn_position_.size(), false);
    for (const auto& hit : hits) {
        auto it = flat_of_turn_id_.find(hit.id);
        if (it == flat_of_turn_id_.end() || taken[static_cast<size_t>(it->second)]) continue;
        taken[static_cast<size_t>(it->second)] = true;
        out.ranking.push_back(it->second);
    }
    out.retrieved = static_cast<int>(out.ranking.size());
    for (size_t i = 0; i < taken.size(); ++i) {
        if (!taken[i]) out.ranking.push_back(static_cast<int>(i));
    }
    return out;
}

Result<KastenRanking> DialogueHaystack::rank_sessions(const KastenRetrieverSpec& retriever,
                                                      const std::string& query) const {
    KASTEN_ASSIGN_OR_RETURN(auto hits, search(retriever, query, memory::Granularity::kSession, session_count()));
    KastenRanking out;
    std::vector<bool> taken(session_offset_.size(), false);
    for (const auto& hit : hits) {
        auto it = session_of_id_.find(hit.id);
        if (it == session_of_id_.end() || taken[static_cast<size_t>(it->second)]) continue;
        taken[static_cast<size_t>(it->second)] = true;
        out.ranking.push_back(it->second);
    }
    out.retrieved = static_cast<int>(out.ranking.size());
    for (size_t i = 0; i < taken.size(); ++i) {
        if (!taken[i]) out.ranking.push_back(static_cast<int>(i));
    }
    return out;
}

Result<memory::PackedContext> DialogueHaystack::build_context(memory::ContextRequest request) const {
    request.cube_id = kCubeId;
    return manager_->build_context(request);
}

int DialogueHaystack::session_index(const std::string& session_id) const {
    auto it = session_of_id_.find(session_id);
    return it == session_of_id_.end() ? -1 : it->second;
}

int DialogueHaystack::flat_turn(const std::string& turn_id) const {
    auto it = flat_of_turn_id_.find(turn_id);
    return it == flat_of_turn_id_.end() ? -1 : it->second;
}

}  // namespace kasten::eval
