#include "memory/embedding_background.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kasten::memory {

const std::vector<const char*>& EmbeddingBackground::references() {
    // Everyday sentences on distinct topics, none about the others: what "text about something else" looks like.
    static const std::vector<const char*> kReferences = {
        "The train to the coast leaves the station at seven in the morning.",
        "She painted the kitchen walls a pale shade of yellow last spring.",
        "Our team lost the football match after a penalty in the final minute.",
        "The recipe needs two cups of flour, three eggs and a pinch of salt.",
        "He upgraded the laptop's memory because the programs kept freezing.",
        "The doctor said the sprained ankle should heal within a few weeks.",
        "Interest rates rose again, so the bank changed its mortgage offers.",
        "We watched a documentary about whales migrating across the ocean.",
        "The garden needs watering every evening while the weather stays dry.",
        "My cousin is getting married in a small church in the mountains.",
        "The museum opened a new exhibition of medieval maps and manuscripts.",
        "I have to renew my passport before the trip abroad next year.",
        "The cat sleeps on the windowsill whenever the sun comes out.",
        "The orchestra rehearsed the symphony for the concert on Friday night.",
        "A storm knocked down power lines across the northern part of town.",
        "She is learning to play chess with an online tutor on weekends.",
        "The landlord promised to repair the leaking bathroom faucet soon.",
        "Farmers harvested the wheat early because of the coming rain.",
        "The new phone has a better camera but a shorter battery life.",
        "Students must hand in their history essays before the end of term.",
        "We booked a table at the Italian restaurant for his birthday dinner.",
        "The marathon route passes the river, the park and the old bridge.",
        "He adopted a puppy from the shelter and named it after a poet.",
        "The software update fixed the bug that deleted saved documents.",
        // Technical, scientific, business and literary registers: chat histories hold those too, and an embedder
        // rates a technical query closer to any technical text than to everyday talk.
        "The function returns an error when the input file cannot be opened.",
        "Compile the project with optimisations enabled and run the unit tests.",
        "The database query was slow until we added an index on the user column.",
        "Photosynthesis converts sunlight, water and carbon dioxide into glucose.",
        "The planet's orbit is slightly elliptical, so its distance from the star varies.",
        "The chemical reaction releases heat and produces a white precipitate.",
        "The company's quarterly revenue grew while operating costs stayed flat.",
        "Customers can return the product within thirty days for a full refund.",
        "The marketing plan targets small businesses through social media ads.",
        "The empire collapsed after decades of civil war and economic decline.",
        "The treaty was signed by both countries at the end of the war.",
        "Regular exercise and a balanced diet lower the risk of heart disease.",
        "Take one tablet twice a day with food until the course is finished.",
        "The novel follows a young detective who returns to her home town.",
        "The character's motivation is revealed in the final chapter of the story.",
        "Write a short essay explaining the causes and effects of inflation.",
    };
    return kReferences;
}

double EmbeddingBackground::of(std::span<const float> query_vector) const {
    std::call_once(once_, [this] {
        for (const char* text : references()) vectors_.push_back(embedder_->embed(text));  // embed() normalises
    });
    double norm = 0;
    for (float x : query_vector) norm += static_cast<double>(x) * x;
    if (norm <= 0) return 0;
    norm = std::sqrt(norm);
    double best = -std::numeric_limits<double>::infinity();
    for (const auto& v : vectors_) {
        if (v.size() != query_vector.size()) continue;
        double dot = 0;
        for (size_t i = 0; i < v.size(); ++i) dot += static_cast<double>(v[i]) * query_vector[i];
        best = std::max(best, dot / norm);
    }
    return std::isfinite(best) ? best : 0;
}

}  // namespace kasten::memory
