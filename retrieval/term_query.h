#pragma once

#include <string>
#include <vector>

namespace kasten::retrieval {

// A parsed full-text query over index terms, as the in-memory lexical engine evaluates it
// (retrieval/memory_postings.h). The operators are Xapian's, with Xapian's matching and weights:
//   kTerm     documents holding `term`; weight: the term's BM25 part for its within-query frequency `wqf`
//   kOr       documents matching any child; weight: the sum of the matching children's
//   kAnd      documents matching every child; weight: the sum of the children's
//   kAndNot   documents matching children[0] and no other child; weight: children[0]'s (the others are unweighted)
//   kAndMaybe documents matching children[0]; weight: the sum of children[0]'s and every other matching child's
//   kXor      documents matching an odd number of children; weight: the sum of the matching children's
//   kNothing  no document
// Each kTerm leaf is weighted on its own: a term named twice adds its part twice, as in Xapian.
struct TermQuery {
    enum class Op { kTerm, kOr, kAnd, kAndNot, kAndMaybe, kXor, kNothing };
    Op op = Op::kNothing;
    std::string term;                 // kTerm only
    unsigned wqf = 1;                 // kTerm only
    std::vector<TermQuery> children;  // every operator but kTerm and kNothing: at least one

    static TermQuery leaf(std::string t, unsigned wqf = 1) {
        TermQuery q;
        q.op = Op::kTerm;
        q.term = std::move(t);
        q.wqf = wqf;
        return q;
    }
    static TermQuery of(Op op, std::vector<TermQuery> children) {
        TermQuery q;
        q.op = children.empty() ? Op::kNothing : op;
        q.children = std::move(children);
        return q;
    }
};

}  // namespace kasten::retrieval
