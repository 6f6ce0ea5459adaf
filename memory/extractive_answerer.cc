#include "memory/extractive_answerer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "llm/english_stopwords.h"
#include "memory/word_tokenizer.h"

namespace kasten::memory {
namespace {

constexpr size_t kMaxLines = 3;

struct Evidence {
    std::string text;
    std::string date;  // "2023-05-20" of its session ("" when unknown)
    std::string role;  // "user" | "assistant" | ... ; "note" for a note
    std::set<std::string> words;
};

std::set<std::string> content_words(std::string_view text) {
    std::set<std::string> out;
    for (const auto& w : WordTokenizer::tokenize(text)) {
        if (w.lower.size() < 2 && !w.numeric) continue;
        if (llm::is_english_stopword(w.lower)) continue;
        out.insert(w.lower);
    }
    return out;
}

// The memory lines of a context text (docs/context.md).
void parse_context(const std::string& text, std::vector<Evidence>* out) {
    std::string date;
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        const std::string_view line(text.data() + at, end - at);
        at = end + 1;
        if (line.rfind("### ", 0) == 0) {
            const size_t dot = line.find(" · ");
            date = dot == std::string_view::npos ? "" : std::string(line.substr(dot + 4, 10));
            continue;
        }
        Evidence e;
        e.date = date;
        if (line.rfind("- ", 0) == 0) {
            std::string_view note = line.substr(2);
            const size_t valid = note.rfind(" (valid from ");
            if (valid != std::string_view::npos) note = note.substr(0, valid);
            e.text = std::string(note);
            e.role = "note";
        } else if (line.rfind("{\"role\"", 0) == 0) {
            auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
            if (j.is_discarded() || !j.is_object() || !j.contains("content") || !j["content"].is_string()) continue;
            e.text = j["content"].get<std::string>();
            e.role = j.contains("role") && j["role"].is_string() ? j["role"].get<std::string>() : "";
        } else {
            continue;
        }
        e.words = content_words(e.text);
        if (!e.text.empty()) out->push_back(std::move(e));
    }
}

int rough_tokens(std::string_view text) {
    return static_cast<int>((text.size() + 3) / 4);
}

}  // namespace

Result<llm::Generation> ExtractiveAnswerer::chat(const std::vector<llm::ChatMessage>& messages,
                                                 const llm::GenerationOptions& /*options*/,
                                                 const llm::TokenCallback& on_token) {
    std::string question;
    std::vector<Evidence> evidence;
    int prompt_tokens = 0;
    for (const auto& m : messages) {
        prompt_tokens += rough_tokens(m.content);
        if (m.role == "system") parse_context(m.content, &evidence);
        if (m.role == "user") question = m.content;
    }
    if (question.empty()) return Status::invalid_argument("the extractive answerer needs a user message");
    const std::set<std::string> asked = content_words(question);
    // idf over the evidence lines: a word every memory has says little.
    std::map<std::string, int> df;
    for (const auto& e : evidence) {
        for (const auto& w : e.words) df[w]++;
    }
    const double n = static_cast<double>(evidence.size());
    double total = 0;
    std::map<std::string, double> idf;
    for (const auto& w : asked) {
        idf[w] = std::log(1.0 + n / (1.0 + df[w]));
        total += idf[w];
    }
    std::vector<std::pair<double, size_t>> scored;
    for (size_t i = 0; i < evidence.size(); ++i) {
        double s = 0;
        for (const auto& w : asked) s += evidence[i].words.count(w) ? idf[w] : 0.0;
        if (s > 0 && total > 0) scored.push_back({s / total, i});
    }
    bool by_meaning = false;
    if (scored.empty() && embedder_ && !evidence.empty()) {
        // Nothing shares a word with the question: the memories closest to it in meaning, said to be that.
        const std::vector<float> q = embedder_->embed(question);
        for (size_t i = 0; i < evidence.size(); ++i) {
            const std::vector<float> v = embedder_->embed(evidence[i].text);
            double dot = 0;
            for (size_t d = 0; d < q.size() && d < v.size(); ++d) dot += static_cast<double>(q[d]) * v[d];
            if (dot > 0) scored.push_back({dot, i});
        }
        by_meaning = !scored.empty();
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });

    std::vector<std::string> lines;
    std::set<std::string> said;
    for (const auto& [score, i] : scored) {
        if (lines.size() == kMaxLines) break;
        const Evidence& e = evidence[i];
        if (!said.insert(e.text).second) continue;
        std::string line = lines.empty() ? "- " : "\n- ";
        if (!e.date.empty()) line += "[" + e.date + "] ";
        if (e.role == "assistant") line += "(you were told) ";
        line += e.text;
        lines.push_back(std::move(line));
    }
    llm::Generation g;
    std::vector<std::string> pieces;
    if (lines.empty()) {
        pieces.push_back(std::string(kMarker) + ") I found nothing in memory that matches your message.");
    } else {
        pieces.push_back(std::string(kMarker) +
                         (by_meaning ? "; nothing in memory shares a word with your message, so here are the stored "
                                       "memories closest to it in meaning)\n"
                                     : ", so here are the stored memories that best match your question)\n"));
        for (auto& l : lines) pieces.push_back(std::move(l));
    }
    for (const auto& p : pieces) {
        g.text += p;
        if (on_token && !on_token(p)) break;
    }
    g.prompt_tokens = prompt_tokens;
    g.completion_tokens = rough_tokens(g.text);
    g.finish_reason = "stop";
    return g;
}

Result<llm::Generation> ExtractiveAnswerer::complete(std::string_view /*prompt*/,
                                                     const llm::GenerationOptions& /*options*/,
                                                     const llm::TokenCallback& /*on_token*/) {
    return Status(StatusCode::kNotSupported,
                  "no language model is configured: the extractive answerer answers chat from memory only; start "
                  "kasten serve with --model FILE.gguf or --upstream URL for text completions");
}

}  // namespace kasten::memory
