#include "memory/note_job_scheduler.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "memory/cube_term_statistics.h"
#include "memory/id_generator.h"
#include "memory/note_text.h"
#include "retrieval/cosine.h"

namespace kasten::memory {

namespace {
constexpr char kNoteJobKind[] = "notes.build";
}  // namespace

// The weaver's view of the cube's existing notes: reads through the reader pool and the candidate cache.
struct NoteJobScheduler::Neighbourhood final : NoteNeighbourhood {
    explicit Neighbourhood(NoteJobScheduler& s) : s(s) {}
    Result<bool> has_active_hash(const std::string& cube_id, const std::string& hash) override {
        auto r = s.ctx_.readers->lease();
        return r->notes.has_active_hash(cube_id, hash);
    }
    Result<std::vector<NeighbourNote>> neighbours(const store::NoteRecord& note, int k) override {
        retrieval::SearchFilter filter;
        filter.cube_id = note.cube_id;
        filter.type = retrieval::UnitType::kNote;
        // The lexical side queries the note's most salient keywords (builders list them best first): querying the
        // whole content made the note jobs of the LongMemEval development split about 25% slower, and all eight
        // keywords instead of four about 10%, for the same recall.
        constexpr std::size_t kQueryKeywords = 4;
        std::string keys;
        for (std::size_t i = 0; i < note.keywords.size() && i < kQueryKeywords; ++i) keys += note.keywords[i] + " ";
        if (keys.empty()) keys = note.content;
        KASTEN_ASSIGN_OR_RETURN(auto fused, s.searcher_.hybrid_candidates(retrieval::LexicalIndex::analyze(keys),
                                                                          note.embedding, filter, 2 * k + 1));
        std::vector<NeighbourNote> out;
        for (const auto& f : fused) {
            if (static_cast<int>(out.size()) >= k) break;
            std::pair<store::NoteRecord, TimeMs> entry;
            bool cached = false;
            {
                MutexLock lock(s.cache_mu_);
                auto it = s.cache_.find(f.id);
                if (it != s.cache_.end() && it->second.first.cube_id == note.cube_id) {
                    entry = it->second;
                    cached = true;
                }
            }
            if (!cached) {
                auto r = s.ctx_.readers->lease();
                auto n = r->notes.get(note.cube_id, f.id);
                if (!n) continue;
                TimeMs stated_at = 0;
                if (!n->source_turn_ids.empty()) {
                    auto conv_time = r->turns.conv_time(note.cube_id, n->source_turn_ids.front());
                    if (conv_time) stated_at = *conv_time;
                }
                entry = {std::move(n).value(), stated_at};
                MutexLock lock(s.cache_mu_);
                if (s.cache_.size() >= kMaxCachedNotes) s.cache_.clear();
                s.cache_.insert_or_assign(f.id, entry);
            }
            const store::NoteRecord& n = entry.first;
            if (n.status != store::NoteStatus::kActive || n.id == note.id) continue;
            NeighbourNote nb;
            nb.cosine = retrieval::cosine_similarity(note.embedding, n.embedding);
            nb.score = f.score;
            nb.stated_at = entry.second;
            nb.note = n;
            out.push_back(std::move(nb));
        }
        return out;
    }
    NoteJobScheduler& s;
};

NoteJobScheduler::NoteJobScheduler(MemoryContext& ctx, Searcher& searcher) : ctx_(ctx), searcher_(searcher) {}

NoteJobScheduler::~NoteJobScheduler() {
    stop();
}

Status NoteJobScheduler::start() {
    // Jobs whose process died while running them start over (their work commits with their completion, so nothing
    // of theirs was stored).
    const TimeMs now = ctx_.clock->now_ms();
    KASTEN_ASSIGN_OR_RETURN(std::int64_t requeued,
                            ctx_.writer->locked([&](Repositories& repos) { return repos.jobs.requeue_running(now); }));
    if (requeued > 0) log::info("{} interrupted note job(s) queued again", requeued);
    if (enabled() && ctx_.options.background_jobs) {
        runner_ = std::make_unique<JobRunner>([this] { return run_next(); });
    }
    return Status::ok();
}

void NoteJobScheduler::stop() {
    runner_.reset();
}

void NoteJobScheduler::wake() {
    if (runner_) runner_->wake();
}

bool NoteJobScheduler::wait_idle(std::int64_t timeout_ms) {
    return !runner_ || runner_->wait_idle(timeout_ms);
}

void NoteJobScheduler::forget_cached_notes() {
    MutexLock lock(cache_mu_);
    cache_.clear();
}

Result<std::string> NoteJobScheduler::queue(Repositories& repos, const std::string& cube_id,
                                            const std::string& session_id,
                                            const std::vector<store::TurnRecord>& new_turns, TimeMs now) {
    KASTEN_ASSIGN_OR_RETURN(auto queued, repos.jobs.find_queued(cube_id, kNoteJobKind, session_id));
    // The payload names the session and the index range of its new turns (appends are contiguous), so joining a
    // queued job costs O(1) however far the jobs lag behind. Payloads of older builds list turn ids.
    int from = new_turns.front().index, to = new_turns.front().index;
    for (const auto& t : new_turns) {
        from = std::min(from, t.index);
        to = std::max(to, t.index);
    }
    nlohmann::json payload = {{"session_id", session_id}, {"from", from}, {"to", to}};
    if (queued) {
        payload = nlohmann::json::parse(queued->payload_json, nullptr, /*allow_exceptions=*/false);
        if (payload.is_object() && payload.contains("turn_ids") && payload["turn_ids"].is_array()) {
            for (const auto& t : new_turns) payload["turn_ids"].push_back(t.id);
        } else if (payload.is_object() && payload.contains("from") && payload["from"].is_number_integer() &&
                   payload.contains("to") && payload["to"].is_number_integer()) {
            payload["from"] = std::min(payload["from"].get<int>(), from);
            payload["to"] = std::max(payload["to"].get<int>(), to);
        } else {
            return Status::corruption("job '" + queued->id + "' has a malformed payload");
        }
        KASTEN_RETURN_IF_ERROR(repos.jobs.set_queued_payload(queued->id, payload.dump(), now));
        return queued->id;
    }
    store::JobRecord j;
    j.id = generate_id("j_");
    j.cube_id = cube_id;
    j.kind = kNoteJobKind;
    j.payload_json = payload.dump();
    j.created_at = now;
    j.updated_at = now;
    j.session_key = session_id;
    KASTEN_RETURN_IF_ERROR(repos.jobs.insert(j));
    return j.id;
}

// Claims the oldest queued job and loads its batch. nullopt when nothing is queued; a job that cannot run (gave up,
// nothing left to read) is settled here and reported with an empty batch.
Result<NoteJobScheduler::Claimed> NoteJobScheduler::claim(Repositories& repos) {
    KASTEN_ASSIGN_OR_RETURN(auto queued, repos.jobs.list_by_state(store::JobState::kQueued, 1));
    if (queued.empty()) return Claimed();
    store::JobRecord job = std::move(queued.front());
    const TimeMs now = ctx_.clock->now_ms();
    KASTEN_RETURN_IF_ERROR(repos.jobs.claim(job.id, now));
    job.attempts++;
    NoteBatch batch;
    batch.cube_id = job.cube_id;
    auto settle = [&](store::JobState state, const std::string& error) -> Status {
        if (state == store::JobState::kDone) return repos.jobs.finish(job.id, R"({"notes":0})", now);
        return repos.jobs.set_state(job.id, state, error, now);
    };
    if (job.attempts > ctx_.options.job_max_attempts) {
        KASTEN_RETURN_IF_ERROR(settle(store::JobState::kFailed, fmt::format("gave up after {} attempts; last error: {}",
                                                                            ctx_.options.job_max_attempts, job.error)));
        return Claimed(std::make_pair(std::move(job), std::move(batch)));
    }
    const nlohmann::json payload = nlohmann::json::parse(job.payload_json, nullptr, false);
    const bool by_ids = payload.is_object() && payload.contains("turn_ids") && payload["turn_ids"].is_array();
    const bool by_range = payload.is_object() && payload.contains("from") && payload["from"].is_number_integer() &&
                          payload.contains("to") && payload["to"].is_number_integer();
    if (!payload.is_object() || !payload.contains("session_id") || !payload["session_id"].is_string() ||
        (!by_ids && !by_range)) {
        KASTEN_RETURN_IF_ERROR(settle(store::JobState::kFailed, "malformed job payload"));
        return Claimed(std::make_pair(std::move(job), std::move(batch)));
    }
    const std::string session_id = payload["session_id"].get<std::string>();
    auto session = repos.sessions.get(job.cube_id, session_id);
    if (session) {
        batch.session_id = session->external_id;
        std::vector<store::TurnRecord> ts;
        if (by_range) {
            KASTEN_ASSIGN_OR_RETURN(ts, repos.turns.list_range(job.cube_id, session_id, payload["from"].get<int>(),
                                                               payload["to"].get<int>()));
        } else {
            std::vector<std::string> wanted;
            for (const auto& id : payload["turn_ids"]) {
                if (id.is_string()) wanted.push_back(id.get<std::string>());
            }
            KASTEN_ASSIGN_OR_RETURN(ts, repos.turns.get_many(job.cube_id, wanted));
            std::sort(ts.begin(), ts.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
        }
        for (const auto& t : ts) {
            if (t.session_id == session_id) batch.turns.push_back(SourceTurn{t.id, t.role, t.content, t.conv_time});
        }
    } else if (session.status().code() != StatusCode::kNotFound) {
        return session.status();
    }
    if (batch.turns.empty()) KASTEN_RETURN_IF_ERROR(settle(store::JobState::kDone, ""));  // all deleted
    return Claimed(std::make_pair(std::move(job), std::move(batch)));
}

// Stores a plan and completes its job in one transaction, then indexes what changed.
Status NoteJobScheduler::apply(const store::JobRecord& job, const WeavePlan& plan, const std::string& builder_id) {
    const TimeMs now = ctx_.clock->now_ms();
    const std::string& actor = ctx_.options.weave.actor;
    std::vector<store::NoteRecord> changed;
    bool cube_gone = false;
    int superseded = 0, evolved = 0, links_added = 0;
    auto write = [&](Repositories& repos, store::EventRecord& event) -> Status {
        auto cube = repos.cubes.get(job.cube_id);
        if (!cube) {
            if (cube.status().code() != StatusCode::kNotFound) return cube.status();
            cube_gone = true;
            return Status::not_found("cube deleted");
        }
        for (const auto& n : plan.notes) KASTEN_RETURN_IF_ERROR(repos.notes.insert(n, actor));
        for (const auto& c : plan.changes) {
            auto cur = repos.notes.get(job.cube_id, c.note_id);
            if (!cur) {
                if (cur.status().code() == StatusCode::kNotFound) continue;  // deleted since the plan was made
                return cur.status();
            }
            if (cur->status != store::NoteStatus::kActive) continue;
            if (c.close_valid_to) {
                cur->valid_to = *c.close_valid_to;
                cur->superseded_by = c.superseded_by;
                cur->superseded_at = now;
                cur->status = store::NoteStatus::kSuperseded;
                superseded++;
            } else {
                if (c.tags) cur->tags = *c.tags;
                if (c.context) cur->context = *c.context;
                cur->embedding = ctx_.embedder->embed(note_index_text(*cur));
                KASTEN_RETURN_IF_ERROR(
                    repos.notes.set_embedding(job.cube_id, cur->id, cur->embedding, ctx_.embedder_id));
                evolved++;
            }
            KASTEN_RETURN_IF_ERROR(repos.notes.update(*cur, c.reason, actor, now));
            changed.push_back(std::move(cur).value());
        }
        for (const auto& l : plan.links) {
            Status st = repos.links.upsert(l);
            if (st.code() == StatusCode::kNotFound) continue;
            KASTEN_RETURN_IF_ERROR(st);
            links_added++;
        }
        const nlohmann::json result = {{"builder", builder_id},
                                       {"drafts", plan.drafts},
                                       {"notes", plan.notes.size()},
                                       {"exact_duplicates", plan.exact_duplicates},
                                       {"near_duplicates", plan.near_duplicates},
                                       {"links", links_added},
                                       {"superseded", superseded},
                                       {"evolved", evolved},
                                       {"build_ms", plan.build_seconds * 1000.0}};
        KASTEN_RETURN_IF_ERROR(repos.jobs.finish(job.id, result.dump(), now));
        nlohmann::json detail = result;
        nlohmann::json ids = nlohmann::json::array();
        for (const auto& n : plan.notes) ids.push_back(n.id);
        for (const auto& n : changed) ids.push_back(n.id);
        detail["note_ids"] = std::move(ids);  // what recovery re-indexes if the index lost this job's notes
        event.detail_json = detail.dump();
        return Status::ok();
    };
    auto after = [&](std::int64_t seq) {
        for (const auto& n : plan.notes) ctx_.index->index_note(n, /*known_new=*/true, seq);
        for (const auto& n : changed) ctx_.index->index_note(n, false, seq);  // their stored state
    };
    auto seq = ctx_.writer->commit(event_of(job.cube_id, actor, "notes.build", "job", job.id), write, after);
    if (!seq) return cube_gone ? Status::ok() : seq.status();
    {
        MutexLock lock(cache_mu_);
        for (const auto& n : changed) cache_.erase(n.id);
    }
    ctx_.jobs_done++;
    ctx_.notes_built += static_cast<std::int64_t>(plan.notes.size());
    return Status::ok();
}

Result<JobRunner::Outcome> NoteJobScheduler::run_one() {
    MutexLock run_lock(run_mu_);
    if (!enabled()) return JobRunner::Outcome::kIdle;
    KASTEN_ASSIGN_OR_RETURN(Claimed claimed, ctx_.writer->locked([&](Repositories& repos) { return claim(repos); }));
    if (!claimed) return JobRunner::Outcome::kIdle;
    auto& [job, batch] = *claimed;
    if (batch.turns.empty()) return JobRunner::Outcome::kRan;  // settled without work
    ctx_.index->read_barrier(job.cube_id);                     // the batch's own turns count in the statistics
    CubeTermStatistics stats(ctx_.index->lexical(), job.cube_id);
    Neighbourhood hood(*this);
    NoteWeaver weaver(*ctx_.options.note_builder, *ctx_.options.link_decider, *ctx_.embedder, ctx_.options.weave);
    Result<WeavePlan> plan = weaver.weave(batch, stats, hood, ctx_.clock->now_ms());
    if (!plan) {
        const bool give_up = job.attempts >= ctx_.options.job_max_attempts;
        log::warn("note job {} (cube '{}') failed, attempt {}/{}: {}", job.id, job.cube_id, job.attempts,
                  ctx_.options.job_max_attempts, plan.status().to_string());
        const std::string job_id = job.id;
        Status st = ctx_.writer->locked([&](Repositories& repos) {
            return repos.jobs.set_state(job_id, give_up ? store::JobState::kFailed : store::JobState::kQueued,
                                        plan.status().to_string(), ctx_.clock->now_ms());
        });
        if (!st.is_ok() && st.code() != StatusCode::kNotFound) return st;
        return JobRunner::Outcome::kFailed;
    }
    KASTEN_RETURN_IF_ERROR(apply(job, *plan, ctx_.options.note_builder->id()));
    return JobRunner::Outcome::kRan;
}

JobRunner::Outcome NoteJobScheduler::run_next() {
    Result<JobRunner::Outcome> r = run_one();
    if (r.is_ok()) return *r;
    log::error("note jobs: {}", r.status().to_string());
    return JobRunner::Outcome::kFailed;
}

}  // namespace kasten::memory
