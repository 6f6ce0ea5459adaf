#include "eval/locomo_date_time.h"

#include <array>
#include <cctype>
#include <string>

#include "common/timestamp.h"

namespace kasten::eval {

namespace {

class Scanner {
  public:
    explicit Scanner(std::string_view s) : s_(s) {}
    void skip_spaces() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    bool number(int max_digits, int* out) {
        size_t start = i_;
        int v = 0;
        while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])) &&
               i_ - start < static_cast<size_t>(max_digits)) {
            v = v * 10 + (s_[i_] - '0');
            ++i_;
        }
        if (i_ == start) return false;
        *out = v;
        return true;
    }
    bool literal(char c) {
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    std::string word() {
        std::string w;
        while (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_]))) {
            w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s_[i_]))));
            ++i_;
        }
        return w;
    }
    bool at_end() const { return i_ == s_.size(); }

  private:
    std::string_view s_;
    size_t i_ = 0;
};

int month_number(const std::string& w) {
    static const std::array<const char*, 12> kMonths = {"january",   "february", "march",    "april",
                                                        "may",       "june",     "july",     "august",
                                                        "september", "october",  "november", "december"};
    for (int m = 0; m < 12; ++m) {
        const std::string full = kMonths[static_cast<size_t>(m)];
        if (w == full || (w.size() == 3 && full.compare(0, 3, w) == 0) || (w == "sept" && m == 8)) return m + 1;
    }
    return 0;
}

bool leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
    static const std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : kDays[static_cast<size_t>(m - 1)];
}

}  // namespace

Result<TimeMs> parse_locomo_date_time(std::string_view text) {
    auto bad = [&] {
        return Status::invalid_argument("not a LoCoMo date_time (\"1:56 pm on 8 May, 2023\"): '" + std::string(text) +
                                        "'");
    };
    Scanner sc(text);
    int hour = 0, minute = 0, day = 0, year = 0;
    sc.skip_spaces();
    if (!sc.number(2, &hour) || !sc.literal(':') || !sc.number(2, &minute)) return bad();
    sc.skip_spaces();
    const std::string ampm = sc.word();
    if (ampm != "am" && ampm != "pm") return bad();
    sc.skip_spaces();
    if (sc.word() != "on") return bad();
    sc.skip_spaces();
    if (!sc.number(2, &day)) return bad();
    sc.skip_spaces();
    const int month = month_number(sc.word());
    if (month == 0) return bad();
    sc.skip_spaces();
    sc.literal(',');
    sc.skip_spaces();
    if (!sc.number(4, &year)) return bad();
    sc.skip_spaces();
    if (!sc.at_end()) return bad();
    if (hour < 1 || hour > 12 || minute > 59 || day < 1 || day > days_in_month(year, month)) return bad();
    const int h24 = (hour % 12) + (ampm == "pm" ? 12 : 0);
    const long long days = days_from_civil(year, month, day);
    return static_cast<TimeMs>(((days * 24 + h24) * 60 + minute) * 60 * 1000);
}

}  // namespace kasten::eval
