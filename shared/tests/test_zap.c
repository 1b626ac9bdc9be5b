/* zap: Z85 keys, key lists, admission decisions, and the handler itself
 * between a CURVE PUB server and three subscribers on the loopback. */
#include <stdlib.h>
#include <time.h>
#include "check.h"
#include "itgov/log.h"
#include "itgov/zap.h"

/* Pairs made by deploy/keygen.py (test keys, used nowhere else). */
static const char *const PUB_A = "&ujMHeVX8.>v#:O+KOH8>kt+z=e:g-Tow#nj5E!P";
static const char *const PUB_B = "0dL0>ke$Pm-95jQ5:t0T(Z)2+Rl7-D08aEy@POF[";
static const char *const SEC_B = "!J[9P=<$!5C:]qCng25AK[u(4AkPTCz.Bh*n7[}$";

static void s_keys(void)
{
    unsigned char k[32];
    char back[ZAP_KEY_Z85_LEN + 1];
    CHECK(zap_key_decode(PUB_A, 40, k));
    zap_key_encode(k, back);
    CHECK_STR(back, PUB_A);
    CHECK(zap_key_valid(PUB_B));
    CHECK(!zap_key_valid(NULL));
    CHECK(!zap_key_valid(""));
    CHECK(!zap_key_valid("&ujMHeVX8.>v#:O+KOH8>kt+z=e:g-Tow#nj5E!"));   /* 39 */
    CHECK(!zap_key_valid("&ujMHeVX8.>v#:O+KOH8>kt+z=e:g-Tow#nj5E!PP")); /* 41 */
    CHECK(!zap_key_valid("&ujMHeVX8.>v#:O+KOH8>kt+z=e:g-Tow#nj5E\"P")); /* not Z85 */
    CHECK(!zap_key_valid("&ujMHeVX8.>v#:O+KOH8>kt+z=e:g-Tow#nj5E P"));
    CHECK(!zap_key_valid("########################################")); /* > 2^32 a group */
    memset(k, 0xff, sizeof k);
    zap_key_encode(k, back);
    CHECK(zap_key_valid(back)); /* the largest group still fits */
}

static void s_lists(void)
{
    struct zap_keys ks = {0};
    char err[128] = "";
    char list[256];
    snprintf(list, sizeof list, "accounts=%s, projects=%s", PUB_A, PUB_B);
    CHECK(zap_keys_parse(&ks, list, true, err, sizeof err));
    CHECK(ks.n == 2);
    CHECK_STR(ks.v[0].name, "accounts");
    CHECK_STR(ks.v[1].name, "projects"); /* split at the first '=': keys hold '=' */
    unsigned char b[32];
    zap_key_decode(PUB_B, 40, b);
    CHECK(zap_keys_find(&ks, b) == &ks.v[1]);
    zap_keys_clear(&ks);

    snprintf(list, sizeof list, "%s,%s", PUB_A, PUB_B);
    CHECK(zap_keys_parse(&ks, list, false, err, sizeof err) && ks.n == 2);
    CHECK_STR(ks.v[0].name, "client");
    zap_keys_clear(&ks);

    CHECK(zap_keys_parse(&ks, "", false, err, sizeof err) && ks.n == 0);
    CHECK(zap_keys_parse(&ks, "  ", false, err, sizeof err) && ks.n == 0);
    CHECK(zap_keys_parse(&ks, NULL, false, err, sizeof err) && ks.n == 0);

    snprintf(list, sizeof list, "%s,", PUB_A);
    CHECK(!zap_keys_parse(&ks, list, false, err, sizeof err));
    CHECK(strstr(err, "entry 2") != NULL);
    zap_keys_clear(&ks);
    snprintf(list, sizeof list, "%s,%.39s", PUB_A, PUB_B);
    CHECK(!zap_keys_parse(&ks, list, false, err, sizeof err));
    CHECK(strstr(err, "entry 2") && !strstr(err, "0dL0")); /* never the text */
    zap_keys_clear(&ks);
    snprintf(list, sizeof list, "%s", PUB_A); /* named, but no name (its '=' splits badly) */
    CHECK(!zap_keys_parse(&ks, list, true, err, sizeof err));
    zap_keys_clear(&ks);
    snprintf(list, sizeof list, "=%s", PUB_A);
    CHECK(!zap_keys_parse(&ks, list, true, err, sizeof err));
    zap_keys_clear(&ks);
}

static void s_policy(void)
{
    struct zap_keys pubs = {0}, clients = {0};
    char err[128], list[128];
    snprintf(list, sizeof list, "audit=%s", PUB_A);
    CHECK(zap_keys_parse(&pubs, list, true, err, sizeof err));
    CHECK(zap_keys_parse(&clients, PUB_B, false, err, sizeof err));
    struct zap_policy *p = zap_policy_new();
    zap_policy_allow(p, "xsub", &pubs);
    zap_policy_allow(p, "xpub", &pubs);
    zap_policy_allow(p, "xpub", &clients);
    unsigned char a[32], b[32];
    zap_key_decode(PUB_A, 40, a);
    zap_key_decode(PUB_B, 40, b);
    const struct zap_key *k = zap_policy_admit(p, "xsub", "CURVE", a, 32);
    CHECK(k && strcmp(k->name, "audit") == 0);
    CHECK(zap_policy_admit(p, "xpub", "CURVE", a, 32) != NULL);
    CHECK(zap_policy_admit(p, "xpub", "CURVE", b, 32) != NULL);
    CHECK(zap_policy_admit(p, "xsub", "CURVE", b, 32) == NULL); /* a client may not publish */
    CHECK(zap_policy_admit(p, "feed", "CURVE", a, 32) == NULL); /* unknown domain */
    CHECK(zap_policy_admit(p, "", "CURVE", a, 32) == NULL);
    CHECK(zap_policy_admit(p, "xsub", "NULL", a, 32) == NULL);
    CHECK(zap_policy_admit(p, "xsub", "PLAIN", a, 32) == NULL);
    CHECK(zap_policy_admit(p, "xsub", "CURVE", a, 31) == NULL);
    CHECK(zap_policy_admit(p, "xsub", "CURVE", NULL, 0) == NULL);
    zap_policy_destroy(&p);
    CHECK(p == NULL);
    zap_keys_clear(&pubs);
    zap_keys_clear(&clients);
}

/* ---- the handler, end to end ---------------------------------------------- */

static void *s_client(void *ctx, const char *endpoint, const char *server, const char *secret)
{
    void *s = zmq_socket(ctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    if (secret) {
        char pub[41];
        zmq_curve_public(pub, secret);
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret, 40);
    }
    zmq_connect(s, endpoint);
    return s;
}

static bool s_got(void *s)
{
    char buf[16];
    return zmq_recv(s, buf, sizeof buf, ZMQ_DONTWAIT) >= 0;
}

/* Serves the handler and publishes until sub (if any) got a message or
 * refusals reach want (if >= 0), for at most 5 s; whether sub got one. */
static bool s_serve_until(struct zap *z, void *pub, void *sub, long long want)
{
    time_t until = time(NULL) + 5;
    while (time(NULL) < until) {
        zmq_pollitem_t items[4];
        size_t n = zap_pollitems(z, items, 4);
        zmq_poll(items, (int)n, 20);
        zap_serve(z);
        zmq_send(pub, "x", 1, ZMQ_DONTWAIT);
        if (sub && s_got(sub)) return true;
        if (want >= 0 && zap_refused(z, "feed") >= want) return false;
    }
    return false;
}

static void s_handler(void)
{
    char srv_pub[41], srv_sec[41], a_pub[41], a_sec[41], list[64];
    zmq_curve_keypair(srv_pub, srv_sec);
    zmq_curve_keypair(a_pub, a_sec);
    void *ctx = zmq_ctx_new();
    struct zap_keys ks = {0};
    char err[128];
    snprintf(list, sizeof list, "%s", a_pub);
    CHECK(zap_keys_parse(&ks, list, false, err, sizeof err));
    struct zap_policy *p = zap_policy_new();
    zap_policy_allow(p, "feed", &ks);
    zap_keys_clear(&ks);
    struct zap *z = zap_new(ctx, &p);
    CHECK(z != NULL && p == NULL);
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    CHECK(zap_secure(z, pub, "feed", "not a key") != 0);
    CHECK(zap_secure(z, pub, "feed", srv_sec) == 0);
    CHECK(zmq_bind(pub, "tcp://127.0.0.1:*") == 0);
    char ep[128];
    size_t sz = sizeof ep;
    zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, ep, &sz);

    /* one at a time, so that each refusal is seen counted */
    void *keyless = s_client(ctx, ep, NULL, NULL);
    s_serve_until(z, pub, NULL, 1);
    CHECK(zap_refused(z, "feed") >= 1); /* a failed handshake */
    CHECK(!s_got(keyless));
    zmq_close(keyless);
    long long before = zap_refused(z, "feed");
    void *unlisted = s_client(ctx, ep, srv_pub, SEC_B);
    s_serve_until(z, pub, NULL, before + 1);
    CHECK(zap_refused(z, "feed") > before); /* a ZAP 400 */
    void *listed = s_client(ctx, ep, srv_pub, a_sec);
    bool listed_got = s_serve_until(z, pub, listed, -1);
    bool other_got = s_got(unlisted);
    CHECK(listed_got);
    CHECK(!other_got);
    zmq_close(listed);
    zmq_close(unlisted);
    zmq_close(pub);
    zap_destroy(&z);
    CHECK(z == NULL);
    zmq_ctx_term(ctx);
}

int main(void)
{
    log_init("test", "error");
    s_keys();
    s_lists();
    s_policy();
    s_handler();
    return check_done();
}
