#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/string_hash.h"
#include "retrieval/term_query.h"
#include "retrieval/unit.h"

namespace kasten::retrieval {

// The documents of one unit type held in memory with their postings and BM25 statistics: what a Xapian database of
// one part is to the on-disk lexical index, for the in-memory one (evaluation runs, tests, `in_memory` stores).
//
// Documents are keyed by their unit (cube, type, id) and numbered from 1 in order of insertion; a replaced document
// keeps its number and a removed one's number is never given again, as in Xapian, so that equal scores rank in the
// same order. Statistics (document count, total length, per-term document frequency) count the live documents; a
// document's length is the sum of its terms' within-document frequencies.
//
// search() ranks exactly as Xapian::BM25Weight(k1, 0, 1, b, 0.5) ranks the same documents for the same query (ties
// by document number ascending); a score may differ from Xapian's in its last bits (Xapian adds the parts of an OR in
// the order of its own query tree, this class in the query's order).
//
// Not thread-safe: the lexical index serialises calls.
class MemoryPostings {
  public:
    using Terms = std::vector<std::pair<std::string, std::uint32_t>>;  // (term, wdf >= 1), ascending, distinct

    // Inserts or replaces the document of `attrs` (cube, type, id) with `terms`. Returns whether it replaced one.
    bool upsert(const UnitAttrs& attrs, const Terms& terms);
    // The terms of the document of (cube, type, id), ascending; empty when there is none.
    Terms terms_of(std::string_view cube_id, UnitType type, std::string_view id) const;
    bool contains(std::string_view cube_id, UnitType type, std::string_view id) const;
    // Removes the document of (cube, type, id); returns whether there was one.
    bool remove(std::string_view cube_id, UnitType type, std::string_view id);
    // Removes the documents of one session of a cube, or of a whole cube; returns how many.
    std::size_t remove_session(std::string_view cube_id, std::string_view session_id);
    std::size_t remove_cube(std::string_view cube_id);

    std::uint64_t documents() const { return live_; }
    std::uint64_t total_length() const { return total_length_; }
    // Live documents holding `term`.
    std::uint64_t term_frequency(std::string_view term) const;
    // Live documents of the cube, and those of them holding `term`.
    std::uint64_t cube_documents(std::string_view cube_id) const;
    std::uint64_t cube_term_frequency(std::string_view cube_id, std::string_view term) const;
    // Ids of the cube's documents, ascending.
    std::vector<std::string> ids(std::string_view cube_id) const;

    struct Bm25 {
        double k1 = 1.0;
        double b = 0.5;
    };
    // The best `k` documents of `matched` for `query` under `filter` (its cube, role, session and time; the type is
    // the caller's choice of `matched`), weighted with the statistics of `statistics` summed (which must include
    // `matched`): score descending, then document number ascending.
    static std::vector<ScoredId> search(const std::vector<const MemoryPostings*>& statistics,
                                        const MemoryPostings& matched, const TermQuery& query,
                                        const SearchFilter& filter, int k, const Bm25& bm25);

  private:
    struct Posting {
        std::uint32_t doc;  // document number
        std::uint32_t wdf;
    };
    struct Document {
        std::string id;
        UnitType type = UnitType::kTurn;
        std::uint32_t cube = 0;
        std::uint32_t session = 0;  // 0: none
        std::uint32_t role = 0;     // 0: none
        TimeMs time = 0;            // (its length is lengths_[number - 1])
        bool live = false;
        // Its terms: doc_terms_[terms_at, terms_at + terms_count), (term number, wdf) ascending by term text.
        std::size_t terms_at = 0;
        std::uint32_t terms_count = 0;
    };
    struct Names {
        // Names to numbers from 1 (0 is reserved for "none").
        std::uint32_t intern(std::string_view name);
        std::uint32_t find(std::string_view name) const;  // 0 when unknown
        const std::string& name(std::uint32_t number) const { return names[number - 1]; }
        std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> numbers;
        std::vector<std::string> names;  // number n at n - 1
    };
    // One slot of the term dictionary: the term's number + 1 (0: empty), its length and first bytes, so that a
    // lookup of a term of up to kInlineBytes bytes never reads the term's name.
    struct TermSlot {
        static constexpr std::size_t kInlineBytes = 11;
        std::uint32_t number_plus_one = 0;
        std::uint8_t length = 0;  // min(term length, 255)
        char prefix[kInlineBytes] = {};
    };
    static_assert(sizeof(TermSlot) == 16);
    const std::pair<std::uint32_t, std::uint32_t>* terms_begin(const Document& d) const {
        return doc_terms_.data() + d.terms_at;
    }
    // Drops the terms of replaced and removed documents from doc_terms_ once they outnumber the live ones.
    void compact_terms();
    static std::string unit_key(std::string_view cube_id, UnitType type, std::string_view id);
    std::uint32_t term_number(std::string_view term);
    std::uint32_t find_term(std::string_view term) const;  // kNoTerm when unknown
    // Removes a live document's postings and statistics; it stays as a dead number.
    void unlink(std::uint32_t doc);
    void link(std::uint32_t doc);

    static constexpr std::uint32_t kNoTerm = 0xffffffffu;
    // The term dictionary: open addressing (linear probing) over TermSlots, at most half full.
    std::size_t term_slot(std::string_view term, std::uint64_t hash) const;
    std::vector<TermSlot> term_slots_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> doc_terms_;  // every document's terms, see Document
    std::size_t dead_terms_ = 0;                                      // entries of doc_terms_ no document uses
    std::vector<std::string> term_names_;                             // by term number
    std::vector<std::vector<Posting>> postings_;                      // by term number, ascending by document number
    std::vector<Document> docs_;                                      // document number n at n - 1
    // Document n's length at n - 1, apart from docs_ so that scoring a posting list reads 4 bytes per posting, not a
    // cache line (Xapian's document lengths are 32-bit too).
    std::vector<std::uint32_t> lengths_;
    std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> by_key_;
    std::unordered_map<std::uint32_t, std::uint64_t> cube_live_;
    Names cubes_, sessions_, roles_;
    std::uint64_t live_ = 0;
    std::uint64_t total_length_ = 0;
};

}  // namespace kasten::retrieval
