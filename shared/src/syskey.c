/*
 * System keys (syskey.h): making one, telling one from a session token,
 * hashing it for storage, and scope names. Pure but for syskey_new().
 */
#include <string.h>
#include <sodium.h>
#include "itgov/crypto.h"
#include "itgov/syskey.h"

static const struct {
    const char *name;
    unsigned bit;
} s_scopes[] = {
    {"metrics", SYSKEY_SCOPE_METRICS},
    {"log_digests", SYSKEY_SCOPE_LOG_DIGESTS},
    {"config", SYSKEY_SCOPE_CONFIG},
};

void syskey_new(char out[SYSKEY_LEN + 1])
{
    unsigned char raw[SYSKEY_RANDOM_BYTES];
    randombytes_buf(raw, sizeof raw);
    memcpy(out, SYSKEY_PREFIX, SYSKEY_PREFIX_LEN);
    sodium_bin2base64(out + SYSKEY_PREFIX_LEN, SYSKEY_LEN + 1 - SYSKEY_PREFIX_LEN, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

bool syskey_has_prefix(const char *token)
{
    return token && strncmp(token, SYSKEY_PREFIX, SYSKEY_PREFIX_LEN) == 0;
}

bool syskey_well_formed(const char *token)
{
    if (!syskey_has_prefix(token) || strlen(token) != SYSKEY_LEN) return false;
    const char *b64 = token + SYSKEY_PREFIX_LEN;
    size_t n = SYSKEY_LEN - SYSKEY_PREFIX_LEN, used = 0;
    if (strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != n)
        return false;
    unsigned char raw[SYSKEY_RANDOM_BYTES];
    const char *end = NULL;
    if (sodium_base642bin(raw, sizeof raw, b64, n, NULL, &used, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        used != sizeof raw || end != b64 + n)
        return false;
    /* canonical: the last character carries no stray low bits */
    char again[SYSKEY_LEN + 1];
    sodium_bin2base64(again, sizeof again, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    bool same = strcmp(again, b64) == 0;
    sodium_memzero(again, sizeof again);
    return same;
}

void syskey_hash(const char *key, char out[65])
{
    sha256_hex(key, strlen(key), out);
}

unsigned syskey_scope_bit(const char *name)
{
    for (size_t i = 0; name && i < sizeof s_scopes / sizeof s_scopes[0]; i++)
        if (strcmp(s_scopes[i].name, name) == 0) return s_scopes[i].bit;
    return 0;
}

unsigned syskey_scopes_parse(const char *csv)
{
    unsigned bits = 0;
    while (csv && *csv) {
        size_t len = strcspn(csv, ",");
        char name[32];
        if (len < sizeof name) {
            memcpy(name, csv, len);
            name[len] = '\0';
            bits |= syskey_scope_bit(name);
        }
        csv += len;
        if (*csv == ',') csv++;
    }
    return bits;
}
