#include "eval/longmemeval_corpus.h"

#include <algorithm>
#include <set>

namespace kasten::eval {

namespace {

constexpr std::string_view kAnswer = "answer";
constexpr std::string_view kNoAnswer = "noans";

bool contains_answer(std::string_view id) {
    return id.find(kAnswer) != std::string_view::npos;
}

// Python's str.replace("answer", "noans"): every non-overlapping occurrence, left to right.
std::string rewrite_noans(std::string_view id) {
    std::string out;
    size_t pos = 0;
    for (;;) {
        size_t hit = id.find(kAnswer, pos);
        if (hit == std::string_view::npos) break;
        out.append(id.substr(pos, hit - pos));
        out.append(kNoAnswer);
        pos = hit + kAnswer.size();
    }
    out.append(id.substr(pos));
    return out;
}

bool is_user(const LongMemEvalTurn& t) {
    return t.role == "user";
}

}  // namespace

const char* corpus_granularity_name(CorpusGranularity g) {
    return g == CorpusGranularity::kSession ? "session" : "turn";
}

bool parse_corpus_granularity(std::string_view text, CorpusGranularity* out) {
    if (text == "session") {
        *out = CorpusGranularity::kSession;
    } else if (text == "turn") {
        *out = CorpusGranularity::kTurn;
    } else {
        return false;
    }
    return true;
}

std::vector<std::string> OfficialCorpus::ids() const {
    std::vector<std::string> out;
    out.reserve(documents.size());
    for (const auto& d : documents) out.push_back(d.id);
    return out;
}

OfficialCorpus build_official_corpus(const LongMemEvalQuestion& question, CorpusGranularity granularity) {
    OfficialCorpus corpus;
    corpus.granularity = granularity;
    const auto& sessions = question.haystack_sessions;
    for (size_t s = 0; s < sessions.size(); ++s) {
        const std::string& sid = question.haystack_session_ids[s];
        const auto& turns = sessions[s];
        if (granularity == CorpusGranularity::kSession) {
            OfficialDocument doc;
            doc.session_index = static_cast<int>(s);
            bool evidence = false;
            bool first = true;
            for (const auto& t : turns) {
                if (!is_user(t)) continue;
                if (!first) doc.text += ' ';
                doc.text += t.content;
                first = false;
                evidence = evidence || t.has_answer.value_or(false);
            }
            doc.id = (contains_answer(sid) && !evidence) ? rewrite_noans(sid) : sid;
            corpus.documents.push_back(std::move(doc));
        } else {
            for (size_t i = 0; i < turns.size(); ++i) {
                if (!is_user(turns[i])) continue;
                OfficialDocument doc;
                doc.session_index = static_cast<int>(s);
                doc.turn_index = static_cast<int>(i);
                doc.text = turns[i].content;
                std::string id = sid + "_" + std::to_string(i + 1);
                doc.id = (contains_answer(sid) && !turns[i].has_answer.value_or(false)) ? rewrite_noans(id) : id;
                corpus.documents.push_back(std::move(doc));
            }
        }
    }
    std::set<std::string> gold;
    for (const auto& d : corpus.documents) {
        if (contains_answer(d.id)) gold.insert(d.id);
    }
    corpus.gold_ids.assign(gold.begin(), gold.end());
    return corpus;
}

std::string strip_turn_id(std::string_view turn_id) {
    size_t pos = turn_id.rfind('_');
    if (pos == std::string_view::npos) return "";
    return std::string(turn_id.substr(0, pos));
}

}  // namespace kasten::eval
