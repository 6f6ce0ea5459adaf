#include "locomo_fixture.h"

namespace kasten::eval::testing {

nlohmann::json locomo_fixture() {
    using nlohmann::json;
    auto turn = [](const std::string& speaker, const std::string& id, const std::string& text) {
        return json{{"speaker", speaker}, {"dia_id", id}, {"text", text}};
    };
    json a_s1 =
        json::array({turn("Alice", "D1:1", "I adopted a puppy named Biscuit"),
                     turn("Bob", "D1:2", "What breed is Biscuit"), turn("Alice", "D1:3", "Biscuit is a corgi")});
    a_s1[2]["blip_caption"] = "a photo of a small dog";
    a_s1[2]["img_url"] = json::array({"https://example.invalid/dog.jpg"});
    json a_s2 =
        json::array({turn("Bob", "D2:1", "I started pottery classes"), turn("Alice", "D2:2", "Pottery sounds relaxing"),
                     turn("Bob", "D2:3", "My teacher's name was Rosa")});
    json conv_a = {{"speaker_a", "Alice"},
                   {"speaker_b", "Bob"},
                   {"session_1_date_time", "1:56 pm on 8 May, 2023"},
                   {"session_1", a_s1},
                   {"session_2_date_time", "10:04 am on 19 June, 2023"},
                   {"session_2", a_s2}};
    json qa_a = json::array(
        {{{"question", "What breed is Biscuit?"}, {"answer", "corgi"}, {"evidence", {"D1:3"}}, {"category", 4}},
         {{"question", "When did Bob start pottery classes?"},
          {"answer", 2023},
          {"evidence", {"D2:1"}},
          {"category", 2}},
         {{"question", "What are the names of Alice's puppy and Bob's teacher?"},
          {"answer", "Biscuit, Rosa"},
          {"evidence", {"D1:1", "D2:3"}},
          {"category", 1}},
         {{"question", "What is Alice's cat named?"},
          {"adversarial_answer", "Whiskers"},
          {"evidence", {"D1:1"}},
          {"category", 5}},
         {{"question", "Would Alice enjoy a dog park?"},
          {"answer", "Likely yes; she has a puppy"},
          {"evidence", json::array()},
          {"category", 3}}});
    json conv_b = {{"speaker_a", "Carol"},
                   {"speaker_b", "Dan"},
                   {"session_1_date_time", "12:00 am on 1 January, 2024"},
                   {"session_1",
                    json::array({turn("Carol", "D1:1", "Happy new year Dan"), turn("Dan", "D1:2", "Happy new year")})}};
    json qa_b = json::array({{{"question", "Who wished Dan a happy new year?"},
                              {"answer", "Carol"},
                              {"evidence", {"D1:1"}},
                              {"category", 4}}});
    return json::array(
        {{{"sample_id", "conv-a"}, {"conversation", conv_a}, {"qa", qa_a}, {"event_summary", json::object()}},
         {{"sample_id", "conv-b"}, {"conversation", conv_b}, {"qa", qa_b}}});
}

}  // namespace kasten::eval::testing
