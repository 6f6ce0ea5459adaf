#include "eval/locomo_sample.h"

#include <gtest/gtest.h>

#include "common/timestamp.h"
#include "eval/locomo_date_time.h"
#include "eval_fixture.h"
#include "locomo_fixture.h"

namespace kasten::eval {
namespace {

TEST(LocomoSampleTest, ParsesDiaIds) {
    EXPECT_EQ(parse_locomo_dia_id("D1:3"), std::make_pair(1, 3));
    EXPECT_EQ(parse_locomo_dia_id("D19:25"), std::make_pair(19, 25));
    EXPECT_FALSE(parse_locomo_dia_id("D0:3").has_value());
    EXPECT_FALSE(parse_locomo_dia_id("D1:0").has_value());
    EXPECT_FALSE(parse_locomo_dia_id("D1").has_value());
    EXPECT_FALSE(parse_locomo_dia_id("d1:2").has_value());
    EXPECT_FALSE(parse_locomo_dia_id("D8:6; D9:17").has_value());
    EXPECT_FALSE(parse_locomo_dia_id("D:11:26").has_value());
    EXPECT_FALSE(parse_locomo_dia_id("D1:+2").has_value());
}

TEST(LocomoSampleTest, EvidenceSessionAsTheOfficialCodeSplitsIt) {
    EXPECT_EQ(locomo_evidence_session("D12:3"), "12");
    EXPECT_EQ(locomo_evidence_session("D8:6; D9:17"), "8");
    EXPECT_EQ(locomo_evidence_session(""), "");
}

TEST(LocomoSampleTest, ParsesDateTimes) {
    auto t = parse_locomo_date_time("1:56 pm on 8 May, 2023");
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    EXPECT_EQ(format_timestamp(*t), "2023-05-08T13:56:00Z");
    EXPECT_EQ(format_timestamp(*parse_locomo_date_time("12:09 am on 13 September, 2023")), "2023-09-13T00:09:00Z");
    EXPECT_EQ(format_timestamp(*parse_locomo_date_time("12:30 pm on 1 January, 2024")), "2024-01-01T12:30:00Z");
    EXPECT_EQ(format_timestamp(*parse_locomo_date_time("10:04 AM on 19 June 2023")), "2023-06-19T10:04:00Z");
    EXPECT_EQ(format_timestamp(*parse_locomo_date_time("9:00 pm on 29 Feb, 2024")), "2024-02-29T21:00:00Z");
    for (const char* bad :
         {"", "13:00 pm on 8 May, 2023", "1:60 pm on 8 May, 2023", "1:56 on 8 May, 2023", "1:56 pm on 31 April, 2023",
          "1:56 pm on 29 February, 2023", "1:56 pm on 8 Mayo, 2023", "1:56 pm on 8 May, 2023 extra", "2023-05-08"}) {
        EXPECT_EQ(parse_locomo_date_time(bad).status().code(), StatusCode::kInvalidArgument) << bad;
    }
}

TEST(LocomoSampleTest, ParsesTheOfficialShape) {
    auto samples = parse_locomo_json(testing::locomo_fixture().dump(), "fixture");
    ASSERT_TRUE(samples.is_ok()) << samples.status().to_string();
    ASSERT_EQ(samples->size(), 2u);
    const LocomoSample& a = (*samples)[0];
    EXPECT_EQ(a.sample_id, "conv-a");
    EXPECT_EQ(a.speaker_a, "Alice");
    ASSERT_EQ(a.sessions.size(), 2u);
    EXPECT_EQ(a.sessions[1].number, 2);
    EXPECT_EQ(a.sessions[1].date_time, "10:04 am on 19 June, 2023");
    EXPECT_EQ(format_timestamp(a.sessions[1].time), "2023-06-19T10:04:00Z");
    EXPECT_EQ(a.sessions[0].turns[2].blip_caption, "a photo of a small dog");
    EXPECT_EQ(a.dia_index.at("D2:3"), std::make_pair(1, 2));
    ASSERT_EQ(a.qa.size(), 5u);
    EXPECT_EQ(a.qa[1].answer, "2023");  // an int answer, as str() gives it
    EXPECT_EQ(a.qa[3].answer, "");
    EXPECT_EQ(a.qa[3].adversarial_answer, "Whiskers");
    EXPECT_EQ(a.qa[2].evidence, (std::vector<std::string>{"D1:1", "D2:3"}));
    EXPECT_TRUE(a.qa[4].evidence.empty());
    EXPECT_STREQ(locomo_category_name(1), "multi-hop");
    EXPECT_STREQ(locomo_category_name(3), "open-domain");
    EXPECT_STREQ(locomo_category_name(4), "single-hop");
}

TEST(LocomoSampleTest, SessionsAreOrderedByNumberNotKeyOrder) {
    auto j = testing::locomo_fixture();
    auto& conv = j[0]["conversation"];
    conv["session_10"] = conv["session_2"];
    conv["session_10_date_time"] = "1:00 pm on 1 July, 2023";
    auto samples = parse_locomo_json(j.dump(), "fixture");
    ASSERT_FALSE(samples.is_ok());  // the copied dia_ids repeat
    for (auto& t : conv["session_10"]) t["dia_id"] = "D10:" + t["dia_id"].get<std::string>().substr(3);
    samples = parse_locomo_json(j.dump(), "fixture");
    ASSERT_TRUE(samples.is_ok()) << samples.status().to_string();
    const auto& s = (*samples)[0].sessions;
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].number, 1);
    EXPECT_EQ(s[1].number, 2);
    EXPECT_EQ(s[2].number, 10);
}

TEST(LocomoSampleTest, ReportsBadInput) {
    EXPECT_EQ(parse_locomo_json("{", "x").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parse_locomo_json("3", "x").status().code(), StatusCode::kInvalidArgument);
    auto j = testing::locomo_fixture();
    j[0]["conversation"]["session_2_date_time"] = "yesterday";
    auto bad_date = parse_locomo_json(j.dump(), "x");
    EXPECT_EQ(bad_date.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bad_date.status().message().find("conv-a"), std::string::npos);
    j = testing::locomo_fixture();
    j[1]["qa"][0].erase("category");
    EXPECT_EQ(parse_locomo_json(j.dump(), "x").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parse_locomo_file("/nonexistent/locomo.json").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kasten::eval
