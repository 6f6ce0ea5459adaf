#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kasten::api {

// Every REST endpoint (docs/api.md).
enum class RouteId {
    kHealthz,
    kMetrics,
    kCreateCube,
    kListCubes,
    kGetCube,
    kDeleteCube,
    kAddMemories,
    kListMemories,
    kGetMemory,
    kPatchMemory,
    kDeleteMemory,
    kMemoryHistory,
    kMemoryLinks,
    kListSessions,
    kGetSession,
    kDeleteSession,
    kListTurns,
    kGetTurn,
    kDeleteTurn,
    kSearch,
    kContext,
    kListJobs,
    kGetJob,
    kExport,
    kImport,
    kChatCompletions,
    kCompletions,
    kMem0,  // the Mem0-compatible routes (api/http/mem0_routes.h), told apart by pattern and method
    kModels,
    kModel,
    kEmbeddings,
};

struct RouteLookup {
    enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
    Outcome outcome = Outcome::kNotFound;
    RouteId id = RouteId::kHealthz;             // when kFound
    std::string pattern;                        // "/v1/cubes/{cube}" when the path matched; "" otherwise
    std::map<std::string, std::string> params;  // {"cube": "demo"}, decoded
    std::vector<std::string> allowed_methods;   // when kMethodNotAllowed, for the Allow header
};

// Maps (method, decoded path segments) to a route. Patterns are "/a/{name}/b": a "{name}" segment matches any one
// non-empty segment. HEAD is looked up as GET. Immutable after construction; thread-safe.
class Router {
  public:
    // The kasten REST routes.
    static Router kasten_routes();

    void add(std::string method, std::string pattern, RouteId id);
    RouteLookup find(std::string_view method, const std::vector<std::string>& segments) const;

  private:
    struct Entry {
        std::string method;
        std::string pattern;
        std::vector<std::string> parts;  // "{name}" for a parameter
        RouteId id;
    };
    static bool matches(const Entry& e, const std::vector<std::string>& segments,
                        std::map<std::string, std::string>* params);
    std::vector<Entry> entries_;
};

}  // namespace kasten::api
