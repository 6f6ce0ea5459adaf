#include "eval/locomo_sample.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "eval/locomo_date_time.h"

namespace kasten::eval {

namespace {

using nlohmann::json;

// Python's str() of a JSON scalar.
std::string python_str(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
    if (v.is_null()) return "None";
    return v.dump();
}

bool parse_positive(std::string_view s, int* out) {
    if (s.empty() || s.size() > 6) return false;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    if (v <= 0) return false;
    *out = v;
    return true;
}

Status parse_sample(const json& j, size_t position, LocomoSample* out) {
    std::string where = "sample #" + std::to_string(position);
    if (!j.is_object()) return Status::invalid_argument(where + " is not an object");
    if (auto id = j.find("sample_id"); id != j.end() && id->is_string()) {
        out->sample_id = id->get<std::string>();
        where = "sample '" + out->sample_id + "'";
    } else {
        out->sample_id = "sample-" + std::to_string(position);
    }
    auto conv = j.find("conversation");
    if (conv == j.end() || !conv->is_object())
        return Status::invalid_argument(where + ": missing object 'conversation'");
    if (auto a = conv->find("speaker_a"); a != conv->end() && a->is_string()) out->speaker_a = a->get<std::string>();
    if (auto b = conv->find("speaker_b"); b != conv->end() && b->is_string()) out->speaker_b = b->get<std::string>();

    std::vector<int> numbers;
    for (auto it = conv->begin(); it != conv->end(); ++it) {
        const std::string& key = it.key();
        int n = 0;
        if (key.rfind("session_", 0) == 0 && parse_positive(std::string_view(key).substr(8), &n)) numbers.push_back(n);
    }
    std::sort(numbers.begin(), numbers.end());
    for (int n : numbers) {
        const std::string key = "session_" + std::to_string(n);
        const json& turns = (*conv)[key];
        if (!turns.is_array()) return Status::invalid_argument(where + ": '" + key + "' is not a list of turns");
        LocomoSession session;
        session.number = n;
        auto dt = conv->find(key + "_date_time");
        if (dt == conv->end() || !dt->is_string()) {
            return Status::invalid_argument(where + ": missing string '" + key + "_date_time'");
        }
        session.date_time = dt->get<std::string>();
        auto t = parse_locomo_date_time(session.date_time);
        if (!t) return t.status().with_context(where + ", " + key + "_date_time");
        session.time = *t;
        for (size_t i = 0; i < turns.size(); ++i) {
            const json& tj = turns[i];
            const std::string tw = where + ", " + key + "[" + std::to_string(i) + "]";
            if (!tj.is_object()) return Status::invalid_argument(tw + " is not an object");
            LocomoTurn turn;
            auto sp = tj.find("speaker");
            auto id = tj.find("dia_id");
            auto text = tj.find("text");
            if (sp == tj.end() || !sp->is_string()) return Status::invalid_argument(tw + ": missing string 'speaker'");
            if (id == tj.end() || !id->is_string()) return Status::invalid_argument(tw + ": missing string 'dia_id'");
            if (text != tj.end() && !text->is_string() && !text->is_null()) {
                return Status::invalid_argument(tw + ": 'text' is not a string");
            }
            turn.speaker = sp->get<std::string>();
            turn.dia_id = id->get<std::string>();
            if (text != tj.end() && text->is_string()) turn.text = text->get<std::string>();
            if (auto cap = tj.find("blip_caption"); cap != tj.end() && cap->is_string()) {
                turn.blip_caption = cap->get<std::string>();
            }
            const auto pos =
                std::make_pair(static_cast<int>(out->sessions.size()), static_cast<int>(session.turns.size()));
            if (!out->dia_index.emplace(turn.dia_id, pos).second) {
                return Status::invalid_argument(tw + ": dia_id '" + turn.dia_id + "' repeats");
            }
            session.turns.push_back(std::move(turn));
        }
        out->sessions.push_back(std::move(session));
    }

    auto qa = j.find("qa");
    if (qa == j.end() || !qa->is_array()) return Status::invalid_argument(where + ": missing list 'qa'");
    for (size_t i = 0; i < qa->size(); ++i) {
        const json& q = (*qa)[i];
        const std::string qw = where + ", qa[" + std::to_string(i) + "]";
        if (!q.is_object()) return Status::invalid_argument(qw + " is not an object");
        LocomoQuestion question;
        question.index = static_cast<int>(i);
        auto text = q.find("question");
        if (text == q.end() || !text->is_string()) return Status::invalid_argument(qw + ": missing string 'question'");
        question.question = text->get<std::string>();
        auto cat = q.find("category");
        if (cat == q.end() || !cat->is_number_integer())
            return Status::invalid_argument(qw + ": missing integer 'category'");
        question.category = cat->get<int>();
        if (auto a = q.find("answer"); a != q.end() && !a->is_null()) question.answer = python_str(*a);
        if (auto a = q.find("adversarial_answer"); a != q.end() && !a->is_null()) {
            question.adversarial_answer = python_str(*a);
        }
        if (auto ev = q.find("evidence"); ev != q.end()) {
            if (!ev->is_array()) return Status::invalid_argument(qw + ": 'evidence' is not a list");
            for (const auto& e : *ev) {
                if (!e.is_string()) return Status::invalid_argument(qw + ": 'evidence' holds a non-string");
                question.evidence.push_back(e.get<std::string>());
            }
        }
        out->qa.push_back(std::move(question));
    }
    return Status::ok();
}

}  // namespace

std::optional<std::pair<int, int>> parse_locomo_dia_id(std::string_view dia_id) {
    if (dia_id.size() < 4 || dia_id[0] != 'D') return std::nullopt;
    const size_t colon = dia_id.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    int s = 0, t = 0;
    if (!parse_positive(dia_id.substr(1, colon - 1), &s) || !parse_positive(dia_id.substr(colon + 1), &t)) {
        return std::nullopt;
    }
    return std::make_pair(s, t);
}

std::string locomo_evidence_session(std::string_view evidence) {
    std::string_view first = evidence.substr(0, evidence.find(':'));
    return first.empty() ? std::string() : std::string(first.substr(1));
}

const char* locomo_category_name(int category) {
    switch (category) {
        case 1:
            return "multi-hop";
        case 2:
            return "temporal";
        case 3:
            return "open-domain";
        case 4:
            return "single-hop";
        case 5:
            return "adversarial";
        default:
            return "unknown";
    }
}

Result<std::vector<LocomoSample>> parse_locomo_json(std::string_view json_text, const std::string& name) {
    json root;
    try {
        root = json::parse(json_text);
    } catch (const json::exception& e) {
        return Status::invalid_argument(name + " is not valid JSON: " + e.what());
    }
    std::vector<LocomoSample> samples;
    if (root.is_object()) {  // one sample on its own
        LocomoSample s;
        KASTEN_RETURN_IF_ERROR(parse_sample(root, 0, &s).with_context(name));
        samples.push_back(std::move(s));
        return samples;
    }
    if (!root.is_array()) return Status::invalid_argument(name + " is neither a list of samples nor a sample");
    for (size_t i = 0; i < root.size(); ++i) {
        LocomoSample s;
        KASTEN_RETURN_IF_ERROR(parse_sample(root[i], i, &s).with_context(name));
        samples.push_back(std::move(s));
    }
    return samples;
}

Result<std::vector<LocomoSample>> parse_locomo_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::not_found("cannot open '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return Status::io_error("reading '" + path + "' failed");
    return parse_locomo_json(ss.str(), path);
}

}  // namespace kasten::eval
