#include "llm/sampler.h"

#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

// logits whose softmax is exactly `probs`
std::vector<float> logits_for(const std::vector<double>& probs) {
    std::vector<float> l;
    for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
    return l;
}

std::map<int, int> histogram(Sampler& s, const std::vector<float>& logits, int draws) {
    std::map<int, int> h;
    for (int i = 0; i < draws; ++i) h[s.sample(logits).value()]++;
    return h;
}

SamplerOptions plain(float temperature) {
    SamplerOptions o;
    o.temperature = temperature;
    o.top_k = 0;
    o.top_p = 1.0f;
    o.min_p = 0.0f;
    return o;
}

TEST(SamplerTest, GreedyTakesTheArgmaxAndTheLowestIdOnTies) {
    Sampler s(plain(0.0f));
    EXPECT_EQ(s.sample(std::vector<float>{0.1f, 3.0f, -1.0f, 2.9f}).value(), 1);
    EXPECT_EQ(s.sample(std::vector<float>{5.0f, 1.0f, 5.0f}).value(), 0);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    EXPECT_EQ(s.sample(std::vector<float>{nan, 1.0f, 0.5f}).value(), 1);
}

TEST(SamplerTest, TemperatureOneDrawsFromTheSoftmax) {
    const std::vector<double> probs = {0.5, 0.25, 0.15, 0.1};
    Sampler s(plain(1.0f));
    const int draws = 40000;
    std::map<int, int> h = histogram(s, logits_for(probs), draws);
    for (int i = 0; i < 4; ++i) {
        const double expected = probs[static_cast<std::size_t>(i)] * draws;
        EXPECT_NEAR(h[i], expected, 5 * std::sqrt(expected)) << i;  // 5 sigma
    }
}

TEST(SamplerTest, LowTemperatureSharpensHighFlattens) {
    const std::vector<float> logits = logits_for({0.6, 0.4});
    Sampler cold(plain(0.25f));  // p ∝ p^4: 0.6^4 / (0.6^4 + 0.4^4) = 0.835
    Sampler hot(plain(4.0f));    // p ∝ p^0.25: 0.525
    EXPECT_NEAR(histogram(cold, logits, 20000)[0] / 20000.0, 0.835, 0.02);
    EXPECT_NEAR(histogram(hot, logits, 20000)[0] / 20000.0, 0.525, 0.02);
}

TEST(SamplerTest, SeedMakesDrawsReproducible) {
    const std::vector<float> logits = logits_for({0.3, 0.3, 0.2, 0.2});
    SamplerOptions o = plain(1.0f);
    o.seed = 42;
    Sampler a(o), b(o);
    o.seed = 43;
    Sampler c(o);
    std::vector<int> ra, rb, rc;
    for (int i = 0; i < 64; ++i) {
        ra.push_back(a.sample(logits).value());
        rb.push_back(b.sample(logits).value());
        rc.push_back(c.sample(logits).value());
    }
    EXPECT_EQ(ra, rb);
    EXPECT_NE(ra, rc);
    a.reset();
    EXPECT_EQ(a.sample(logits).value(), rb.front());
}

TEST(SamplerTest, TopKTopPAndMinPTruncate) {
    const std::vector<float> logits = logits_for({0.05, 0.5, 0.15, 0.3});  // ranks: 1, 3, 2, 0
    SamplerOptions k = plain(1.0f);
    k.top_k = 2;
    Sampler sk(k);
    std::map<int, int> hk = histogram(sk, logits, 5000);
    EXPECT_EQ(hk.size(), 2u);
    EXPECT_GT(hk[1], 0);
    EXPECT_GT(hk[3], 0);
    EXPECT_NEAR(hk[1] / 5000.0, 0.5 / 0.8, 0.03);  // renormalised over the kept two

    SamplerOptions p = plain(1.0f);
    p.top_p = 0.7f;  // 0.5 + 0.3 >= 0.7
    Sampler sp(p);
    std::map<int, int> hp = histogram(sp, logits, 5000);
    EXPECT_EQ(hp.size(), 2u);
    EXPECT_EQ(hp.count(2), 0u);

    SamplerOptions m = plain(1.0f);
    m.min_p = 0.35f;  // floor 0.175: keeps 0.5 and 0.3
    Sampler sm(m);
    std::map<int, int> hm = histogram(sm, logits, 5000);
    EXPECT_EQ(hm.size(), 2u);
    EXPECT_EQ(hm.count(0), 0u);
    EXPECT_EQ(hm.count(2), 0u);

    SamplerOptions one = plain(1.0f);
    one.top_k = 1;
    Sampler s1(one);
    EXPECT_EQ(histogram(s1, logits, 100).size(), 1u);
}

TEST(SamplerTest, RepetitionPenaltyDemotesRecentTokens) {
    SamplerOptions o = plain(0.0f);
    o.repeat_penalty = 1.2f;
    o.repeat_last_n = 2;
    Sampler s(o);
    const std::vector<float> logits = {2.0f, 1.9f, -0.5f, -0.55f};
    s.accept(0);
    EXPECT_EQ(s.sample(logits).value(), 1);  // 2.0 / 1.2 < 1.9; 1 is now recent too
    // Window of 2 holds {0, 1}: both penalised → 1.667 vs 1.583, token 0 wins again.
    EXPECT_EQ(s.sample(logits).value(), 0);
    Sampler neg(o);
    const std::vector<float> negative = {-1.0f, -1.1f};
    neg.accept(0);
    EXPECT_EQ(neg.sample(negative).value(), 1);  // −1.0 · 1.2 = −1.2 < −1.1
}

TEST(SamplerTest, FrequencyAndPresencePenaltiesCountGeneratedTokensOnly) {
    // OpenAI's formula: logit − count · frequency − (count > 0) · presence, over sampled tokens only.
    SamplerOptions o = plain(0.0f);
    o.frequency_penalty = 0.3f;
    o.presence_penalty = 0.5f;
    Sampler s(o);
    const std::vector<float> logits = {3.0f, 2.0f, 0.0f};
    s.accept(0);                             // a prompt token: not penalised
    EXPECT_EQ(s.sample(logits).value(), 0);  // 3.0
    EXPECT_EQ(s.sample(logits).value(), 0);  // 3.0 − 0.3 − 0.5 = 2.2 > 2.0
    EXPECT_EQ(s.sample(logits).value(), 1);  // 3.0 − 0.6 − 0.5 = 1.9 < 2.0
    EXPECT_FLOAT_EQ(s.adjusted_logits()[0], 1.9f);
    EXPECT_FLOAT_EQ(s.adjusted_logits()[1], 2.0f);
    EXPECT_EQ(s.sample(logits).value(), 0);  // 1.9 vs 2.0 − 0.3 − 0.5 = 1.2
    EXPECT_FLOAT_EQ(s.adjusted_logits()[1], 1.2f);
    EXPECT_FLOAT_EQ(s.adjusted_logits()[2], 0.0f);

    // Negative penalties favour repetition; reset() forgets the counts.
    SamplerOptions r = plain(0.0f);
    r.presence_penalty = -1.5f;
    Sampler again(r);
    const std::vector<float> close = {1.0f, 2.0f};
    EXPECT_EQ(again.sample(close).value(), 1);
    EXPECT_EQ(again.sample(std::vector<float>{3.0f, 2.0f}).value(), 1);  // 2.0 + 1.5 > 3.0
    again.reset();
    EXPECT_EQ(again.sample(std::vector<float>{3.0f, 2.0f}).value(), 0);
}

TEST(SamplerTest, LogitBiasShiftsTokensBeforeTheDraw) {
    SamplerOptions o = plain(0.0f);
    o.logit_bias = {{2, 5.0f}, {0, -100.0f}, {99, 100.0f}};  // id 99 is outside the vocabulary: no effect
    Sampler s(o);
    const std::vector<float> logits = {4.0f, 1.0f, 0.0f};
    EXPECT_EQ(s.sample(logits).value(), 2);
    EXPECT_FLOAT_EQ(s.adjusted_logits()[0], -96.0f);
    EXPECT_FLOAT_EQ(s.adjusted_logits()[2], 5.0f);
    // At temperature 1 a −100 bias makes the token practically impossible.
    SamplerOptions t = plain(1.0f);
    t.logit_bias = {{0, -100.0f}};
    Sampler draw(t);
    std::map<int, int> h = histogram(draw, std::vector<float>{0.0f, 0.0f}, 200);
    EXPECT_EQ(h[0], 0);
    EXPECT_EQ(h[1], 200);
}

class OnlyEvenThenOdd : public LogitsMask {
  public:
    void apply(std::span<float> logits) override {
        for (std::size_t i = 0; i < logits.size(); ++i) {
            if (static_cast<int>(i % 2) != parity_) logits[i] = -std::numeric_limits<float>::infinity();
        }
    }
    void accept(int token) override {
        accepted.push_back(token);
        parity_ = 1 - parity_;
    }
    std::vector<int> accepted;

  private:
    int parity_ = 0;
};

class ForbidAll : public LogitsMask {
  public:
    void apply(std::span<float> logits) override {
        for (float& l : logits) l = -std::numeric_limits<float>::infinity();
    }
    void accept(int) override {}
};

TEST(SamplerTest, MaskRestrictsEveryDrawAndSeesTheChosenTokens) {
    for (float t : {0.0f, 1.0f}) {
        Sampler s(plain(t));
        OnlyEvenThenOdd mask;
        s.set_mask(&mask);
        const std::vector<float> logits = {0.0f, 5.0f, 0.1f, 4.0f, 0.2f};
        std::vector<int> got;
        for (int i = 0; i < 50; ++i) got.push_back(s.sample(logits).value());
        for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i] % 2, static_cast<int>(i % 2)) << t;
        EXPECT_EQ(mask.accepted, got);
    }
    Sampler s(plain(0.0f));
    ForbidAll none;
    s.set_mask(&none);
    EXPECT_EQ(s.sample(std::vector<float>{1.0f, 2.0f}).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace kasten::llm
