#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace kasten::eval {

// ConvoMem's data model (SalesforceAIResearch/ConvoMem EvidenceSchema.scala / TestCase.scala, REFERENCE.md §1.3).
struct ConvoMemMessage {
    std::string speaker;  // "User" | "Assistant"
    std::string text;
};

struct ConvoMemConversation {
    std::string id;
    bool contains_evidence = false;
    std::vector<ConvoMemMessage> messages;
};

struct ConvoMemItem {
    std::string question;
    std::string answer;  // a rubric for preferences and implicit connections
    std::string category;
    std::vector<ConvoMemMessage> evidence;  // message_evidences
    // Where each evidence message sits in the test case's conversations: (conversation, message), or std::nullopt
    // when its text is found nowhere (see locate_convomem_evidence).
    std::vector<std::optional<std::pair<int, int>>> evidence_positions;
};

// One test case: questions asked against a context of conversations.
struct ConvoMemTestCase {
    std::string source;    // file path (and "#<n>" when a file holds several cases)
    std::string label;     // the file's directory name (ConvoMem's category folder), e.g. "category_2_temporal"
    int context_size = 0;  // contextSize; for the evidence_items shape the item's own conversation count
    std::vector<ConvoMemConversation> conversations;
    std::vector<ConvoMemItem> items;
};

// Reads a ConvoMem file in either shape:
//   TestCase  {"evidenceItems": [...], "conversations": [...], "contextSize": N} (or a list of them): the items
//             share the test case's conversations;
//   evidence  {"evidence_items": [...]} (or a bare list of items): each item becomes its own test case whose context
//             is the item's own `conversations`.
// Evidence is located by text (locate_convomem_evidence). kInvalidArgument naming the file and field for a missing or
// mistyped field; kNotFound when the file cannot be opened. Never throws.
Result<std::vector<ConvoMemTestCase>> parse_convomem_file(const std::string& path);
Result<std::vector<ConvoMemTestCase>> parse_convomem_json(const std::string& json_text, const std::string& source,
                                                          const std::string& label);

// Reads every *.json file under `path` (recursively, sorted by path) when it is a directory, else the file itself.
Result<std::vector<ConvoMemTestCase>> load_convomem(const std::string& path);

// Finds each evidence message of each item in the test case's conversations by its text: first an exact match of
// the text (speaker preferred when several messages match), then a match after collapsing whitespace and trimming,
// then a message containing the (trimmed, at least 20-byte) evidence text. Fills evidence_positions.
void locate_convomem_evidence(ConvoMemTestCase* test_case);

}  // namespace kasten::eval
