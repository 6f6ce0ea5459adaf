#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "llm/json_schema.h"

namespace kasten::llm {

// Incremental byte-level acceptor for compact JSON text valid against a JsonSchema: a pushdown automaton fed
// one byte at a time that knows which bytes may come next, when the text is a complete valid value and how
// many bytes, at least, complete it. The language: no insignificant whitespace; properties in schema order
// (optional ones may be skipped); strings of well-formed UTF-8 with the standard escapes (\u escapes of
// surrogates are refused); numbers '-'? int ('.' digits)? ([eE] [+-]? digits)? with at most 15 integer
// digits, 15 fraction digits and 2 exponent digits (integers: no fraction or exponent, no "-0"). Every
// complete text parses as JSON and validates against the schema.
//
// A value type: cheap to copy (a short stack of frames), copies are independent. Not thread-safe; distinct
// copies may be used from distinct threads.
class JsonGrammar {
  public:
    explicit JsonGrammar(std::shared_ptr<const JsonSchema> schema);

    // Consumes `byte` when it may come next and returns true; otherwise returns false and changes nothing.
    bool feed(std::uint8_t byte);
    // Consumes all of `bytes` or, returning false, none of them.
    bool feed(std::string_view bytes);
    // Whether `byte` may come next.
    bool accepts(std::uint8_t byte) const;
    // Every byte that may come next.
    std::bitset<256> next_bytes() const;
    // The text fed so far is a complete value (a number may still go on: "12" then "3").
    bool is_complete() const;
    // Nothing more may be fed (the value is closed).
    bool is_closed() const { return stack_.empty(); }
    // The fewest bytes that make the text fed so far a complete value (0 when it is complete).
    int min_bytes_to_complete() const;
    // Appends an encoding of the state: two grammars over the same schema with equal keys accept the same
    // continuations. For caching per-state work.
    void append_state_key(std::string& out) const;

  private:
    // One open value. Which fields matter depends on the node type and phase (see json_grammar.cc).
    struct Frame {
        int node = 0;
        int phase = 0;
        int count = 0;         // object: next property that may come; array: items started; string: characters
        int index = 0;         // object: property being written; string: continuation bytes left / hex digits
                               // read; number: digits in the current part
        std::uint8_t aux = 0;  // string: constraint on the next continuation byte or hex digit
        std::string buf;       // object: key bytes so far; literal (enum, boolean, null): bytes so far
    };
    // What a frame did with a byte: refused it (unchanged); consumed it; consumed it and closed; consumed it and
    // opened the value `child` above itself; or opened `child`, which must consume the byte.
    enum class Step { kRejected, kAccepted, kDone, kOpen, kPush };

    Frame start_frame(int node) const;
    Step step(Frame& frame, std::uint8_t byte, int& child) const;
    bool can_end(const Frame& frame) const;
    void child_done(Frame& parent) const;
    // Fewest bytes that close `frame`; for a frame below the top, after its child is done.
    int frame_cost(const Frame& frame) const;
    int object_rest(const JsonSchemaNode& node, int next) const;
    int object_limit(const JsonSchemaNode& node, int next) const;

    std::shared_ptr<const JsonSchema> schema_;
    std::vector<Frame> stack_;
};

}  // namespace kasten::llm
