#include "memory/note_subject.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kasten::memory {
namespace {

struct Case {
    const char* content;
    NoteSubject expected;
};

TEST(NoteSubjectTest, RecognisesSingleValuedAttributes) {
    const std::vector<Case> cases = {
        // Residence, first and third person, with adjuncts and bracketed dates.
        {"I live in Boston", {"user", "residence", "boston"}},
        {"I moved to Denver last month (2023-05)", {"user", "residence", "denver"}},
        {"I still live in Boston", {"user", "residence", "boston"}},
        {"The user lives in Boston", {"user", "residence", "boston"}},
        {"User moved to Denver", {"user", "residence", "denver"}},
        {"I relocated to San Francisco for work.", {"user", "residence", "san francisco"}},
        {"I'm based in London these days.", {"user", "residence", "london"}},
        {"My home is in Seattle.", {"user", "residence", "seattle"}},
        {"We moved to Austin in March.", {"user", "residence", "austin"}},
        {"I've been living in the Bay Area since 2019.", {"user", "residence", "bay area"}},
        {"I live in a small apartment in Chicago.", {"user", "residence", "chicago"}},
        {"Actually, I moved to Portland.", {"user", "residence", "portland"}},
        {"Last month, I moved to Denver.", {"user", "residence", "denver"}},
        {"i live in boston", {"user", "residence", "boston"}},
        {"I moved to Denver two weeks ago (2023-05-02).", {"user", "residence", "denver"}},
        {"I\xE2\x80\x99m based in Berlin.", {"user", "residence", "berlin"}},  // typographic apostrophe
        // Other holders.
        {"my sister lives in Paris", {"user's sister", "residence", "paris"}},
        {"The user's sister lives in Paris.", {"user's sister", "residence", "paris"}},
        {"Alice lives in Paris.", {"alice", "residence", "paris"}},
        {"My best friend moved to Tokyo.", {"user's best friend", "residence", "tokyo"}},
        {"my sister is a nurse", {"user's sister", "job_title", "nurse"}},
        {"My husband is 45.", {"user's husband", "age", "45"}},
        // Employer and job.
        {"I work at Google", {"user", "employer", "google"}},
        {"i work at google", {"user", "employer", "google"}},
        {"I work for Microsoft as a software engineer.", {"user", "employer", "microsoft"}},
        {"I joined Amazon last week.", {"user", "employer", "amazon"}},
        {"I started a new job at Stripe (2023-06-01).", {"user", "employer", "stripe"}},
        {"I got a job at a hospital.", {"user", "employer", "hospital"}},
        {"I'm currently working at Netflix.", {"user", "employer", "netflix"}},
        {"I left my job at Google.", {"user", "employer", ""}},
        {"I got laid off last month.", {"user", "employer", ""}},
        {"I'm a nurse", {"user", "job_title", "nurse"}},
        {"I am a senior software engineer at Google.", {"user", "job_title", "senior software engineer"}},
        {"The user is a software engineer.", {"user", "job_title", "software engineer"}},
        {"I work as a teacher.", {"user", "job_title", "teacher"}},
        {"I got promoted to senior manager.", {"user", "job_title", "senior manager"}},
        {"I'm a student at MIT.", {"user", "school", "mit"}},
        // Relationship and partner.
        {"I'm married", {"user", "relationship_status", "married"}},
        {"I'm single now.", {"user", "relationship_status", "single"}},
        {"I got engaged last weekend!", {"user", "relationship_status", "engaged"}},
        {"My girlfriend is Emma.", {"user", "partner", "emma"}},
        {"My wife's name is Anna.", {"user", "partner", "anna"}},
        // Pets, car, phone.
        {"My dog is called Max.", {"user", "pet:dog", "max"}},
        {"My cat's name is Luna.", {"user", "pet:cat", "luna"}},
        {"I have a puppy named Biscuit.", {"user", "pet:dog", "biscuit"}},
        {"I drive a Toyota Camry.", {"user", "car", "toyota camry"}},
        {"I bought a new Tesla Model 3.", {"user", "car", "tesla model 3"}},
        {"My phone number is 555-1234.", {"user", "phone_number", "555-1234"}},
        {"I got a new iPhone 15.", {"user", "phone", "iphone 15"}},
        // Favourites, name, commute, diet, age, counts.
        {"My favorite color is blue.", {"user", "favorite:color", "blue"}},
        {"My favourite movie is The Matrix.", {"user", "favorite:movie", "matrix"}},
        {"My name is Sarah.", {"user", "name", "sarah"}},
        {"Call me Ishmael.", {"user", "name", "ishmael"}},
        {"I bike to work.", {"user", "commute", "bike"}},
        {"I commute by train.", {"user", "commute", "train"}},
        {"I'm vegetarian.", {"user", "diet", "vegetarian"}},
        {"I went vegan last year.", {"user", "diet", "vegan"}},
        {"I've been vegetarian for five years.", {"user", "diet", "vegetarian"}},
        {"I'm 32 years old.", {"user", "age", "32"}},
        {"I just turned forty-one.", {"user", "age", "41"}},
        {"I have two kids.", {"user", "count:kids", "2"}},
        {"We have 3 cats.", {"user", "count:cats", "3"}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.content);
        const auto got = infer_subject(c.content);
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(got->holder, c.expected.holder);
        EXPECT_EQ(got->attribute, c.expected.attribute);
        EXPECT_EQ(got->value, c.expected.value);
    }
}

TEST(NoteSubjectTest, IsConservative) {
    const std::vector<const char*> cases = {
        "I live for the weekends",
        "I'm a bit tired",
        "I work at night",
        "i work at night",
        "I work from home.",
        "I work for myself.",
        "I'm a big fan of jazz.",
        "I'm a morning person.",
        "i'm a people person",
        "Do I live in Boston?",
        "Where do you live?",
        "I don't live in Boston anymore.",
        "I used to live in Boston.",
        "I want to move to Denver.",
        "I'm thinking about moving to Denver.",
        "If I move to Denver, I'll need a car.",
        "I'd love to work at Google.",
        "I joined a gym.",
        "I joined a book club last week.",
        "I moved to a new team.",
        "I live in fear of spiders.",
        "I live in a small apartment.",
        "I live with my parents.",
        "I drive a lot.",
        "I'm 5 minutes away.",
        "My name is not important.",
        "I'm a good cook.",
        "I'm a former nurse.",
        "My favorite part was the ending.",
        "I'm engaged in a big project.",
        "My wife is pregnant.",
        "I go to the gym every day.",
        "I bought a new laptop.",
        "I have a lot of friends.",
        "i go by bus",
        "She lives in Paris.",
        "",
        "   ",
        "(2023-05)",
        "...",
    };
    for (const char* c : cases) {
        SCOPED_TRACE(c);
        const auto got = infer_subject(c);
        EXPECT_FALSE(got.has_value()) << got->holder << " | " << got->attribute << " | " << got->value;
    }
}

TEST(NoteSubjectTest, ReadsOnlyTheFirstSentence) {
    const auto got = infer_subject("I live in Boston. My sister moved to Paris.");
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->holder, "user");
    EXPECT_EQ(got->value, "boston");
    EXPECT_FALSE(infer_subject("Guess what. I moved to Denver.").has_value());
}

TEST(NoteSubjectTest, SameSubjectFromDifferentPhrasings) {
    const auto a = infer_subject("I live in Boston");
    const auto b = infer_subject("The user has been living in Boston since 2019.");
    const auto c = infer_subject("My home is in Boston, near the river.");
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(*a, *c);
}

TEST(NoteSubjectTest, InfersHolderOfAnyStatement) {
    EXPECT_EQ(infer_holder("I don't like sushi anymore"), "user");
    EXPECT_EQ(infer_holder("My sister doesn't eat meat"), "user's sister");
    EXPECT_EQ(infer_holder("The user's favorite band is Queen"), "user");
    EXPECT_EQ(infer_holder("Bob enjoys hiking"), "bob");
    EXPECT_FALSE(infer_holder("Is it raining?").has_value());
    EXPECT_FALSE(infer_holder("the weather was nice").has_value());
}

TEST(NoteSubjectTest, SurvivesArbitraryInput) {
    const std::vector<std::string> inputs = {std::string("\xFF\xFE\x00 I live in", 13),
                                             "'''",
                                             "I'm",
                                             "my",
                                             "my my my",
                                             "I live in (",
                                             "My favorite is",
                                             std::string(5000, 'a'),
                                             "I moved to \xE2\x80\x94 \xE2\x80\x94",
                                             "I live in St. Louis."};
    for (const auto& in : inputs) {
        (void)infer_subject(in);
        (void)infer_holder(in);
    }
    const auto st_louis = infer_subject("I live in St. Louis.");
    ASSERT_TRUE(st_louis.has_value());
    EXPECT_EQ(st_louis->value, "st. louis");
}

}  // namespace
}  // namespace kasten::memory
