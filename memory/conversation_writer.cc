#include "memory/conversation_writer.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "memory/id_generator.h"
#include "memory/input_validation.h"
#include "memory/session_key.h"

namespace kasten::memory {

namespace {
constexpr int kMaxMessagesPerAdd = 1000;
}  // namespace

Result<AddMessagesResult> ConversationWriter::add(const AddMessagesRequest& req, bool create_cube_if_missing,
                                                  const RunFn& run_unlocked) {
    KASTEN_RETURN_IF_ERROR(validate_identifier("cube id", req.cube_id));
    if (!req.session_id.empty()) KASTEN_RETURN_IF_ERROR(validate_identifier("session_id", req.session_id));
    if (req.messages.empty()) return Status::invalid_argument("messages must not be empty");
    if (req.messages.size() > static_cast<size_t>(kMaxMessagesPerAdd)) {
        return Status::invalid_argument("at most " + std::to_string(kMaxMessagesPerAdd) + " messages per add");
    }
    for (size_t i = 0; i < req.messages.size(); ++i) {
        const auto& msg = req.messages[i];
        std::string field = "messages[" + std::to_string(i) + "]";
        KASTEN_RETURN_IF_ERROR(validate_role(msg.role).with_context(field));
        KASTEN_RETURN_IF_ERROR(validate_text(field + ".content", msg.content, false));
    }
    const TimeMs now = ctx_.clock->now_ms();
    // Embedding and text analysis are the expensive parts and need no lock: concurrent adds run them in parallel.
    std::vector<store::TurnRecord> new_turns(req.messages.size());
    std::vector<retrieval::LexicalIndex::Analysis> analyses(req.messages.size());
    for (auto& t : new_turns) t.id = generate_id("t_");  // under a global lock: here, not in `prepare`
    auto prepare = [&] {
        for (size_t i = 0; i < req.messages.size(); ++i) {
            const auto& msg = req.messages[i];
            auto& t = new_turns[i];
            t.cube_id = req.cube_id;
            t.role = msg.role;
            t.content = msg.content;
            t.conv_time = msg.time ? *msg.time : (req.time ? *req.time : now);
            t.ingested_at = now;
            t.embedder_id = ctx_.embedder_id;
            analyses[i] = retrieval::LexicalIndex::analyze_text(t.content);
        }
        // All new turns in one call: the sentence encoder runs them together.
        {
            const auto dim = static_cast<std::size_t>(ctx_.embedder->dim());
            std::vector<std::string_view> contents;
            contents.reserve(new_turns.size());
            for (const auto& t : new_turns) contents.push_back(t.content);
            std::vector<float> vectors(contents.size() * dim);
            ctx_.embedder->embed_batch(contents, vectors);
            for (size_t i = 0; i < new_turns.size(); ++i) {
                new_turns[i].embedding.assign(vectors.begin() + static_cast<std::ptrdiff_t>(i * dim),
                                              vectors.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim));
            }
        }
    };
    if (run_unlocked) {
        run_unlocked(prepare);
    } else {
        prepare();
    }
    TimeMs first_time = new_turns.front().conv_time;
    for (const auto& t : new_turns) first_time = std::min(first_time, t.conv_time);

    std::string external = req.session_id.empty() ? generate_id("session-") : req.session_id;
    store::SessionRecord session;
    bool new_session = false;
    SessionKey::Append key;
    std::string job_id;
    auto write = [&](Repositories& repos, store::EventRecord& event) -> Status {
        auto cube = repos.cubes.get(req.cube_id);
        if (!cube) {
            if (cube.status().code() != StatusCode::kNotFound) return cube.status();
            if (!create_cube_if_missing) return Status::not_found("cube '" + req.cube_id + "' does not exist");
            store::CubeRecord c;
            c.id = req.cube_id;
            c.name = req.cube_id;
            c.embedder_id = ctx_.embedder_id;
            c.created_at = now;
            KASTEN_RETURN_IF_ERROR(repos.cubes.create(c));
            KASTEN_RETURN_IF_ERROR(
                repos.events.append(event_of(c.id, req.actor, "cube.create", "cube", c.id)).status());
        } else {
            KASTEN_RETURN_IF_ERROR(ctx_.index->check_cube_embedder(*cube));
            if (cube->embedder_id.empty()) {
                KASTEN_RETURN_IF_ERROR(repos.cubes.set_embedder(req.cube_id, ctx_.embedder_id));
            }
        }
        store::SessionKeyState state;
        auto s = repos.sessions.get_by_external(req.cube_id, external);
        if (s) {
            session = std::move(s).value();
            new_session = false;
            KASTEN_ASSIGN_OR_RETURN(state, repos.sessions.key_state(req.cube_id, session.id));
        } else if (s.status().code() == StatusCode::kNotFound) {
            new_session = true;
        } else {
            return s.status();
        }
        bool rebuilt = false;
        if (new_session) {
            session = store::SessionRecord{};
            session.id = generate_id("s_");
            session.cube_id = req.cube_id;
            session.external_id = external;
            session.started_at = first_time;
            KASTEN_RETURN_IF_ERROR(repos.sessions.insert(session));
        } else {
            if (first_time < session.started_at) {
                session.started_at = first_time;
                KASTEN_RETURN_IF_ERROR(repos.sessions.set_started_at(req.cube_id, session.id, first_time));
            }
            if (!state.known() || state.embedder_id != ctx_.embedder_id) {
                // A session written before key states were kept (or by another embedder): built once from its turns.
                KASTEN_ASSIGN_OR_RETURN(auto old_turns, repos.turns.list_by_session(req.cube_id, session.id));
                state = SessionKey::build(*ctx_.embedder, old_turns);
                rebuilt = true;
            }
        }
        int next = 0;
        if (!new_session) {
            KASTEN_ASSIGN_OR_RETURN(next, repos.turns.next_index(req.cube_id, session.id));
        }
        for (auto& t : new_turns) {
            t.session_id = session.id;
            t.index = next++;
            KASTEN_RETURN_IF_ERROR(repos.turns.insert(t));
        }
        key = SessionKey::append(*ctx_.embedder, state, new_turns, analyses);
        if (rebuilt) {
            KASTEN_ASSIGN_OR_RETURN(auto all_turns, repos.turns.list_by_session(req.cube_id, session.id));
            key.lexical = SessionKey::analysis(all_turns);
            key.replace_lexical = true;
        }
        session.embedding = key.embedding;
        session.embedder_id = ctx_.embedder_id;
        KASTEN_RETURN_IF_ERROR(repos.sessions.update_key(req.cube_id, session.id, session.embedding, state));
        if (jobs_.enabled()) {
            KASTEN_ASSIGN_OR_RETURN(job_id, jobs_.queue(repos, req.cube_id, session.id, new_turns, now));
        }
        nlohmann::json ids = nlohmann::json::array();
        for (const auto& t : new_turns) ids.push_back(t.id);
        event.target_id = external;
        event.detail_json =
            nlohmann::json{{"turns", new_turns.size()}, {"session", session.id}, {"turn_ids", std::move(ids)}}.dump();
        return Status::ok();
    };
    // The store is committed when after() runs: the add is acknowledged from there on. Index failures are logged and
    // repaired at the next open (the event is past the lexical watermark).
    auto after = [&](std::int64_t seq) {
        for (size_t i = 0; i < new_turns.size(); ++i) {
            ctx_.index->index_turn(new_turns[i], std::move(analyses[i]), /*known_new=*/true, seq);
        }
        ctx_.index->index_session(session, std::move(key.lexical), key.replace_lexical || new_session, new_session,
                                  seq);
    };
    KASTEN_RETURN_IF_ERROR(
        ctx_.writer->commit(event_of(req.cube_id, req.actor, "turns.add", "session", external), write, after).status());
    if (!job_id.empty()) jobs_.wake();
    ctx_.turns_added += static_cast<std::int64_t>(new_turns.size());

    AddMessagesResult result;
    result.session_id = external;
    result.job_id = job_id;
    for (const auto& t : new_turns) result.turn_ids.push_back(t.id);
    return result;
}

Status ConversationWriter::delete_turn(const std::string& cube_id, const std::string& turn_id,
                                       const std::string& actor) {
    store::SessionRecord session;
    std::vector<store::TurnRecord> rest;
    auto write = [&](Repositories& repos, store::EventRecord& event) -> Status {
        KASTEN_ASSIGN_OR_RETURN(auto t, named(repos.turns.get(cube_id, turn_id), in_cube("turn", turn_id, cube_id)));
        KASTEN_ASSIGN_OR_RETURN(session, repos.sessions.get(cube_id, t.session_id));
        KASTEN_RETURN_IF_ERROR(repos.turns.remove(cube_id, turn_id));
        KASTEN_ASSIGN_OR_RETURN(rest, repos.turns.list_by_session(cube_id, session.id));
        store::SessionKeyState state;  // no turns left: an unknown state, rebuilt by the next append
        state.embedder_id = session.embedder_id;
        if (!rest.empty()) {
            state = SessionKey::build(*ctx_.embedder, rest);
            session.embedding = SessionKey::embedding(*ctx_.embedder, state);
        }
        KASTEN_RETURN_IF_ERROR(repos.sessions.update_key(cube_id, session.id, session.embedding, state));
        event.detail_json = nlohmann::json{{"session", session.id}}.dump();
        return Status::ok();
    };
    auto after = [&](std::int64_t seq) {
        ctx_.index->remove_unit(cube_id, retrieval::UnitType::kTurn, turn_id, seq);
        ctx_.index->index_session(session, SessionKey::analysis(rest), /*replace=*/true, false, seq);
    };
    return ctx_.writer->commit(event_of(cube_id, actor, "turn.delete", "turn", turn_id), write, after).status();
}

Status ConversationWriter::delete_session(const std::string& cube_id, const std::string& external_id,
                                          const std::string& actor) {
    store::SessionRecord session;
    std::vector<std::string> turn_ids;
    auto write = [&](Repositories& repos, store::EventRecord& event) -> Status {
        KASTEN_ASSIGN_OR_RETURN(session, named(repos.sessions.get_by_external(cube_id, external_id),
                                               in_cube("session", external_id, cube_id)));
        KASTEN_ASSIGN_OR_RETURN(auto ts, repos.turns.list_by_session(cube_id, session.id));
        for (const auto& t : ts) turn_ids.push_back(t.id);
        KASTEN_RETURN_IF_ERROR(repos.sessions.remove(cube_id, session.id));
        event.detail_json = nlohmann::json{{"session", session.id}}.dump();
        return Status::ok();
    };
    auto after = [&](std::int64_t seq) { ctx_.index->remove_session(cube_id, session.id, turn_ids, seq); };
    return ctx_.writer->commit(event_of(cube_id, actor, "session.delete", "session", external_id), write, after)
        .status();
}

}  // namespace kasten::memory
