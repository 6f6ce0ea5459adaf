#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace kasten::eval {

// One turn of a LoCoMo session.
struct LocomoTurn {
    std::string speaker;
    std::string dia_id;  // "D<session>:<turn>", 1-based, as written in the file
    std::string text;
    std::string blip_caption;  // image turns only
};

// One session: `session_<number>` with its `session_<number>_date_time`.
struct LocomoSession {
    int number = 0;         // 1-based, from the key
    std::string date_time;  // "1:56 pm on 8 May, 2023"
    TimeMs time = 0;        // date_time parsed (UTC)
    std::vector<LocomoTurn> turns;
};

// One question of a sample's `qa` list.
struct LocomoQuestion {
    int index = 0;  // position in the sample's qa list
    std::string question;
    std::string answer;                 // str(answer) as the official code sees it ("2022" for 2022); "" when absent
    std::string adversarial_answer;     // category 5 only
    std::vector<std::string> evidence;  // dia_ids as written (a few entries in the wild are not single dia_ids)
    int category = 0;                   // official id 1..5 (see locomo_category_name)
};

// One LoCoMo sample (a conversation between two speakers with its questions), REFERENCE.md §1.2.
struct LocomoSample {
    std::string sample_id;
    std::string speaker_a;
    std::string speaker_b;
    std::vector<LocomoSession> sessions;  // by session number, ascending
    std::vector<LocomoQuestion> qa;
    // dia_id → (session index, turn index) for every turn.
    std::map<std::string, std::pair<int, int>> dia_index;
};

// Parses "D<session>:<turn>" (both positive integers, no spaces or leading '+'); std::nullopt otherwise.
std::optional<std::pair<int, int>> parse_locomo_dia_id(std::string_view dia_id);

// The session key of an evidence entry as the official session-level recall computes it: ev.split(':')[0][1:]
// ("D12:3" → "12"; "D8:6; D9:17" → "8").
std::string locomo_evidence_session(std::string_view evidence);

// The real meaning of a category id: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial; "unknown"
// otherwise.
const char* locomo_category_name(int category);

// Parses the official JSON (a list of samples, as locomo10.json). kInvalidArgument naming the sample and field for a
// missing or mistyped field, an unparseable date_time, or a dia_id repeated within a sample; kNotFound when the file
// cannot be opened. Never throws.
Result<std::vector<LocomoSample>> parse_locomo_file(const std::string& path);
Result<std::vector<LocomoSample>> parse_locomo_json(std::string_view json_text, const std::string& name);

}  // namespace kasten::eval
