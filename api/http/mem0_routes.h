#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/dto/mem0_scope.h"
#include "api/dto/request_parser.h"
#include "api/http/auth.h"
#include "api/http/router.h"
#include "common/result.h"
#include "memory/memory_manager.h"

namespace kasten::api {

struct Mem0Options {
    bool notes_enabled = false;  // a note builder runs (else add with infer: true is refused)
    RequestLimits limits;
    // How long an add (infer: true, async_mode off) waits for its note job before answering PENDING.
    std::int64_t add_wait_ms = 30000;
};

// One request on a Mem0 route, authenticated by the caller (ApiService).
struct Mem0Call {
    std::string method;                                // GET | POST | PUT | DELETE
    std::string pattern;                               // the matched route pattern, e.g. "/v1/memories/{id}"
    const std::map<std::string, std::string>* params;  // path parameters
    const std::map<std::string, std::string>* query;
    const std::string* body;
    const Principal* principal;
};

struct Mem0Reply {
    int status = 200;
    nlohmann::json body;
};

// The routes of Mem0's platform API that the official clients (mem0ai 3.x) call, answered from kasten's memory so
// that a Mem0 application switches to kasten by changing its client's host (docs/mem0.md):
//   GET /v1/ping/, POST /v3/memories/add/, POST /v3/memories/ (getAll), POST /v3/memories/search/,
//   GET|PUT|DELETE /v1/memories/{id}/, DELETE /v1/memories/ (deleteAll), GET /v1/memories/{id}/history/,
//   GET /v1/entities/, DELETE /v1/entities/{type}/{name}/ and /v2/entities/{type}/{name}/, GET /v1/event/{id}/.
// Memories are notes; entities map to cubes and tags as api/dto/mem0_scope.h says. Authorisation is per cube like
// kasten's own routes: a key may use the memories of the cubes it lists; a memory or event of another cube is
// reported as absent (404). Thread-safe (the MemoryManager is).
class Mem0Routes {
  public:
    Mem0Routes(memory::MemoryManager& memory, Mem0Options options);
    // Stops the worker that tags the memories of adds answered before their note job was done.
    ~Mem0Routes();
    Mem0Routes(const Mem0Routes&) = delete;
    Mem0Routes& operator=(const Mem0Routes&) = delete;

    // Registers the routes above under RouteId::kMem0.
    static void add_routes(Router& router);

    Result<Mem0Reply> handle(const Mem0Call& call);

  private:
    // An add's note job and what its new notes are to be tagged with.
    struct PendingScope {
        std::string cube;
        std::string job_id;
        std::vector<std::string> turn_ids;
        mem0::Entities entities;
        nlohmann::json metadata;
        std::string actor;
    };

    Result<Mem0Reply> ping();
    Result<Mem0Reply> add(const Mem0Call& call);
    Result<Mem0Reply> get_all(const Mem0Call& call);
    Result<Mem0Reply> search(const Mem0Call& call);
    Result<Mem0Reply> get(const Mem0Call& call);
    Result<Mem0Reply> update(const Mem0Call& call);
    Result<Mem0Reply> remove(const Mem0Call& call);
    Result<Mem0Reply> remove_all(const Mem0Call& call);
    Result<Mem0Reply> history(const Mem0Call& call);
    Result<Mem0Reply> entities(const Mem0Call& call);
    Result<Mem0Reply> remove_entity(const Mem0Call& call);
    Result<Mem0Reply> event(const Mem0Call& call);

    // The cube of a memory the principal may use; kNotFound otherwise.
    Result<std::string> memory_cube(const Mem0Call& call);
    // Whether the cube exists.
    Result<bool> cube_exists(const std::string& cube_id);

    // Tags the notes of a finished note job that cite the add's turns; answers them as Mem0 ADD results.
    Result<nlohmann::json> apply_scope(const PendingScope& scope);
    // Hands an add answered PENDING to the worker, which tags its notes once the job is done (while the process
    // runs: after a restart those notes stay untagged).
    void defer_scope(PendingScope scope);
    void finish_scopes();

    memory::MemoryManager& memory_;
    Mem0Options options_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<PendingScope> pending_;
    bool stop_ = false;
    std::thread worker_;  // started by the first defer_scope()
};

}  // namespace kasten::api
