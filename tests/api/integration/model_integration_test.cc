// End-to-end tests of the language-model features of the `kasten` executable: `kasten model ...` and the
// OpenAI-compatible routes of `kasten serve --model`, with the committed stories260K model.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/api/integration/http_client.h"
#include "tests/api/integration/kasten_process.h"

namespace kasten::api::testing {
namespace {

using nlohmann::json;

const std::string kStoriesDir = std::string(KASTEN_SOURCE_DIR) + "/data/models/stories260K/";
const std::string kStoriesGguf = kStoriesDir + "stories260K-tok512.gguf";

std::string strip_trailing_newlines(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

std::string published_greedy_text() {
    std::ifstream in(kStoriesDir + "stories260K.greedy.txt", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return strip_trailing_newlines(text.str());
}

TEST(ModelCliTest, InfoDescribesTheStoriesModel) {
    CommandResult r = run_kasten({"model", "info", kStoriesGguf});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("GGUF v3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("llama"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("5 layers, width 64"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("F32"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("512 tokens"), std::string::npos) << r.out;

    CommandResult missing = run_kasten({"model", "info", "/nonexistent/model.gguf"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("no such file"), std::string::npos) << missing.err;
    EXPECT_EQ(run_kasten({"model", "info"}).exit_code, 2);
    EXPECT_EQ(run_kasten({"model", "frobnicate"}).exit_code, 2);
    for (const char* sub : {"info", "convert", "generate"}) {
        CommandResult help = run_kasten({"model", sub, "--help"});
        EXPECT_EQ(help.exit_code, 0) << sub;
        EXPECT_NE(help.out.find(std::string("kasten model ") + sub), std::string::npos) << help.out;
    }
    EXPECT_EQ(run_kasten({"help", "model"}).exit_code, 0);
}

TEST(ModelCliTest, GreedyGenerationIsThePublishedText) {
    // llama2.c's published sample covers 256 positions: BOS + the prompt's 4 tokens ... the last token, so the
    // continuation is 257 - 5 = 252 tokens.
    CommandResult r = run_kasten({"model", "generate", "--model", kStoriesGguf, "--prompt", "Once upon a time",
                                  "--temp", "0", "--max-tokens", "252", "--ctx", "512"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ("Once upon a time" + strip_trailing_newlines(r.out), published_greedy_text());

    CommandResult bad_temp =
        run_kasten({"model", "generate", "--model", kStoriesGguf, "--prompt", "x", "--temp", "hot"});
    EXPECT_EQ(bad_temp.exit_code, 2);
    EXPECT_NE(bad_temp.err.find("--temp"), std::string::npos) << bad_temp.err;
    EXPECT_EQ(run_kasten({"model", "generate", "--prompt", "x"}).exit_code, 2);
    EXPECT_EQ(run_kasten({"model", "generate", "--model", "/nonexistent.gguf", "--prompt", "x"}).exit_code, 1);
}

TEST(ModelCliTest, ConvertLlama2cThenRequantize) {
    TempDir dir("kasten-it-model-convert");
    const std::string f32 = dir.path() + "/stories-f32.gguf";
    const std::string q8 = dir.path() + "/stories-q8_0.gguf";
    CommandResult c = run_kasten({"model", "convert", "--llama2c", kStoriesDir + "stories260K.bin", "--tokenizer",
                                  kStoriesDir + "tok512.bin", "--out", f32});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    CommandResult q = run_kasten({"model", "convert", "--gguf", f32, "--out", q8, "--type", "q8_0"});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    CommandResult info = run_kasten({"model", "info", q8});
    ASSERT_EQ(info.exit_code, 0) << info.err;
    EXPECT_NE(info.out.find("Q8_0"), std::string::npos) << info.out;

    // The converted F32 file generates the published text too.
    CommandResult g = run_kasten(
        {"model", "generate", "--model", f32, "--prompt", "Once upon a time", "--temp", "0", "--max-tokens", "40"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    const std::string text = "Once upon a time" + strip_trailing_newlines(g.out);
    EXPECT_EQ(text, published_greedy_text().substr(0, text.size()));

    EXPECT_EQ(run_kasten({"model", "convert", "--gguf", f32, "--out", q8, "--type", "q9"}).exit_code, 2);
    EXPECT_EQ(run_kasten({"model", "convert", "--gguf", f32, "--out", q8}).exit_code, 2);
    EXPECT_EQ(
        run_kasten({"model", "convert", "--gguf", dir.path() + "/none.gguf", "--out", q8, "--type", "q8_0"}).exit_code,
        1);
}

TEST(ModelCliTest, BenchDecodeWritesTheReportAsJson) {
    TempDir dir("kasten-it-bench-decode");
    const std::string out = dir.path() + "/decode.json";
    CommandResult r = run_kasten({"bench", "decode", "--stories-only", "--json", "--stories", kStoriesGguf, "--out",
                                  out, "--work-dir", dir.path() + "/work"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json report = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(report.is_object()) << r.out;
    std::ifstream in(out);
    std::ostringstream file;
    file << in.rdbuf();
    EXPECT_EQ(json::parse(file.str(), nullptr, false), report);
    EXPECT_EQ(report["benchmark"], "decode");
    const std::string isa = report.value("kernel_isa", "");
    EXPECT_TRUE(isa == "scalar" || isa == "avx2" || isa == "avx512-vnni" || isa == "avx512-amx") << isa;
    ASSERT_FALSE(report["bandwidth"].empty());
    EXPECT_GT(report["bandwidth"][0]["gb_per_s"].get<double>(), 0.0);
    ASSERT_FALSE(report["runs"].empty());
    for (const auto& run : report["runs"]) {
        EXPECT_EQ(run["model"], "stories260K");
        EXPECT_GT(run["generate_tokens_per_s"].get<double>(), 0.0) << run.dump();
        EXPECT_GT(run["weight_bytes_per_token"].get<std::uint64_t>(), 0u) << run.dump();
        EXPECT_GT(run["fraction_of_limit"].get<double>(), 0.0) << run.dump();
    }
    EXPECT_EQ(run_kasten({"bench", "decode", "--bogus"}).exit_code, 2);
    EXPECT_EQ(run_kasten({"bench", "decode", "--stories", dir.path() + "/none.gguf"}).exit_code, 1);
}

class ModelServeTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }
};

// The text of a streamed chat completion: the concatenated deltas. Checks the SSE framing on the way.
std::string streamed_text(const std::string& body, std::string* finish_reason) {
    std::string text;
    bool done = false;
    size_t pos = 0;
    while (pos < body.size()) {
        const size_t end = body.find("\n\n", pos);
        EXPECT_NE(end, std::string::npos) << body;
        if (end == std::string::npos) break;
        const std::string event = body.substr(pos, end - pos);
        pos = end + 2;
        EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
        EXPECT_FALSE(done) << "event after [DONE]: " << event;
        const std::string data = event.substr(6);
        if (data == "[DONE]") {
            done = true;
            continue;
        }
        json chunk = json::parse(data, nullptr, false);
        EXPECT_EQ(chunk["object"], "chat.completion.chunk") << data;
        const json& choice = chunk["choices"][0];
        if (choice["delta"].contains("content")) text += choice["delta"]["content"].get<std::string>();
        if (choice["finish_reason"].is_string()) *finish_reason = choice["finish_reason"];
    }
    EXPECT_TRUE(done) << body;
    return text;
}

TEST_F(ModelServeTest, ChatCompletionStreamingAndNot) {
    TempDir dir("kasten-it-model-serve");
    auto server = KastenServer::start(dir.path(), {"--model", kStoriesGguf, "--ctx", "512"});
    ASSERT_TRUE(server);
    TestClient c(server->port());

    json health = c.get("/healthz").json();
    EXPECT_EQ(health["model"], "gguf:stories260K-tok512");

    json request = {{"model", "stories260K"},
                    {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                    {"temperature", 0},
                    {"max_tokens", 40}};
    HttpReply plain = c.post("/v1/chat/completions", request.dump());
    ASSERT_EQ(plain.status, 200) << plain.body;
    json body = plain.json();
    EXPECT_EQ(body["object"], "chat.completion");
    const std::string text = body["choices"][0]["message"]["content"];
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(body["usage"]["completion_tokens"], 40);

    request["stream"] = true;
    HttpReply streamed = c.post("/v1/chat/completions", request.dump());
    ASSERT_EQ(streamed.status, 200) << streamed.body;
    EXPECT_NE(streamed.content_type.find("text/event-stream"), std::string::npos) << streamed.content_type;
    std::string finish;
    EXPECT_EQ(streamed_text(streamed.body, &finish), text);
    EXPECT_EQ(finish, body["choices"][0]["finish_reason"]);

    HttpReply completion = c.post(
        "/v1/completions", json({{"prompt", "Once upon a time"}, {"temperature", 0}, {"max_tokens", 20}}).dump());
    ASSERT_EQ(completion.status, 200) << completion.body;
    const std::string continuation = completion.json()["choices"][0]["text"];
    EXPECT_EQ("Once upon a time" + continuation, published_greedy_text().substr(0, 16 + continuation.size()));

    HttpReply unknown = c.post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"n":3})");
    EXPECT_EQ(unknown.status, 400) << unknown.body;
    EXPECT_EQ(server->stop(), 0);
}

TEST_F(ModelServeTest, WithoutAModelChatIsExtractiveAndTextCompletionsAnswer501) {
    TempDir dir("kasten-it-no-model");
    auto server = KastenServer::start(dir.path());
    ASSERT_TRUE(server);
    TestClient c(server->port());
    HttpReply chat = c.post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hello"}]})");
    EXPECT_EQ(chat.status, 200) << chat.body;
    EXPECT_EQ(chat.json()["model"], "extractive");
    EXPECT_EQ(chat.json()["choices"][0]["message"]["content"].get<std::string>().rfind("(extractive answer", 0), 0u);
    HttpReply r = c.post("/v1/completions", R"({"prompt":"x"})");
    EXPECT_EQ(r.status, 501) << r.body;
    json j = r.json();
    EXPECT_EQ(j["error"]["code"], 501);
    EXPECT_EQ(j["error"]["type"], "not_supported");
    EXPECT_NE(j["error"]["message"].get<std::string>().find("--model"), std::string::npos);
    EXPECT_EQ(c.get("/healthz").json()["model"], "extractive");
    EXPECT_EQ(server->stop(), 0);
}

}  // namespace
}  // namespace kasten::api::testing
