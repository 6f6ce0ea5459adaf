#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "llm/logits_mask.h"

namespace kasten::llm {

// Sampling settings. Defaults follow llama.cpp's command line.
struct SamplerOptions {
    float temperature = 0.8f;     // <= 0: greedy (argmax after penalties and mask)
    int top_k = 40;               // keep the k most likely tokens; <= 0: off
    float top_p = 0.95f;          // keep the smallest set with cumulative probability >= p; >= 1: off
    float min_p = 0.05f;          // drop tokens with probability < min_p · p(most likely); <= 0: off
    float repeat_penalty = 1.0f;  // divide positive / multiply negative logits of recent tokens; 1: off
    int repeat_last_n = 64;       // window of recent tokens the penalty looks at
    // OpenAI's penalties over the tokens sample() chose since the last reset (accept()ed prompt tokens do not
    // count): logit -= count · frequency_penalty + (count > 0) · presence_penalty. 0: off.
    float frequency_penalty = 0.0f;
    float presence_penalty = 0.0f;
    std::vector<std::pair<int, float>> logit_bias;  // added to the logit of each id; ids outside the vocabulary: none
    std::uint64_t seed = 0;                         // the same seed, options and logits give the same tokens
};

// A sampler chain: repetition penalty → frequency/presence penalties → logit bias → logits mask → (greedy | temperature
// → top-k → top-p → min-p → draw). Deterministic for a seed. Not thread-safe; one per generation.
class Sampler {
  public:
    explicit Sampler(const SamplerOptions& options);

    // The mask consulted before every draw (not owned; nullptr for none). It is told each sampled token.
    void set_mask(LogitsMask* mask) { mask_ = mask; }
    const SamplerOptions& options() const { return options_; }

    // Picks the next token from logits [n_vocab] (not modified), records it for the penalty window and tells
    // the mask. kFailedPrecondition when the mask (or non-finite logits) leave no token to choose.
    Result<int> sample(std::span<const float> logits);
    // Records a token that was not sampled (the prompt) in the penalty window.
    void accept(int token);
    // Clears the penalty window and counts, and reseeds.
    void reset();
    // The logits the last sample() drew from: after penalties, bias and mask, before temperature (n_vocab entries;
    // −infinity for tokens the mask forbids). Valid until the next sample().
    std::span<const float> adjusted_logits() const { return work_; }

  private:
    struct Candidate {
        int id;
        float logit;
        float p;
    };

    SamplerOptions options_;
    LogitsMask* mask_ = nullptr;
    std::mt19937_64 rng_;
    std::deque<int> recent_;
    std::unordered_map<int, int> generated_counts_;  // sampled token → times chosen
    std::vector<float> work_;
    std::vector<Candidate> candidates_;
};

}  // namespace kasten::llm
