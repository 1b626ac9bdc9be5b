/* The webhook engine's pure parts: the Standard Webhooks signature (the
 * specification's published example), secrets, backoff schedules, URLs. */
#include <stdlib.h>
#include "../../../shared/tests/check.h"
#include "audit.h"
#include "itgov/crypto.h"
#include "webhooks.h"

/* webhooks.c wants the service's settings, which main.c fills */
struct audit_config audit_cfg;

int main(void)
{
    CHECK(crypto_init());

    /* the Standard Webhooks example: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,
     * msg_p5jXN8AQM9LWM0D4loKWxJek, 1614265330, {"test": 2432232314} */
    unsigned char key[64];
    int kl = webhooks_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, sizeof key);
    CHECK(kl == 24);
    char sig[WEBHOOK_SIGNATURE_LEN];
    const char *body = "{\"test\": 2432232314}";
    webhooks_sign(key, (size_t)kl, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330LL, body, strlen(body),
                  sig);
    CHECK_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    webhooks_sign(key, (size_t)kl, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331LL, body, strlen(body),
                  sig);
    CHECK(strcmp(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") != 0);
    CHECK(webhooks_secret_key("whsec_", key, sizeof key) < 0);
    CHECK(webhooks_secret_key("whsec_not base64!", key, sizeof key) < 0);

    /* new secrets: prefix, 32-byte key, never the same twice */
    char a[WEBHOOK_SECRET_LEN], b[WEBHOOK_SECRET_LEN];
    webhooks_new_secret(a);
    webhooks_new_secret(b);
    CHECK(strncmp(a, "whsec_", 6) == 0 && strlen(a) == 50);
    CHECK(strcmp(a, b) != 0);
    CHECK(webhooks_secret_key(a, key, sizeof key) == WEBHOOK_KEY_BYTES);
    webhooks_sign(key, WEBHOOK_KEY_BYTES, "id", 1, "", 0, sig);
    CHECK(strncmp(sig, "v1,", 3) == 0 && strlen(sig) == 47);

    /* backoff schedules */
    long s[WEBHOOK_BACKOFF_MAX];
    int n = webhooks_parse_backoff(WEBHOOK_BACKOFF_DEFAULT, s);
    CHECK(n == 5 && s[0] == 5 && s[4] == 3600);
    CHECK(webhooks_backoff_delay(s, n, 1) == 5);
    CHECK(webhooks_backoff_delay(s, n, 2) == 30);
    CHECK(webhooks_backoff_delay(s, n, 3) == 120);
    CHECK(webhooks_backoff_delay(s, n, 5) == 3600);
    CHECK(webhooks_backoff_delay(s, n, 6) == 3600);
    CHECK(webhooks_backoff_delay(s, n, 1000) == 3600);
    CHECK(webhooks_backoff_delay(s, n, 0) == 5);
    CHECK(webhooks_parse_backoff("1,1,2", s) == 3 && s[2] == 2);
    CHECK(webhooks_parse_backoff(" 7 , 9 ", s) == 2 && s[0] == 7 && s[1] == 9);
    CHECK(webhooks_parse_backoff("", s) == 0);
    CHECK(webhooks_parse_backoff("1,,2", s) == 0);
    CHECK(webhooks_parse_backoff("1,2,", s) == 0);
    CHECK(webhooks_parse_backoff("0", s) == 0);
    CHECK(webhooks_parse_backoff("-5", s) == 0);
    CHECK(webhooks_parse_backoff("86401", s) == 0);
    CHECK(webhooks_parse_backoff("5s", s) == 0);
    CHECK(webhooks_parse_backoff("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", s) == 0);
    CHECK(webhooks_parse_backoff("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", s) == 16);

    /* URLs */
    struct webhook_url u;
    const char *why;
    CHECK(webhooks_parse_url("http://127.0.0.1:8099/hook?x=1", &u, &why));
    CHECK_STR(u.host, "127.0.0.1");
    CHECK(u.port == 8099);
    CHECK_STR(u.target, "/hook?x=1");
    CHECK_STR(u.host_hdr, "127.0.0.1:8099");
    CHECK(webhooks_parse_url("http://example.org", &u, &why));
    CHECK(u.port == 80);
    CHECK_STR(u.target, "/");
    CHECK_STR(u.host_hdr, "example.org");
    CHECK(webhooks_parse_url("HTTP://[::1]:9/x", &u, &why));
    CHECK_STR(u.host, "::1");
    CHECK_STR(u.host_hdr, "[::1]:9");
    CHECK(!webhooks_parse_url("https://example.org/", &u, &why) && strstr(why, "https"));
    CHECK(!webhooks_parse_url("ftp://example.org/", &u, &why) && why);
    CHECK(!webhooks_parse_url("not a url", &u, &why) && why);
    CHECK(!webhooks_parse_url("http://", &u, &why) && why);
    CHECK(!webhooks_parse_url("http://u:p@example.org/", &u, &why) && why);
    CHECK(!webhooks_parse_url("http://example.org/#frag", &u, &why) && why);
    CHECK(!webhooks_parse_url("http://example.org:99999/", &u, &why) && why);
    CHECK(!webhooks_parse_url("http://exa mple.org/", &u, &why) && why);
    return check_done();
}
