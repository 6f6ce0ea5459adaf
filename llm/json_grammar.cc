#include "llm/json_grammar.h"

#include <algorithm>
#include <cassert>

namespace kasten::llm {
namespace {

// Phases per node type. Frames in a *Value phase wait for the child frame above them.
enum ObjectPhase { kObjOpen, kObjFirst, kObjAfterComma, kObjKey, kObjColon, kObjValue, kObjNext };
enum ArrayPhase { kArrOpen, kArrFirst, kArrValue, kArrNext };
enum StringPhase { kStrOpen, kStrChars, kStrCont, kStrEsc, kStrHex };
enum NumberPhase { kNumStart, kNumMinus, kNumZero, kNumInt, kNumDot, kNumFrac, kNumExp, kNumExpSign, kNumExpDigits };

constexpr int kMaxIntDigits = 15;
constexpr int kMaxFracDigits = 15;
constexpr int kMaxExpDigits = 2;

// Constraints on the first continuation byte after some UTF-8 lead bytes (no overlongs, surrogates, > U+10FFFF).
enum Utf8Constraint : std::uint8_t { kAnyCont, kE0, kED, kF0, kF4 };

bool is_digit(std::uint8_t b) {
    return b >= '0' && b <= '9';
}
bool is_hex(std::uint8_t b) {
    return is_digit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
}

bool has_prefix(const std::string& s, const std::string& prefix) {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

void append_int(std::string& out, int v) {
    const auto u = static_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

}  // namespace

JsonGrammar::JsonGrammar(std::shared_ptr<const JsonSchema> schema) : schema_(std::move(schema)) {
    stack_.push_back(start_frame(JsonSchema::kRoot));
}

JsonGrammar::Frame JsonGrammar::start_frame(int node) const {
    Frame f;
    f.node = node;
    return f;
}

int JsonGrammar::object_limit(const JsonSchemaNode& node, int next) const {
    const int n = static_cast<int>(node.properties.size());
    for (int j = next; j < n; ++j) {
        if (node.properties[static_cast<std::size_t>(j)].required) return j;
    }
    return n - 1;
}

int JsonGrammar::object_rest(const JsonSchemaNode& node, int next) const {
    int bytes = 1;  // '}'
    for (std::size_t j = static_cast<std::size_t>(next); j < node.properties.size(); ++j) {
        const auto& p = node.properties[j];
        if (p.required) bytes += 1 + static_cast<int>(p.key_literal.size()) + 1 + schema_->node(p.schema).min_bytes;
    }
    return bytes;
}

JsonGrammar::Step JsonGrammar::step(Frame& f, std::uint8_t b, int& child) const {
    const JsonSchemaNode& node = schema_->node(f.node);
    switch (node.type) {
        case JsonType::kObject: {
            const int n = static_cast<int>(node.properties.size());
            const bool may_close = object_rest(node, f.count) == 1;  // no required property left
            switch (f.phase) {
                case kObjOpen:
                    if (b != '{') return Step::kRejected;
                    f.phase = kObjFirst;
                    return Step::kAccepted;
                case kObjFirst:
                case kObjNext:
                    if (b == '}' && may_close) return Step::kDone;
                    if (f.phase == kObjFirst && b == '"' && f.count < n) {
                        f.phase = kObjKey;
                        f.buf = "\"";
                        return Step::kAccepted;
                    }
                    if (f.phase == kObjNext && b == ',' && f.count < n) {
                        f.phase = kObjAfterComma;
                        return Step::kAccepted;
                    }
                    return Step::kRejected;
                case kObjAfterComma:
                    if (b != '"') return Step::kRejected;
                    f.phase = kObjKey;
                    f.buf = "\"";
                    return Step::kAccepted;
                case kObjKey: {
                    std::string key = f.buf;
                    key.push_back(static_cast<char>(b));
                    const int limit = object_limit(node, f.count);
                    int matched = -1;
                    bool alive = false;
                    for (int j = f.count; j <= limit; ++j) {
                        const std::string& lit = node.properties[static_cast<std::size_t>(j)].key_literal;
                        if (!has_prefix(lit, key)) continue;
                        alive = true;
                        if (lit.size() == key.size()) matched = j;
                    }
                    if (!alive) return Step::kRejected;
                    if (matched >= 0) {
                        f.phase = kObjColon;
                        f.index = matched;
                        f.buf.clear();
                    } else {
                        f.buf = std::move(key);
                    }
                    return Step::kAccepted;
                }
                case kObjColon:
                    if (b != ':') return Step::kRejected;
                    f.phase = kObjValue;
                    f.count = f.index + 1;
                    child = node.properties[static_cast<std::size_t>(f.index)].schema;
                    return Step::kOpen;
                default:
                    return Step::kRejected;
            }
        }
        case JsonType::kArray:
            switch (f.phase) {
                case kArrOpen:
                    if (b != '[') return Step::kRejected;
                    f.phase = kArrFirst;
                    return Step::kAccepted;
                case kArrFirst:
                    if (b == ']') return node.min_items == 0 ? Step::kDone : Step::kRejected;
                    if (node.max_items == 0) return Step::kRejected;
                    f.phase = kArrValue;
                    f.count++;
                    child = node.items;
                    return Step::kPush;
                case kArrNext:
                    if (b == ']') return f.count >= node.min_items ? Step::kDone : Step::kRejected;
                    if (b == ',' && (node.max_items < 0 || f.count < node.max_items)) {
                        f.phase = kArrValue;
                        f.count++;
                        child = node.items;
                        return Step::kOpen;
                    }
                    return Step::kRejected;
                default:
                    return Step::kRejected;
            }
        case JsonType::kString:
            switch (f.phase) {
                case kStrOpen:
                    if (b != '"') return Step::kRejected;
                    f.phase = kStrChars;
                    return Step::kAccepted;
                case kStrChars: {
                    if (b == '"') return f.count >= node.min_length ? Step::kDone : Step::kRejected;
                    if (node.max_length >= 0 && f.count >= node.max_length) return Step::kRejected;
                    int cont = 0;
                    std::uint8_t constraint = kAnyCont;
                    if (b < 0x20) return Step::kRejected;
                    if (b == '\\') {
                        f.phase = kStrEsc;
                    } else if (b < 0x80) {
                        // one-byte character
                    } else if (b >= 0xC2 && b <= 0xDF) {
                        cont = 1;
                    } else if (b >= 0xE0 && b <= 0xEF) {
                        cont = 2;
                        constraint = b == 0xE0 ? kE0 : b == 0xED ? kED : kAnyCont;
                    } else if (b >= 0xF0 && b <= 0xF4) {
                        cont = 3;
                        constraint = b == 0xF0 ? kF0 : b == 0xF4 ? kF4 : kAnyCont;
                    } else {
                        return Step::kRejected;
                    }
                    if (cont > 0) {
                        f.phase = kStrCont;
                        f.index = cont;
                        f.aux = constraint;
                    }
                    f.count++;
                    return Step::kAccepted;
                }
                case kStrCont: {
                    std::uint8_t lo = 0x80;
                    std::uint8_t hi = 0xBF;
                    if (f.aux == kE0) lo = 0xA0;
                    if (f.aux == kED) hi = 0x9F;
                    if (f.aux == kF0) lo = 0x90;
                    if (f.aux == kF4) hi = 0x8F;
                    if (b < lo || b > hi) return Step::kRejected;
                    f.aux = kAnyCont;
                    if (--f.index == 0) f.phase = kStrChars;
                    return Step::kAccepted;
                }
                case kStrEsc:
                    if (b == 'u') {
                        f.phase = kStrHex;
                        f.index = 0;
                        f.aux = 0;
                        return Step::kAccepted;
                    }
                    if (b == '"' || b == '\\' || b == '/' || b == 'b' || b == 'f' || b == 'n' || b == 'r' || b == 't') {
                        f.phase = kStrChars;
                        return Step::kAccepted;
                    }
                    return Step::kRejected;
                case kStrHex:
                    if (!is_hex(b)) return Step::kRejected;
                    // No surrogate code units (D800-DFFF): "\uD" must be followed by 0-7.
                    if (f.index == 1 && f.aux == 1 && !(b >= '0' && b <= '7')) return Step::kRejected;
                    f.aux = (f.index == 0 && (b == 'd' || b == 'D')) ? 1 : 0;
                    if (++f.index == 4) {
                        f.phase = kStrChars;
                        f.aux = 0;
                    }
                    return Step::kAccepted;
                default:
                    return Step::kRejected;
            }
        case JsonType::kNumber:
        case JsonType::kInteger: {
            const bool real = node.type == JsonType::kNumber;
            switch (f.phase) {
                case kNumStart:
                case kNumMinus:
                    if (b == '-' && f.phase == kNumStart) {
                        f.phase = kNumMinus;
                        return Step::kAccepted;
                    }
                    if (b == '0' && (real || f.phase == kNumStart)) {
                        f.phase = kNumZero;
                        return Step::kAccepted;
                    }
                    if (b >= '1' && b <= '9') {
                        f.phase = kNumInt;
                        f.index = 1;
                        return Step::kAccepted;
                    }
                    return Step::kRejected;
                case kNumZero:
                case kNumInt:
                case kNumFrac:
                    if (is_digit(b)) {
                        if (f.phase == kNumZero) return Step::kRejected;
                        if (f.index >= (f.phase == kNumInt ? kMaxIntDigits : kMaxFracDigits)) return Step::kRejected;
                        f.index++;
                        return Step::kAccepted;
                    }
                    if (!real) return Step::kRejected;
                    if (b == '.' && f.phase != kNumFrac) {
                        f.phase = kNumDot;
                        return Step::kAccepted;
                    }
                    if (b == 'e' || b == 'E') {
                        f.phase = kNumExp;
                        return Step::kAccepted;
                    }
                    return Step::kRejected;
                case kNumDot:
                    if (!is_digit(b)) return Step::kRejected;
                    f.phase = kNumFrac;
                    f.index = 1;
                    return Step::kAccepted;
                case kNumExp:
                case kNumExpSign:
                    if ((b == '+' || b == '-') && f.phase == kNumExp) {
                        f.phase = kNumExpSign;
                        return Step::kAccepted;
                    }
                    if (!is_digit(b)) return Step::kRejected;
                    f.phase = kNumExpDigits;
                    f.index = 1;
                    return Step::kAccepted;
                case kNumExpDigits:
                    if (!is_digit(b) || f.index >= kMaxExpDigits) return Step::kRejected;
                    f.index++;
                    return Step::kAccepted;
                default:
                    return Step::kRejected;
            }
        }
        default: {  // literals: enum, boolean, null
            std::string prefix = f.buf;
            prefix.push_back(static_cast<char>(b));
            auto it = std::lower_bound(node.literals.begin(), node.literals.end(), prefix);
            if (it == node.literals.end() || !has_prefix(*it, prefix)) return Step::kRejected;
            const bool exact = *it == prefix;
            const bool longer =
                (exact && std::next(it) != node.literals.end() && has_prefix(*std::next(it), prefix)) || (!exact);
            if (exact && !longer) return Step::kDone;
            f.buf = std::move(prefix);
            return Step::kAccepted;
        }
    }
}

bool JsonGrammar::can_end(const Frame& f) const {
    const JsonSchemaNode& node = schema_->node(f.node);
    switch (node.type) {
        case JsonType::kNumber:
        case JsonType::kInteger:
            return f.phase == kNumZero || f.phase == kNumInt || f.phase == kNumFrac || f.phase == kNumExpDigits;
        case JsonType::kEnum:
        case JsonType::kBoolean:
        case JsonType::kNull:
            return !f.buf.empty() && std::binary_search(node.literals.begin(), node.literals.end(), f.buf);
        default:
            return false;  // objects, arrays and strings end with their closing byte (Step::kDone)
    }
}

void JsonGrammar::child_done(Frame& parent) const {
    if (schema_->node(parent.node).type == JsonType::kObject) {
        assert(parent.phase == kObjValue);
        parent.phase = kObjNext;
    } else {
        assert(parent.phase == kArrValue);
        parent.phase = kArrNext;
    }
}

bool JsonGrammar::feed(std::uint8_t byte) {
    if (stack_.empty()) return false;
    std::size_t depth = stack_.size() - 1;
    Frame cur = stack_[depth];
    int child = -1;
    Step r = step(cur, byte, child);
    while (r == Step::kRejected) {
        // A value that may end here (a number, an enum literal) ends and the byte goes to its parent.
        if (depth == 0 || !can_end(cur)) return false;
        --depth;
        cur = stack_[depth];
        child_done(cur);
        r = step(cur, byte, child);
    }
    // Values opened by this byte (an array's first item, a property value) must accept it before anything changes.
    std::vector<Frame> opened;
    while (r == Step::kPush) {
        opened.push_back(std::move(cur));
        cur = start_frame(child);
        r = step(cur, byte, child);
        if (r == Step::kRejected) return false;
    }
    stack_.resize(depth);
    for (Frame& f : opened) stack_.push_back(std::move(f));
    if (r == Step::kAccepted) {
        stack_.push_back(std::move(cur));
    } else if (r == Step::kOpen) {
        stack_.push_back(std::move(cur));
        stack_.push_back(start_frame(child));
    } else if (!stack_.empty()) {  // kDone
        child_done(stack_.back());
    }
    return true;
}

bool JsonGrammar::feed(std::string_view bytes) {
    JsonGrammar copy = *this;
    for (char c : bytes) {
        if (!copy.feed(static_cast<std::uint8_t>(c))) return false;
    }
    *this = std::move(copy);
    return true;
}

bool JsonGrammar::accepts(std::uint8_t byte) const {
    JsonGrammar copy = *this;
    return copy.feed(byte);
}

std::bitset<256> JsonGrammar::next_bytes() const {
    std::bitset<256> out;
    for (int b = 0; b < 256; ++b) out[static_cast<std::size_t>(b)] = accepts(static_cast<std::uint8_t>(b));
    return out;
}

bool JsonGrammar::is_complete() const {
    return stack_.empty() || (stack_.size() == 1 && can_end(stack_.front()));
}

int JsonGrammar::frame_cost(const Frame& f) const {
    const JsonSchemaNode& node = schema_->node(f.node);
    switch (node.type) {
        case JsonType::kObject: {
            switch (f.phase) {
                case kObjOpen:
                    return node.min_bytes;
                case kObjFirst: {
                    const int rest = object_rest(node, f.count);
                    return rest == 1 ? 1 : rest - 1;  // the first property has no comma
                }
                case kObjAfterComma:
                case kObjKey: {
                    const std::size_t typed = f.phase == kObjKey ? f.buf.size() : 0;
                    int best = -1;
                    for (int j = f.count; j <= object_limit(node, f.count); ++j) {
                        const auto& p = node.properties[static_cast<std::size_t>(j)];
                        if (f.phase == kObjKey && !has_prefix(p.key_literal, f.buf)) continue;
                        const int c = static_cast<int>(p.key_literal.size() - typed) + 1 +
                                      schema_->node(p.schema).min_bytes + object_rest(node, j + 1);
                        if (best < 0 || c < best) best = c;
                    }
                    return best;
                }
                case kObjColon:
                    return 1 + schema_->node(node.properties[static_cast<std::size_t>(f.index)].schema).min_bytes +
                           object_rest(node, f.index + 1);
                default:  // kObjValue (after the child), kObjNext
                    return object_rest(node, f.count);
            }
        }
        case JsonType::kArray: {
            const int item = schema_->node(node.items).min_bytes;
            switch (f.phase) {
                case kArrOpen:
                    return node.min_bytes;
                case kArrFirst:
                    return node.min_items == 0 ? 1 : node.min_items * item + node.min_items;
                default:  // kArrValue (after the child), kArrNext
                    return std::max(node.min_items - f.count, 0) * (1 + item) + 1;
            }
        }
        case JsonType::kString: {
            const int rest = std::max(node.min_length - f.count, 0) + 1;
            switch (f.phase) {
                case kStrOpen:
                    return node.min_bytes;
                case kStrChars:
                    return rest;
                case kStrCont:
                    return f.index + rest;
                case kStrEsc:
                    return 1 + rest;
                default:  // kStrHex
                    return 4 - f.index + rest;
            }
        }
        case JsonType::kNumber:
        case JsonType::kInteger:
            return can_end(f) ? 0 : 1;
        default: {
            int best = -1;
            for (const std::string& lit : node.literals) {
                if (!has_prefix(lit, f.buf)) continue;
                const int c = static_cast<int>(lit.size() - f.buf.size());
                if (best < 0 || c < best) best = c;
            }
            return best;
        }
    }
}

int JsonGrammar::min_bytes_to_complete() const {
    if (is_complete()) return 0;
    int total = 0;
    for (const Frame& f : stack_) total += frame_cost(f);
    return total;
}

void JsonGrammar::append_state_key(std::string& out) const {
    append_int(out, static_cast<int>(stack_.size()));
    for (const Frame& f : stack_) {
        // Counts past a minimum with no maximum make no difference: states that differ only there share a key.
        const JsonSchemaNode& node = schema_->node(f.node);
        int count = f.count;
        if (node.type == JsonType::kString && node.max_length < 0) count = std::min(count, node.min_length);
        if (node.type == JsonType::kArray && node.max_items < 0) count = std::min(count, node.min_items);
        append_int(out, f.node);
        append_int(out, f.phase);
        append_int(out, count);
        append_int(out, f.index);
        out.push_back(static_cast<char>(f.aux));
        append_int(out, static_cast<int>(f.buf.size()));
        out += f.buf;
    }
}

}  // namespace kasten::llm
