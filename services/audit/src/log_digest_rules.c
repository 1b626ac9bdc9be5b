/*
 * The pure rules of log digests (issue 14 B, log_digests.c): what a log or
 * segment name may hold, and instants compared as points in time (an offset
 * other than Z is applied), so first_entry_at <= last_entry_at is checked
 * before anything reaches the database. Unit tests: tests/test_log_digest_rules.c.
 */
#include <stdbool.h>
#include "itgov/text.h"
#include "systems.h"

bool log_digest_name_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!*p) return false;
    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) return false;
        if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) return false; /* C1 controls */
    }
    return true;
}

static int s_num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

long long log_digest_instant_ns(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM), as text_is_instant accepts */
    long long days = text_civil_days(s_num(s, 4), s_num(s + 5, 2), s_num(s + 8, 2));
    long long secs =
        days * 86400 + s_num(s + 11, 2) * 3600LL + s_num(s + 14, 2) * 60LL + s_num(s + 17, 2);
    const char *p = s + 19;
    long long ns = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            ns = ns * 10 + (*p - '0');
        for (; digits < 9; digits++)
            ns *= 10;
    }
    if (*p == '+' || *p == '-') {
        long long off = s_num(p + 1, 2) * 3600LL + s_num(p + 4, 2) * 60LL;
        secs += *p == '+' ? -off : off;
    }
    return secs * 1000000000LL + ns;
}
