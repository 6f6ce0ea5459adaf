#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace kasten::eval {

struct SyntheticMessage {
    std::string role;  // user | assistant
    std::string content;
};

struct SyntheticSession {
    std::string session_id;
    std::int64_t time_ms = 0;  // conversation start
    std::vector<SyntheticMessage> messages;
};

// Deterministic generator of chat-like sessions for benchmarks: a Zipf-distributed general English vocabulary mixed
// with per-session topic words, user turns of ~8-40 words and assistant turns of ~30-120 words (the shape of
// LongMemEval haystacks), sessions of 6-16 turns a few days apart.
class SyntheticCorpus {
  public:
    explicit SyntheticCorpus(std::uint64_t seed = 42);
    // Sessions until at least `turns` turns are produced (the last session is cut to fit exactly).
    std::vector<SyntheticSession> generate(std::int64_t turns);
    // A query of 3-8 words drawn like the user turns of a random topic.
    std::string query();

  private:
    std::string sentence(int words, int topic);
    const std::string& zipf_word();

    std::mt19937_64 rng_;
    std::vector<double> cdf_;
    std::int64_t next_session_ = 0;
};

}  // namespace kasten::eval
