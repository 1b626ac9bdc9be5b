/* System keys (syskey.h): the format made and the only one accepted. */
#include <stdlib.h>
#include <sodium.h>
#include "check.h"
#include "itgov/syskey.h"

static void s_test_new(void)
{
    char a[SYSKEY_LEN + 1], b[SYSKEY_LEN + 1];
    syskey_new(a);
    syskey_new(b);
    CHECK(strlen(a) == SYSKEY_LEN && strlen(b) == SYSKEY_LEN);
    CHECK(strncmp(a, "itgk_", 5) == 0);
    CHECK(strcmp(a, b) != 0);
    CHECK(syskey_well_formed(a) && syskey_well_formed(b));
    CHECK(syskey_has_prefix(a));
    for (int i = 0; i < 200; i++) { /* every key made is accepted */
        syskey_new(a);
        CHECK(syskey_well_formed(a));
    }
}

static void s_test_format(void)
{
    /* 32 zero bytes, and 32 bytes 0xff */
    const char *zero = "itgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const char *ones = "itgk___________________________________________8";
    CHECK(syskey_well_formed(zero));
    CHECK(syskey_well_formed(ones));
    /* a stray low bit in the last character: not the canonical form */
    CHECK(!syskey_well_formed("itgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"));
    CHECK(!syskey_well_formed("itgk____________________________________________"));
    /* lengths, prefix, alphabet, padding */
    CHECK(!syskey_well_formed(NULL));
    CHECK(!syskey_well_formed(""));
    CHECK(!syskey_well_formed("itgk_"));
    CHECK(!syskey_well_formed("itgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    CHECK(!syskey_well_formed("itgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    CHECK(!syskey_well_formed("ITGK_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    CHECK(!syskey_well_formed("itgx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    CHECK(!syskey_well_formed("itgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    CHECK(!syskey_well_formed("itgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"));
    CHECK(!syskey_well_formed("itgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/"));
    CHECK(!syskey_well_formed("itgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA A"));
    CHECK(!syskey_well_formed(" itgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    /* a session token (64 hex) is never a key, nor meant as one */
    const char *session = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    CHECK(!syskey_has_prefix(session) && !syskey_well_formed(session));
    CHECK(syskey_has_prefix("itgk_x") && !syskey_well_formed("itgk_x"));
    CHECK(!syskey_has_prefix(NULL) && !syskey_has_prefix("itg"));
}

static void s_test_hash_and_scopes(void)
{
    char h[65];
    syskey_hash("itgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", h);
    CHECK(strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64);
    char again[65];
    syskey_hash("itgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", again);
    CHECK_STR(h, again);
    syskey_hash("itgk___________________________________________8", again);
    CHECK(strcmp(h, again) != 0);
    /* sha256("abc") */
    syskey_hash("abc", h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    CHECK(syskey_scope_bit("metrics") == SYSKEY_SCOPE_METRICS);
    CHECK(syskey_scope_bit("Metrics") == 0 && syskey_scope_bit("") == 0 &&
          syskey_scope_bit(NULL) == 0);
    CHECK(syskey_scopes_parse("metrics") == SYSKEY_SCOPE_METRICS);
    CHECK(syskey_scopes_parse("nope,metrics,") == SYSKEY_SCOPE_METRICS);
    CHECK(syskey_scopes_parse("") == 0 && syskey_scopes_parse(NULL) == 0);
    CHECK(syskey_scopes_parse("metricsx") == 0);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    s_test_new();
    s_test_format();
    s_test_hash_and_scopes();
    return check_done();
}
