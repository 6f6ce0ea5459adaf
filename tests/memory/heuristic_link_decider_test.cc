#include "memory/heuristic_link_decider.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace kasten::memory {
namespace {

store::NoteRecord note(const std::string& id, const std::string& content, std::vector<std::string> keywords = {},
                       std::vector<std::string> tags = {}, const std::string& context = "") {
    store::NoteRecord n;
    n.id = id;
    n.cube_id = "c";
    n.content = content;
    n.keywords = std::move(keywords);
    n.tags = std::move(tags);
    n.context = context;
    return n;
}

NeighbourNote neighbour(store::NoteRecord n, double cosine) {
    NeighbourNote nb;
    nb.note = std::move(n);
    nb.cosine = cosine;
    nb.score = cosine;
    return nb;
}

LinkPlan decide(const store::NoteRecord& n, const std::vector<NeighbourNote>& nbs,
                HeuristicLinkDeciderOptions options = {}) {
    HeuristicLinkDecider decider(options);
    auto plan = decider.decide(n, nbs);
    EXPECT_TRUE(plan.is_ok());
    return std::move(plan).value();
}

const LinkDecision* link_to(const LinkPlan& plan, const std::string& id) {
    for (const auto& l : plan.links) {
        if (l.neighbour_id == id) return &l;
    }
    return nullptr;
}

const NeighbourRewrite* rewrite_of(const LinkPlan& plan, const std::string& id) {
    for (const auto& r : plan.rewrites) {
        if (r.neighbour_id == id) return &r;
    }
    return nullptr;
}

TEST(HeuristicLinkDeciderTest, IdIsVersioned) {
    EXPECT_EQ(HeuristicLinkDecider().id(), "heuristic-v1");
}

TEST(HeuristicLinkDeciderTest, NewResidenceUpdatesOldOne) {
    const auto boston = note("n_old", "I live in Boston", {"boston"}, {"location"});
    const auto denver = note("n_new", "I moved to Denver last month (2023-05)", {"denver", "moved"}, {"location"});
    // Even with a low cosine the shared subject decides.
    const LinkPlan plan = decide(denver, {neighbour(boston, 0.35)});
    ASSERT_EQ(plan.links.size(), 1u);
    EXPECT_EQ(plan.links[0].neighbour_id, "n_old");
    EXPECT_EQ(plan.links[0].relation, "updates");
    EXPECT_EQ(plan.links[0].reason, "residence: boston -> denver");
    EXPECT_GT(plan.links[0].weight, 0.0);
    EXPECT_LE(plan.links[0].weight, 1.0);
    EXPECT_TRUE(plan.rewrites.empty());  // never rewrite on updates
}

TEST(HeuristicLinkDeciderTest, UpdatesNamesAnEndedValue) {
    const LinkPlan plan =
        decide(note("n_new", "I got laid off last month."), {neighbour(note("n_old", "I work at Google"), 0.4)});
    ASSERT_EQ(plan.links.size(), 1u);
    EXPECT_EQ(plan.links[0].relation, "updates");
    EXPECT_EQ(plan.links[0].reason, "employer: google -> (none)");
}

TEST(HeuristicLinkDeciderTest, SameValueSupports) {
    const LinkPlan plan = decide(note("n_new", "I still live in Boston", {"boston"}),
                                 {neighbour(note("n_old", "I live in Boston", {"boston"}), 0.9)});
    ASSERT_EQ(plan.links.size(), 1u);
    EXPECT_EQ(plan.links[0].relation, "supports");
    EXPECT_EQ(plan.links[0].weight, 1.0);
}

TEST(HeuristicLinkDeciderTest, OtherHoldersDoNotUpdateTheUser) {
    const LinkPlan plan = decide(note("n_new", "my sister lives in Paris", {"sister", "paris"}, {"family"}),
                                 {neighbour(note("n_old", "I live in Boston", {"boston"}, {"location"}), 0.7)});
    for (const auto& l : plan.links) {
        EXPECT_NE(l.relation, "updates");
        EXPECT_NE(l.relation, "supports");
    }
}

TEST(HeuristicLinkDeciderTest, UnrelatedNotesGetNoLink) {
    const LinkPlan plan =
        decide(note("n_new", "I adopted a puppy named Biscuit", {"puppy", "biscuit"}, {"pets"}),
               {neighbour(note("n_a", "I work at Google", {"google"}, {"work"}), 0.21),
                neighbour(note("n_b", "My favorite color is blue", {"blue", "color"}, {"preferences"}), 0.05)});
    EXPECT_TRUE(plan.links.empty());
    EXPECT_TRUE(plan.rewrites.empty());
}

TEST(HeuristicLinkDeciderTest, NegationContradicts) {
    const LinkPlan plan = decide(note("n_new", "I don't like sushi anymore", {"sushi"}, {"food"}),
                                 {neighbour(note("n_old", "I like sushi", {"sushi"}, {"food"}), 0.85)});
    ASSERT_EQ(plan.links.size(), 1u);
    EXPECT_EQ(plan.links[0].relation, "contradicts");
    EXPECT_TRUE(plan.rewrites.empty());

    const LinkPlan stopped = decide(note("n_new", "I stopped eating meat", {"meat"}),
                                    {neighbour(note("n_old", "I eat meat every day", {"meat"}), 0.5)});
    ASSERT_EQ(stopped.links.size(), 1u);
    EXPECT_EQ(stopped.links[0].relation, "contradicts");
}

TEST(HeuristicLinkDeciderTest, NegationByAnotherHolderIsNotAContradiction) {
    const LinkPlan plan = decide(note("n_new", "My sister doesn't like sushi", {"sushi", "sister"}),
                                 {neighbour(note("n_old", "I like sushi", {"sushi"}), 0.7)});
    for (const auto& l : plan.links) EXPECT_NE(l.relation, "contradicts");
}

TEST(HeuristicLinkDeciderTest, HighCosineIsRelatedWithCosineWeight) {
    const auto hiking = note("n_old", "I went hiking in the Rockies", {"hiking", "rockies"}, {"travel"}, "trip talk");
    const LinkPlan plan =
        decide(note("n_new", "I love hiking with my dog", {"hiking", "dog"}, {"hobbies"}), {neighbour(hiking, 0.86)});
    ASSERT_EQ(plan.links.size(), 1u);
    EXPECT_EQ(plan.links[0].relation, "related");
    EXPECT_DOUBLE_EQ(plan.links[0].weight, 0.86);

    // Medium cosine: related only with two shared keywords.
    HeuristicLinkDeciderOptions options;
    const auto garden = note("n_g", "I grow tomatoes in my garden", {"tomatoes", "garden"});
    const auto two_shared = note("n_new2", "My garden tomatoes are ripe", {"garden", "tomatoes", "ripe"});
    const auto one_shared = note("n_new3", "My garden needs rain", {"garden", "rain"});
    EXPECT_EQ(decide(two_shared, {neighbour(garden, 0.65)}).links.size(), 1u);
    EXPECT_TRUE(decide(one_shared, {neighbour(garden, 0.65)}).links.empty());
    EXPECT_TRUE(decide(two_shared, {neighbour(garden, 0.55)}).links.empty());
}

TEST(HeuristicLinkDeciderTest, HighCosineWithoutASharedKeywordIsNoLink) {
    // Averaged word vectors rate unrelated sentences 0.8-0.9: without a shared keyword a cosine means nothing.
    const auto lens = note("n_old", "The diameter is 58mm and I'd prefer a snap-on cap", {"diameter", "58mm", "cap"});
    const auto laptop = note("n_new", "Ensure the sleeve fits your 13-inch laptop", {"sleeve", "laptop", "inch"});
    EXPECT_TRUE(decide(laptop, {neighbour(lens, 0.93)}).links.empty());
    // One shared keyword and a high cosine: related, but too little overlap to rewrite the neighbour.
    const auto bag = note("n_bag", "I bought a laptop bag", {"laptop", "bag"}, {"shopping"});
    const LinkPlan plan = decide(laptop, {neighbour(bag, 0.93)});
    ASSERT_EQ(plan.links.size(), 1u);
    EXPECT_EQ(plan.links[0].relation, "related");
    EXPECT_TRUE(plan.rewrites.empty());
    // The option restores cosine-only links.
    HeuristicLinkDeciderOptions options;
    options.related_min_shared_keywords = 0;
    EXPECT_EQ(decide(laptop, {neighbour(lens, 0.93)}, options).links.size(), 1u);
}

TEST(HeuristicLinkDeciderTest, DecisionsOnlyReferenceGivenIdsOncePerNeighbour) {
    const auto n = note("n_new", "I love hiking with my dog", {"hiking", "dog"}, {"hobbies"});
    std::vector<NeighbourNote> nbs = {
        neighbour(note("n_1", "I went hiking in the Rockies", {"hiking"}), 0.9),
        neighbour(note("n_1", "I went hiking in the Rockies", {"hiking"}), 0.9),  // duplicate id
        neighbour(note("n_new", "I love hiking with my dog", {"hiking"}), 0.99),  // the new note itself
        neighbour(note("", "Hiking is fun", {"hiking"}), 0.95),                   // no id
        neighbour(note("n_2", "My dog loves long walks", {"dog", "walks"}), 0.82),
    };
    const LinkPlan plan = decide(n, nbs);
    std::set<std::string> ids;
    for (const auto& l : plan.links) {
        EXPECT_TRUE(l.neighbour_id == "n_1" || l.neighbour_id == "n_2") << l.neighbour_id;
        EXPECT_TRUE(ids.insert(l.neighbour_id).second) << "two links to " << l.neighbour_id;
        EXPECT_GT(l.weight, 0.0);
        EXPECT_LE(l.weight, 1.0);
        EXPECT_FALSE(l.reason.empty());
    }
    EXPECT_EQ(ids.size(), 2u);
    for (const auto& r : plan.rewrites) EXPECT_TRUE(ids.count(r.neighbour_id)) << r.neighbour_id;
}

TEST(HeuristicLinkDeciderTest, AtMostMaxLinksKeepingUpdatesFirst) {
    std::vector<NeighbourNote> nbs;
    for (int i = 0; i < 8; ++i) {
        nbs.push_back(neighbour(
            note("n_" + std::to_string(i), "I went hiking near Denver " + std::to_string(i), {"hiking", "denver"}),
            0.95 - 0.01 * i));
    }
    nbs.push_back(neighbour(note("n_home", "I live in Boston", {"boston"}), 0.3));  // worst, but an update
    HeuristicLinkDeciderOptions options;
    options.max_links = 3;
    const LinkPlan plan = decide(note("n_new", "I moved to Denver", {"denver", "hiking"}), nbs, options);
    ASSERT_EQ(plan.links.size(), 3u);
    ASSERT_NE(link_to(plan, "n_home"), nullptr);
    EXPECT_EQ(link_to(plan, "n_home")->relation, "updates");
    EXPECT_NE(link_to(plan, "n_0"), nullptr);
    EXPECT_NE(link_to(plan, "n_1"), nullptr);
    // Emitted in neighbour order.
    EXPECT_EQ(plan.links.back().neighbour_id, "n_home");
}

TEST(HeuristicLinkDeciderTest, EvolutionNeedsStrongOverlapAndRewritesOneNeighbourPerNote) {
    const auto a =
        note("n_a", "I went hiking in the Rockies with my dog", {"hiking", "rockies", "dog"}, {"travel"}, "");
    const auto b = note("n_b", "Hiking with my dog is my favourite weekend thing", {"hiking", "dog"}, {"hobby"}, "");
    const auto new_note =
        note("n_new", "I love hiking with my dog", {"hiking", "dog"}, {"hobbies", "pets"}, "weekend plans");
    const LinkPlan weak = decide(new_note, {neighbour(a, 0.85)});
    ASSERT_EQ(weak.links.size(), 1u) << "linked";
    EXPECT_TRUE(weak.rewrites.empty()) << "but cosine 0.85 with 2 shared keywords does not rewrite";
    const LinkPlan strong = decide(new_note, {neighbour(a, 0.95), neighbour(b, 0.93)});
    EXPECT_EQ(strong.links.size(), 2u);
    ASSERT_EQ(strong.rewrites.size(), 1u);
    EXPECT_EQ(strong.rewrites[0].neighbour_id, "n_a") << "the best neighbour only";
}

TEST(HeuristicLinkDeciderTest, EvolutionAddsTagsAndContextCapped) {
    const auto old_note = note("n_old", "I went hiking in the Rockies with my dog", {"hiking", "rockies", "dog"},
                               {"travel", "outdoors", "trips", "mountains"}, "");
    const auto new_note =
        note("n_new", "I love hiking with my dog", {"hiking", "dog"}, {"hobbies", "pets", "travel"}, "weekend plans");
    const LinkPlan plan = decide(new_note, {neighbour(old_note, 0.92)});
    ASSERT_EQ(plan.links.size(), 1u);
    const NeighbourRewrite* r = rewrite_of(plan, "n_old");
    ASSERT_NE(r, nullptr);
    ASSERT_TRUE(r->tags.has_value());
    // The neighbour's tags first, then the new note's missing ones, at most 5.
    EXPECT_EQ(*r->tags, (std::vector<std::string>{"travel", "outdoors", "trips", "mountains", "hobbies"}));
    ASSERT_TRUE(r->context.has_value());
    EXPECT_EQ(*r->context, "weekend plans");
    EXPECT_EQ(r->reason, "evolution: linked to n_new (shared: hiking, dog)");
}

TEST(HeuristicLinkDeciderTest, NoRewriteWhenNothingToAddOrOverlapWeak) {
    // Same tags and a context already set: nothing to rewrite.
    const auto full =
        note("n_full", "I went hiking in the Rockies with my dog", {"hiking", "dog"}, {"hobbies"}, "trip talk");
    const auto new_note = note("n_new", "I love hiking with my dog", {"hiking", "dog"}, {"hobbies"}, "weekend");
    EXPECT_TRUE(decide(new_note, {neighbour(full, 0.9)}).rewrites.empty());

    // Related by cosine only (allowed by the options), below the evolution threshold and without shared keywords:
    // link, no rewrite.
    HeuristicLinkDeciderOptions options;
    options.related_threshold = 0.5;
    options.related_min_shared_keywords = 0;
    const auto loose = note("n_loose", "The Rockies were beautiful", {"rockies"}, {"travel"});
    const LinkPlan plan = decide(new_note, {neighbour(loose, 0.6)}, options);
    ASSERT_EQ(plan.links.size(), 1u);
    EXPECT_TRUE(plan.rewrites.empty());
}

TEST(HeuristicLinkDeciderTest, NoRewriteForUpdatesEvenWithNewTags) {
    const auto boston = note("n_old", "I live in Boston", {"boston", "live"}, {"location"}, "");
    const auto denver =
        note("n_new", "I moved to Denver last month (2023-05)", {"denver", "live"}, {"location", "moving"}, "moving");
    const LinkPlan plan = decide(denver, {neighbour(boston, 0.95)});
    ASSERT_EQ(plan.links.size(), 1u);
    EXPECT_EQ(plan.links[0].relation, "updates");
    EXPECT_TRUE(plan.rewrites.empty());
}

TEST(HeuristicLinkDeciderTest, IsDeterministic) {
    const auto n = note("n_new", "I love hiking with my dog", {"hiking", "dog"}, {"hobbies", "pets"}, "ctx");
    const std::vector<NeighbourNote> nbs = {
        neighbour(note("n_1", "I went hiking in the Rockies", {"hiking"}, {"travel"}), 0.9),
        neighbour(note("n_2", "My dog loves long walks", {"dog", "walks"}, {"pets"}), 0.82),
        neighbour(note("n_3", "I live in Boston", {"boston"}), 0.1),
    };
    const LinkPlan a = decide(n, nbs);
    const LinkPlan b = decide(n, nbs);
    ASSERT_EQ(a.links.size(), b.links.size());
    for (std::size_t i = 0; i < a.links.size(); ++i) {
        EXPECT_EQ(a.links[i].neighbour_id, b.links[i].neighbour_id);
        EXPECT_EQ(a.links[i].relation, b.links[i].relation);
        EXPECT_EQ(a.links[i].weight, b.links[i].weight);
        EXPECT_EQ(a.links[i].reason, b.links[i].reason);
    }
    ASSERT_EQ(a.rewrites.size(), b.rewrites.size());
}

TEST(HeuristicLinkDeciderTest, EmptyNeighboursGiveEmptyPlan) {
    const LinkPlan plan = decide(note("n_new", "I live in Boston"), {});
    EXPECT_TRUE(plan.links.empty());
    EXPECT_TRUE(plan.rewrites.empty());
}

}  // namespace
}  // namespace kasten::memory
