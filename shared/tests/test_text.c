#include <limits.h>
#include "check.h"
#include "itgov/text.h"

static bool is_int(const char *s, long long min, long long max, long long want)
{
    long long v = -7;
    return text_to_int(s, min, max, &v) && v == want;
}

static bool not_int(const char *s, long long min, long long max)
{
    long long v = -7;
    return !text_to_int(s, min, max, &v) && v == -7;
}

int main(void)
{
    /* UTF-8 */
    CHECK(utf8_valid("plain", 5));
    CHECK(!utf8_valid("\xff", 1));
    CHECK(!utf8_valid("\xc0\xaf", 2));
    CHECK(!utf8_valid("\xed\xa0\x80", 3));

    /* canonical integers */
    CHECK(is_int("0", 0, 10, 0));
    CHECK(is_int("7", 0, 10, 7));
    CHECK(is_int("9223372036854775807", 1, LLONG_MAX, LLONG_MAX));
    CHECK(is_int("-9223372036854775808", LLONG_MIN, 0, LLONG_MIN));
    CHECK(is_int("-5", -10, 10, -5));
    CHECK(not_int("9223372036854775808", 1, LLONG_MAX));  /* 2^63 */
    CHECK(not_int("99999999999999999999", 1, LLONG_MAX)); /* 20 digits */
    CHECK(not_int("-9223372036854775809", LLONG_MIN, 0));
    CHECK(not_int("01", 0, 10));
    CHECK(not_int("00", 0, 10));
    CHECK(not_int("-0", -10, 10));
    CHECK(not_int("1abc", 0, 10));
    CHECK(not_int("+1", 0, 10));
    CHECK(not_int(" 1", 0, 10));
    CHECK(not_int("1 ", 0, 10));
    CHECK(not_int("", 0, 10));
    CHECK(not_int("-", -10, 10));
    CHECK(not_int(NULL, 0, 10));
    CHECK(not_int("11", 0, 10)); /* out of range: refused, not clamped */
    CHECK(not_int("0", 1, 10));
    CHECK(not_int("1e3", 0, 10000));
    CHECK(not_int("0x10", 0, 100));

    /* dates: real days in 1900..2200 */
    CHECK(text_is_date("2026-01-31"));
    CHECK(text_is_date("2024-02-29"));
    CHECK(text_is_date("2000-02-29"));
    CHECK(text_is_date("1900-01-01"));
    CHECK(text_is_date("2200-12-31"));
    CHECK(!text_is_date("1900-02-29")); /* not a leap year */
    CHECK(!text_is_date("2025-02-29"));
    CHECK(!text_is_date("2026-02-30"));
    CHECK(!text_is_date("2026-04-31"));
    CHECK(!text_is_date("2026-13-01"));
    CHECK(!text_is_date("2026-00-10"));
    CHECK(!text_is_date("2026-01-00"));
    CHECK(!text_is_date("0000-01-01"));
    CHECK(!text_is_date("1899-12-31"));
    CHECK(!text_is_date("2201-01-01"));
    CHECK(!text_is_date("+201-01-01"));
    CHECK(!text_is_date(" 201-01-01"));
    CHECK(!text_is_date("2026-1-011"));
    CHECK(!text_is_date("2026-01-01x"));
    CHECK(!text_is_date("2026-01-0"));
    CHECK(!text_is_date(""));
    CHECK(!text_is_date(NULL));

    /* instants */
    CHECK(text_is_instant("2026-01-31T08:00:00Z"));
    CHECK(text_is_instant("2026-01-31t23:59:59.123456789z"));
    CHECK(text_is_instant("2026-01-31T08:00:00+08:00"));
    CHECK(text_is_instant("2026-01-31T08:00:00-14:59"));
    CHECK(!text_is_instant("2026-02-30T00:00:00Z"));
    CHECK(!text_is_instant("2026-01-31T24:00:00Z"));
    CHECK(!text_is_instant("2026-01-31T23:60:00Z"));
    CHECK(!text_is_instant("2026-01-31T23:59:60Z"));
    CHECK(!text_is_instant("2026-01-31T08:00:00"));
    CHECK(!text_is_instant("2026-01-31T08:00:00.Z"));
    CHECK(!text_is_instant("2026-01-31T08:00:00.1234567890Z"));
    CHECK(!text_is_instant("2026-01-31T08:00:00+15:00"));
    CHECK(!text_is_instant("2026-01-31T08:00:00+08:60"));
    CHECK(!text_is_instant("2026-01-31T08:00:00+08"));
    CHECK(!text_is_instant("2026-01-31T08:00:00Zx"));
    CHECK(!text_is_instant("2026-01-31 08:00:00Z"));
    CHECK(!text_is_instant("0000-01-01T00:00:00Z"));
    CHECK(!text_is_instant("2026-01-31"));
    CHECK(!text_is_instant(NULL));
    return check_done();
}
