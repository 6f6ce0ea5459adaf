#include "api/http/router.h"

#include <algorithm>

namespace kasten::api {

Router Router::kasten_routes() {
    Router r;
    r.add("GET", "/healthz", RouteId::kHealthz);
    r.add("GET", "/v1/healthz", RouteId::kHealthz);
    r.add("GET", "/metrics", RouteId::kMetrics);
    r.add("POST", "/v1/cubes", RouteId::kCreateCube);
    r.add("GET", "/v1/cubes", RouteId::kListCubes);
    r.add("GET", "/v1/cubes/{cube}", RouteId::kGetCube);
    r.add("DELETE", "/v1/cubes/{cube}", RouteId::kDeleteCube);
    r.add("POST", "/v1/cubes/{cube}/memories", RouteId::kAddMemories);
    r.add("GET", "/v1/cubes/{cube}/memories", RouteId::kListMemories);
    r.add("GET", "/v1/cubes/{cube}/memories/{id}", RouteId::kGetMemory);
    r.add("PATCH", "/v1/cubes/{cube}/memories/{id}", RouteId::kPatchMemory);
    r.add("DELETE", "/v1/cubes/{cube}/memories/{id}", RouteId::kDeleteMemory);
    r.add("GET", "/v1/cubes/{cube}/memories/{id}/history", RouteId::kMemoryHistory);
    r.add("GET", "/v1/cubes/{cube}/memories/{id}/links", RouteId::kMemoryLinks);
    r.add("GET", "/v1/cubes/{cube}/sessions", RouteId::kListSessions);
    r.add("GET", "/v1/cubes/{cube}/sessions/{session_id}", RouteId::kGetSession);
    r.add("DELETE", "/v1/cubes/{cube}/sessions/{session_id}", RouteId::kDeleteSession);
    r.add("GET", "/v1/cubes/{cube}/turns", RouteId::kListTurns);
    r.add("GET", "/v1/cubes/{cube}/turns/{id}", RouteId::kGetTurn);
    r.add("DELETE", "/v1/cubes/{cube}/turns/{id}", RouteId::kDeleteTurn);
    r.add("POST", "/v1/cubes/{cube}/search", RouteId::kSearch);
    r.add("POST", "/v1/cubes/{cube}/context", RouteId::kContext);
    r.add("GET", "/v1/cubes/{cube}/jobs", RouteId::kListJobs);
    r.add("GET", "/v1/jobs/{id}", RouteId::kGetJob);
    r.add("GET", "/v1/cubes/{cube}/export", RouteId::kExport);
    r.add("POST", "/v1/cubes/{cube}/import", RouteId::kImport);
    r.add("POST", "/v1/chat/completions", RouteId::kChatCompletions);
    r.add("POST", "/v1/completions", RouteId::kCompletions);
    r.add("GET", "/v1/models", RouteId::kModels);
    r.add("GET", "/v1/models/{model}", RouteId::kModel);
    r.add("POST", "/v1/embeddings", RouteId::kEmbeddings);
    return r;
}

void Router::add(std::string method, std::string pattern, RouteId id) {
    Entry e{std::move(method), std::move(pattern), {}, id};
    size_t start = 1;
    while (start <= e.pattern.size()) {
        size_t end = e.pattern.find('/', start);
        if (end == std::string::npos) end = e.pattern.size();
        e.parts.push_back(e.pattern.substr(start, end - start));
        start = end + 1;
    }
    entries_.push_back(std::move(e));
}

bool Router::matches(const Entry& e, const std::vector<std::string>& segments,
                     std::map<std::string, std::string>* params) {
    if (e.parts.size() != segments.size()) return false;
    std::map<std::string, std::string> found;
    for (size_t i = 0; i < segments.size(); ++i) {
        const std::string& part = e.parts[i];
        if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
            if (segments[i].empty()) return false;
            found[part.substr(1, part.size() - 2)] = segments[i];
        } else if (part != segments[i]) {
            return false;
        }
    }
    *params = std::move(found);
    return true;
}

RouteLookup Router::find(std::string_view method, const std::vector<std::string>& segments) const {
    const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
    RouteLookup out;
    for (const Entry& e : entries_) {
        std::map<std::string, std::string> params;
        if (!matches(e, segments, &params)) continue;
        if (e.method == wanted) {
            out.outcome = RouteLookup::Outcome::kFound;
            out.id = e.id;
            out.pattern = e.pattern;
            out.params = std::move(params);
            out.allowed_methods.clear();
            return out;
        }
        out.outcome = RouteLookup::Outcome::kMethodNotAllowed;
        out.pattern = e.pattern;
        if (std::find(out.allowed_methods.begin(), out.allowed_methods.end(), e.method) == out.allowed_methods.end()) {
            out.allowed_methods.push_back(e.method);
        }
    }
    return out;
}

}  // namespace kasten::api
