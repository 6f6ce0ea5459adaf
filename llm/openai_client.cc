#include "llm/openai_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

namespace kasten::llm {

namespace {

using nlohmann::json;

struct CurlEasyDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct CurlListDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlList = std::unique_ptr<curl_slist, CurlListDeleter>;

// curl_global_init is not thread-safe in every libcurl build: run it once, before the first handle.
bool curl_ready() {
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] { ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
    return ok;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// What one HTTP attempt produced.
struct Attempt {
    CURLcode curl = CURLE_OK;
    std::string curl_error;
    long http_status = 0;
    std::string body;              // the whole body (non-streamed, or an error body of a streamed request)
    int retry_after_seconds = -1;  // from a Retry-After header
    // Streaming state.
    bool streaming = false;
    bool stopped_by_callback = false;
    bool done = false;
    bool delivered = false;  // some text reached the callback (then the attempt cannot be retried)
    std::string pending;     // bytes of an incomplete SSE line
    Generation generation;
    Status stream_error;
};

// The per-call context handed to curl's callbacks.
struct CallbackContext {
    CURL* handle = nullptr;
    Attempt* attempt = nullptr;
    bool chat = true;
    const TokenCallback* on_token = nullptr;
};

std::string error_message_of(const std::string& body) {
    try {
        json j = json::parse(body);
        if (j.is_object() && j.contains("error")) {
            const json& e = j["error"];
            if (e.is_string()) return e.get<std::string>();
            if (e.is_object() && e.contains("message") && e["message"].is_string())
                return e["message"].get<std::string>();
        }
        if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
    } catch (const json::exception&) {
    }
    std::string s = body.substr(0, 200);
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s;
}

void read_usage(const json& j, Generation* g) {
    auto it = j.find("usage");
    if (it == j.end() || !it->is_object()) return;
    if (auto p = it->find("prompt_tokens"); p != it->end() && p->is_number_integer()) g->prompt_tokens = p->get<int>();
    if (auto c = it->find("completion_tokens"); c != it->end() && c->is_number_integer()) {
        g->completion_tokens = c->get<int>();
    }
}

// One SSE "data:" payload of a streamed response.
void handle_stream_event(std::string_view data, CallbackContext& ctx) {
    Attempt& a = *ctx.attempt;
    if (data == "[DONE]") {
        a.done = true;
        return;
    }
    json j;
    try {
        j = json::parse(data);
    } catch (const json::exception& e) {
        a.stream_error = Status::internal(std::string("malformed stream event: ") + e.what());
        return;
    }
    if (!j.is_object()) return;
    if (j.contains("error")) {
        a.stream_error = Status::internal("server error in stream: " + error_message_of(std::string(data)));
        return;
    }
    read_usage(j, &a.generation);
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty()) return;
    const json& c = (*choices)[0];
    std::string piece;
    if (ctx.chat) {
        auto d = c.find("delta");
        if (d != c.end() && d->is_object()) {
            auto content = d->find("content");
            if (content != d->end() && content->is_string()) piece = content->get<std::string>();
        }
    } else {
        auto t = c.find("text");
        if (t != c.end() && t->is_string()) piece = t->get<std::string>();
    }
    if (auto f = c.find("finish_reason"); f != c.end() && f->is_string())
        a.generation.finish_reason = f->get<std::string>();
    if (piece.empty() || a.stopped_by_callback) return;
    a.generation.text += piece;
    a.delivered = true;
    if (ctx.on_token && *ctx.on_token && !(*ctx.on_token)(piece)) {
        a.stopped_by_callback = true;
        a.generation.finish_reason = "stop";
    }
}

size_t write_callback(char* data, size_t size, size_t nmemb, void* user) {
    auto& ctx = *static_cast<CallbackContext*>(user);
    Attempt& a = *ctx.attempt;
    const size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(ctx.handle, CURLINFO_RESPONSE_CODE, &status);
    if (!a.streaming || status != 200) {
        a.body.append(data, n);
        return n;
    }
    a.pending.append(data, n);
    size_t start = 0;
    for (;;) {
        size_t nl = a.pending.find('\n', start);
        if (nl == std::string::npos) break;
        std::string_view line(a.pending.data() + start, nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        start = nl + 1;
        if (line.rfind("data:", 0) != 0) continue;  // comments, "event:", blank separators
        std::string_view payload = line.substr(5);
        while (!payload.empty() && payload.front() == ' ') payload.remove_prefix(1);
        handle_stream_event(payload, ctx);
        if (a.stopped_by_callback || !a.stream_error.is_ok()) {
            a.pending.clear();
            return 0;  // aborts the transfer (CURLE_WRITE_ERROR), expected
        }
    }
    a.pending.erase(0, start);
    return n;
}

size_t header_callback(char* data, size_t size, size_t nitems, void* user) {
    auto& a = *static_cast<Attempt*>(user);
    const size_t n = size * nitems;
    std::string line(data, n);
    std::string l = lower(line);
    if (l.rfind("retry-after:", 0) == 0) {
        std::string v = line.substr(12);
        char* end = nullptr;
        long secs = std::strtol(v.c_str(), &end, 10);
        if (end != v.c_str() && secs >= 0) a.retry_after_seconds = static_cast<int>(std::min<long>(secs, 3600));
    }
    return n;
}

bool retryable(const Attempt& a) {
    if (a.delivered) return false;
    if (a.curl != CURLE_OK) {
        switch (a.curl) {
            case CURLE_COULDNT_CONNECT:
            case CURLE_COULDNT_RESOLVE_HOST:
            case CURLE_OPERATION_TIMEDOUT:
            case CURLE_SEND_ERROR:
            case CURLE_RECV_ERROR:
            case CURLE_GOT_NOTHING:
            case CURLE_PARTIAL_FILE:
                return true;
            default:
                return false;
        }
    }
    return a.http_status == 429 || (a.http_status >= 500 && a.http_status <= 599);
}

Status status_of(const Attempt& a, const std::string& url) {
    if (a.curl != CURLE_OK) {
        return Status::io_error("request to " + url + " failed: " +
                                (a.curl_error.empty() ? std::string(curl_easy_strerror(a.curl)) : a.curl_error));
    }
    const std::string what = "HTTP " + std::to_string(a.http_status) + " from " + url + ": " + error_message_of(a.body);
    switch (a.http_status) {
        case 400:
        case 413:
        case 422:
            return Status::invalid_argument(what);
        case 401:
            return Status::unauthenticated(what);
        case 403:
            return Status::permission_denied(what);
        case 404:
            return Status::not_found(what);
        case 429:
            return Status::resource_exhausted(what);
        case 503:
            return Status::busy(what);
        default:
            return Status::internal(what);
    }
}

Result<Generation> parse_response(const std::string& body, bool chat, const std::string& url) {
    try {
        json j = json::parse(body);
        auto choices = j.find("choices");
        if (choices == j.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) {
            return Status::internal("response from " + url + " has no choices");
        }
        const json& c = (*choices)[0];
        Generation g;
        if (chat) {
            auto m = c.find("message");
            if (m == c.end() || !m->is_object()) return Status::internal("response from " + url + " has no message");
            auto content = m->find("content");
            if (content != m->end() && content->is_string()) g.text = content->get<std::string>();
        } else {
            auto t = c.find("text");
            if (t == c.end() || !t->is_string()) return Status::internal("response from " + url + " has no text");
            g.text = t->get<std::string>();
        }
        if (auto f = c.find("finish_reason"); f != c.end() && f->is_string()) g.finish_reason = f->get<std::string>();
        read_usage(j, &g);
        return g;
    } catch (const json::exception& e) {
        return Status::internal("response from " + url + " is not valid JSON: " + e.what());
    }
}

Status add_options(const GenerationOptions& o, json* body) {
    json& b = *body;
    b["max_tokens"] = o.max_tokens;
    b["temperature"] = o.temperature;
    if (o.top_p < 1.0) b["top_p"] = o.top_p;
    if (o.top_k > 0) b["top_k"] = o.top_k;
    if (o.seed != 0) b["seed"] = o.seed;
    if (!o.stop.empty()) b["stop"] = o.stop;
    if (o.frequency_penalty != 0.0) b["frequency_penalty"] = o.frequency_penalty;
    if (o.presence_penalty != 0.0) b["presence_penalty"] = o.presence_penalty;
    if (!o.logit_bias.empty()) {
        json bias = json::object();
        for (const auto& [id, value] : o.logit_bias) bias[std::to_string(id)] = value;
        b["logit_bias"] = std::move(bias);
    }
    if (o.json_schema) {
        try {
            json schema = json::parse(*o.json_schema);
            b["response_format"] = {{"type", "json_schema"},
                                    {"json_schema", {{"name", "output"}, {"strict", true}, {"schema", schema}}}};
        } catch (const json::exception& e) {
            return Status::invalid_argument(std::string("json_schema is not valid JSON: ") + e.what());
        }
    }
    return Status::ok();
}

}  // namespace

std::string OpenAiClient::resolve_base_url(std::string_view url) {
    std::string u(url);
    size_t scheme = u.find("://");
    size_t path_start = scheme == std::string::npos ? std::string::npos : u.find('/', scheme + 3);
    if (path_start == std::string::npos) return u + "/v1";
    while (u.size() > path_start + 1 && u.back() == '/') u.pop_back();
    if (u.size() == path_start + 1) return u.substr(0, path_start) + "/v1";
    return u;
}

Result<std::unique_ptr<OpenAiClient>> OpenAiClient::create(OpenAiClientOptions options) {
    if (options.model.empty()) return Status::invalid_argument("no model name given for " + options.base_url);
    if (options.base_url.rfind("http://", 0) != 0 && options.base_url.rfind("https://", 0) != 0) {
        return Status::invalid_argument("base URL must start with http:// or https://, not '" + options.base_url + "'");
    }
    if (options.connect_timeout_ms < 0 || options.request_timeout_ms < 0 || options.max_retries < 0 ||
        options.initial_backoff_ms < 0 || options.max_backoff_ms < 0) {
        return Status::invalid_argument("timeouts, retries and backoff must not be negative");
    }
    if (!curl_ready()) return Status::internal("libcurl could not be initialised");
    std::string key = options.api_key;
    if (key.empty() && !options.api_key_env.empty()) {
        if (const char* v = std::getenv(options.api_key_env.c_str())) key = v;
    }
    std::string base = resolve_base_url(options.base_url);
    return std::unique_ptr<OpenAiClient>(new OpenAiClient(std::move(options), std::move(base), std::move(key)));
}

OpenAiClient::OpenAiClient(OpenAiClientOptions options, std::string base_url, std::string api_key)
    : options_(std::move(options)), base_url_(std::move(base_url)), api_key_(std::move(api_key)) {}

OpenAiClient::~OpenAiClient() = default;

std::string OpenAiClient::id() const {
    return "openai:" + options_.model;
}

OpenAiClientStats OpenAiClient::stats() const {
    OpenAiClientStats s;
    s.requests = requests_.load();
    s.retries = retries_.load();
    s.failures = failures_.load();
    s.prompt_tokens = prompt_tokens_.load();
    s.completion_tokens = completion_tokens_.load();
    return s;
}

Result<Generation> OpenAiClient::chat(const std::vector<ChatMessage>& messages, const GenerationOptions& options,
                                      const TokenCallback& on_token) {
    if (messages.empty()) return Status::invalid_argument("chat needs at least one message");
    json body;
    body["model"] = options_.model;
    json msgs = json::array();
    for (const auto& m : messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
    body["messages"] = std::move(msgs);
    KASTEN_RETURN_IF_ERROR(add_options(options, &body));
    if (on_token) {
        body["stream"] = true;
        body["stream_options"] = {{"include_usage", true}};  // the usage then arrives in a last chunk
    }
    std::string text;
    try {
        text = body.dump(-1, ' ', false, json::error_handler_t::replace);
    } catch (const json::exception& e) {
        return Status::invalid_argument(std::string("cannot encode the request: ") + e.what());
    }
    return post("/chat/completions", text, true, on_token);
}

Result<Generation> OpenAiClient::complete(std::string_view prompt, const GenerationOptions& options,
                                          const TokenCallback& on_token) {
    json body;
    body["model"] = options_.model;
    body["prompt"] = std::string(prompt);
    KASTEN_RETURN_IF_ERROR(add_options(options, &body));
    if (on_token) {
        body["stream"] = true;
        body["stream_options"] = {{"include_usage", true}};  // the usage then arrives in a last chunk
    }
    std::string text;
    try {
        text = body.dump(-1, ' ', false, json::error_handler_t::replace);
    } catch (const json::exception& e) {
        return Status::invalid_argument(std::string("cannot encode the request: ") + e.what());
    }
    return post("/completions", text, false, on_token);
}

Result<Generation> OpenAiClient::post(const std::string& path, const std::string& body, bool chat,
                                      const TokenCallback& on_token) {
    const std::string url = base_url_ + path;
    const bool streaming = static_cast<bool>(on_token);
    for (int attempt_no = 0;; ++attempt_no) {
        CurlEasy handle(curl_easy_init());
        if (!handle) return Status::internal("curl_easy_init failed");
        CurlList headers;
        auto append = [&](const std::string& h) {
            curl_slist* l = curl_slist_append(headers.get(), h.c_str());
            if (l) {
                (void)headers.release();
                headers.reset(l);
            }
        };
        append("Content-Type: application/json");
        append(streaming ? "Accept: text/event-stream" : "Accept: application/json");
        if (!api_key_.empty()) append("Authorization: Bearer " + api_key_);

        Attempt a;
        a.streaming = streaming;
        CallbackContext ctx{handle.get(), &a, chat, &on_token};
        char errbuf[CURL_ERROR_SIZE] = {0};
        CURL* h = handle.get();
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_callback);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &ctx);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_callback);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout_ms));
        curl_easy_setopt(h, CURLOPT_USERAGENT, "kasten");

        requests_.fetch_add(1);
        a.curl = curl_easy_perform(h);
        a.curl_error = errbuf;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.http_status);

        const bool aborted_on_purpose =
            a.curl == CURLE_WRITE_ERROR && (a.stopped_by_callback || !a.stream_error.is_ok());
        if (aborted_on_purpose) a.curl = CURLE_OK;
        if (a.curl == CURLE_OK && a.http_status == 200) {
            Result<Generation> out = Status::internal("unreachable");
            if (streaming) {
                if (!a.stream_error.is_ok()) {
                    failures_.fetch_add(1);
                    return a.stream_error.with_context(url);
                }
                if (!a.done && !a.stopped_by_callback && a.generation.finish_reason.empty() &&
                    a.generation.text.empty()) {
                    failures_.fetch_add(1);
                    return Status::internal("stream from " + url + " ended without any event");
                }
                out = std::move(a.generation);
            } else {
                out = parse_response(a.body, chat, url);
                if (!out) {
                    failures_.fetch_add(1);
                    return out.status();
                }
            }
            prompt_tokens_.fetch_add(out->prompt_tokens);
            completion_tokens_.fetch_add(out->completion_tokens);
            return out;
        }
        if (a.curl == CURLE_OK && a.http_status >= 200 && a.http_status < 300) {
            failures_.fetch_add(1);
            return Status::internal("unexpected HTTP " + std::to_string(a.http_status) + " from " + url);
        }
        if (attempt_no >= options_.max_retries || !retryable(a)) {
            failures_.fetch_add(1);
            Status st = status_of(a, url);
            if (attempt_no > 0) st = st.with_context("after " + std::to_string(attempt_no + 1) + " attempts");
            return st;
        }
        retries_.fetch_add(1);
        long long wait_ms = static_cast<long long>(options_.initial_backoff_ms) << std::min(attempt_no, 20);
        if (a.retry_after_seconds >= 0) wait_ms = std::max<long long>(wait_ms, a.retry_after_seconds * 1000LL);
        wait_ms = std::min<long long>(wait_ms, options_.max_backoff_ms);
        if (wait_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    }
}

}  // namespace kasten::llm
