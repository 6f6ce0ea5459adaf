#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kasten::memory {

// Query decomposition without a model, for questions that need more than one piece of evidence ("Which did I set
// up first, the thermostat or the mesh network?", "How many days passed between the day I fixed my bike and the
// day I upgraded the pedals?", "the tomatoes and cucumbers"): the query is cut at coordinating and subordinating
// connectives (and, or, between, both, when, while, before, after, than, compared, versus, vs, instead) and the
// parts that still hold an index term (LexicalIndex::analyze) are returned, in text order. Fewer than two such
// parts: empty (nothing to decompose). Pure and thread-safe.
std::vector<std::string> decompose_query(std::string_view query);

}  // namespace kasten::memory
