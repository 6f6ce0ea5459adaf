#include "memory/relative_date_resolver.h"

#include <gtest/gtest.h>

#include "common/timestamp.h"

namespace kasten::memory {
namespace {

constexpr TimeMs kDay = 86'400'000;

TimeMs date(int y, int m, int d) {
    return days_from_civil(y, m, d) * kDay;
}
// Noon of a date: resolution must use the day, not the instant.
TimeMs noon(int y, int m, int d) {
    return date(y, m, d) + kDay / 2;
}

// The labels of every mention in `text`, in order.
std::vector<std::string> labels(std::string_view text, TimeMs conv) {
    std::vector<std::string> out;
    for (const auto& m : RelativeDateResolver::resolve(text, conv)) out.push_back(RelativeDateResolver::label(m));
    return out;
}
using L = std::vector<std::string>;

// 2023-06-15 is a Thursday.
const TimeMs kThursday = noon(2023, 6, 15);

TEST(RelativeDateResolverTest, SingleDayWords) {
    EXPECT_EQ(labels("I did it yesterday.", kThursday), L{"2023-06-14"});
    EXPECT_EQ(labels("Today I rest, tomorrow I run.", kThursday), (L{"2023-06-15", "2023-06-16"}));
    EXPECT_EQ(labels("I saw it the day before yesterday.", kThursday), L{"2023-06-13"});
    EXPECT_EQ(labels("We leave the day after tomorrow.", kThursday), L{"2023-06-17"});
    EXPECT_EQ(labels("I slept badly last night.", kThursday), L{"2023-06-14"});
    EXPECT_EQ(labels("No dates here at all.", kThursday), L{});
}

TEST(RelativeDateResolverTest, SpanCoversTheExpression) {
    const std::string text = "I adopted a puppy last Tuesday, finally.";
    const auto mentions = RelativeDateResolver::resolve(text, kThursday);
    ASSERT_EQ(mentions.size(), 1u);
    EXPECT_EQ(text.substr(mentions[0].begin, mentions[0].end - mentions[0].begin), "last Tuesday");
    EXPECT_EQ(mentions[0].day, date(2023, 6, 13));
    EXPECT_EQ(mentions[0].granularity, DateGranularity::kDay);
    EXPECT_FALSE(mentions[0].explicit_date);
    EXPECT_EQ(RelativeDateResolver::annotate(text, mentions), "I adopted a puppy last Tuesday (2023-06-13), finally.");
}

TEST(RelativeDateResolverTest, WeekdaysRelativeToTheConversationDay) {
    EXPECT_EQ(labels("last Tuesday", kThursday), L{"2023-06-13"});
    EXPECT_EQ(labels("last Thursday", kThursday), L{"2023-06-08"});  // same weekday: a week back
    EXPECT_EQ(labels("last Friday", kThursday), L{"2023-06-09"});
    EXPECT_EQ(labels("next Tuesday", kThursday), L{"2023-06-20"});
    EXPECT_EQ(labels("next Thursday", kThursday), L{"2023-06-22"});
    EXPECT_EQ(labels("this coming Saturday", kThursday), L{"2023-06-17"});
    EXPECT_EQ(labels("this past Monday", kThursday), L{"2023-06-12"});
    // "on <weekday>" and "this <weekday>" follow the tense of the sentence.
    EXPECT_EQ(labels("I went hiking on Tuesday.", kThursday), L{"2023-06-13"});
    EXPECT_EQ(labels("I'm meeting her on Tuesday.", kThursday), L{"2023-06-20"});
    EXPECT_EQ(labels("I visited the zoo this Monday.", kThursday), L{"2023-06-12"});
    EXPECT_EQ(labels("I will call this Saturday.", kThursday), L{"2023-06-17"});
    // Plural weekdays are habits.
    EXPECT_EQ(labels("The museum is open until 5 pm on Tuesdays.", kThursday), L{});
}

TEST(RelativeDateResolverTest, WeekdayMathAcrossMonthAndYearBoundaries) {
    const TimeMs monday = noon(2023, 1, 2);
    EXPECT_EQ(labels("last Friday", monday), L{"2022-12-30"});
    EXPECT_EQ(labels("yesterday", monday), L{"2023-01-01"});
    EXPECT_EQ(labels("last Monday", monday), L{"2022-12-26"});
    EXPECT_EQ(labels("last week", monday), L{"week of 2022-12-26"});
    EXPECT_EQ(labels("last month", monday), L{"2022-12"});
    EXPECT_EQ(labels("last year", monday), L{"2022"});
    EXPECT_EQ(labels("next Sunday", noon(2023, 12, 30)), L{"2023-12-31"});
    EXPECT_EQ(labels("next Monday", noon(2023, 12, 30)), L{"2024-01-01"});
    EXPECT_EQ(labels("3 days ago", noon(2024, 3, 2)), L{"2024-02-28"});  // leap year
    EXPECT_EQ(labels("3 days ago", noon(2023, 3, 2)), L{"2023-02-27"});
}

TEST(RelativeDateResolverTest, CountsAgoAndAhead) {
    const TimeMs monday = noon(2023, 6, 12);
    EXPECT_EQ(labels("I started two weeks ago.", monday), L{"2023-05-29"});
    EXPECT_EQ(labels("I started 10 days ago.", monday), L{"2023-06-02"});
    EXPECT_EQ(labels("It happened a couple of days ago.", monday), L{"2023-06-10"});
    EXPECT_EQ(labels("We met a month ago.", monday), L{"2023-05"});
    EXPECT_EQ(labels("We met three months ago.", noon(2023, 2, 10)), L{"2022-11"});
    EXPECT_EQ(labels("We married twelve years ago.", monday), L{"2011"});
    EXPECT_EQ(labels("I quit a fortnight ago.", monday), L{"2023-05-29"});
    EXPECT_EQ(labels("I'll start in 2 weeks.", monday), L{"2023-06-26"});
    EXPECT_EQ(labels("The lease ends in three months.", monday), L{"2023-09"});
    EXPECT_EQ(labels("It ships 5 days from now.", monday), L{"2023-06-17"});
    // Vague counts are not resolved; a past "in N days" is a duration.
    EXPECT_EQ(labels("It happened a few days ago.", monday), L{});
    EXPECT_EQ(labels("It happened several weeks ago.", monday), L{});
    EXPECT_EQ(labels("I finished the course in 3 days last year.", monday), L{"2022"});
}

TEST(RelativeDateResolverTest, CalendarPeriods) {
    EXPECT_EQ(labels("this week", kThursday), L{"week of 2023-06-12"});
    EXPECT_EQ(labels("next week", kThursday), L{"week of 2023-06-19"});
    EXPECT_EQ(labels("this weekend", kThursday), L{"weekend of 2023-06-17"});
    EXPECT_EQ(labels("last weekend", kThursday), L{"weekend of 2023-06-10"});
    EXPECT_EQ(labels("this past weekend", kThursday), L{"weekend of 2023-06-10"});
    EXPECT_EQ(labels("next weekend", kThursday), L{"weekend of 2023-06-24"});
    EXPECT_EQ(labels("I started earlier this month.", kThursday), L{"2023-06"});
    EXPECT_EQ(labels("next month", noon(2023, 12, 5)), L{"2024-01"});
    EXPECT_EQ(labels("next year", kThursday), L{"2024"});
    // "the last week" is a span, not a calendar week.
    EXPECT_EQ(labels("I've been sick for the last week.", kThursday), L{});
}

TEST(RelativeDateResolverTest, MonthDayWithoutYearFollowsTense) {
    EXPECT_EQ(labels("I ran a 5k on May 16.", kThursday), L{"2023-05-16"});
    EXPECT_EQ(labels("I ran a 5k on July 4th.", kThursday), L{"2022-07-04"});  // past: the previous July
    EXPECT_EQ(labels("My exam is on July 4th.", kThursday), L{"2023-07-04"});
    EXPECT_EQ(labels("My exam is on May 4th.", kThursday), L{"2024-05-04"});  // future: the next May
    EXPECT_EQ(labels("We got married on the 3rd of March.", kThursday), L{"2023-03-03"});
    EXPECT_EQ(labels("I was born on February 29.", kThursday), L{"2020-02-29"});
    EXPECT_EQ(labels("I have lived here since Jan. 5.", kThursday), L{"2023-01-05"});
}

TEST(RelativeDateResolverTest, MonthsAlone) {
    EXPECT_EQ(labels("I moved here in March.", kThursday), L{"2023-03"});
    EXPECT_EQ(labels("I moved here in August.", kThursday), L{"2022-08"});
    EXPECT_EQ(labels("I'm going to Japan in August.", kThursday), L{"2023-08"});
    EXPECT_EQ(labels("I'm going to Japan in March.", kThursday), L{"2024-03"});
    EXPECT_EQ(labels("last June", kThursday), L{"2022-06"});
    EXPECT_EQ(labels("next June", kThursday), L{"2024-06"});
    EXPECT_EQ(labels("It was cold in mid-January.", kThursday), L{"2023-01"});
    // "may" the verb is not a month.
    EXPECT_EQ(labels("I may go in may.", kThursday), L{});
}

TEST(RelativeDateResolverTest, ExplicitDatesAreFoundButNotAnnotated) {
    const std::string text = "I signed on 2023-05-30, moved May 16, 2022 and lived there in 2019.";
    const auto mentions = RelativeDateResolver::resolve(text, kThursday);
    ASSERT_EQ(mentions.size(), 3u);
    EXPECT_EQ(mentions[0].day, date(2023, 5, 30));
    EXPECT_EQ(mentions[1].day, date(2022, 5, 16));
    EXPECT_EQ(mentions[2].day, date(2019, 1, 1));
    EXPECT_EQ(mentions[2].granularity, DateGranularity::kYear);
    for (const auto& m : mentions) EXPECT_TRUE(m.explicit_date);
    EXPECT_EQ(RelativeDateResolver::annotate(text, mentions), text);
    EXPECT_EQ(labels("in May 2021", kThursday), L{"2021-05"});
    EXPECT_EQ(labels("on 2023/05/30", kThursday), L{"2023-05-30"});
    // Quantities are not years; invalid dates are not dates.
    EXPECT_EQ(labels("I walk in 2000 steps.", kThursday), L{});
    EXPECT_EQ(labels("See 2023-13-45 for details.", kThursday), L{});
}

TEST(RelativeDateResolverTest, LabelsAndAnnotation) {
    DateMention m;
    m.day = date(2023, 5, 15);
    m.granularity = DateGranularity::kWeek;
    EXPECT_EQ(RelativeDateResolver::label(m), "week of 2023-05-15");
    m.granularity = DateGranularity::kMonth;
    m.day = date(2023, 5, 1);
    EXPECT_EQ(RelativeDateResolver::label(m), "2023-05");
    m.granularity = DateGranularity::kYear;
    m.day = date(1999, 1, 1);
    EXPECT_EQ(RelativeDateResolver::label(m), "1999");
    m.day = date(1969, 12, 31);  // before the epoch
    m.granularity = DateGranularity::kDay;
    EXPECT_EQ(RelativeDateResolver::label(m), "1969-12-31");

    const std::string text = "Yesterday I ran, and next week I rest.";
    EXPECT_EQ(RelativeDateResolver::annotate(text, RelativeDateResolver::resolve(text, kThursday)),
              "Yesterday (2023-06-14) I ran, and next week (week of 2023-06-19) I rest.");
}

TEST(RelativeDateResolverTest, DeterministicAndRobustToOddInput) {
    const std::string text = "last last next on on in in 99999999 days ago, a a a week ago ... \xC3\xA9 May";
    const auto a = RelativeDateResolver::resolve(text, kThursday);
    const auto b = RelativeDateResolver::resolve(text, kThursday);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].day, b[i].day);
        EXPECT_LE(a[i].end, text.size());
        if (i > 0) {
            EXPECT_GE(a[i].begin, a[i - 1].end);
        }
    }
    EXPECT_EQ(labels("a week ago", kThursday), L{"2023-06-08"});
    EXPECT_TRUE(RelativeDateResolver::resolve("", kThursday).empty());
}

}  // namespace
}  // namespace kasten::memory
