#include "llm/glove_converter.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "glove_fixture.h"
#include "llm/glove_embedder.h"
#include "temp_dir.h"

namespace kasten::llm {
namespace {

using testing::glove_fixture;
using testing::GloveFixture;
using testing::TempDir;
using testing::wink_json;
using testing::WinkJsonOptions;
using testing::write_file;

// Converts `json` in a fresh directory; returns the status and checks that a failure leaves no file.
struct Conversion {
    Status status;
    std::unique_ptr<GloveEmbedder> embedder;
};

Conversion convert_text(const std::string& json) {
    TempDir dir;
    write_file(dir.file("in.json"), json);
    Conversion c;
    c.status = convert_glove_json(dir.file("in.json"), dir.file("out.kvec"));
    if (c.status.is_ok()) {
        Result<std::unique_ptr<GloveEmbedder>> e = GloveEmbedder::load(dir.file("out.kvec"));
        if (!e.is_ok()) {
            ADD_FAILURE() << "converted file does not load: " << e.status().to_string();
        } else {
            c.embedder = std::move(e).value();
        }
    } else {
        EXPECT_EQ(dir.entries(), std::vector<std::string>{"in.json"}) << "a failed conversion left files behind";
    }
    return c;
}

void expect_matches_fixture(const GloveEmbedder& e, const GloveFixture& f) {
    ASSERT_EQ(e.dim(), f.dim);
    ASSERT_EQ(e.vocabulary_size(), f.words.size());
    for (std::size_t row = 0; row < f.words.size(); ++row) {
        ASSERT_EQ(e.word(row), f.words[row]);
        ASSERT_EQ(e.find(f.words[row]), row);
        std::span<const float> v = e.vector(row);
        // %.9g text parses back to the very same float: the float32 format is exact for this input.
        ASSERT_EQ(std::vector<float>(v.begin(), v.end()), f.vectors[row]) << f.words[row];
    }
}

TEST(GloveConverterTest, RoundTripIsExact) {
    Conversion c = convert_text(wink_json(glove_fixture()));
    ASSERT_TRUE(c.status.is_ok()) << c.status.to_string();
    expect_matches_fixture(*c.embedder, glove_fixture());
    // Words that needed JSON escapes.
    EXPECT_TRUE(c.embedder->find("\"").has_value());
    EXPECT_TRUE(c.embedder->find("\\").has_value());
    EXPECT_TRUE(c.embedder->find("caf\xC3\xA9").has_value());
    EXPECT_TRUE(c.embedder->find("\xF0\x9F\x90\xB1").has_value());
}

TEST(GloveConverterTest, KeyOrderAndOptionalFields) {
    WinkJsonOptions options;
    options.vectors_first = true;
    options.extra_keys = true;
    Conversion reordered = convert_text(wink_json(glove_fixture(), options));
    ASSERT_TRUE(reordered.status.is_ok()) << reordered.status.to_string();
    expect_matches_fixture(*reordered.embedder, glove_fixture());

    // Without "words" nor index fields, rows follow the order of "vectors".
    options = {};
    options.words_array = false;
    options.index_fields = false;
    Conversion bare = convert_text(wink_json(glove_fixture(), options));
    ASSERT_TRUE(bare.status.is_ok()) << bare.status.to_string();
    expect_matches_fixture(*bare.embedder, glove_fixture());

    // Whitespace and a byte-order mark are accepted.
    std::string spaced = "\xEF\xBB\xBF \n" + wink_json(glove_fixture());
    for (std::size_t pos = spaced.find(':'); pos != std::string::npos && pos < 400; pos = spaced.find(':', pos + 3)) {
        spaced.insert(pos, " \t");
    }
    Conversion with_spaces = convert_text(spaced);
    ASSERT_TRUE(with_spaces.status.is_ok()) << with_spaces.status.to_string();
}

TEST(GloveConverterTest, ReportsProgress) {
    TempDir dir;
    write_file(dir.file("in.json"), wink_json(glove_fixture()));
    std::vector<double> fractions;
    ASSERT_TRUE(convert_glove_json(dir.file("in.json"), dir.file("out.kvec"), [&](double f) {
                    fractions.push_back(f);
                }).is_ok());
    ASSERT_GE(fractions.size(), 3u);
    EXPECT_EQ(fractions.front(), 0.0);
    EXPECT_EQ(fractions.back(), 1.0);
    for (std::size_t i = 1; i < fractions.size(); ++i) EXPECT_GE(fractions[i], fractions[i - 1]);
}

// Replaces the first occurrence of `from` in the fixture JSON.
std::string mutated(std::string_view from, std::string_view to, const WinkJsonOptions& options = {}) {
    std::string json = wink_json(glove_fixture(), options);
    const std::size_t pos = json.find(from);
    if (pos == std::string::npos) {
        ADD_FAILURE() << "fixture has no '" << from << "'";
        return json;
    }
    return json.replace(pos, from.size(), to);
}

// The first vector entry of "cat", e.g. "\"cat\":[0.1,..., norm, index]".
std::string cat_entry() {
    const std::string json = wink_json(glove_fixture());
    const std::size_t begin = json.find("\"cat\":[");
    return json.substr(begin, json.find(']', begin) + 1 - begin);
}

struct MalformedCase {
    std::string name;
    std::string json;
    std::string message;  // expected part of the error message
};

TEST(GloveConverterTest, MalformedInputIsInvalidArgument) {
    const GloveFixture& f = glove_fixture();
    const std::string cat = cat_entry();
    const std::string cat_values = cat.substr(7, cat.size() - 8);  // between [ and ]
    const std::string first_value = cat_values.substr(0, cat_values.find(','));
    const std::string size = "\"size\":" + std::to_string(f.words.size());
    std::string nested = "{\"meta\":";
    for (int i = 0; i < 300; ++i) nested += "[";
    const std::vector<MalformedCase> cases = {
        {"empty", "", "empty file"},
        {"not json", "hello", "expected '{'"},
        {"array at top", "[1,2]", "expected '{'"},
        {"missing vectors", "{\"dimensions\":3,\"size\":1}", "missing \"vectors\""},
        {"missing dimensions", "{\"size\":1,\"vectors\":{}}", "must precede"},
        {"trailing data", wink_json(f) + "{}", "after the top-level object"},
        {"too few values", mutated(cat, "\"cat\":[" + cat_values.substr(cat_values.find(',') + 1) + "]"),
         "expected 26"},
        {"too many values", mutated(cat, "\"cat\":[0.5," + cat_values + "]"), "more than 26 values"},
        {"bad number 1.2.3", mutated(cat, "\"cat\":[1.2.3" + cat_values.substr(first_value.size()) + "]"),
         "expected ',' or ']'"},
        {"bad number NaN", mutated(cat, "\"cat\":[NaN" + cat_values.substr(first_value.size()) + "]"),
         "invalid number"},
        {"bad number Infinity", mutated(cat, "\"cat\":[Infinity" + cat_values.substr(first_value.size()) + "]"),
         "invalid number"},
        {"bad number 1e", mutated(cat, "\"cat\":[1e" + cat_values.substr(first_value.size()) + "]"), "invalid number"},
        {"bad number .5", mutated(cat, "\"cat\":[.5" + cat_values.substr(first_value.size()) + "]"), "invalid number"},
        {"bad number +1", mutated(cat, "\"cat\":[+1" + cat_values.substr(first_value.size()) + "]"), "invalid number"},
        {"bad number 01", mutated(cat, "\"cat\":[01" + cat_values.substr(first_value.size()) + "]"),
         "expected ',' or ']'"},
        {"overflowing number", mutated(cat, "\"cat\":[1e999" + cat_values.substr(first_value.size()) + "]"),
         "out of float range"},
        {"string as number", mutated(cat, "\"cat\":[\"0.1\"" + cat_values.substr(first_value.size()) + "]"),
         "invalid number"},
        {"wrong norm", mutated(cat, "\"cat\":[" + std::string("7") + cat_values.substr(first_value.size()) + "]"),
         "stored L2 norm"},
        {"index out of range", mutated(cat, cat.substr(0, cat.rfind(',')) + ",100000]"), "is not an integer"},
        {"fractional index", mutated(cat, cat.substr(0, cat.rfind(',')) + ",0.5]"), "is not an integer"},
        {"duplicate index", mutated(cat, cat.substr(0, cat.rfind(',')) + ",0]"), "already used"},
        {"words disagree", mutated("\"words\":[\"the\"", "\"words\":[\"thee\""), "words[0] is 'thee'"},
        {"size too large", mutated(size, "\"size\":" + std::to_string(f.words.size() + 1)), "entries but \"size\""},
        {"size impossible", mutated(size, "\"size\":100000000"), "cannot fit"},
        {"dimensions zero", mutated("\"dimensions\":24", "\"dimensions\":0"), "\"dimensions\" must be an integer"},
        {"dimensions mismatch", mutated("\"dimensions\":24", "\"dimensions\":23"), "must be distinct and below 25"},
        {"words too short", mutated("\"words\":[\"the\",", "\"words\":["), "\"words\" has"},
        {"control character", mutated("\"words\":[\"the\"", "\"words\":[\"t\x01he\""), "control character"},
        {"bad escape", mutated("\"words\":[\"the\"", "\"words\":[\"t\\qhe\""), "invalid escape"},
        {"unpaired surrogate", mutated("\"words\":[\"the\"", "\"words\":[\"\\ud83d\""), "surrogate"},
        {"bad literal", mutated("\"precision\":9", "\"precision\":nul"), "invalid number"},
        {"missing colon", mutated("\"precision\":9", "\"precision\" 9"), "expected ':'"},
        {"deep nesting", nested, "nested too deeply"},
    };
    for (const MalformedCase& c : cases) {
        SCOPED_TRACE(c.name);
        Conversion result = convert_text(c.json);
        ASSERT_FALSE(result.status.is_ok());
        EXPECT_EQ(result.status.code(), StatusCode::kInvalidArgument) << result.status.to_string();
        EXPECT_NE(result.status.message().find(c.message), std::string::npos) << result.status.to_string();
    }
}

TEST(GloveConverterTest, TruncatedInputAlwaysFails) {
    const std::string json = wink_json(glove_fixture());
    const std::string trimmed = json.substr(0, json.find_last_not_of("\n}") + 1);
    std::vector<std::size_t> lengths = {
        1, 2, 10, 30, 100, json.find("\"vectors\"") + 5, trimmed.size(), json.size() - 2};
    for (std::size_t i = 1; i < 40; ++i) lengths.push_back(json.size() * i / 40 + i);
    for (std::size_t length : lengths) {
        SCOPED_TRACE(length);
        Conversion result = convert_text(json.substr(0, length));
        ASSERT_FALSE(result.status.is_ok());
        EXPECT_EQ(result.status.code(), StatusCode::kInvalidArgument) << result.status.to_string();
    }
}

TEST(GloveConverterTest, FailedConversionKeepsExistingOutput) {
    TempDir dir;
    write_file(dir.file("bad.json"), wink_json(glove_fixture()).substr(0, 5000));
    write_file(dir.file("out.kvec"), "previous contents");
    Status status = convert_glove_json(dir.file("bad.json"), dir.file("out.kvec"));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(testing::read_file(dir.file("out.kvec")), "previous contents");
    EXPECT_EQ(dir.entries(), (std::vector<std::string>{"bad.json", "out.kvec"}));

    // A successful conversion replaces it whole, leaving no temporary behind.
    write_file(dir.file("good.json"), wink_json(glove_fixture()));
    ASSERT_TRUE(convert_glove_json(dir.file("good.json"), dir.file("out.kvec")).is_ok());
    EXPECT_EQ(dir.entries(), (std::vector<std::string>{"bad.json", "good.json", "out.kvec"}));
    EXPECT_TRUE(GloveEmbedder::load(dir.file("out.kvec")).is_ok());
}

TEST(GloveConverterTest, CreatesOutputDirectories) {
    TempDir dir;
    write_file(dir.file("in.json"), wink_json(glove_fixture()));
    const std::string out = dir.file("a/b/out.kvec");
    ASSERT_TRUE(convert_glove_json(dir.file("in.json"), out).is_ok());
    EXPECT_TRUE(GloveEmbedder::load(out).is_ok());
}

TEST(GloveConverterTest, FileErrors) {
    TempDir dir;
    Status missing = convert_glove_json(dir.file("missing.json"), dir.file("out.kvec"));
    EXPECT_EQ(missing.code(), StatusCode::kNotFound);
    EXPECT_NE(missing.message().find("missing.json"), std::string::npos);

    write_file(dir.file("in.json"), wink_json(glove_fixture()));
    write_file(dir.file("plain"), "x");
    Status unwritable = convert_glove_json(dir.file("in.json"), dir.file("plain/out.kvec"));
    EXPECT_EQ(unwritable.code(), StatusCode::kIOError) << unwritable.to_string();
}

}  // namespace
}  // namespace kasten::llm
