/*
 * The hash chain and the shape checks of incoming events; no I/O, so the
 * unit tests and the verify endpoint share one definition of an entry hash.
 */
#include <ctype.h>
#include <string.h>
#include <sodium.h>
#include "chain.h"
#include "itgov/crypto.h"

static int s_hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool chain_unhex32(const char *hex, unsigned char out[32])
{
    if (!hex || strlen(hex) != 64) return false;
    for (int i = 0; i < 32; i++) {
        int hi = s_hexval((unsigned char)hex[2 * i]), lo = s_hexval((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

bool chain_hash(const char *prev_hex, const char *cloudevent, size_t len, char out[65])
{
    unsigned char prev[32], h[32];
    if (!chain_unhex32(prev_hex, prev)) return false;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, prev, sizeof prev);
    crypto_hash_sha256_update(&st, (const unsigned char *)cloudevent, len);
    crypto_hash_sha256_final(&st, h);
    hex_encode(h, sizeof h, out);
    return true;
}

bool chain_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : s_hexval((unsigned char)s[i]) < 0) return false;
    }
    return true;
}

static bool s_digits(const char *s, int n, int min, int max)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    return v >= min && v <= max;
}

bool chain_is_rfc3339(const char *s)
{
    if (!s || strlen(s) < 20) return false;
    if (!s_digits(s, 4, 1, 9999) || s[4] != '-' || !s_digits(s + 5, 2, 1, 12) || s[7] != '-' ||
        !s_digits(s + 8, 2, 1, 31) || (s[10] != 'T' && s[10] != 't') ||
        !s_digits(s + 11, 2, 0, 23) || s[13] != ':' || !s_digits(s + 14, 2, 0, 59) ||
        s[16] != ':' || !s_digits(s + 17, 2, 0, 60))
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        int n = 0;
        for (p++; isdigit((unsigned char)*p); p++)
            n++;
        if (n < 1 || n > 9) return false;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') return true;
    return (*p == '+' || *p == '-') && s_digits(p + 1, 2, 0, 23) && p[3] == ':' &&
           s_digits(p + 4, 2, 0, 59) && p[6] == '\0';
}
