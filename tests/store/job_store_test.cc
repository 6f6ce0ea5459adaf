#include "store/job_store.h"

#include <gtest/gtest.h>

#include "store/cube_store.h"
#include "tests/store/store_fixture.h"

namespace kasten::store {
namespace {

class JobStoreTest : public testing::StoreFixture {
  protected:
    void SetUp() override {
        StoreFixture::SetUp();
        ASSERT_TRUE(CubeStore(db()).create(make_cube("c")).is_ok());
    }

    static JobRecord make_job(const std::string& id, TimeMs at, const std::string& session = "s_1") {
        JobRecord j;
        j.id = id;
        j.cube_id = "c";
        j.kind = "notes.build";
        j.payload_json = R"({"turn_ids":["t_1"]})";
        j.created_at = at;
        j.updated_at = at;
        j.session_key = session;
        return j;
    }
};

TEST_F(JobStoreTest, InsertGetRoundTrips) {
    JobStore jobs(db());
    ASSERT_TRUE(jobs.insert(make_job("j_1", 10)).is_ok());
    auto j = jobs.get("j_1");
    ASSERT_TRUE(j.is_ok()) << j.status().to_string();
    EXPECT_EQ(j->cube_id, "c");
    EXPECT_EQ(j->kind, "notes.build");
    EXPECT_EQ(j->state, JobState::kQueued);
    EXPECT_EQ(j->payload_json, R"({"turn_ids":["t_1"]})");
    EXPECT_EQ(j->attempts, 0);
    EXPECT_EQ(j->session_key, "s_1");
    EXPECT_EQ(jobs.insert(make_job("j_1", 11)).code(), StatusCode::kAlreadyExists);
    JobRecord orphan = make_job("j_2", 10);
    orphan.cube_id = "missing";
    EXPECT_EQ(jobs.insert(orphan).code(), StatusCode::kNotFound);
    EXPECT_EQ(jobs.get("j_nope").status().code(), StatusCode::kNotFound);
}

TEST_F(JobStoreTest, ClaimOnlyOnceAndFinish) {
    JobStore jobs(db());
    ASSERT_TRUE(jobs.insert(make_job("j_1", 10)).is_ok());
    ASSERT_TRUE(jobs.claim("j_1", 20).is_ok());
    EXPECT_EQ(jobs.claim("j_1", 21).code(), StatusCode::kNotFound) << "a running job cannot be claimed again";
    auto running = jobs.get("j_1");
    ASSERT_TRUE(running.is_ok());
    EXPECT_EQ(running->state, JobState::kRunning);
    EXPECT_EQ(running->attempts, 1);
    EXPECT_EQ(running->updated_at, 20);
    ASSERT_TRUE(jobs.finish("j_1", R"({"notes":3})", 30).is_ok());
    auto done = jobs.get("j_1");
    ASSERT_TRUE(done.is_ok());
    EXPECT_EQ(done->state, JobState::kDone);
    EXPECT_EQ(done->result_json, R"({"notes":3})");
    EXPECT_EQ(jobs.claim("j_1", 31).code(), StatusCode::kNotFound);
}

TEST_F(JobStoreTest, RequeueRunningAfterACrash) {
    JobStore jobs(db());
    ASSERT_TRUE(jobs.insert(make_job("j_1", 10)).is_ok());
    ASSERT_TRUE(jobs.insert(make_job("j_2", 11, "s_2")).is_ok());
    ASSERT_TRUE(jobs.claim("j_1", 20).is_ok());
    auto n = jobs.requeue_running(40);
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(*n, 1);
    auto queued = jobs.list_by_state(JobState::kQueued, -1);
    ASSERT_TRUE(queued.is_ok());
    ASSERT_EQ(queued->size(), 2u);
    EXPECT_EQ((*queued)[0].id, "j_1");
    EXPECT_EQ((*queued)[0].attempts, 1) << "attempts survive the requeue";
    EXPECT_EQ((*queued)[1].id, "j_2");
}

TEST_F(JobStoreTest, FindQueuedPerSessionAndJoin) {
    JobStore jobs(db());
    ASSERT_TRUE(jobs.insert(make_job("j_1", 10, "s_1")).is_ok());
    ASSERT_TRUE(jobs.insert(make_job("j_2", 11, "s_2")).is_ok());
    auto found = jobs.find_queued("c", "notes.build", "s_2");
    ASSERT_TRUE(found.is_ok());
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->id, "j_2");
    ASSERT_TRUE(jobs.set_queued_payload("j_2", R"({"turn_ids":["t_1","t_2"]})", 12).is_ok());
    EXPECT_EQ(jobs.get("j_2")->payload_json, R"({"turn_ids":["t_1","t_2"]})");
    ASSERT_TRUE(jobs.claim("j_2", 13).is_ok());
    EXPECT_FALSE(jobs.find_queued("c", "notes.build", "s_2")->has_value());
    EXPECT_EQ(jobs.set_queued_payload("j_2", "{}", 14).code(), StatusCode::kNotFound);
}

TEST_F(JobStoreTest, FailureKeepsTheErrorAndCounts) {
    JobStore jobs(db());
    ASSERT_TRUE(jobs.insert(make_job("j_1", 10)).is_ok());
    ASSERT_TRUE(jobs.claim("j_1", 20).is_ok());
    ASSERT_TRUE(jobs.set_state("j_1", JobState::kFailed, "model unavailable", 30).is_ok());
    auto j = jobs.get("j_1");
    ASSERT_TRUE(j.is_ok());
    EXPECT_EQ(j->state, JobState::kFailed);
    EXPECT_EQ(j->error, "model unavailable");
    EXPECT_EQ(*jobs.count("c", JobState::kFailed), 1);
    EXPECT_EQ(*jobs.count("c", JobState::kQueued), 0);
    auto listed = jobs.list_for_cube("c", 10, 0);
    ASSERT_TRUE(listed.is_ok());
    EXPECT_EQ(listed->size(), 1u);
    EXPECT_EQ(jobs.set_state("j_nope", JobState::kFailed, "", 1).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kasten::store
