#include "memory/memory_manager.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "common/log.h"
#include "common/mutex.h"
#include "memory/background_lane.h"
#include "memory/conversation_writer.h"
#include "memory/cube_archiver.h"
#include "memory/index_repairer.h"
#include "memory/input_validation.h"
#include "memory/memory_context.h"
#include "memory/note_editor.h"
#include "memory/note_job_scheduler.h"
#include "memory/reindexer.h"
#include "memory/searcher.h"
#include "store/transaction.h"

namespace kasten::memory {

const char* granularity_name(Granularity g) {
    switch (g) {
        case Granularity::kTurn:
            return "turn";
        case Granularity::kSession:
            return "session";
        case Granularity::kNote:
            return "note";
    }
    return "turn";
}

bool parse_granularity(const std::string& text, Granularity* out) {
    if (text == "turn")
        *out = Granularity::kTurn;
    else if (text == "session")
        *out = Granularity::kSession;
    else if (text == "note")
        *out = Granularity::kNote;
    else
        return false;
    return true;
}

const char* retriever_name(Retriever r) {
    switch (r) {
        case Retriever::kLexical:
            return "lexical";
        case Retriever::kVector:
            return "vector";
        case Retriever::kHybrid:
            return "hybrid";
    }
    return "hybrid";
}

bool parse_retriever(const std::string& text, Retriever* out) {
    if (text == "lexical")
        *out = Retriever::kLexical;
    else if (text == "vector")
        *out = Retriever::kVector;
    else if (text == "hybrid")
        *out = Retriever::kHybrid;
    else
        return false;
    return true;
}

// The parts, in dependency order (docs/architecture.md): the shared context (store writer and readers, indexes),
// then the searcher (pure reads), the note-job scheduler (uses the searcher for link candidates), and the writers.
struct MemoryManager::Impl {
    MemoryContext ctx;
    std::unique_ptr<Searcher> searcher;
    std::unique_ptr<NoteJobScheduler> jobs;
    std::unique_ptr<ConversationWriter> conversations;
    std::unique_ptr<NoteEditor> notes;
    std::unique_ptr<CubeArchiver> archiver;
    std::unique_ptr<Reindexer> reindexer;
    std::unique_ptr<IndexRepairer> repairer;
    // Runs background adds; started by the first one.
    Mutex lane_mu;
    std::unique_ptr<BackgroundLane> lane GUARDED_BY(lane_mu);
    std::atomic<std::int64_t> background_adds{0};

    BackgroundLane& background_lane() EXCLUDES(lane_mu) {
        MutexLock lock(lane_mu);
        if (!lane) lane = std::make_unique<BackgroundLane>();
        return *lane;
    }

    // A stored note with the recall a search queued for it overlaid.
    store::NoteRecord with_recall(store::NoteRecord n) {
        RecallQueue::Recall r;
        if (ctx.recalls.overlay(n.cube_id, n.id, &r)) {
            n.strength = r.strength;
            n.last_access = r.last_access;
        }
        n.embedding.clear();
        return n;
    }
};

MemoryManager::MemoryManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MemoryManager::~MemoryManager() {
    if (!impl_) return;
    {
        MutexLock lock(impl_->lane_mu);
        impl_->lane.reset();  // idle: every add handed to it has returned to its caller
    }
    impl_->jobs.reset();  // a running job finishes first
    auto& ctx = impl_->ctx;
    if (impl_->repairer) {
        // A last try; what it cannot repair the next open does (the committed watermark stays before it).
        Status st = impl_->repairer->repair_now();
        if (!st.is_ok()) log::error("closing memory: the lexical index stays dirty: {}", st.to_string());
        impl_->repairer.reset();
    }
    if (ctx.writer) {
        Status st = ctx.writer->flush_recalls();
        if (!st.is_ok()) log::error("closing memory: writing note recalls: {}", st.to_string());
    }
    if (ctx.index && ctx.writer) {
        Status st = ctx.index->commit();
        if (!st.is_ok()) log::error("closing memory: {}", st.to_string());
    }
    ctx.index.reset();  // everything was drained and committed above
    ctx.readers.reset();
    ctx.writer.reset();
}

namespace {

// MemoryOptions::read_connections, 0 resolved.
int read_connections(const MemoryOptions& options) {
    if (options.read_connections > 0) return options.read_connections;
    return std::min(66, 8 * std::max(1, static_cast<int>(std::thread::hardware_concurrency())) + 2);
}

}  // namespace

Result<std::unique_ptr<MemoryManager>> MemoryManager::open(MemoryOptions options) {
    if (!options.embedder) return Status::invalid_argument("MemoryOptions.embedder is required");
    if (options.note_builder && !options.link_decider) {
        return Status::invalid_argument("MemoryOptions.link_decider is required with a note_builder");
    }
    auto impl = std::make_unique<Impl>();
    MemoryContext& ctx = impl->ctx;
    ctx.clock = options.clock ? options.clock : &SystemClock::instance();
    ctx.embedder = options.embedder;
    ctx.embedder_id = options.embedder->id();
    std::unique_ptr<retrieval::LexicalIndex> lexical;
    if (options.in_memory) {
        KASTEN_ASSIGN_OR_RETURN(ctx.writer, StoreWriter::open(":memory:", *ctx.clock, ctx.recalls));
        ctx.readers = ReaderPool::shared_with(*ctx.writer);
        lexical = retrieval::LexicalIndex::in_memory();
    } else {
        if (options.data_dir.empty()) return Status::invalid_argument("MemoryOptions.data_dir is required");
        std::error_code ec;
        std::filesystem::create_directories(options.data_dir, ec);
        if (ec) return Status::io_error("cannot create data dir '" + options.data_dir + "': " + ec.message());
        // kasten writes its data dir (the store, the index, their locks) even to read: say so before a library
        // reports a read-only directory as something else (Xapian: a lock held by another process).
        if (::access(options.data_dir.c_str(), W_OK) != 0) {
            const int err = errno;
            return Status::permission_denied("the data dir '" + options.data_dir + "' is not writable (" +
                                             std::strerror(err) +
                                             "): kasten needs write access to it, even to read; give the user "
                                             "write permission or choose another --data-dir");
        }
        // Lexical first: its lock tells us when another process owns this data dir.
        KASTEN_ASSIGN_OR_RETURN(lexical, retrieval::LexicalIndex::open(options.data_dir + "/lexical"));
        const std::string db_path = options.data_dir + "/kasten.db";
        KASTEN_ASSIGN_OR_RETURN(ctx.writer, StoreWriter::open(db_path, *ctx.clock, ctx.recalls));
        KASTEN_ASSIGN_OR_RETURN(ctx.readers, ReaderPool::open(db_path, read_connections(options)));
    }
    KASTEN_RETURN_IF_ERROR(lexical->set_bm25({options.bm25_k1, options.bm25_b}));
    ctx.index = std::make_unique<IndexSync>(std::move(lexical), ctx.embedder, /*background=*/!options.in_memory,
                                            options.lexical_commit_every,
                                            options.in_memory ? std::string() : options.data_dir + "/lexical.dirty",
                                            options.index_write_faults, options.hit_cache_bytes);
    ctx.options = std::move(options);
    if (!ctx.options.in_memory) {
        Status st = ctx.writer->locked([&](Repositories& repos) {
            return ctx.options.verify_on_open ? ctx.index->recover(repos, true)
                                              : ctx.index->load_without_recovery(repos);
        });
        KASTEN_RETURN_IF_ERROR(st);
    }
    if (ctx.options.search_helper && std::thread::hardware_concurrency() > 1)
        ctx.helper = std::make_unique<IdleHelper>();
    impl->searcher = std::make_unique<Searcher>(ctx);
    impl->jobs = std::make_unique<NoteJobScheduler>(ctx, *impl->searcher);
    impl->conversations = std::make_unique<ConversationWriter>(ctx, *impl->jobs);
    impl->notes = std::make_unique<NoteEditor>(ctx);
    impl->archiver = std::make_unique<CubeArchiver>(ctx);
    impl->reindexer = std::make_unique<Reindexer>(ctx);
    impl->repairer =
        std::make_unique<IndexRepairer>(ctx, ctx.options.index_repair_delay_ms, ctx.options.index_repair_max_delay_ms);
    KASTEN_RETURN_IF_ERROR(impl->jobs->start());
    return std::unique_ptr<MemoryManager>(new MemoryManager(std::move(impl)));
}

// ---------------------------------------------------------------- cubes

Result<store::CubeRecord> MemoryManager::create_cube(const std::string& id, const std::string& name,
                                                     const std::string& actor) {
    KASTEN_RETURN_IF_ERROR(validate_identifier("cube id", id));
    KASTEN_RETURN_IF_ERROR(validate_text("name", name, true));
    auto& ctx = impl_->ctx;
    store::CubeRecord c;
    c.id = id;
    c.name = name.empty() ? id : name;
    c.embedder_id = ctx.embedder_id;
    c.created_at = ctx.clock->now_ms();
    auto write = [&](Repositories& repos, store::EventRecord&) -> Status {
        Status st = repos.cubes.create(c);
        if (st.code() == StatusCode::kAlreadyExists) return Status::already_exists("cube '" + id + "' already exists");
        return st;
    };
    KASTEN_RETURN_IF_ERROR(ctx.writer->commit(event_of(id, actor, "cube.create", "cube", id), write).status());
    return c;
}

Result<CubeInfo> MemoryManager::get_cube(const std::string& id) {
    auto r = impl_->ctx.readers->lease();
    KASTEN_ASSIGN_OR_RETURN(auto c, named(r->cubes.get(id), cube_label(id)));
    KASTEN_ASSIGN_OR_RETURN(auto stats, r->cubes.stats(id));
    CubeInfo info;
    info.cube = std::move(c);
    info.sessions = stats.sessions;
    info.turns = stats.turns;
    info.notes = stats.notes;
    info.links = stats.links;
    return info;
}

Result<std::vector<store::CubeRecord>> MemoryManager::list_cubes() {
    auto r = impl_->ctx.readers->lease();
    return r->cubes.list();
}

Status MemoryManager::delete_cube(const std::string& id, const std::string& actor) {
    auto& ctx = impl_->ctx;
    auto write = [&](Repositories& repos, store::EventRecord&) -> Status {
        Status st = repos.cubes.remove(id);
        if (st.code() == StatusCode::kNotFound) return Status::not_found("cube '" + id + "' does not exist");
        return st;
    };
    auto after = [&](std::int64_t seq) { ctx.index->remove_cube(id, seq); };
    KASTEN_RETURN_IF_ERROR(ctx.writer->commit(event_of(id, actor, "cube.delete", "cube", id), write, after).status());
    ctx.recalls.forget_cube(id);
    impl_->jobs->forget_cached_notes();
    return Status::ok();
}

// ---------------------------------------------------------------- turns and sessions

Result<AddMessagesResult> MemoryManager::add_messages(const AddMessagesRequest& req, bool create_cube_if_missing) {
    if (req.background) {
        ScopedCount running(impl_->ctx.background_adds_running);
        // The lane does the analysis and embedding; the store transaction and the index updates stay on this thread,
        // so no lock that a search or an interactive write waits for is ever held at the lane's priority.
        BackgroundLane& lane = impl_->background_lane();
        impl_->background_adds.fetch_add(1, std::memory_order_relaxed);
        return impl_->conversations->add(req, create_cube_if_missing,
                                         [&](const std::function<void()>& task) { lane.run(task); });
    }
    return impl_->conversations->add(req, create_cube_if_missing);
}

Result<std::vector<store::SessionRecord>> MemoryManager::list_sessions(const std::string& cube_id, int limit,
                                                                       int offset) {
    auto r = impl_->ctx.readers->lease();
    KASTEN_RETURN_IF_ERROR(r->cubes.get(cube_id).status().with_context("cube '" + cube_id + "'"));
    KASTEN_ASSIGN_OR_RETURN(auto list, r->sessions.list(cube_id, limit, offset));
    for (auto& s : list) s.embedding.clear();
    return list;
}

Result<SessionView> MemoryManager::get_session(const std::string& cube_id, const std::string& external_id) {
    auto r = impl_->ctx.readers->lease();
    KASTEN_ASSIGN_OR_RETURN(
        auto s, named(r->sessions.get_by_external(cube_id, external_id), in_cube("session", external_id, cube_id)));
    SessionView view;
    view.session = std::move(s);
    view.session.embedding.clear();
    KASTEN_ASSIGN_OR_RETURN(view.turns, r->turns.list_by_session(cube_id, view.session.id));
    for (auto& t : view.turns) t.embedding.clear();
    return view;
}

Status MemoryManager::delete_session(const std::string& cube_id, const std::string& external_id,
                                     const std::string& actor) {
    KASTEN_RETURN_IF_ERROR(impl_->conversations->delete_session(cube_id, external_id, actor));
    impl_->jobs->forget_cached_notes();  // the stated times of notes about its turns
    return Status::ok();
}

Result<store::TurnRecord> MemoryManager::get_turn(const std::string& cube_id, const std::string& turn_id) {
    auto r = impl_->ctx.readers->lease();
    KASTEN_ASSIGN_OR_RETURN(auto t, named(r->turns.get(cube_id, turn_id), in_cube("turn", turn_id, cube_id)));
    t.embedding.clear();
    return t;
}

Result<std::vector<store::TurnRecord>> MemoryManager::list_turns(const std::string& cube_id, int limit, int offset) {
    auto r = impl_->ctx.readers->lease();
    KASTEN_RETURN_IF_ERROR(r->cubes.get(cube_id).status().with_context("cube '" + cube_id + "'"));
    KASTEN_ASSIGN_OR_RETURN(auto list, r->turns.list(cube_id, limit, offset));
    for (auto& t : list) t.embedding.clear();
    return list;
}

Status MemoryManager::delete_turn(const std::string& cube_id, const std::string& turn_id, const std::string& actor) {
    KASTEN_RETURN_IF_ERROR(impl_->conversations->delete_turn(cube_id, turn_id, actor));
    impl_->jobs->forget_cached_notes();
    return Status::ok();
}

// ---------------------------------------------------------------- activation memory

Result<store::KvSegmentRecord> MemoryManager::get_kv_segment(const std::string& cube_id, const std::string& model_id,
                                                             const std::string& text_hash) {
    auto r = impl_->ctx.readers->lease();
    return r->kv_segments.get(cube_id, model_id, text_hash);
}

Result<int> MemoryManager::put_kv_segment(const store::KvSegmentRecord& segment) {
    return impl_->ctx.writer->locked([&](Repositories& repos) -> Result<int> {
        store::Transaction tx(repos.db);
        KASTEN_RETURN_IF_ERROR(tx.begin());
        KASTEN_ASSIGN_OR_RETURN(
            int removed, repos.kv_segments.remove_other_texts(segment.cube_id, segment.model_id, segment.text_hash));
        KASTEN_RETURN_IF_ERROR(repos.kv_segments.put(segment));
        KASTEN_RETURN_IF_ERROR(tx.commit());
        return removed;
    });
}

Result<std::vector<store::KvSegmentRecord>> MemoryManager::list_kv_segments(const std::string& cube_id) {
    auto r = impl_->ctx.readers->lease();
    KASTEN_RETURN_IF_ERROR(r->cubes.get(cube_id).status().with_context("cube '" + cube_id + "'"));
    return r->kv_segments.list(cube_id);
}

// ---------------------------------------------------------------- notes

Result<store::NoteRecord> MemoryManager::add_note(const std::string& cube_id, const NoteInput& input,
                                                  const std::string& actor) {
    KASTEN_ASSIGN_OR_RETURN(auto n, impl_->notes->add(cube_id, input, actor));
    impl_->jobs->forget_cached_notes();
    return n;
}

Result<store::NoteRecord> MemoryManager::get_note(const std::string& cube_id, const std::string& note_id) {
    auto r = impl_->ctx.readers->lease();
    KASTEN_ASSIGN_OR_RETURN(auto n, named(r->notes.get(cube_id, note_id), in_cube("memory", note_id, cube_id)));
    return impl_->with_recall(std::move(n));
}

Result<std::string> MemoryManager::note_cube(const std::string& note_id) {
    auto r = impl_->ctx.readers->lease();
    return r->notes.cube_of(note_id);
}

Result<std::vector<store::NoteRecord>> MemoryManager::list_notes(const std::string& cube_id,
                                                                 std::optional<store::NoteStatus> status, int limit,
                                                                 int offset) {
    auto r = impl_->ctx.readers->lease();
    KASTEN_RETURN_IF_ERROR(r->cubes.get(cube_id).status().with_context("cube '" + cube_id + "'"));
    KASTEN_ASSIGN_OR_RETURN(auto list, r->notes.list(cube_id, status, limit, offset));
    for (auto& n : list) n = impl_->with_recall(std::move(n));
    return list;
}

Result<store::NoteRecord> MemoryManager::patch_note(const std::string& cube_id, const std::string& note_id,
                                                    const NotePatch& patch) {
    KASTEN_ASSIGN_OR_RETURN(auto n, impl_->notes->patch(cube_id, note_id, patch));
    impl_->jobs->forget_cached_notes();
    return impl_->with_recall(std::move(n));
}

Status MemoryManager::delete_note(const std::string& cube_id, const std::string& note_id, const std::string& actor) {
    KASTEN_RETURN_IF_ERROR(impl_->notes->remove(cube_id, note_id, actor));
    impl_->jobs->forget_cached_notes();
    return Status::ok();
}

Result<std::vector<store::NoteVersionRecord>> MemoryManager::note_history(const std::string& cube_id,
                                                                          const std::string& note_id) {
    auto r = impl_->ctx.readers->lease();
    KASTEN_RETURN_IF_ERROR(named(r->notes.get(cube_id, note_id), in_cube("memory", note_id, cube_id)).status());
    return r->notes.versions(cube_id, note_id);
}

Result<std::vector<store::LinkRecord>> MemoryManager::note_links(const std::string& cube_id,
                                                                 const std::string& note_id) {
    auto r = impl_->ctx.readers->lease();
    KASTEN_RETURN_IF_ERROR(named(r->notes.get(cube_id, note_id), in_cube("memory", note_id, cube_id)).status());
    return r->links.list_for_note(cube_id, note_id);
}

// ---------------------------------------------------------------- search

Result<PackedContext> MemoryManager::build_context(const ContextRequest& request) {
    return ContextBuilder(*this, *impl_->ctx.clock).build(request);
}

Result<std::vector<SearchHit>> MemoryManager::search(const SearchRequest& req) {
    return impl_->searcher->search(req);
}

// ---------------------------------------------------------------- jobs

Result<store::JobRecord> MemoryManager::get_job(const std::string& job_id) {
    auto r = impl_->ctx.readers->lease();
    return named(r->jobs.get(job_id), "job '" + job_id + "'");
}

Result<std::vector<store::JobRecord>> MemoryManager::list_jobs(const std::string& cube_id, int limit, int offset) {
    auto r = impl_->ctx.readers->lease();
    KASTEN_RETURN_IF_ERROR(named(r->cubes.get(cube_id), cube_label(cube_id)).status());
    return r->jobs.list_for_cube(cube_id, limit, offset);
}

Result<int> MemoryManager::run_jobs(int max_jobs) {
    int ran = 0;
    while (max_jobs < 0 || ran < max_jobs) {
        KASTEN_ASSIGN_OR_RETURN(JobRunner::Outcome outcome, impl_->jobs->run_one());
        if (outcome == JobRunner::Outcome::kIdle) break;
        ++ran;
    }
    return ran;
}

Status MemoryManager::wait_for_jobs(std::int64_t timeout_ms) {
    if (!impl_->jobs->wait_idle(timeout_ms)) {
        return Status::resource_exhausted("note jobs still running after " + std::to_string(timeout_ms) + " ms");
    }
    return Status::ok();
}

// ---------------------------------------------------------------- export / import

Status MemoryManager::export_cube(const std::string& cube_id, std::ostream& out) {
    return impl_->archiver->export_cube(cube_id, out);
}

Result<ImportSummary> MemoryManager::import_cube(std::istream& in, const std::optional<std::string>& target_cube_id,
                                                 const std::string& actor, ImportIds ids) {
    return impl_->archiver->import_cube(in, target_cube_id, actor, ids);
}

// ---------------------------------------------------------------- maintenance

Result<ReindexSummary> MemoryManager::reindex(const std::string& cube_id, const ProgressFn& progress) {
    KASTEN_ASSIGN_OR_RETURN(auto sum, impl_->reindexer->reindex(cube_id, progress));
    impl_->jobs->forget_cached_notes();
    return sum;
}

Result<ConsistencyReport> MemoryManager::check_consistency() {
    auto& ctx = impl_->ctx;
    ctx.index->read_barrier();
    return ctx.writer->locked([&](Repositories& repos) { return ctx.index->consistency(repos); });
}

Status MemoryManager::flush() {
    KASTEN_RETURN_IF_ERROR(impl_->ctx.writer->flush_recalls());
    KASTEN_RETURN_IF_ERROR(impl_->repairer->repair_now());
    return impl_->ctx.index->commit();
}

IndexHealth MemoryManager::index_health() const {
    return impl_->ctx.index->health();
}

std::string MemoryManager::embedder_id() const {
    return impl_->ctx.embedder_id;
}

std::shared_ptr<const llm::Embedder> MemoryManager::embedder() const {
    return impl_->ctx.embedder;
}

ManagerStats MemoryManager::stats() const {
    auto& ctx = impl_->ctx;
    ManagerStats s;
    s.turns_added = ctx.turns_added.load();
    s.searches = ctx.searches.load();
    s.note_jobs_done = ctx.jobs_done.load();
    s.notes_built = ctx.notes_built.load();
    s.recovered_units = ctx.index->recovered_units();
    s.pending_recalls = ctx.recalls.size();
    const IndexHealth health = ctx.index->health();
    s.lexical_index_dirty = health.dirty;
    s.lexical_index_repairs = health.repairs;
    HitCache& hits = ctx.index->hits();
    s.hit_cache_hits = static_cast<std::int64_t>(hits.hits());
    s.hit_cache_misses = static_cast<std::int64_t>(hits.misses());
    s.hit_cache_bytes = static_cast<std::int64_t>(hits.bytes());
    s.hit_cache_entries = static_cast<std::int64_t>(hits.entries());
    s.background_adds = impl_->background_adds.load(std::memory_order_relaxed);
    if (ctx.helper) s.search_helper_handoffs = static_cast<std::int64_t>(ctx.helper->handed_off());
    auto lexical_units = ctx.index->lexical().total_documents();
    if (lexical_units) s.lexical_units = static_cast<std::int64_t>(*lexical_units);
    s.vector_units = static_cast<std::int64_t>(ctx.index->vectors().total_size());
    auto r = ctx.readers->lease();
    auto cubes = r->cubes.count();
    if (cubes) s.cubes = *cubes;
    return s;
}

}  // namespace kasten::memory
