// Agentic notes over REST: note jobs (job_id, GET /v1/jobs/{id}, GET /v1/cubes/{cube}/jobs), the notes they build,
// knowledge updates (a newer statement closes the older note) and world-time ("as_of") search.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/http/api_service.h"
#include "common/timestamp.h"
#include "llm/hashing_embedder.h"
#include "memory/heuristic_link_decider.h"
#include "memory/heuristic_note_builder.h"

namespace kasten::api {
namespace {

using nlohmann::json;

constexpr const char* kAliceKey = "key-alice-0001";
constexpr const char* kBobKey = "key-bob-000001";

class ApiServiceNotesTest : public ::testing::Test {
  protected:
    // notes: HeuristicNoteBuilder + HeuristicLinkDecider (else no note building); background: a job thread.
    void open(bool notes, bool background = false, std::map<std::string, std::vector<std::string>> keys = {}) {
        memory::MemoryOptions options;
        options.in_memory = true;
        options.embedder = std::make_shared<llm::HashingEmbedder>(256);
        options.clock = &clock_;
        if (notes) {
            options.note_builder = std::make_shared<memory::HeuristicNoteBuilder>();
            options.link_decider = std::make_shared<memory::HeuristicLinkDecider>();
        }
        options.background_jobs = background;
        auto m = memory::MemoryManager::open(std::move(options));
        ASSERT_TRUE(m.is_ok()) << m.status().to_string();
        memory_ = std::move(m).value();
        ApiServiceOptions o;
        o.version = "test";
        o.notes = notes ? "heuristic-v1 (links: heuristic-v1)" : "off";
        o.limits = {/*max_query_chars=*/200, /*max_top_k=*/20, /*max_content_chars=*/1000};
        o.api_keys = api_keys_from_map(keys);
        service_ = std::make_unique<ApiService>(*memory_, o);
    }

    HttpResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                      const std::string& key = "") {
        HttpRequest r;
        r.method = method;
        r.target = target;
        r.body = body;
        if (!key.empty()) r.headers["authorization"] = "Bearer " + key;
        return service_->handle(r);
    }

    json call_json(const std::string& method, const std::string& target, const std::string& body, int want,
                   const std::string& key = "") {
        HttpResponse r = call(method, target, body, key);
        EXPECT_EQ(r.status, want) << method << " " << target << " -> " << r.body;
        if (r.body.empty()) return json();
        return json::parse(r.body);
    }

    // Adds one user message at `time` in session `session`; returns the response.
    json add_user(const std::string& cube, const std::string& session, const std::string& text, const std::string& time,
                  const std::string& key = "") {
        json body = {{"session_id", session}, {"messages", {{{"role", "user"}, {"content", text}, {"time", time}}}}};
        return call_json("POST", "/v1/cubes/" + cube + "/memories", body.dump(), 201, key);
    }

    int run_jobs() {
        auto ran = memory_->run_jobs();
        EXPECT_TRUE(ran.is_ok()) << ran.status().to_string();
        return ran.is_ok() ? ran.value() : -1;
    }

    // The notes of a search, in rank order.
    json search_notes(const std::string& cube, const std::string& query, const std::string& as_of = "") {
        json body = {{"query", query}, {"granularity", "note"}, {"top_k", 5}};
        if (!as_of.empty()) body["as_of"] = as_of;
        return call_json("POST", "/v1/cubes/" + cube + "/search", body.dump(), 200)["hits"];
    }

    // The first note of the cube (any status) whose content contains `needle`.
    json note_containing(const std::string& cube, const std::string& needle) {
        json notes = call_json("GET", "/v1/cubes/" + cube + "/memories?limit=1000", "", 200)["memories"];
        for (const auto& n : notes) {
            if (n["content"].get<std::string>().find(needle) != std::string::npos) return n;
        }
        ADD_FAILURE() << "no note contains '" << needle << "'; notes: " << notes.dump(2);
        return json();
    }

    FakeClock clock_{1717000000000};  // 2024-05-29: system time, long after the conversations
    std::unique_ptr<memory::MemoryManager> memory_;
    std::unique_ptr<ApiService> service_;
};

TEST_F(ApiServiceNotesTest, AddQueuesAJobThatBuildsNotesWithEveryField) {
    open(/*notes=*/true);
    EXPECT_EQ(call_json("GET", "/healthz", "", 200)["notes"], "heuristic-v1 (links: heuristic-v1)");
    json added = add_user("demo", "s1", "I adopted a beagle named Max last week", "2023-05-20T10:00:00Z");
    ASSERT_TRUE(added["job_id"].is_string()) << added.dump();
    const std::string job_id = added["job_id"];

    json queued = call_json("GET", "/v1/jobs/" + job_id, "", 200);
    EXPECT_EQ(queued["id"], job_id);
    EXPECT_EQ(queued["cube_id"], "demo");
    EXPECT_EQ(queued["state"], "queued");
    EXPECT_EQ(queued["attempts"], 0);
    EXPECT_EQ(queued["result"], json::object());

    EXPECT_EQ(run_jobs(), 1);
    json done = call_json("GET", "/v1/jobs/" + job_id, "", 200);
    EXPECT_EQ(done["state"], "done");
    EXPECT_EQ(done["attempts"], 1);
    EXPECT_EQ(done["error"], "");
    EXPECT_EQ(done["kind"], queued["kind"]);
    ASSERT_TRUE(done["result"].is_object()) << done.dump();
    EXPECT_EQ(done["result"]["builder"], "heuristic-v1");
    EXPECT_GE(done["result"]["notes"].get<int>(), 1) << done.dump();
    for (const char* key :
         {"id", "cube_id", "kind", "state", "attempts", "error", "created_at", "updated_at", "result"}) {
        EXPECT_TRUE(done.contains(key)) << key;
    }

    json note = note_containing("demo", "beagle");
    for (const char* key :
         {"kind", "keywords", "tags", "context", "source_turn_ids", "valid_from", "valid_to", "recorded_at",
          "superseded_at", "superseded_by", "status", "version", "importance", "strength", "last_access"}) {
        EXPECT_TRUE(note.contains(key)) << key;
    }
    EXPECT_EQ(note["status"], "active");
    EXPECT_EQ(note["source_turn_ids"], added["turn_ids"]);
    EXPECT_FALSE(note["keywords"].empty()) << note.dump();
    EXPECT_TRUE(note["valid_to"].is_null());
    EXPECT_TRUE(note["superseded_at"].is_null());
    // "last week" resolved against the conversation time (2023-05-20), not against the system clock (2024).
    EXPECT_EQ(note["valid_from"].get<std::string>().substr(0, 4), "2023") << note.dump();

    json history = call_json("GET", "/v1/cubes/demo/memories/" + note["id"].get<std::string>() + "/history", "", 200);
    ASSERT_GE(history["versions"].size(), 1u);
    EXPECT_EQ(history["versions"][0]["reason"], "create");
    EXPECT_EQ(history["versions"][0]["actor"], "scheduler");
    json links = call_json("GET", "/v1/cubes/demo/memories/" + note["id"].get<std::string>() + "/links", "", 200);
    EXPECT_TRUE(links["links"].is_array());

    // Jobs of the cube, newest first, paged.
    clock_.advance(1000);
    json second = add_user("demo", "s2", "My sister Anna lives in Lisbon", "2023-06-01T09:00:00Z");
    ASSERT_TRUE(second["job_id"].is_string());
    EXPECT_NE(second["job_id"], added["job_id"]);
    json jobs = call_json("GET", "/v1/cubes/demo/jobs", "", 200);
    ASSERT_EQ(jobs["jobs"].size(), 2u) << jobs.dump();
    EXPECT_EQ(jobs["jobs"][0]["id"], second["job_id"]);
    EXPECT_EQ(jobs["jobs"][0]["state"], "queued");
    EXPECT_EQ(jobs["jobs"][1]["id"], job_id);
    EXPECT_EQ(jobs["limit"], 50);
    json page = call_json("GET", "/v1/cubes/demo/jobs?limit=1&offset=1", "", 200);
    ASSERT_EQ(page["jobs"].size(), 1u);
    EXPECT_EQ(page["jobs"][0]["id"], job_id);

    HttpResponse bad = call("GET", "/v1/cubes/demo/jobs?state=done");
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_EQ(call("GET", "/v1/jobs/j_doesnotexist").status, 404);
    EXPECT_EQ(call("GET", "/v1/cubes/nobody/jobs").status, 404);
}

TEST_F(ApiServiceNotesTest, AddsToOneSessionJoinTheQueuedJob) {
    open(/*notes=*/true);
    json a = add_user("demo", "s1", "I work as a nurse in Chicago", "2023-01-01T10:00:00Z");
    json b = add_user("demo", "s1", "I play the cello on weekends", "2023-01-01T10:05:00Z");
    EXPECT_EQ(a["job_id"], b["job_id"]);
    EXPECT_EQ(run_jobs(), 1);
    EXPECT_EQ(call_json("GET", "/v1/jobs/" + a["job_id"].get<std::string>(), "", 200)["state"], "done");
}

TEST_F(ApiServiceNotesTest, BackgroundJobsRunWithoutBeingAsked) {
    open(/*notes=*/true, /*background=*/true);
    json added = add_user("demo", "s1", "I am allergic to peanuts", "2023-04-02T08:00:00Z");
    ASSERT_TRUE(added["job_id"].is_string());
    ASSERT_TRUE(memory_->wait_for_jobs(10000).is_ok());
    json job = call_json("GET", "/v1/jobs/" + added["job_id"].get<std::string>(), "", 200);
    EXPECT_EQ(job["state"], "done") << job.dump();
    EXPECT_GE(job["result"]["notes"].get<int>(), 1) << job.dump();
}

TEST_F(ApiServiceNotesTest, NotesOffMeansNoJob) {
    open(/*notes=*/false);
    EXPECT_EQ(call_json("GET", "/healthz", "", 200)["notes"], "off");
    json added = add_user("demo", "s1", "I live in Boston", "2023-01-10T12:00:00Z");
    EXPECT_TRUE(added.contains("job_id"));
    EXPECT_TRUE(added["job_id"].is_null()) << added.dump();
    EXPECT_EQ(call_json("GET", "/v1/cubes/demo/jobs", "", 200)["jobs"], json::array());
    EXPECT_EQ(call_json("GET", "/v1/cubes/demo/memories", "", 200)["memories"], json::array());
}

TEST_F(ApiServiceNotesTest, JobsOfAnotherCubeAreNotFoundNotForbidden) {
    open(/*notes=*/true, /*background=*/false, {{kAliceKey, {"alice"}}, {kBobKey, {"bob"}}});
    json added = add_user("alice", "s1", "I live in Boston", "2023-01-10T12:00:00Z", kAliceKey);
    const std::string job_id = added["job_id"];
    EXPECT_EQ(call_json("GET", "/v1/jobs/" + job_id, "", 200, kAliceKey)["cube_id"], "alice");

    // Bob's key learns nothing: the same 404 (type and message shape) as for a job that does not exist.
    HttpResponse foreign = call("GET", "/v1/jobs/" + job_id, "", kBobKey);
    EXPECT_EQ(foreign.status, 404) << foreign.body;
    json fj = json::parse(foreign.body);
    EXPECT_EQ(fj["error"]["type"], "not_found");
    EXPECT_EQ(fj["error"]["message"], "job '" + job_id + "' does not exist");
    HttpResponse absent = call("GET", "/v1/jobs/j_0000000000000000", "", kBobKey);
    EXPECT_EQ(absent.status, 404);
    EXPECT_EQ(json::parse(absent.body)["error"]["message"], "job 'j_0000000000000000' does not exist");

    // The cube route follows the cube convention: 403 for a cube the key may not use; 401 without a key.
    EXPECT_EQ(call("GET", "/v1/cubes/alice/jobs", "", kBobKey).status, 403);
    EXPECT_EQ(call("GET", "/v1/jobs/" + job_id).status, 401);
    EXPECT_EQ(call_json("GET", "/v1/cubes/alice/jobs", "", 200, kAliceKey)["jobs"].size(), 1u);
}

// The knowledge-update scenario: a later statement on the same subject closes the earlier note (valid_to,
// superseded_by) without deleting it; current search sees the new fact, an as_of search the old one.
TEST_F(ApiServiceNotesTest, MovingFromBostonToDenverSupersedesTheBostonNote) {
    open(/*notes=*/true);
    add_user("alice", "s1", "I live in Boston", "2023-01-10T12:00:00Z");
    EXPECT_EQ(run_jobs(), 1);
    clock_.advance(60 * 1000);
    add_user("alice", "s2", "I moved to Denver", "2023-03-01T12:00:00Z");
    EXPECT_EQ(run_jobs(), 1);
    // Other current facts, so that "Denver first" is a ranking and not the only candidate.
    add_user("alice", "s3", "My favourite food is sushi from the place near work", "2023-03-05T12:00:00Z");
    add_user("alice", "s4", "I adopted a beagle named Max", "2023-03-06T12:00:00Z");
    EXPECT_EQ(run_jobs(), 2);

    json boston = note_containing("alice", "Boston");
    json denver = note_containing("alice", "Denver");
    ASSERT_TRUE(boston.is_object() && denver.is_object());
    const std::string boston_id = boston["id"], denver_id = denver["id"];
    EXPECT_EQ(denver["status"], "active") << denver.dump(2);
    EXPECT_EQ(boston["status"], "superseded") << boston.dump(2);
    EXPECT_EQ(boston["superseded_by"], denver_id) << boston.dump(2);
    EXPECT_FALSE(boston["superseded_at"].is_null());
    EXPECT_EQ(boston["valid_to"], denver["valid_from"]) << boston.dump(2) << denver.dump(2);

    // Now: Denver first, Boston not at all; the other facts share nothing with the question and score 0, below the
    // default min_score.
    json now = search_notes("alice", "where does the user live");
    ASSERT_GE(now.size(), 1u) << now.dump(2);
    EXPECT_EQ(now[0]["id"], denver_id) << now.dump(2);
    for (const auto& h : now) {
        EXPECT_NE(h["id"], boston_id) << now.dump(2);
        EXPECT_EQ(h["text"].get<std::string>().find("sushi"), std::string::npos) << now.dump(2);
    }
    // The other facts are searchable all the same: a question about them finds them.
    json food = search_notes("alice", "favourite food sushi");
    ASSERT_FALSE(food.empty());
    EXPECT_NE(food[0]["text"].get<std::string>().find("sushi"), std::string::npos) << food.dump(2);

    // As of 2023-02-01 (world time): Boston.
    json then = search_notes("alice", "where does the user live", "2023-02-01T00:00:00Z");
    ASSERT_FALSE(then.empty());
    EXPECT_EQ(then[0]["id"], boston_id) << then.dump(2);
    for (const auto& h : then) EXPECT_NE(h["id"], denver_id) << then.dump(2);

    // Boston's history: created, then superseded (by the note job), oldest first.
    json history = call_json("GET", "/v1/cubes/alice/memories/" + boston_id + "/history", "", 200)["versions"];
    ASSERT_EQ(history.size(), 2u) << history.dump(2);
    EXPECT_EQ(history[0]["reason"], "create");
    EXPECT_EQ(history[0]["status"], "active");
    EXPECT_EQ(history[1]["status"], "superseded");
    EXPECT_EQ(history[1]["reason"].get<std::string>().rfind("superseded", 0), 0u) << history.dump(2);
    EXPECT_EQ(history[1]["actor"], "scheduler");
    EXPECT_FALSE(history[1]["valid_to"].is_null());

    // The link that did it, seen from both notes.
    json from_denver = call_json("GET", "/v1/cubes/alice/memories/" + denver_id + "/links", "", 200)["links"];
    bool updates = false;
    for (const auto& l : from_denver) {
        updates = updates || (l["src"] == denver_id && l["dst"] == boston_id && l["relation"] == "updates");
    }
    EXPECT_TRUE(updates) << from_denver.dump(2);
    json from_boston = call_json("GET", "/v1/cubes/alice/memories/" + boston_id + "/links", "", 200)["links"];
    EXPECT_FALSE(from_boston.empty());
}

}  // namespace
}  // namespace kasten::api
