/* silence.c: ITGOV_ANCHOR_SILENCE_H, hours with fractions (issue 14 A). */
#include <math.h>
#include "../../../shared/tests/check.h"
#include "systems.h"

static bool s_is(const char *text, double seconds)
{
    double s = -1;
    return silence_hours_parse(text, &s) && fabs(s - seconds) < 1e-6;
}

int main(void)
{
    /* the default, whole and fractional hours */
    CHECK(s_is("26", 26 * 3600.0));
    CHECK(s_is("1", 3600.0));
    CHECK(s_is("0.5", 1800.0));
    CHECK(s_is("0.002", 7.2));
    CHECK(s_is("26.", 26 * 3600.0));
    CHECK(s_is("8760", 8760 * 3600.0));
    /* refused: empty, signs, exponents, words, spaces, two dots, zero, under
     * a second, over a year, a leading dot; *seconds untouched */
    double s = 42;
    const char *bad[] = {"",    "-1",     "+1",     "1e3", "abc", " 26", "26 ", "1..2", "0",
                         "0.0", "0.0002", "8760.1", ".5",  "nan", "inf", "26h", "0x10", "1,5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!silence_hours_parse(bad[i], &s));
    CHECK(s == 42);
    CHECK(!silence_hours_parse(NULL, &s));
    return check_done();
}
