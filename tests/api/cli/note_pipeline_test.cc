#include "api/cli/note_pipeline.h"

#include <gtest/gtest.h>

namespace kasten::api {
namespace {

// Never called: the pipeline only holds it.
class IdleModel final : public llm::LanguageModel {
  public:
    std::string id() const override { return "idle:test"; }
    Result<llm::Generation> chat(const std::vector<llm::ChatMessage>&, const llm::GenerationOptions&,
                                 const llm::TokenCallback&) override {
        return Status::internal("not expected");
    }
    Result<llm::Generation> complete(std::string_view, const llm::GenerationOptions&,
                                     const llm::TokenCallback&) override {
        return Status::internal("not expected");
    }
};

TEST(NotePipelineTest, HeuristicIsModelFree) {
    auto p = make_note_pipeline("heuristic", nullptr);
    ASSERT_TRUE(p.is_ok()) << p.status().to_string();
    ASSERT_TRUE(p->enabled());
    ASSERT_NE(p->decider, nullptr);
    EXPECT_EQ(p->builder->id(), "heuristic-v1");
    EXPECT_EQ(p->decider->id(), "heuristic-v1");
    EXPECT_EQ(p->description(), "heuristic-v1 (links: heuristic-v1)");
}

TEST(NotePipelineTest, OffIsEmpty) {
    auto p = make_note_pipeline("off", std::make_shared<IdleModel>());
    ASSERT_TRUE(p.is_ok());
    EXPECT_FALSE(p->enabled());
    EXPECT_EQ(p->decider, nullptr);
    EXPECT_EQ(p->description(), "off");
}

TEST(NotePipelineTest, LlmNeedsAModelAndSaysWhereToGetOne) {
    auto none = make_note_pipeline("llm", nullptr);
    ASSERT_FALSE(none.is_ok());
    EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(none.status().message().find("kasten serve --model"), std::string::npos) << none.status().message();

    auto p = make_note_pipeline("llm", std::make_shared<IdleModel>());
    ASSERT_TRUE(p.is_ok()) << p.status().to_string();
    EXPECT_EQ(p->builder->id(), "llm:idle:test");
    EXPECT_EQ(p->decider->id(), "llm:idle:test");
}

TEST(NotePipelineTest, UnknownSettingIsRejected) {
    auto p = make_note_pipeline("always", nullptr);
    ASSERT_FALSE(p.is_ok());
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find("heuristic, llm or off"), std::string::npos);
}

}  // namespace
}  // namespace kasten::api
