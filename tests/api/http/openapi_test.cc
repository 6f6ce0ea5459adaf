#include "api/http/openapi_document.h"

#include <set>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/http/api_service.h"
#include "llm/hashing_embedder.h"

namespace kasten::api {
namespace {

using nlohmann::json;
using RouteSet = std::set<std::pair<std::string, std::string>>;  // (METHOD, path pattern)

std::unique_ptr<memory::MemoryManager> open_memory() {
    memory::MemoryOptions options;
    options.in_memory = true;
    options.embedder = std::make_shared<llm::HashingEmbedder>(64);
    auto m = memory::MemoryManager::open(std::move(options));
    EXPECT_TRUE(m.is_ok()) << m.status().to_string();
    return m.is_ok() ? std::move(m).value() : nullptr;
}

std::unique_ptr<ApiService> make_service(memory::MemoryManager& memory,
                                         std::map<std::string, std::vector<std::string>> keys = {}) {
    ApiServiceOptions o;
    o.version = "test";
    o.embedder_dim = 64;
    o.api_keys = api_keys_from_map(keys);
    return std::make_unique<ApiService>(memory, o);
}

json document() {
    json doc = json::parse(openapi_document(), nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(doc.is_object()) << "the embedded OpenAPI document is not a JSON object";
    return doc;
}

RouteSet documented_routes(const json& doc) {
    RouteSet out;
    for (const auto& [path, item] : doc.at("paths").items()) {
        for (const auto& [key, op] : item.items()) {
            if (key == "parameters" || key == "summary" || key == "description" || key == "servers") continue;
            std::string method = key;
            for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            out.emplace(method, path);
        }
    }
    return out;
}

std::string describe(const RouteSet& routes) {
    std::string out;
    for (const auto& [method, pattern] : routes) out += "  " + method + " " + pattern + "\n";
    return out;
}

TEST(OpenApiDocument, IsOpenApi31WithPathsAndComponents) {
    json doc = document();
    ASSERT_TRUE(doc.is_object());
    EXPECT_EQ(doc.value("openapi", "").rfind("3.1", 0), 0u) << doc.value("openapi", "");
    EXPECT_TRUE(doc["paths"].is_object());
    EXPECT_TRUE(doc["components"]["schemas"].contains("Error"));
    EXPECT_TRUE(doc["components"]["securitySchemes"].contains("bearerAuth"));
}

// The document describes exactly the routes the service answers: no route undocumented, no documented path
// without a route (Mem0 routes included).
TEST(OpenApiDocument, PathsAreExactlyTheServiceRoutes) {
    auto memory = open_memory();
    ASSERT_NE(memory, nullptr);
    auto service = make_service(*memory);
    RouteSet served;
    for (const RouteInfo& r : service->routes()) {
        EXPECT_TRUE(served.emplace(r.method, r.pattern).second)
            << "route registered twice: " << r.method << " " << r.pattern;
    }
    EXPECT_TRUE(served.count({"POST", "/v3/memories/add"}) == 1) << "the Mem0 routes are missing from routes()";
    json doc = document();
    ASSERT_TRUE(doc.is_object());
    const RouteSet documented = documented_routes(doc);
    RouteSet undocumented, unserved;
    for (const auto& r : served) {
        if (documented.count(r) == 0) undocumented.insert(r);
    }
    for (const auto& r : documented) {
        if (served.count(r) == 0) unserved.insert(r);
    }
    EXPECT_TRUE(undocumented.empty()) << "routes missing from docs/openapi.yaml:\n" << describe(undocumented);
    EXPECT_TRUE(unserved.empty()) << "documented in docs/openapi.yaml but not served:\n" << describe(unserved);
}

// Every path parameter of a documented path is declared (on the path or the operation), and vice versa.
TEST(OpenApiDocument, PathParametersAreDeclared) {
    json doc = document();
    ASSERT_TRUE(doc.is_object());
    const json& shared = doc["components"]["parameters"];
    auto resolve = [&](const json& p) -> json {
        if (p.contains("$ref")) {
            const std::string ref = p["$ref"];
            const std::string prefix = "#/components/parameters/";
            EXPECT_EQ(ref.rfind(prefix, 0), 0u) << ref;
            return shared.value(ref.substr(prefix.size()), json::object());
        }
        return p;
    };
    for (const auto& [path, item] : doc["paths"].items()) {
        std::set<std::string> in_path;
        for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
            in_path.insert(path.substr(open + 1, path.find('}', open) - open - 1));
        }
        for (const auto& [key, op] : item.items()) {
            if (key == "parameters") continue;
            std::set<std::string> declared;
            for (const json* list : {&item, &op}) {
                if (!list->contains("parameters")) continue;
                for (const auto& p : (*list)["parameters"]) {
                    json r = resolve(p);
                    if (r.value("in", "") == "path") declared.insert(r.value("name", ""));
                }
            }
            EXPECT_EQ(declared, in_path) << key << " " << path;
        }
    }
}

// GET /openapi.json serves the embedded document, without a key even when keys are configured.
TEST(OpenApiDocument, ServedWithoutKey) {
    auto memory = open_memory();
    ASSERT_NE(memory, nullptr);
    auto service = make_service(*memory, {{"key-alice-0001", {"alice"}}});
    HttpRequest request;
    request.method = "GET";
    request.target = "/openapi.json";
    HttpResponse r = service->handle(request);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.body, std::string(openapi_document()));
    EXPECT_EQ(r.route, "/openapi.json");

    request.target = "/openapi.json?x=1";
    EXPECT_EQ(service->handle(request).status, 400);
    request.target = "/openapi.json";
    request.method = "POST";
    EXPECT_EQ(service->handle(request).status, 405);
    // Other routes still need the key.
    request.method = "GET";
    request.target = "/v1/cubes";
    EXPECT_EQ(service->handle(request).status, 401);
}

}  // namespace
}  // namespace kasten::api
