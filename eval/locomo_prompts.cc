#include "eval/locomo_prompts.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/sha256.h"

namespace kasten::eval {

namespace {

constexpr const char* kQaPrompt =
    "\nBased on the above context, write an answer in the form of a short phrase for the following question. Answer "
    "with exact words from the context whenever possible.\n\nQuestion: {} Short answer:\n";
constexpr const char* kQaPromptCat5 =
    "\nBased on the above context, answer the following question.\n\nQuestion: {} Short answer:\n";
constexpr const char* kConvStartPrompt =
    "Below is a conversation between two people: {} and {}. The conversation takes place over multiple days and the "
    "date of each conversation is wriiten at the beginning of the conversation.\n\n";
constexpr const char* kNotMentioned = "Not mentioned in the conversation";

constexpr const char* kJudgePrompt = R"(
Your task is to label an answer to a question as ’CORRECT’ or ’WRONG’. You will be given the following data:
    (1) a question (posed by one user to another user), 
    (2) a ’gold’ (ground truth) answer, 
    (3) a generated answer
which you will score as CORRECT/WRONG.

The point of the question is to ask about something one user should know about the other user based on their prior conversations.
The gold answer will usually be a concise and short answer that includes the referenced topic, for example:
Question: Do you remember what I got the last time I went to Hawaii?
Gold answer: A shell necklace
The generated answer might be much longer, but you should be generous with your grading - as long as it touches on the same topic as the gold answer, it should be counted as CORRECT. 

For time related questions, the gold answer will be a specific date, month, year, etc. The generated answer might be much longer or use relative time references (like "last Tuesday" or "next month"), but you should be generous with your grading - as long as it refers to the same date or time period as the gold answer, it should be counted as CORRECT. Even if the format differs (e.g., "May 7th" vs "7 May"), consider it CORRECT if it's the same date.

Now it's time for the real question:
Question: {question}
Gold answer: {gold_answer}
Generated answer: {generated_answer}

First, provide a short (one sentence) explanation of your reasoning, then finish with CORRECT or WRONG. 
Do NOT include both CORRECT and WRONG in your response, or it will break the evaluation script.

Just return the label CORRECT or WRONG in a json format with the key as "label".
)";

// Python's str.format for the positional "{}" fields of the official templates (no other braces occur in them).
std::string fill(std::string_view tmpl, const std::vector<std::string>& args) {
    std::string out;
    size_t arg = 0;
    for (size_t i = 0; i < tmpl.size(); ++i) {
        if (tmpl[i] == '{' && i + 1 < tmpl.size() && tmpl[i + 1] == '}' && arg < args.size()) {
            out += args[arg++];
            ++i;
        } else {
            out.push_back(tmpl[i]);
        }
    }
    return out;
}

std::string replace_field(std::string s, const std::string& field, const std::string& value) {
    size_t pos = s.find(field);
    if (pos != std::string::npos) s.replace(pos, field.size(), value);
    return s;
}

std::string python_strip(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

const std::string& adversarial_option(const LocomoQuestion& q) {
    return q.adversarial_answer.empty() ? q.answer : q.adversarial_answer;
}

}  // namespace

bool locomo_not_mentioned_first(const std::string& sample_id, int qa_index) {
    Sha256 sha;
    sha.update(sample_id + ":" + std::to_string(qa_index));
    return (sha.digest()[0] & 1) == 0;
}

std::string locomo_reader_question(const LocomoQuestion& q, bool not_mentioned_first) {
    if (q.category == 2) return q.question + " Use DATE of CONVERSATION to answer with an approximate date.";
    if (q.category == 5) {
        const std::string tmpl = q.question + " Select the correct answer: (a) {} (b) {}. ";
        return not_mentioned_first ? fill(tmpl, {kNotMentioned, adversarial_option(q)})
                                   : fill(tmpl, {adversarial_option(q), kNotMentioned});
    }
    return q.question;
}

std::string locomo_reader_prompt(const std::string& context, const LocomoQuestion& q, bool not_mentioned_first) {
    const std::string question = locomo_reader_question(q, not_mentioned_first);
    return context + "\n\n" + fill(q.category == 5 ? kQaPromptCat5 : kQaPrompt, {question});
}

std::string locomo_dialog_text(const LocomoTurn& turn) {
    return turn.speaker + " said, \"" + turn.text + "\"";
}

std::string locomo_rag_context(const LocomoSample& sample, const std::vector<std::pair<int, int>>& turns) {
    std::string out;
    for (size_t i = 0; i < turns.size(); ++i) {
        const LocomoSession& s = sample.sessions[static_cast<size_t>(turns[i].first)];
        if (i > 0) out += "\n";
        out += s.date_time + ": " + locomo_dialog_text(s.turns[static_cast<size_t>(turns[i].second)]);
    }
    return out;
}

std::string locomo_full_context(const LocomoSample& sample) {
    std::string conv;
    // get_input_context walks the sessions from the last non-empty one back to the first, prepending turns.
    int last = -1;
    for (size_t i = 0; i < sample.sessions.size(); ++i) {
        if (!sample.sessions[i].turns.empty()) last = static_cast<int>(i);
    }
    for (int i = last; i >= 0; --i) {
        const LocomoSession& s = sample.sessions[static_cast<size_t>(i)];
        conv += "\n\n";
        std::string turns;
        for (const LocomoTurn& t : s.turns) {
            turns += locomo_dialog_text(t) + "\n";
            if (!t.blip_caption.empty()) turns += "[shares " + t.blip_caption + "]\n";
        }
        conv = "DATE: " + s.date_time + "\nCONVERSATION:\n" + turns + conv;
    }
    return fill(kConvStartPrompt, {sample.speaker_a, sample.speaker_b}) + conv;
}

std::string locomo_recorded_answer(const LocomoQuestion& q, const std::string& reply, bool not_mentioned_first) {
    std::string answer = python_strip(reply);
    if (q.category != 5) return answer;
    std::string lower = answer;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::string a = not_mentioned_first ? kNotMentioned : adversarial_option(q);
    const std::string b = not_mentioned_first ? adversarial_option(q) : kNotMentioned;
    if (lower.size() == 1) return lower.find('a') != std::string::npos ? a : b;
    if (lower.size() == 3) return lower.find("(a)") != std::string::npos ? a : b;
    return lower;
}

std::string locomo_judge_prompt(const std::string& question, const std::string& gold_answer,
                                const std::string& generated_answer) {
    std::string p = kJudgePrompt;
    p = replace_field(p, "{question}", question);
    p = replace_field(p, "{gold_answer}", gold_answer);
    p = replace_field(p, "{generated_answer}", generated_answer);
    return p;
}

std::optional<bool> locomo_judge_label(const std::string& response) {
    std::string text = python_strip(response);
    const size_t fence = text.find("```");
    if (fence != std::string::npos) {
        size_t start = fence + 3;
        if (text.compare(start, 4, "json") == 0) start += 4;
        const size_t end = text.find("```", start);
        if (end != std::string::npos) text = python_strip(text.substr(start, end - start));
    }
    try {
        auto j = nlohmann::json::parse(text);
        if (j.is_object() && j.contains("label") && j["label"].is_string())
            return j["label"].get<std::string>() == "CORRECT";
    } catch (const nlohmann::json::exception&) {
    }
    // A reply with prose around the object: read the last {...} span.
    const size_t open = text.rfind('{');
    const size_t close = text.rfind('}');
    if (open != std::string::npos && close != std::string::npos && close > open) {
        try {
            auto j = nlohmann::json::parse(text.substr(open, close - open + 1));
            if (j.is_object() && j.contains("label") && j["label"].is_string()) {
                return j["label"].get<std::string>() == "CORRECT";
            }
        } catch (const nlohmann::json::exception&) {
        }
    }
    return std::nullopt;
}

}  // namespace kasten::eval
