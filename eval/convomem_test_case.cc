#include "eval/convomem_test_case.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace kasten::eval {

namespace {

using nlohmann::json;

std::string scalar_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "";
    return v.dump();
}

Status parse_messages(const json& j, const std::string& where, std::vector<ConvoMemMessage>* out) {
    if (!j.is_array()) return Status::invalid_argument(where + " is not a list of messages");
    for (size_t i = 0; i < j.size(); ++i) {
        const json& m = j[i];
        const std::string mw = where + "[" + std::to_string(i) + "]";
        if (!m.is_object()) return Status::invalid_argument(mw + " is not an object");
        auto sp = m.find("speaker");
        auto text = m.find("text");
        if (text == m.end() || !text->is_string()) return Status::invalid_argument(mw + ": missing string 'text'");
        ConvoMemMessage msg;
        if (sp != m.end() && sp->is_string()) msg.speaker = sp->get<std::string>();
        msg.text = text->get<std::string>();
        out->push_back(std::move(msg));
    }
    return Status::ok();
}

Status parse_conversations(const json& j, const std::string& where, std::vector<ConvoMemConversation>* out) {
    if (!j.is_array()) return Status::invalid_argument(where + " is not a list of conversations");
    for (size_t i = 0; i < j.size(); ++i) {
        const json& c = j[i];
        const std::string cw = where + "[" + std::to_string(i) + "]";
        if (!c.is_object()) return Status::invalid_argument(cw + " is not an object");
        ConvoMemConversation conv;
        if (auto id = c.find("id"); id != c.end()) conv.id = scalar_text(*id);
        if (conv.id.empty()) conv.id = "conversation-" + std::to_string(i);
        if (auto ce = c.find("containsEvidence"); ce != c.end() && ce->is_boolean())
            conv.contains_evidence = ce->get<bool>();
        auto msgs = c.find("messages");
        if (msgs == c.end()) return Status::invalid_argument(cw + ": missing 'messages'");
        KASTEN_RETURN_IF_ERROR(parse_messages(*msgs, cw + ".messages", &conv.messages));
        out->push_back(std::move(conv));
    }
    return Status::ok();
}

Status parse_item(const json& j, const std::string& where, ConvoMemItem* item, std::vector<ConvoMemConversation>* own) {
    if (!j.is_object()) return Status::invalid_argument(where + " is not an object");
    auto q = j.find("question");
    if (q == j.end() || !q->is_string()) return Status::invalid_argument(where + ": missing string 'question'");
    item->question = q->get<std::string>();
    if (auto a = j.find("answer"); a != j.end()) item->answer = scalar_text(*a);
    if (auto c = j.find("category"); c != j.end()) item->category = scalar_text(*c);
    if (auto ev = j.find("message_evidences"); ev != j.end()) {
        KASTEN_RETURN_IF_ERROR(parse_messages(*ev, where + ".message_evidences", &item->evidence));
    }
    if (own) {
        if (auto c = j.find("conversations"); c != j.end()) {
            KASTEN_RETURN_IF_ERROR(parse_conversations(*c, where + ".conversations", own));
        }
    }
    return Status::ok();
}

Status parse_test_case(const json& j, const std::string& where, ConvoMemTestCase* tc) {
    auto items = j.find("evidenceItems");
    if (items == j.end() || !items->is_array())
        return Status::invalid_argument(where + ": missing list 'evidenceItems'");
    auto convs = j.find("conversations");
    if (convs == j.end()) return Status::invalid_argument(where + ": missing 'conversations'");
    KASTEN_RETURN_IF_ERROR(parse_conversations(*convs, where + ".conversations", &tc->conversations));
    if (auto cs = j.find("contextSize"); cs != j.end() && cs->is_number_integer()) {
        tc->context_size = cs->get<int>();
    } else {
        tc->context_size = static_cast<int>(tc->conversations.size());
    }
    for (size_t i = 0; i < items->size(); ++i) {
        ConvoMemItem item;
        KASTEN_RETURN_IF_ERROR(
            parse_item((*items)[i], where + ".evidenceItems[" + std::to_string(i) + "]", &item, nullptr));
        tc->items.push_back(std::move(item));
    }
    locate_convomem_evidence(tc);
    return Status::ok();
}

std::string collapse_spaces(std::string_view s) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !out.empty();
        } else {
            if (space) out.push_back(' ');
            space = false;
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace

void locate_convomem_evidence(ConvoMemTestCase* tc) {
    std::unordered_map<std::string, std::vector<std::pair<int, int>>> exact, collapsed;
    for (size_t c = 0; c < tc->conversations.size(); ++c) {
        const auto& msgs = tc->conversations[c].messages;
        for (size_t m = 0; m < msgs.size(); ++m) {
            const auto pos = std::make_pair(static_cast<int>(c), static_cast<int>(m));
            exact[msgs[m].text].push_back(pos);
            collapsed[collapse_spaces(msgs[m].text)].push_back(pos);
        }
    }
    auto pick = [&](const std::vector<std::pair<int, int>>& candidates, const std::string& speaker) {
        for (const auto& p : candidates) {
            if (tc->conversations[static_cast<size_t>(p.first)].messages[static_cast<size_t>(p.second)].speaker ==
                speaker) {
                return p;
            }
        }
        return candidates.front();
    };
    for (auto& item : tc->items) {
        item.evidence_positions.clear();
        for (const auto& ev : item.evidence) {
            std::optional<std::pair<int, int>> found;
            if (auto it = exact.find(ev.text); it != exact.end()) {
                found = pick(it->second, ev.speaker);
            } else if (auto it2 = collapsed.find(collapse_spaces(ev.text)); it2 != collapsed.end()) {
                found = pick(it2->second, ev.speaker);
            } else {
                const std::string needle = collapse_spaces(ev.text);
                if (needle.size() >= 20) {
                    for (size_t c = 0; c < tc->conversations.size() && !found; ++c) {
                        const auto& msgs = tc->conversations[c].messages;
                        for (size_t m = 0; m < msgs.size(); ++m) {
                            if (collapse_spaces(msgs[m].text).find(needle) != std::string::npos) {
                                found = std::make_pair(static_cast<int>(c), static_cast<int>(m));
                                break;
                            }
                        }
                    }
                }
            }
            item.evidence_positions.push_back(found);
        }
    }
}

Result<std::vector<ConvoMemTestCase>> parse_convomem_json(const std::string& json_text, const std::string& source,
                                                          const std::string& label) {
    json root;
    try {
        root = json::parse(json_text);
    } catch (const json::exception& e) {
        return Status::invalid_argument(source + " is not valid JSON: " + e.what());
    }
    std::vector<ConvoMemTestCase> out;
    auto add_case = [&](const json& j, const std::string& where) -> Status {
        ConvoMemTestCase tc;
        tc.source = where;
        tc.label = label;
        KASTEN_RETURN_IF_ERROR(parse_test_case(j, where, &tc));
        out.push_back(std::move(tc));
        return Status::ok();
    };
    auto add_items = [&](const json& items, const std::string& where) -> Status {
        if (!items.is_array()) return Status::invalid_argument(where + " is not a list of evidence items");
        for (size_t i = 0; i < items.size(); ++i) {
            ConvoMemTestCase tc;
            tc.source = source + "#" + std::to_string(i);
            tc.label = label;
            ConvoMemItem item;
            KASTEN_RETURN_IF_ERROR(
                parse_item(items[i], where + "[" + std::to_string(i) + "]", &item, &tc.conversations));
            tc.context_size = static_cast<int>(tc.conversations.size());
            tc.items.push_back(std::move(item));
            locate_convomem_evidence(&tc);
            out.push_back(std::move(tc));
        }
        return Status::ok();
    };
    if (root.is_object() && root.contains("evidenceItems")) {
        KASTEN_RETURN_IF_ERROR(add_case(root, source));
    } else if (root.is_object() && root.contains("evidence_items")) {
        KASTEN_RETURN_IF_ERROR(add_items(root["evidence_items"], source + ": evidence_items"));
    } else if (root.is_array()) {
        for (size_t i = 0; i < root.size(); ++i) {
            const json& e = root[i];
            if (e.is_object() && e.contains("evidenceItems")) {
                KASTEN_RETURN_IF_ERROR(add_case(e, source + "#" + std::to_string(i)));
            } else if (e.is_object() && e.contains("question")) {
                KASTEN_RETURN_IF_ERROR(add_items(json::array({e}), source + "[" + std::to_string(i) + "]"));
                out.back().source = source + "#" + std::to_string(i);
            } else {
                return Status::invalid_argument(source + "[" + std::to_string(i) +
                                                "] is neither a test case nor an evidence item");
            }
        }
    } else {
        return Status::invalid_argument(source + " has neither 'evidenceItems' nor 'evidence_items'");
    }
    return out;
}

Result<std::vector<ConvoMemTestCase>> parse_convomem_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::not_found("cannot open '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return Status::io_error("reading '" + path + "' failed");
    const std::filesystem::path p(path);
    return parse_convomem_json(ss.str(), path, p.parent_path().filename().string());
}

Result<std::vector<ConvoMemTestCase>> load_convomem(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(path, ec)) return parse_convomem_file(path);
    std::vector<std::string> files;
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().extension() == ".json") files.push_back(it->path().string());
    }
    if (ec) return Status::io_error("listing '" + path + "' failed: " + ec.message());
    if (files.empty()) return Status::not_found("no .json files under '" + path + "'");
    std::sort(files.begin(), files.end());
    std::vector<ConvoMemTestCase> all;
    for (const auto& f : files) {
        KASTEN_ASSIGN_OR_RETURN(auto cases, parse_convomem_file(f));
        for (auto& c : cases) all.push_back(std::move(c));
    }
    return all;
}

}  // namespace kasten::eval
