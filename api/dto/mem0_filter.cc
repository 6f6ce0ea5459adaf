#include "api/dto/mem0_filter.h"

#include <algorithm>
#include <cctype>

#include "common/timestamp.h"

namespace kasten::api::mem0 {

using nlohmann::json;

struct Mem0Filter::Node {
    enum class Kind { kAnd, kOr, kNot, kCondition };
    Kind kind = Kind::kAnd;
    std::vector<std::shared_ptr<const Node>> children;
    // kCondition:
    std::string field;
    std::string op;  // eq | ne | in | nin | gt | gte | lt | lte | contains | icontains | exists
    json value;
    TimeMs time = 0;  // the value of a time comparison
};

namespace {

using Node = Mem0Filter::Node;
using NodePtr = std::shared_ptr<const Node>;

constexpr int kMaxDepth = 16;

Status bad(const std::string& path, const std::string& what) {
    return Status::invalid_argument("field '" + path + "': " + what);
}

enum class FieldType { kEntity, kTime, kCategories, kMetadata, kText, kId };

bool field_type(const std::string& field, FieldType* out) {
    if (field == "user_id" || field == "agent_id" || field == "app_id" || field == "run_id") {
        *out = FieldType::kEntity;
    } else if (field == "created_at" || field == "updated_at") {
        *out = FieldType::kTime;
    } else if (field == "categories") {
        *out = FieldType::kCategories;
    } else if (field == "metadata") {
        *out = FieldType::kMetadata;
    } else if (field == "memory" || field == "keywords") {
        *out = FieldType::kText;
    } else if (field == "memory_ids" || field == "id") {
        *out = FieldType::kId;
    } else {
        return false;
    }
    return true;
}

bool op_allowed(FieldType type, const std::string& op) {
    if (op == "exists") return true;
    switch (type) {
        case FieldType::kEntity:
            return op == "eq" || op == "ne" || op == "in" || op == "nin";
        case FieldType::kTime:
            return op == "eq" || op == "gt" || op == "gte" || op == "lt" || op == "lte";
        case FieldType::kCategories:
            return op == "eq" || op == "contains" || op == "in";
        case FieldType::kMetadata:
            return op == "eq";
        case FieldType::kText:
            return op == "contains" || op == "icontains";
        case FieldType::kId:
            return op == "eq" || op == "in";
    }
    return false;
}

Result<TimeMs> time_value(const json& v, const std::string& path) {
    if (v.is_number_integer()) return v.get<TimeMs>();
    if (v.is_string()) {
        Result<TimeMs> t = parse_timestamp(v.get<std::string>());
        if (!t.is_ok()) return bad(path, t.status().message());
        return t;
    }
    return bad(path, "expected an ISO-8601 time or an integer of ms since the epoch");
}

Result<NodePtr> condition(const std::string& field, const std::string& op, const json& value, const std::string& path) {
    FieldType type;
    if (!field_type(field, &type)) {
        return bad(path,
                   "unknown filter field (user_id, agent_id, app_id, run_id, created_at, updated_at, "
                   "categories, metadata, memory, keywords, memory_ids)");
    }
    if (!op_allowed(type, op)) return bad(path, "operator '" + op + "' does not apply to " + field);
    auto node = std::make_shared<Node>();
    node->kind = Node::Kind::kCondition;
    node->field = field;
    node->op = op;
    node->value = value;
    if (op == "exists") return NodePtr(node);
    if (op == "in" || op == "nin") {
        if (!value.is_array()) return bad(path, "expected an array");
        for (const auto& v : value) {
            if (!v.is_string()) return bad(path, "expected an array of strings");
        }
    } else if (type == FieldType::kTime) {
        KASTEN_ASSIGN_OR_RETURN(node->time, time_value(value, path));
    } else if (type == FieldType::kMetadata) {
        if (!value.is_object()) return bad(path, "expected an object of metadata keys and values");
    } else if (!value.is_string()) {
        return bad(path, "expected a string");
    }
    return NodePtr(node);
}

Result<NodePtr> parse_node(const json& j, const std::string& path, int depth);

Result<NodePtr> parse_logic(const std::string& key, const json& list, const std::string& path, int depth) {
    if (!list.is_array()) return bad(path, "expected an array of filters");
    auto node = std::make_shared<Node>();
    node->kind = key == "AND" ? Node::Kind::kAnd : key == "OR" ? Node::Kind::kOr : Node::Kind::kNot;
    for (size_t i = 0; i < list.size(); ++i) {
        KASTEN_ASSIGN_OR_RETURN(NodePtr child, parse_node(list[i], path + "[" + std::to_string(i) + "]", depth + 1));
        node->children.push_back(std::move(child));
    }
    return NodePtr(node);
}

Result<NodePtr> parse_field(const std::string& field, const json& value, const std::string& path) {
    if (value.is_string() && value.get<std::string>() == "*") return condition(field, "exists", value, path);
    FieldType type;
    const bool known = field_type(field, &type);
    // {"field": {"op": v, ...}}; metadata's object is the equality itself unless every key is an operator.
    if (value.is_object() && !(known && type == FieldType::kMetadata)) {
        auto node = std::make_shared<Node>();
        node->kind = Node::Kind::kAnd;
        for (auto it = value.begin(); it != value.end(); ++it) {
            KASTEN_ASSIGN_OR_RETURN(NodePtr c, condition(field, it.key(), it.value(), path + "." + it.key()));
            node->children.push_back(std::move(c));
        }
        if (node->children.empty()) return bad(path, "expected at least one operator");
        return NodePtr(node);
    }
    return condition(field, "eq", value, path);
}

Result<NodePtr> parse_node(const json& j, const std::string& path, int depth) {
    if (depth > kMaxDepth) return bad(path, "filters nest deeper than " + std::to_string(kMaxDepth) + " levels");
    if (!j.is_object()) return bad(path, "expected a filter object");
    auto node = std::make_shared<Node>();
    node->kind = Node::Kind::kAnd;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string child_path = path + "." + it.key();
        if (it.key() == "AND" || it.key() == "OR" || it.key() == "NOT") {
            KASTEN_ASSIGN_OR_RETURN(NodePtr c, parse_logic(it.key(), it.value(), child_path, depth));
            node->children.push_back(std::move(c));
        } else {
            KASTEN_ASSIGN_OR_RETURN(NodePtr c, parse_field(it.key(), it.value(), child_path));
            node->children.push_back(std::move(c));
        }
    }
    if (node->children.size() == 1) return node->children.front();
    return NodePtr(node);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool contains_string(const json& list, const std::string& s) {
    return std::any_of(list.begin(), list.end(), [&](const json& v) { return v.get<std::string>() == s; });
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

bool eval_condition(const Node& n, const FilterSubject& s) {
    FieldType type;
    field_type(n.field, &type);
    switch (type) {
        case FieldType::kEntity: {
            const std::optional<std::string>& v = *entity_slot(s.scope.entities, n.field);
            if (n.op == "exists") return v.has_value();
            if (n.op == "eq") return v && *v == n.value.get<std::string>();
            if (n.op == "ne") return !v || *v != n.value.get<std::string>();
            if (n.op == "in") return v && contains_string(n.value, *v);
            return !v || !contains_string(n.value, *v);  // nin
        }
        case FieldType::kTime: {
            const TimeMs t = n.field == "created_at" ? s.created_at : s.updated_at;
            if (n.op == "exists") return true;
            if (n.op == "eq") return t == n.time;
            if (n.op == "gt") return t > n.time;
            if (n.op == "gte") return t >= n.time;
            if (n.op == "lt") return t < n.time;
            return t <= n.time;  // lte
        }
        case FieldType::kCategories: {
            if (n.op == "exists") return !s.scope.categories.empty();
            if (n.op == "in") {
                return std::any_of(s.scope.categories.begin(), s.scope.categories.end(),
                                   [&](const std::string& c) { return contains_string(n.value, c); });
            }
            return has(s.scope.categories, n.value.get<std::string>());  // eq, contains
        }
        case FieldType::kMetadata: {
            if (n.op == "exists") return s.scope.metadata.is_object() && !s.scope.metadata.empty();
            if (!s.scope.metadata.is_object()) return false;
            for (auto it = n.value.begin(); it != n.value.end(); ++it) {
                auto found = s.scope.metadata.find(it.key());
                if (found == s.scope.metadata.end() || *found != it.value()) return false;
            }
            return true;
        }
        case FieldType::kText: {
            if (n.op == "exists") return true;
            if (n.op == "contains") return s.memory.find(n.value.get<std::string>()) != std::string::npos;
            return lower(s.memory).find(lower(n.value.get<std::string>())) != std::string::npos;  // icontains
        }
        case FieldType::kId: {
            if (n.op == "exists") return true;
            if (n.op == "in") return contains_string(n.value, s.id);
            return s.id == n.value.get<std::string>();
        }
    }
    return false;
}

bool eval(const Node& n, const FilterSubject& s) {
    switch (n.kind) {
        case Node::Kind::kAnd:
            return std::all_of(n.children.begin(), n.children.end(), [&](const NodePtr& c) { return eval(*c, s); });
        case Node::Kind::kOr:
            return std::any_of(n.children.begin(), n.children.end(), [&](const NodePtr& c) { return eval(*c, s); });
        case Node::Kind::kNot:
            return std::none_of(n.children.begin(), n.children.end(), [&](const NodePtr& c) { return eval(*c, s); });
        case Node::Kind::kCondition:
            return eval_condition(n, s);
    }
    return false;
}

void collect_entities(const Node& n, Entities* out) {
    if (n.kind == Node::Kind::kAnd) {
        for (const auto& c : n.children) collect_entities(*c, out);
        return;
    }
    if (n.kind != Node::Kind::kCondition || n.op != "eq") return;
    std::optional<std::string>* slot = entity_slot(*out, n.field);
    if (slot != nullptr && !*slot) *slot = n.value.get<std::string>();
}

}  // namespace

Result<Mem0Filter> Mem0Filter::parse(const json& filters) {
    Mem0Filter f;
    if (filters.is_null() || (filters.is_object() && filters.empty())) return f;
    KASTEN_ASSIGN_OR_RETURN(f.root_, parse_node(filters, "filters", 0));
    return f;
}

Entities Mem0Filter::required_entities() const {
    Entities e;
    if (root_) collect_entities(*root_, &e);
    return e;
}

bool Mem0Filter::matches(const FilterSubject& subject) const {
    return root_ == nullptr || eval(*root_, subject);
}

void Mem0Filter::require(Mem0Filter other) {
    if (other.root_ == nullptr) return;
    if (root_ == nullptr) {
        root_ = std::move(other.root_);
        return;
    }
    auto node = std::make_shared<Node>();
    node->kind = Node::Kind::kAnd;
    node->children = {root_, other.root_};
    root_ = std::move(node);
}

}  // namespace kasten::api::mem0
