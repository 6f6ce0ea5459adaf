#include "common/timestamp.h"

#include <cctype>
#include <cstdio>

namespace kasten {
namespace {

struct Cursor {
    std::string_view s;
    size_t i = 0;
    bool done() const { return i >= s.size(); }
    char peek() const { return done() ? '\0' : s[i]; }
    bool eat(char c) {
        if (peek() == c) {
            ++i;
            return true;
        }
        return false;
    }
    // Reads exactly n digits.
    bool digits(int n, int* out) {
        int v = 0;
        for (int k = 0; k < n; ++k) {
            if (done() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
            v = v * 10 + (s[i++] - '0');
        }
        *out = v;
        return true;
    }
    void skip_spaces() {
        while (!done() && s[i] == ' ') ++i;
    }
};

int days_in_month(int y, int m) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : kDays[m - 1];
}

Status bad(std::string_view text, const char* why) {
    return Status::invalid_argument("invalid timestamp '" + std::string(text.substr(0, 64)) + "': " + why);
}

}  // namespace

long long days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long long>(doe) - 719468;
}

Result<TimeMs> parse_timestamp(std::string_view text) {
    if (text.empty()) return bad(text, "empty");
    if (text.size() > 64) return bad(text, "too long");
    bool all_digits = true;
    for (char c : text) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
    if (all_digits) {
        if (text.size() > 15) return bad(text, "epoch milliseconds out of range");
        TimeMs v = 0;
        for (char c : text) v = v * 10 + (c - '0');
        return v;
    }
    Cursor c{text};
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
    if (!c.digits(4, &year)) return bad(text, "expected a 4-digit year");
    char sep = c.peek();
    if (sep != '-' && sep != '/') return bad(text, "expected '-' or '/' after the year");
    ++c.i;
    if (!c.digits(2, &month) || !c.eat(sep) || !c.digits(2, &day)) return bad(text, "expected month and day");
    if (month < 1 || month > 12) return bad(text, "month out of range");
    if (day < 1 || day > days_in_month(year, month)) return bad(text, "day out of range");
    if (sep == '/') {
        // LongMemEval: "2023/05/30 (Tue) 23:40"
        c.skip_spaces();
        if (c.eat('(')) {
            while (!c.done() && c.peek() != ')') ++c.i;
            if (!c.eat(')')) return bad(text, "unclosed weekday");
        }
        c.skip_spaces();
    } else if (!c.done()) {
        if (!c.eat('T') && !c.eat(' ')) return bad(text, "expected 'T' or ' ' before the time");
    }
    int offset_minutes = 0;
    if (!c.done()) {
        if (!c.digits(2, &hour) || !c.eat(':') || !c.digits(2, &minute)) return bad(text, "expected hh:mm");
        if (c.eat(':')) {
            if (!c.digits(2, &second)) return bad(text, "expected seconds");
            if (c.eat('.')) {
                int ndig = 0;
                int frac = 0;
                while (!c.done() && std::isdigit(static_cast<unsigned char>(c.peek()))) {
                    if (ndig < 3) frac = frac * 10 + (c.peek() - '0');
                    ++ndig;
                    ++c.i;
                }
                if (ndig == 0) return bad(text, "expected fraction digits");
                for (int k = ndig; k < 3; ++k) frac *= 10;
                millis = frac;
            }
        }
        if (hour > 23 || minute > 59 || second > 60) return bad(text, "time out of range");
        if (c.eat('Z') || c.eat('z')) {
        } else if (c.peek() == '+' || c.peek() == '-') {
            int sign = c.peek() == '+' ? 1 : -1;
            ++c.i;
            int oh = 0, om = 0;
            if (!c.digits(2, &oh)) return bad(text, "bad UTC offset");
            c.eat(':');
            if (!c.done() && !c.digits(2, &om)) return bad(text, "bad UTC offset");
            if (oh > 23 || om > 59) return bad(text, "UTC offset out of range");
            offset_minutes = sign * (oh * 60 + om);
        }
    }
    c.skip_spaces();
    if (!c.done()) return bad(text, "unexpected trailing characters");
    long long days = days_from_civil(year, month, day);
    long long secs = days * 86400LL + hour * 3600LL + minute * 60LL + second - offset_minutes * 60LL;
    return static_cast<TimeMs>(secs * 1000LL + millis);
}

std::string format_timestamp(TimeMs t) {
    long long ms = t % 1000;
    long long secs = t / 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    long long days = secs / 86400;
    long long rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    // civil_from_days
    days += 719468;
    const long long era = (days >= 0 ? days : days - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = static_cast<long long>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    char buf[48];
    if (ms != 0) {
        std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", y, m, d, rem / 3600,
                      (rem / 60) % 60, rem % 60, ms);
    } else {
        std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", y, m, d, rem / 3600, (rem / 60) % 60,
                      rem % 60);
    }
    return buf;
}

}  // namespace kasten
