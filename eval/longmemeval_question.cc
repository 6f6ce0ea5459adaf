#include "eval/longmemeval_question.h"

#include <nlohmann/json.hpp>

namespace kasten::eval {

namespace {

using nlohmann::json;

// Field access that reports what is wrong instead of throwing.
class FieldReader {
  public:
    FieldReader(const json& object, std::string where) : object_(object), where_(std::move(where)) {}

    Status string(const char* key, std::string* out) const {
        const json* v = find(key);
        if (!v) return missing(key);
        if (!v->is_string()) return mistyped(key, "a string");
        *out = v->get<std::string>();
        return Status::ok();
    }

    Status string_list(const char* key, std::vector<std::string>* out) const {
        const json* v = find(key);
        if (!v) return missing(key);
        if (!v->is_array()) return mistyped(key, "an array of strings");
        out->clear();
        out->reserve(v->size());
        for (const auto& e : *v) {
            if (!e.is_string()) return mistyped(key, "an array of strings");
            out->push_back(e.get<std::string>());
        }
        return Status::ok();
    }

    const json* find(const char* key) const {
        auto it = object_.find(key);
        return it == object_.end() ? nullptr : &*it;
    }
    Status missing(const char* key) const { return Status::invalid_argument(where_ + ": missing field '" + key + "'"); }
    Status mistyped(const std::string& key, const char* expected) const {
        return Status::invalid_argument(where_ + ": field '" + key + "' is not " + expected);
    }

  private:
    const json& object_;
    std::string where_;
};

Status parse_session(const json& v, const std::string& where, std::vector<LongMemEvalTurn>* out) {
    if (!v.is_array()) return Status::invalid_argument(where + " is not an array of turns");
    out->reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        const json& t = v[i];
        std::string tw = where + "[" + std::to_string(i) + "]";
        if (!t.is_object()) return Status::invalid_argument(tw + " is not an object");
        FieldReader f(t, tw);
        LongMemEvalTurn turn;
        KASTEN_RETURN_IF_ERROR(f.string("role", &turn.role));
        KASTEN_RETURN_IF_ERROR(f.string("content", &turn.content));
        if (const json* h = f.find("has_answer"); h && !h->is_null()) {
            if (!h->is_boolean()) return f.mistyped("has_answer", "a boolean");
            turn.has_answer = h->get<bool>();
        }
        out->push_back(std::move(turn));
    }
    return Status::ok();
}

Status parse_question(const json& j, std::int64_t element_index, LongMemEvalQuestion* q) {
    std::string where = "question #" + std::to_string(element_index);
    if (!j.is_object()) return Status::invalid_argument(where + " is not an object");
    {
        auto it = j.find("question_id");
        if (it != j.end() && it->is_string()) where = "question '" + it->get<std::string>() + "'";
    }
    FieldReader f(j, where);
    KASTEN_RETURN_IF_ERROR(f.string("question_id", &q->question_id));
    KASTEN_RETURN_IF_ERROR(f.string("question_type", &q->question_type));
    KASTEN_RETURN_IF_ERROR(f.string("question", &q->question));
    KASTEN_RETURN_IF_ERROR(f.string("question_date", &q->question_date));
    const json* answer = f.find("answer");
    if (!answer) return f.missing("answer");
    if (answer->is_string()) {
        q->answer = answer->get<std::string>();
    } else if (answer->is_number()) {
        q->answer = answer->dump();
        q->answer_is_number = true;
    } else {
        return f.mistyped("answer", "a string or a number");
    }
    KASTEN_RETURN_IF_ERROR(f.string_list("haystack_session_ids", &q->haystack_session_ids));
    KASTEN_RETURN_IF_ERROR(f.string_list("haystack_dates", &q->haystack_dates));
    KASTEN_RETURN_IF_ERROR(f.string_list("answer_session_ids", &q->answer_session_ids));
    const json* sessions = f.find("haystack_sessions");
    if (!sessions) return f.missing("haystack_sessions");
    if (!sessions->is_array()) return f.mistyped("haystack_sessions", "an array of sessions");
    q->haystack_sessions.resize(sessions->size());
    for (size_t i = 0; i < sessions->size(); ++i) {
        KASTEN_RETURN_IF_ERROR(parse_session((*sessions)[i], where + ": haystack_sessions[" + std::to_string(i) + "]",
                                             &q->haystack_sessions[i]));
    }
    if (q->haystack_session_ids.size() != q->haystack_sessions.size() ||
        q->haystack_dates.size() != q->haystack_sessions.size()) {
        return Status::invalid_argument(where + ": haystack_session_ids (" +
                                        std::to_string(q->haystack_session_ids.size()) + "), haystack_dates (" +
                                        std::to_string(q->haystack_dates.size()) + ") and haystack_sessions (" +
                                        std::to_string(q->haystack_sessions.size()) + ") differ in length");
    }
    return Status::ok();
}

struct TypeName {
    const char* abbreviation;
    const char* name;
};
constexpr TypeName kTypes[] = {
    {"ssu", "single-session-user"}, {"ssa", "single-session-assistant"}, {"ssp", "single-session-preference"},
    {"ms", "multi-session"},        {"ku", "knowledge-update"},          {"tr", "temporal-reasoning"},
};

}  // namespace

bool LongMemEvalQuestion::is_abstention() const {
    return question_id.find("_abs") != std::string::npos;
}

bool LongMemEvalQuestion::has_user_side_evidence() const {
    for (const auto& session : haystack_sessions) {
        for (const auto& turn : session) {
            if (turn.role == "user" && turn.has_answer.value_or(false)) return true;
        }
    }
    return false;
}

Result<LongMemEvalQuestion> parse_longmemeval_question(std::string_view json_text, std::int64_t element_index) {
    json j;
    try {
        j = json::parse(json_text);
    } catch (const json::exception& e) {
        return Status::invalid_argument("question #" + std::to_string(element_index) + ": invalid JSON: " + e.what());
    }
    LongMemEvalQuestion q;
    KASTEN_RETURN_IF_ERROR(parse_question(j, element_index, &q));
    return q;
}

std::optional<std::string> canonical_question_type(std::string_view name) {
    std::string lower(name);
    for (auto& c : lower) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    for (const auto& t : kTypes) {
        if (lower == t.abbreviation || lower == t.name) return std::string(t.name);
    }
    return std::nullopt;
}

const std::vector<std::string>& longmemeval_question_types() {
    static const std::vector<std::string> kNames = [] {
        std::vector<std::string> v;
        for (const auto& t : kTypes) v.emplace_back(t.name);
        return v;
    }();
    return kNames;
}

}  // namespace kasten::eval
