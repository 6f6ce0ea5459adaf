#include "common/timestamp.h"

#include <gtest/gtest.h>

namespace kasten {
namespace {

TEST(TimestampTest, ParsesIsoForms) {
    EXPECT_EQ(parse_timestamp("1970-01-01").value(), 0);
    EXPECT_EQ(parse_timestamp("1970-01-01T00:00:01Z").value(), 1000);
    EXPECT_EQ(parse_timestamp("1970-01-01 00:01").value(), 60000);
    EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00.5Z").value(), 500);
    EXPECT_EQ(parse_timestamp("1970-01-01T01:00:00+01:00").value(), 0);
    EXPECT_EQ(parse_timestamp("2023-05-30T23:40:00Z").value(), 1685490000000);
}

TEST(TimestampTest, ParsesLongMemEvalForm) {
    EXPECT_EQ(parse_timestamp("2023/05/30 (Tue) 23:40").value(), 1685490000000);
}

TEST(TimestampTest, RejectsGarbage) {
    for (const char* bad : {"", "yesterday", "2023-13-01", "2023-02-30", "2023-05-30T25:00", "2023-05-30Tx",
                            "2023-05-30T10:00:00Zjunk", "99999999999999999999"}) {
        auto r = parse_timestamp(bad);
        EXPECT_FALSE(r.is_ok()) << bad;
        if (!r.is_ok()) {
            EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
        }
    }
}

TEST(TimestampTest, FormatRoundTrips) {
    for (TimeMs t : {0LL, 1685490000000LL, 1685490000123LL, -86400000LL, 951782400000LL}) {
        std::string s = format_timestamp(t);
        EXPECT_EQ(parse_timestamp(s).value(), t) << s;
    }
    EXPECT_EQ(format_timestamp(1685490000000), "2023-05-30T23:40:00Z");
    EXPECT_EQ(format_timestamp(951782400000), "2000-02-29T00:00:00Z");
}

}  // namespace
}  // namespace kasten
