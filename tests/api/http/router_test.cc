#include "api/http/router.h"

#include <gtest/gtest.h>

namespace kasten::api {
namespace {

using Outcome = RouteLookup::Outcome;

TEST(RouterTest, MatchesRoutesAndExtractsParameters) {
    Router r = Router::kasten_routes();
    auto m = r.find("GET", {"v1", "cubes", "demo", "memories", "n_1", "history"});
    ASSERT_EQ(m.outcome, Outcome::kFound);
    EXPECT_EQ(m.id, RouteId::kMemoryHistory);
    EXPECT_EQ(m.pattern, "/v1/cubes/{cube}/memories/{id}/history");
    EXPECT_EQ(m.params.at("cube"), "demo");
    EXPECT_EQ(m.params.at("id"), "n_1");
    EXPECT_EQ(r.find("PATCH", {"v1", "cubes", "demo", "memories", "n_1"}).id, RouteId::kPatchMemory);
    EXPECT_EQ(r.find("GET", {"healthz"}).id, RouteId::kHealthz);
    EXPECT_EQ(r.find("GET", {"v1", "healthz"}).id, RouteId::kHealthz);
    EXPECT_EQ(r.find("HEAD", {"v1", "cubes"}).id, RouteId::kListCubes);
    EXPECT_EQ(r.find("POST", {"v1", "cubes"}).id, RouteId::kCreateCube);
}

TEST(RouterTest, JobRoutes) {
    Router r = Router::kasten_routes();
    auto one = r.find("GET", {"v1", "jobs", "j_1"});
    ASSERT_EQ(one.outcome, Outcome::kFound);
    EXPECT_EQ(one.id, RouteId::kGetJob);
    EXPECT_EQ(one.params.at("id"), "j_1");
    EXPECT_EQ(one.params.count("cube"), 0u);  // authorised against the job's own cube
    auto list = r.find("GET", {"v1", "cubes", "demo", "jobs"});
    ASSERT_EQ(list.outcome, Outcome::kFound);
    EXPECT_EQ(list.id, RouteId::kListJobs);
    EXPECT_EQ(list.params.at("cube"), "demo");
    EXPECT_EQ(r.find("DELETE", {"v1", "jobs", "j_1"}).outcome, Outcome::kMethodNotAllowed);
}

TEST(RouterTest, UnknownPathsAreNotFound) {
    Router r = Router::kasten_routes();
    EXPECT_EQ(r.find("GET", {"v1", "nope"}).outcome, Outcome::kNotFound);
    EXPECT_EQ(r.find("GET", {"v1", "cubes", "", "memories"}).outcome, Outcome::kNotFound);
    EXPECT_EQ(r.find("GET", {}).outcome, Outcome::kNotFound);
}

TEST(RouterTest, WrongMethodListsTheAllowedOnes) {
    Router r = Router::kasten_routes();
    auto m = r.find("PUT", {"v1", "cubes", "demo"});
    EXPECT_EQ(m.outcome, Outcome::kMethodNotAllowed);
    EXPECT_EQ(m.allowed_methods, (std::vector<std::string>{"GET", "DELETE"}));
    EXPECT_EQ(r.find("DELETE", {"v1", "cubes", "demo", "search"}).outcome, Outcome::kMethodNotAllowed);
}

}  // namespace
}  // namespace kasten::api
