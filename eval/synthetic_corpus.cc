#include "eval/synthetic_corpus.h"

#include <algorithm>
#include <cmath>

namespace kasten::eval {
namespace {

// Common English words, roughly in frequency order (function words first, then content words).
const std::vector<std::string>& general_words() {
    static const std::vector<std::string> kWords = {
        "the",        "to",         "and",          "a",         "of",          "i",         "you",       "it",
        "in",         "is",         "that",         "for",       "my",          "this",      "with",      "on",
        "be",         "can",        "have",         "me",        "are",         "what",      "was",       "so",
        "but",        "do",         "your",         "if",        "about",       "like",      "just",      "at",
        "some",       "would",      "or",           "how",       "an",          "we",        "they",      "not",
        "from",       "also",       "more",         "there",     "get",         "any",       "been",      "want",
        "think",      "good",       "time",         "know",      "really",      "great",     "help",      "which",
        "when",       "make",       "one",          "could",     "new",         "here",      "use",       "well",
        "other",      "work",       "need",         "day",       "will",        "recommend", "try",       "sure",
        "best",       "should",     "these",        "first",     "last",        "week",      "year",      "going",
        "trying",     "looking",    "find",         "ideas",     "tips",        "way",       "people",    "thing",
        "things",     "something",  "help",         "question",  "information", "different", "important", "many",
        "much",       "still",      "back",         "over",      "after",       "before",    "again",     "around",
        "since",      "ago",        "recently",     "started",   "finished",    "bought",    "visited",   "planning",
        "remember",   "tell",       "suggest",      "options",   "plan",        "family",    "friend",    "friends",
        "weekend",    "morning",    "evening",      "month",     "today",       "yesterday", "tomorrow",  "home",
        "house",      "city",       "place",        "trip",      "money",       "price",     "cost",      "budget",
        "store",      "online",     "book",         "books",     "music",       "movie",     "show",      "game",
        "team",       "class",      "course",       "project",   "job",         "company",   "office",    "meeting",
        "email",      "phone",      "car",          "bike",      "train",       "flight",    "hotel",     "food",
        "dinner",     "lunch",      "breakfast",    "coffee",    "tea",         "recipe",    "cook",      "kitchen",
        "garden",     "plant",      "plants",       "dog",       "cat",         "pet",       "health",    "doctor",
        "exercise",   "running",    "yoga",         "gym",       "sleep",       "water",     "weather",   "rain",
        "summer",     "winter",     "spring",       "fall",      "holiday",     "birthday",  "party",     "gift",
        "wedding",    "school",     "student",      "teacher",   "learn",       "learning",  "language",  "practice",
        "skills",     "experience", "career",       "interview", "resume",      "salary",    "market",    "data",
        "software",   "computer",   "laptop",       "app",       "website",     "photo",     "camera",    "video",
        "art",        "painting",   "drawing",      "guitar",    "piano",       "song",      "concert",   "festival",
        "museum",     "beach",      "mountain",     "hiking",    "camping",     "park",      "river",     "lake",
        "road",       "street",     "neighborhood", "apartment", "rent",        "move",      "moved",     "living",
        "local",      "community",  "volunteer",    "event",     "events",      "schedule",  "calendar",  "list",
        "notes",      "goal",       "goals",        "habit",     "routine",     "budgeting", "saving",    "invest",
        "insurance",  "bank",       "account",      "card",      "order",       "delivery",  "package",   "size",
        "color",      "style",      "brand",        "quality",   "review",      "reviews",   "rating",    "compare",
        "difference", "benefits",   "problem",      "issue",     "solution",    "answer",    "example",   "detail",
        "details",    "step",       "steps",        "guide",     "idea",        "advice",    "option",    "choice",
        "decision",   "reason",     "change",       "improve",   "better",      "easy",      "hard",      "quick",
        "long",       "short",      "small",        "large",     "big",         "little",    "old",       "young",
        "early",      "late",       "favorite",     "happy",     "excited",     "worried",   "busy",      "free",
        "available",  "ready",      "interested",   "helpful",   "useful",      "popular",   "healthy",   "fresh"};
    return kWords;
}

// Topic vocabularies: a session picks one, and its words recur through the session (what retrieval keys on).
const std::vector<std::vector<std::string>>& topics() {
    static const std::vector<std::vector<std::string>> kTopics = {
        {"sourdough", "starter", "flour", "oven", "bake", "loaf", "yeast", "dough"},
        {"marathon", "training", "pace", "shoes", "miles", "stretching", "injury", "race"},
        {"kyoto", "japan", "temple", "itinerary", "ryokan", "shinkansen", "sushi", "visa"},
        {"python", "script", "function", "debugging", "library", "error", "loop", "variable"},
        {"tomatoes", "compost", "seedlings", "soil", "watering", "harvest", "basil", "raised"},
        {"mortgage", "interest", "loan", "down", "payment", "lender", "refinance", "credit"},
        {"puppy", "training", "leash", "treats", "vet", "vaccines", "crate", "walks"},
        {"novel", "chapter", "author", "fantasy", "series", "library", "reading", "plot"},
        {"guitar", "chords", "strumming", "lessons", "fingers", "tuning", "amp", "songs"},
        {"wedding", "venue", "caterer", "guests", "invitations", "dress", "photographer", "flowers"},
        {"spanish", "vocabulary", "grammar", "duolingo", "tutor", "conversation", "verbs", "fluency"},
        {"aquarium", "fish", "tank", "filter", "algae", "coral", "ph", "heater"},
        {"photography", "lens", "aperture", "exposure", "tripod", "lighting", "portrait", "editing"},
        {"kitchen", "renovation", "cabinets", "countertops", "contractor", "tiles", "permit", "sink"},
        {"chess", "opening", "endgame", "tactics", "rating", "tournament", "blitz", "gambit"},
        {"podcast", "episode", "microphone", "guests", "recording", "audio", "editing", "listeners"},
        {"cycling", "bike", "gears", "helmet", "route", "tires", "saddle", "climb"},
        {"coffee", "espresso", "grinder", "beans", "roast", "latte", "brewing", "barista"},
        {"paris", "louvre", "croissant", "metro", "museum", "eiffel", "cafe", "montmartre"},
        {"investing", "stocks", "portfolio", "dividends", "index", "funds", "retirement", "etf"},
        {"skincare", "moisturizer", "sunscreen", "serum", "acne", "routine", "cleanser", "retinol"},
        {"camping", "tent", "sleeping", "bag", "trail", "campfire", "stove", "backpack"},
        {"violin", "bow", "rosin", "scales", "orchestra", "recital", "posture", "vibrato"},
        {"startup", "investors", "pitch", "product", "customers", "revenue", "hiring", "cofounder"}};
    return kTopics;
}

}  // namespace

SyntheticCorpus::SyntheticCorpus(std::uint64_t seed) : rng_(seed) {
    const auto& words = general_words();
    cdf_.resize(words.size());
    double total = 0;
    for (size_t i = 0; i < words.size(); ++i) {
        total += 1.0 / std::pow(static_cast<double>(i) + 2.7, 1.07);
        cdf_[i] = total;
    }
    for (auto& c : cdf_) c /= total;
}

const std::string& SyntheticCorpus::zipf_word() {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    size_t i = static_cast<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
    return general_words()[std::min(i, cdf_.size() - 1)];
}

std::string SyntheticCorpus::sentence(int words, int topic) {
    const auto& tw = topics()[static_cast<size_t>(topic)];
    std::string s;
    std::uniform_int_distribution<size_t> pick_topic(0, tw.size() - 1);
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < words; ++i) {
        if (!s.empty()) s += (i % 12 == 11) ? ". " : " ";
        s += u(rng_) < 0.12 ? tw[pick_topic(rng_)] : zipf_word();
    }
    s += '.';
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
}

std::vector<SyntheticSession> SyntheticCorpus::generate(std::int64_t turns) {
    std::vector<SyntheticSession> out;
    std::int64_t produced = 0;
    std::int64_t t = 1672531200000;  // 2023-01-01
    std::uniform_int_distribution<int> session_len(6, 16), user_len(8, 40), asst_len(30, 120);
    std::uniform_int_distribution<int> topic(0, static_cast<int>(topics().size()) - 1);
    std::uniform_int_distribution<std::int64_t> gap(3600000LL, 4 * 86400000LL);
    while (produced < turns) {
        SyntheticSession s;
        s.session_id = "bench-" + std::to_string(next_session_++);
        t += gap(rng_);
        s.time_ms = t;
        int n = static_cast<int>(std::min<std::int64_t>(session_len(rng_), turns - produced));
        int tp = topic(rng_);
        for (int i = 0; i < n; ++i) {
            bool user = i % 2 == 0;
            s.messages.push_back({user ? "user" : "assistant", sentence(user ? user_len(rng_) : asst_len(rng_), tp)});
        }
        produced += n;
        out.push_back(std::move(s));
    }
    return out;
}

std::string SyntheticCorpus::query() {
    std::uniform_int_distribution<int> len(3, 8);
    std::uniform_int_distribution<int> topic(0, static_cast<int>(topics().size()) - 1);
    return sentence(len(rng_), topic(rng_));
}

}  // namespace kasten::eval
