#include "glove_fixture.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <utility>

#include "llm/glove_converter.h"
#include "llm/stable_hash.h"
#include "temp_dir.h"

namespace kasten::llm::testing {
namespace {

constexpr int kDim = 24;
enum Axis { kPets, kHome, kFinance, kWeather, kFood, kSport, kTravel, kRoyal, kPerson, kGender, kYouth, kCommon };

using Spec = std::vector<std::pair<int, float>>;

// Deterministic noise in [-amplitude, amplitude] per (word, dimension).
float noise(std::string_view word, int d, float amplitude) {
    std::uint64_t h = mix64(fnv1a64(word) + static_cast<std::uint64_t>(d) * 0x9E3779B97F4A7C15ULL);
    double unit = static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);  // [0, 1)
    return static_cast<float>((unit * 2.0 - 1.0) * amplitude);
}

std::vector<float> make_vector(std::string_view word, const Spec& spec, float amplitude) {
    std::vector<float> v(kDim);
    for (int d = 0; d < kDim; ++d) v[d] = noise(word, d, amplitude);
    for (auto [axis, weight] : spec) v[axis] += weight;
    return v;
}

GloveFixture build() {
    GloveFixture f;
    f.dim = kDim;
    auto add = [&](std::string word, const Spec& spec, float amplitude) {
        f.vectors.push_back(make_vector(word, spec, amplitude));
        f.words.push_back(std::move(word));
    };
    for (const char* w :
         {"the",   ",",     ".",    "of",   "to",    "and",  "in",    "a",    "\"",    "for",  "on",    "is",  "was",
          "that",  "with",  "it",   "he",   "as",    "at",   "by",    "from", "his",   "an",   "be",    "has", "are",
          "have",  "but",   "were", "not",  "this",  "who",  "they",  "had",  "which", "will", "their", "or",  "its",
          "one",   "after", "new",  "been", "also",  "we",   "would", "my",   "i",     "you",  "she",   "her", "our",
          "your",  "very",  "so",   "some", "today", "just", "all",   "than", "there", "what", "when",  "up",  "out",
          "about", "into",  "over", "more", "can",   "do",   "did",   "no",   "then",  "them", "how",   "\\"}) {
        add(w, {{kCommon, 1.0f}}, 0.3f);
    }
    const std::vector<std::pair<std::vector<const char*>, Spec>> topics = {
        {{"cat", "cats", "dog", "dogs", "pet", "pets", "animal", "animals", "purrs", "\xF0\x9F\x90\xB1"},
         {{kPets, 1.0f}}},
        {{"kitten", "kittens", "puppy", "puppies"}, {{kPets, 1.0f}, {kYouth, 0.3f}}},
        {{"mat", "rug", "carpet", "sofa", "couch", "bed", "warm", "soft", "cozy", "blanket"}, {{kHome, 1.0f}}},
        {{"sleeps", "sleep", "sleeping", "rests", "resting", "rest", "sits", "sitting", "lies", "nap"},
         {{kHome, 0.8f}, {kPets, 0.3f}}},
        {{"stock",   "stocks",  "market",   "markets",   "price",   "prices",   "fell",   "fall",
          "shares",  "bank",    "banks",    "investors", "trading", "earnings", "report", "dollar",
          "economy", "sharply", "interest", "rates",     "sold",    "profit"},
         {{kFinance, 1.0f}}},
        {{"rain", "raining", "storm", "cloud", "clouds", "sunny", "weather", "forecast", "snow", "wind", "cold",
          "tomorrow"},
         {{kWeather, 1.0f}}},
        {{"pizza", "pasta", "cheese", "dinner", "lunch", "restaurant", "cook", "cooking", "recipe", "delicious", "soup",
          "bread", "ordered", "ate", "eat", "caf\xC3\xA9"},
         {{kFood, 1.0f}}},
        {{"football", "soccer", "game", "team", "goal", "score", "scored", "player", "players", "match", "coach",
          "season"},
         {{kSport, 1.0f}}},
        {{"train", "flight", "airport", "hotel", "trip", "travel", "ticket", "beach", "vacation", "booked"},
         {{kTravel, 1.0f}}},
        {{"royal", "throne", "crown", "palace"}, {{kRoyal, 1.0f}}},
        {{"king"}, {{kRoyal, 1.0f}, {kPerson, 0.7f}, {kGender, 0.8f}}},
        {{"queen"}, {{kRoyal, 1.0f}, {kPerson, 0.7f}, {kGender, -0.8f}}},
        {{"prince"}, {{kRoyal, 1.0f}, {kPerson, 0.7f}, {kGender, 0.8f}, {kYouth, 0.6f}}},
        {{"princess"}, {{kRoyal, 1.0f}, {kPerson, 0.7f}, {kGender, -0.8f}, {kYouth, 0.6f}}},
        {{"man"}, {{kPerson, 1.0f}, {kGender, 0.8f}}},
        {{"woman"}, {{kPerson, 1.0f}, {kGender, -0.8f}}},
        {{"boy"}, {{kPerson, 1.0f}, {kGender, 0.8f}, {kYouth, 0.6f}}},
        {{"girl"}, {{kPerson, 1.0f}, {kGender, -0.8f}, {kYouth, 0.6f}}},
    };
    for (const auto& [words, spec] : topics) {
        for (const char* w : words) add(w, spec, 0.12f);
    }
    for (int i = 0; i < 180; ++i) {
        char name[16];
        std::snprintf(name, sizeof(name), "zqfill%03d", i);
        add(name, {}, 0.5f);
    }
    return f;
}

std::string format_float(double v) {
    char buffer[40];
    std::snprintf(buffer, sizeof(buffer), "%.9g", v);
    return buffer;
}

void append_utf16_escape(std::string* out, std::uint32_t unit) {
    char buffer[16];
    std::snprintf(buffer, sizeof(buffer), "\\u%04x", unit);
    *out += buffer;
}

}  // namespace

std::optional<std::size_t> GloveFixture::row(std::string_view word) const {
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (words[i] == word) return i;
    }
    return std::nullopt;
}

const GloveFixture& glove_fixture() {
    static const GloveFixture fixture = build();
    return fixture;
}

std::string json_string(std::string_view word) {
    std::string out = "\"";
    for (std::size_t i = 0; i < word.size();) {
        auto b = static_cast<unsigned char>(word[i]);
        if (b == '"' || b == '\\') {
            out += '\\';
            out += static_cast<char>(b);
            ++i;
        } else if (b < 0x20) {
            append_utf16_escape(&out, b);
            ++i;
        } else if (b < 0x80) {
            out += static_cast<char>(b);
            ++i;
        } else {
            int len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            std::uint32_t cp = b & (len == 4 ? 0x07 : len == 3 ? 0x0F : 0x1F);
            for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(word[i + k]) & 0x3F);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                append_utf16_escape(&out, 0xD800 + (cp >> 10));
                append_utf16_escape(&out, 0xDC00 + (cp & 0x3FF));
            } else {
                append_utf16_escape(&out, cp);
            }
            i += static_cast<std::size_t>(len);
        }
    }
    return out + "\"";
}

std::string wink_json(const GloveFixture& f, const WinkJsonOptions& options) {
    std::string header = "{\"precision\":9,";
    if (options.index_fields) {
        header += "\"l2NormIndex\":" + std::to_string(f.dim) + ",\"wordIndex\":" + std::to_string(f.dim + 1) + ",";
    }
    header += "\"size\":" + std::to_string(f.words.size()) + ",\"dimensions\":" + std::to_string(f.dim);
    if (options.extra_keys) header += ",\"meta\":{\"a\":[1,2.5e-3,{\"b\":null}],\"c\":true,\"d\":\"x\\ny\"}";

    std::string words = "\"words\":[";
    for (std::size_t i = 0; i < f.words.size(); ++i) words += (i ? "," : "") + json_string(f.words[i]);
    words += "]";

    std::string vectors = "\"vectors\":{";
    for (std::size_t i = 0; i < f.words.size(); ++i) {
        vectors += (i ? ",\n" : "") + json_string(f.words[i]) + ":[";
        double norm2 = 0.0;
        for (int d = 0; d < f.dim; ++d) {
            vectors += (d ? "," : "") + format_float(f.vectors[i][d]);
            norm2 += static_cast<double>(f.vectors[i][d]) * f.vectors[i][d];
        }
        if (options.index_fields) vectors += "," + format_float(std::sqrt(norm2)) + "," + std::to_string(i);
        vectors += "]";
    }
    vectors += "}";

    std::string unk = "\"unkVector\":[";
    for (int d = 0; d < f.dim; ++d) unk += "0,";
    unk += "0,-1]";

    std::string body = header + ",";
    if (options.vectors_first) {
        body += vectors + (options.words_array ? "," + words : "");
    } else {
        body += (options.words_array ? words + "," : "") + vectors;
    }
    return body + "," + unk + "}\n";
}

const std::string& glove_fixture_kvec_path() {
    static const auto holder = [] {
        auto dir = std::make_shared<TempDir>();
        const std::string json = dir->file("fixture.json");
        const std::string kvec = dir->file("fixture.kvec");
        write_file(json, wink_json(glove_fixture()));
        Status status = convert_glove_json(json, kvec);
        if (!status.is_ok()) throw std::runtime_error("fixture conversion failed: " + status.to_string());
        return std::make_pair(dir, kvec);
    }();
    return holder.second;
}

}  // namespace kasten::llm::testing
