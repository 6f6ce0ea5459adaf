#include "convomem_fixture.h"

namespace kasten::eval::testing {

namespace {

using nlohmann::json;

json msg(const std::string& speaker, const std::string& text) {
    return {{"speaker", speaker}, {"text", text}};
}

json item(const std::string& category, const std::string& question, const std::string& answer, json evidence) {
    return {{"question", question},
            {"answer", answer},
            {"message_evidences", evidence},
            {"conversations", json::array()},
            {"category", category},
            {"scenario_description", "test"},
            {"personId", "p1"},
            {"use_case_model_name", "x"},
            {"core_model_name", "x"}};
}

}  // namespace

json convomem_test_case_fixture() {
    json convs = json::array(
        {{{"id", "s1"},
          {"containsEvidence", true},
          {"model_name", "x"},
          {"messages",
           {msg("User", "I just moved to Denver last month"), msg("Assistant", "How do you like Denver so far?"),
            msg("User", "My favorite coffee shop is Blue Bottle on Main Street")}}},
         {{"id", "s2"},
          {"containsEvidence", true},
          {"model_name", "x"},
          {"messages",
           {msg("User", "I work as a nurse at the city hospital"), msg("Assistant", "That sounds demanding")}}},
         {{"id", "s3"},
          {"containsEvidence", true},
          {"model_name", "x"},
          {"messages", {msg("User", "My sister  Ana lives in Lisbon"), msg("User", "That sounds demanding")}}}});
    json items = json::array(
        {item("locomo_category_4", "Where did I move last month?", "Denver",
              json::array({msg("User", "I just moved to Denver last month")})),
         item("locomo_category_1", "What is my job and where does my sister live?", "Nurse, Lisbon",
              json::array({msg("User", "I work as a nurse at the city hospital"),
                           msg("User", "My sister Ana lives in Lisbon")})),
         item("locomo_category_5", "What is my dog's name?", "Rex", json::array({msg("User", "My dog is called Rex")})),
         item("locomo_category_3", "Would I enjoy hiking?", "Probably yes", json::array()),
         item(
             "locomo_category_2", "When did I say that sounds demanding?", "Last week",
             json::array({msg("User", "favorite coffee shop is Blue Bottle"), msg("User", "That sounds demanding")}))});
    return {{"evidenceItems", items}, {"conversations", convs}, {"contextSize", 3}};
}

json convomem_evidence_fixture() {
    json a = item("user_facts", "What city do I live in?", "Denver", json::array({msg("User", "I live in Denver")}));
    a["conversations"] = json::array({{{"id", "e1"},
                                       {"containsEvidence", true},
                                       {"messages", {msg("User", "Hello"), msg("User", "I live in Denver")}}}});
    json b = item("preferences", "Suggest a drink for me", "Should mention tea",
                  json::array({msg("User", "I only drink tea")}));
    b["conversations"] =
        json::array({{{"id", "e2"}, {"containsEvidence", true}, {"messages", {msg("User", "I only drink tea")}}},
                     {{"id", "e3"}, {"containsEvidence", false}, {"messages", {msg("Assistant", "Noted")}}}});
    return {{"evidence_items", json::array({a, b})}};
}

}  // namespace kasten::eval::testing
