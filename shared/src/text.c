/*
 * The text rules (text.h): UTF-8, canonical integers, dates and instants.
 * Pure functions: they read their argument and nothing else.
 */
#include <limits.h>
#include <string.h>
#include "itgov/text.h"

bool utf8_valid(const char *buf, size_t len)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return false;
        }
        if (i + n >= len) return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            c = (c << 6) | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
        i += n + 1;
    }
    return true;
}

static bool s_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool text_to_int(const char *s, long long min, long long max, long long *out)
{
    if (!s) return false;
    bool neg = *s == '-';
    const char *p = neg ? s + 1 : s;
    if (!s_digit(*p) || (p[0] == '0' && p[1] != '\0') || (neg && p[0] == '0')) return false;
    unsigned long long limit =
        neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
    unsigned long long u = 0;
    for (; *p; p++) {
        if (!s_digit(*p)) return false;
        unsigned d = (unsigned)(*p - '0');
        if (u > (limit - d) / 10) return false;
        u = u * 10 + d;
    }
    long long v = !neg ? (long long)u : u == limit ? LLONG_MIN : -(long long)u;
    if (v < min || v > max) return false;
    *out = v;
    return true;
}

/* n digits at s, as a number in [lo, hi]; -1 if not. */
static int s_num(const char *s, int n, int lo, int hi)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!s_digit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= lo && v <= hi ? v : -1;
}

/* The date at s[0..10) without looking past it. */
static bool s_date_at(const char *s)
{
    int y = s_num(s, 4, TEXT_YEAR_MIN, TEXT_YEAR_MAX);
    if (y < 0 || s[4] != '-' || s[7] != '-') return false;
    int m = s_num(s + 5, 2, 1, 12), d = s_num(s + 8, 2, 1, 31);
    if (m < 0 || d < 0) return false;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] && !(m == 2 && d == 29 && !leap);
}

bool text_is_date(const char *s)
{
    return s && strnlen(s, 11) == 10 && s_date_at(s);
}

bool text_is_instant(const char *s)
{
    if (!s || strnlen(s, 20) < 20 || !s_date_at(s) || (s[10] != 'T' && s[10] != 't')) return false;
    if (s_num(s + 11, 2, 0, 23) < 0 || s[13] != ':' || s_num(s + 14, 2, 0, 59) < 0 ||
        s[16] != ':' || s_num(s + 17, 2, 0, 59) < 0)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        int n = 0;
        for (p++; s_digit(*p); p++)
            n++;
        if (n < 1 || n > 9) return false;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') return true;
    return (*p == '+' || *p == '-') && s_num(p + 1, 2, 0, 14) >= 0 && p[3] == ':' &&
           s_num(p + 4, 2, 0, 59) >= 0 && p[6] == '\0';
}

long long text_civil_days(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}
