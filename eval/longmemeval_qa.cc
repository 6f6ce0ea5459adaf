#include "eval/longmemeval_qa.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include <fmt/format.h>

#include "eval/utf8_codec.h"

namespace kasten::eval {

namespace {

constexpr const char* kReaderPrompt =
    "I will give you several history chats between you and a user. Please answer the question based on the relevant "
    "chat history. Answer the question step by step: first extract all the relevant information, and then reason over "
    "the information to get the answer.\n\nHistory Chats: {}\n\nCurrent Date: {}\n\nQuestion: {}\nAnswer (step by "
    "step):";

constexpr const char* kJudgeHead =
    "I will give you a question, a correct answer, and a response from a model. Please answer yes if the response "
    "contains the correct answer. Otherwise, answer no. If the response is equivalent to the correct answer or "
    "contains all the intermediate steps to get the correct answer, you should also answer yes. If the response only "
    "contains a subset of the information required by the answer, answer no.";
constexpr const char* kTemporalInsert =
    " In addition, do not penalize off-by-one errors for the number of days. If the question asks for the number of "
    "days/weeks/months, etc., and the model makes off-by-one errors (e.g., predicting 19 days when the answer is 18), "
    "the model's response is still correct.";
constexpr const char* kKnowledgeUpdate =
    "I will give you a question, a correct answer, and a response from a model. Please answer yes if the response "
    "contains the correct answer. Otherwise, answer no. If the response contains some previous information along with "
    "an updated answer, the response should be considered as correct as long as the updated answer is the required "
    "answer.";
constexpr const char* kPreference =
    "I will give you a question, a rubric for desired personalized response, and a response from a model. Please "
    "answer yes if the response satisfies the desired response. Otherwise, answer no. The model does not need to "
    "reflect all the points in the rubric. The response is correct as long as it recalls and utilizes the user's "
    "personal information correctly.";
constexpr const char* kAbstention =
    "I will give you an unanswerable question, an explanation, and a response from a model. Please answer yes if the "
    "model correctly identifies the question as unanswerable. The model could say that the information is incomplete, "
    "or some other information is given but the asked information is not.";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
        s.replace(pos, from.size(), to);
        pos += to.size();
    }
    return s;
}

std::string strip(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

std::string turns_json(const std::vector<LongMemEvalTurn>& turns, size_t begin, size_t end) {
    std::string out = "[";
    for (size_t i = begin; i < end; ++i) {
        if (i > begin) out += ", ";
        out += "{\"role\": " + python_json_quote(turns[i].role) +
               ", \"content\": " + python_json_quote(turns[i].content) + "}";
    }
    return out + "]";
}

// Python's str.format of three "{}" fields.
std::string fill3(const char* tmpl, std::string_view a, std::string_view b, std::string_view c) {
    const std::string_view parts[3] = {a, b, c};
    std::string out;
    int k = 0;
    for (const char* p = tmpl; *p; ++p) {
        if (p[0] == '{' && p[1] == '}' && k < 3) {
            out += parts[k++];
            ++p;
        } else {
            out.push_back(*p);
        }
    }
    return out;
}

}  // namespace

std::string longmemeval_reader_prompt(std::string_view history, std::string_view question_date,
                                      std::string_view question) {
    return fill3(kReaderPrompt, history, question_date, question);
}

std::string python_json_quote(std::string_view text) {
    std::string out = "\"";
    for (char32_t c : decode_utf8(text)) {
        switch (c) {
            case U'"':
                out += "\\\"";
                break;
            case U'\\':
                out += "\\\\";
                break;
            case U'\n':
                out += "\\n";
                break;
            case U'\r':
                out += "\\r";
                break;
            case U'\t':
                out += "\\t";
                break;
            case U'\b':
                out += "\\b";
                break;
            case U'\f':
                out += "\\f";
                break;
            default:
                if (c < 0x20 || (c > 0x7E && c != 0x7F)) {
                    if (c >= 0x10000) {
                        const char32_t v = c - 0x10000;
                        out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
                    } else {
                        out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
                    }
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    return out + "\"";
}

std::string longmemeval_history(const LongMemEvalQuestion& q, const std::vector<std::string>& ranked_ids, int top_k,
                                CorpusGranularity granularity) {
    std::unordered_map<std::string, size_t> session_of;  // last occurrence wins, like the official dict
    for (size_t s = 0; s < q.haystack_session_ids.size(); ++s) session_of[q.haystack_session_ids[s]] = s;
    struct Item {
        std::string date;
        std::string json;
    };
    std::vector<Item> items;
    for (const auto& raw : ranked_ids) {
        if (static_cast<int>(items.size()) >= top_k) break;
        const std::string id = replace_all(raw, "noans_", "answer_");
        if (granularity == CorpusGranularity::kSession) {
            auto it = session_of.find(id);
            if (it == session_of.end()) continue;
            const auto& turns = q.haystack_sessions[it->second];
            items.push_back({q.haystack_dates[it->second], turns_json(turns, 0, turns.size())});
        } else {
            const size_t us = id.rfind('_');
            if (us == std::string::npos) continue;
            auto it = session_of.find(id.substr(0, us));
            if (it == session_of.end()) continue;
            long n = 0;
            try {
                n = std::stol(id.substr(us + 1));
            } catch (...) {
                continue;
            }
            const auto& turns = q.haystack_sessions[it->second];
            if (n < 1 || static_cast<size_t>(n) > turns.size()) continue;
            const size_t t = static_cast<size_t>(n - 1);
            items.push_back({q.haystack_dates[it->second], turns_json(turns, t, std::min(turns.size(), t + 2))});
        }
    }
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.date < b.date; });
    std::string history;
    for (size_t i = 0; i < items.size(); ++i) {
        history += "\n### Session " + std::to_string(i + 1) + ":\nSession Date: " + items[i].date +
                   "\nSession Content:\n\n" + items[i].json + "\n";
    }
    return history;
}

Result<std::string> longmemeval_judge_prompt(const std::string& type, bool abstention, const std::string& question,
                                             const std::string& answer, const std::string& response) {
    const std::string tail =
        "\n\nQuestion: {}\n\nCorrect Answer: {}\n\nModel Response: {}\n\nIs the model response "
        "correct? Answer yes or no only.";
    std::string tmpl;
    if (abstention) {
        tmpl = std::string(kAbstention) +
               "\n\nQuestion: {}\n\nExplanation: {}\n\nModel Response: {}\n\nDoes the model correctly identify the "
               "question as unanswerable? Answer yes or no only.";
    } else if (type == "single-session-user" || type == "single-session-assistant" || type == "multi-session") {
        tmpl = std::string(kJudgeHead) + " " + tail;
    } else if (type == "temporal-reasoning") {
        tmpl = std::string(kJudgeHead) + kTemporalInsert + " " + tail;
    } else if (type == "knowledge-update") {
        tmpl = std::string(kKnowledgeUpdate) + tail;
    } else if (type == "single-session-preference") {
        tmpl = std::string(kPreference) +
               "\n\nQuestion: {}\n\nRubric: {}\n\nModel Response: {}\n\nIs the model response correct? Answer yes or "
               "no only.";
    } else {
        return Status::invalid_argument("no judge prompt for question type '" + type + "'");
    }
    return fill3(tmpl.c_str(), question, answer, response);
}

bool longmemeval_judge_correct(std::string_view reply) {
    std::string r = strip(reply);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
    return r.find("yes") != std::string::npos;
}

void LongMemEvalQaScorer::add(const std::string& question_type, bool abstention, bool correct) {
    auto& cell = acc_.by_type[question_type];
    ++cell.n;
    cell.correct += correct ? 1 : 0;
    ++acc_.overall.n;
    acc_.overall.correct += correct ? 1 : 0;
    if (abstention) {
        ++acc_.abstention.n;
        acc_.abstention.correct += correct ? 1 : 0;
    }
}

LongMemEvalQaAccuracy LongMemEvalQaScorer::result() const {
    LongMemEvalQaAccuracy out = acc_;
    double sum = 0;
    for (const auto& [type, cell] : out.by_type) sum += cell.accuracy();
    out.task_averaged = out.by_type.empty() ? 0.0 : sum / static_cast<double>(out.by_type.size());
    return out;
}

}  // namespace kasten::eval
