#include <stdlib.h>
#include <sodium.h>
#include "check.h"
#include "itgov/session.h"

/* The session record's MAC: every field it covers changes it, the key
 * changes it, a malformed or missing MAC never passes. */
static void s_test_mac(void)
{
    unsigned char key[SESSION_MAC_KEY_BYTES], other[SESSION_MAC_KEY_BYTES];
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    CHECK(session_mac_key_parse(hex, key));
    CHECK(key[0] == 0 && key[31] == 0x1f);
    CHECK(!session_mac_key_parse(NULL, other));
    CHECK(!session_mac_key_parse("0011", other));
    CHECK(!session_mac_key_parse("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                                 other));
    CHECK(session_mac_key_parse("ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                                other));

    const char *user = "{\"id\":7,\"roles\":[\"applicant\"],\"department_id\":3}";
    struct session_record rec = {"ab12", "12", "7", user, "2030-01-01T00:00:00Z"};
    char mac[65], again[65];
    session_mac(key, &rec, mac);
    CHECK(strlen(mac) == 64 && strspn(mac, "0123456789abcdef") == 64);
    session_mac(key, &rec, again);
    CHECK_STR(mac, again);
    CHECK(session_mac_ok(key, &rec, mac));
    CHECK(!session_mac_ok(other, &rec, mac));
    CHECK(!session_mac_ok(key, &rec, NULL));
    CHECK(!session_mac_ok(key, &rec, ""));
    CHECK(!session_mac_ok(key, &rec,
                          "not hex at all, but exactly sixty-four characters long.........."));
    char upper[65];
    memcpy(upper, mac, sizeof upper);
    upper[0] = upper[0] == '0' ? '1' : '0';
    CHECK(!session_mac_ok(key, &rec, upper));
    upper[0] = mac[0];
    upper[63] = 0;
    CHECK(!session_mac_ok(key, &rec, upper)); /* truncated */

    /* each covered field, changed */
    struct session_record c;
    c = rec, c.token_hash = "ab13";
    CHECK(!session_mac_ok(key, &c, mac));
    c = rec, c.sid = "13";
    CHECK(!session_mac_ok(key, &c, mac));
    c = rec, c.uid = "8";
    CHECK(!session_mac_ok(key, &c, mac));
    c = rec, c.user_json = "{\"id\":7,\"roles\":[\"admin\"],\"department_id\":3}";
    CHECK(!session_mac_ok(key, &c, mac));
    c = rec, c.expires_at = "2031-01-01T00:00:00Z";
    CHECK(!session_mac_ok(key, &c, mac));
    /* fields are length-prefixed: moving a boundary changes the MAC */
    struct session_record a = {"ab", "112", "7", user, rec.expires_at};
    struct session_record b = {"ab1", "12", "7", user, rec.expires_at};
    char ma[65], mb[65];
    session_mac(key, &a, ma);
    session_mac(key, &b, mb);
    CHECK(strcmp(ma, mb) != 0);

    /* it is HMAC-SHA256 under the key over "<length>:<field>" of each */
    char msg[512], want[65];
    int n = snprintf(msg, sizeof msg, "15:itgov-session-14:ab122:121:7%zu:%s20:%s", strlen(user),
                     user, rec.expires_at);
    unsigned char raw[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, sizeof key);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, (unsigned long long)n);
    crypto_auth_hmacsha256_final(&st, raw);
    sodium_bin2hex(want, sizeof want, raw, sizeof raw);
    CHECK_STR(mac, want);

    CHECK(session_init(hex));
    char signed_mac[65]; /* the writer's MAC: under the key session_init took */
    session_sign(&rec, signed_mac);
    CHECK_STR(signed_mac, mac);
    CHECK(!session_init("short"));
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    s_test_mac();
    CHECK(role_bit("admin") == ROLE_ADMIN);
    CHECK(role_bit("auditor") == ROLE_AUDITOR);
    CHECK(role_bit("it_office") == ROLE_IT_OFFICE);
    CHECK(role_bit("root") == 0);

    struct principal *p = principal_from_json(
        "12", "{\"id\":7,\"department_id\":3,\"roles\":[\"applicant\",\"expert\",\"bogus\"],"
              "\"disabled\":false}");
    CHECK(p != NULL);
    if (p) {
        CHECK(p->id == 7 && p->department_id == 3);
        CHECK(p->roles == (ROLE_APPLICANT | ROLE_EXPERT));
        CHECK_STR(p->sid, "12");
    }
    principal_destroy(&p);
    CHECK(p == NULL);
    CHECK(principal_from_json("1", "{\"id\":7,\"roles\":[\"admin\"],\"disabled\":true}") == NULL);
    CHECK(principal_from_json("1", "not json") == NULL);
    CHECK(principal_from_json("1", "{\"roles\":[]}") == NULL);
    return check_done();
}
