/* Where a webhook may point (target.c): host spellings, every class of
 * address, the allow list's CIDRs, itgov's own ports, picking among a
 * name's addresses. */
#include <stdlib.h>
#include "../../../shared/tests/check.h"
#include "target.h"

static struct target_addr s_addr(const char *text)
{
    struct target_addr a;
    if (!target_parse_addr(text, &a)) {
        fprintf(stderr, "test address %s does not parse\n", text);
        abort();
    }
    return a;
}

static enum target_verdict s_check(const struct target_rules *r, const char *addr, int port)
{
    char why[256];
    struct target_addr a = s_addr(addr);
    return target_check(r, &a, port, why, sizeof why);
}

static enum target_host s_host(const char *host)
{
    struct target_addr a;
    const char *why;
    enum target_host h = target_classify_host(host, &a, &why);
    if (h == TARGET_HOST_BAD && !why) return (enum target_host) - 1;
    return h;
}

int main(void)
{
    /* ---- host spellings ---- */
    CHECK(s_host("127.0.0.1") == TARGET_HOST_IP);
    CHECK(s_host("192.0.2.10") == TARGET_HOST_IP);
    CHECK(s_host("::1") == TARGET_HOST_IP);
    CHECK(s_host("::ffff:127.0.0.1") == TARGET_HOST_IP);
    CHECK(s_host("example.org") == TARGET_HOST_NAME);
    CHECK(s_host("cafe.be") == TARGET_HOST_NAME);
    CHECK(s_host("my_host.example.") == TARGET_HOST_NAME);
    CHECK(s_host("1.2.3.4.example") == TARGET_HOST_NAME);
    CHECK(s_host("localhost") == TARGET_HOST_LOCALHOST);
    CHECK(s_host("LocalHost.") == TARGET_HOST_LOCALHOST);
    CHECK(s_host("api.localhost") == TARGET_HOST_LOCALHOST);
    CHECK(s_host("notlocalhost") == TARGET_HOST_NAME);
    /* non-canonical IPv4 spellings */
    static const char *const odd[] = {
        "0x7f.1",       "2130706433",    "0177.0.0.1", "127.1",       "127.0.1",   "0x7f000001",
        "0x7f.0.0.1",   "127.0.0.01",    "127.0.0.1.", "1.2.3.4.5",   "0",         "0x",
        "017700000001", "127.0.0.1.0x1", "abc.0x10",   "example.123", "256.0.0.1", "1.2.3.0400",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        int h = s_host(odd[i]);
        if (h != TARGET_HOST_BAD) fprintf(stderr, "host %s was not refused\n", odd[i]);
        CHECK(h == TARGET_HOST_BAD);
    }
    /* characters and labels */
    CHECK(s_host("") == TARGET_HOST_BAD);
    CHECK(s_host("exa%41mple.org") == TARGET_HOST_BAD);
    CHECK(s_host("a..b") == TARGET_HOST_BAD);
    CHECK(s_host(".a") == TARGET_HOST_BAD);
    CHECK(s_host("fe80::1%eth0") == TARGET_HOST_BAD);
    CHECK(s_host("::g") == TARGET_HOST_BAD);

    /* ---- CIDRs ---- */
    struct target_net n;
    CHECK(target_parse_net("127.0.0.0/8", &n) && n.bits == 8 && n.addr.family == 4);
    CHECK(target_parse_net("10.1.2.3", &n) && n.bits == 32);
    CHECK(target_parse_net("0.0.0.0/0", &n) && n.bits == 0);
    CHECK(target_parse_net("fc00::/7", &n) && n.bits == 7 && n.addr.family == 6);
    CHECK(target_parse_net("::1/128", &n) && n.bits == 128);
    CHECK(target_parse_net("::1", &n) && n.bits == 128);
    CHECK(!target_parse_net("127.0.0.1/8", &n)); /* bits past the prefix */
    CHECK(!target_parse_net("fc00::1/7", &n));
    CHECK(!target_parse_net("10.0.0.0/33", &n));
    CHECK(!target_parse_net("::/129", &n));
    CHECK(!target_parse_net("10.0.0.0/", &n));
    CHECK(!target_parse_net("10.0.0.0/-1", &n));
    CHECK(!target_parse_net("10.0.0.0/+8", &n));
    CHECK(!target_parse_net("10/8", &n));
    CHECK(!target_parse_net("127.1/8", &n));
    CHECK(!target_parse_net("example.org/8", &n));
    CHECK(!target_parse_net("", &n));
    char err[200];
    struct target_rules r = {0};
    CHECK(target_parse_allow(&r, "", err, sizeof err) && r.nallow == 0);
    CHECK(target_parse_allow(&r, NULL, err, sizeof err) && r.nallow == 0);
    CHECK(target_parse_allow(&r, "127.0.0.0/8, 10.0.0.0/8 ,fd00::/8", err, sizeof err) &&
          r.nallow == 3);
    struct target_rules bad = {0};
    CHECK(!target_parse_allow(&bad, "127.0.0.0/8,", err, sizeof err));
    CHECK(!target_parse_allow(&bad, "127.0.0.0/8,,10.0.0.0/8", err, sizeof err));
    CHECK(!target_parse_allow(&bad, "127.0.0.0/8,nonsense", err, sizeof err) &&
          strstr(err, "nonsense"));
    CHECK(!target_parse_allow(&bad, "10.0.0.1/8", err, sizeof err) && strstr(err, "10.0.0.1/8"));

    /* ---- classes: nothing allowed ---- */
    struct target_rules none = {0};
    CHECK(s_check(&none, "192.0.2.10", 80) == TARGET_OK);
    CHECK(s_check(&none, "8.8.8.8", 6379) == TARGET_OK);
    CHECK(s_check(&none, "2001:db8::1", 443) == TARGET_OK);
    static const char *const never[] = {
        "0.0.0.0",
        "0.1.2.3",
        "::",
        "169.254.169.254",
        "169.254.0.1",
        "fe80::1",
        "febf::1",
        "224.0.0.1",
        "239.255.255.250",
        "ff02::1",
        "255.255.255.255",
        "240.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:0.0.0.0",
        "::ffff:224.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "::169.254.1.1",
    };
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        enum target_verdict v = s_check(&none, never[i], 8080);
        if (v != TARGET_REFUSED) fprintf(stderr, "%s was not refused\n", never[i]);
        CHECK(v == TARGET_REFUSED);
    }
    static const char *const guarded[] = {
        "127.0.0.1",        "127.255.0.9",     "::1",         "10.0.0.1",
        "172.16.0.1",       "172.31.255.255",  "192.168.1.1", "100.64.0.1",
        "100.127.255.255",  "fc00::1",         "fd12::1",     "fec0::1",
        "::ffff:127.0.0.1", "::ffff:10.1.1.1", "::127.0.0.1", "64:ff9b::7f00:1",
    };
    for (size_t i = 0; i < sizeof guarded / sizeof guarded[0]; i++) {
        enum target_verdict v = s_check(&none, guarded[i], 8080);
        if (v != TARGET_NOT_ALLOWED) fprintf(stderr, "%s was not guarded\n", guarded[i]);
        CHECK(v == TARGET_NOT_ALLOWED);
    }
    /* the edges of the private ranges are public */
    CHECK(s_check(&none, "172.15.255.255", 80) == TARGET_OK);
    CHECK(s_check(&none, "172.32.0.0", 80) == TARGET_OK);
    CHECK(s_check(&none, "100.63.255.255", 80) == TARGET_OK);
    CHECK(s_check(&none, "100.128.0.0", 80) == TARGET_OK);
    CHECK(s_check(&none, "11.0.0.1", 80) == TARGET_OK);
    CHECK(s_check(&none, "169.253.0.1", 80) == TARGET_OK);
    CHECK(s_check(&none, "223.255.255.255", 80) == TARGET_OK);
    CHECK(s_check(&none, "fe00::1", 80) == TARGET_OK);
    CHECK(s_check(&none, "::2", 80) == TARGET_REFUSED); /* ::0.0.0.2 */

    /* ---- the allow list ---- */
    CHECK(s_check(&r, "127.0.0.1", 9999) == TARGET_OK);
    CHECK(s_check(&r, "127.8.9.10", 9999) == TARGET_OK);
    CHECK(s_check(&r, "::ffff:127.0.0.1", 9999) == TARGET_OK); /* judged as IPv4 */
    CHECK(s_check(&r, "10.200.0.1", 9999) == TARGET_OK);
    CHECK(s_check(&r, "fd00::5", 9999) == TARGET_OK);
    CHECK(s_check(&r, "::1", 9999) == TARGET_NOT_ALLOWED); /* not listed */
    CHECK(s_check(&r, "192.168.0.1", 9999) == TARGET_NOT_ALLOWED);
    CHECK(s_check(&r, "fc00::5", 9999) == TARGET_NOT_ALLOWED);
    /* never overridden by the allow list */
    struct target_rules all = {0};
    CHECK(target_parse_allow(&all, "0.0.0.0/0,::/0", err, sizeof err));
    CHECK(s_check(&all, "169.254.169.254", 80) == TARGET_REFUSED);
    CHECK(s_check(&all, "0.0.0.0", 80) == TARGET_REFUSED);
    CHECK(s_check(&all, "ff02::1", 80) == TARGET_REFUSED);
    CHECK(s_check(&all, "127.0.0.1", 80) == TARGET_OK);

    /* ---- itgov's own ports ---- */
    struct target_addr redis = s_addr("127.0.0.1"), db = s_addr("203.0.113.5");
    CHECK(target_add_own(&r, 6379, &redis));
    CHECK(target_add_own(&r, 8081, NULL));
    CHECK(target_add_own(&r, 5432, &db));
    CHECK(target_add_own(&r, 8081, NULL) && r.nports == 3); /* no duplicates */
    char why[256];
    struct target_addr a = s_addr("127.0.0.1");
    CHECK(target_check(&r, &a, 6379, why, sizeof why) == TARGET_REFUSED && strstr(why, "6379") &&
          strstr(why, "itgov"));
    CHECK(s_check(&r, "127.0.0.2", 6379) == TARGET_REFUSED); /* any loopback */
    CHECK(s_check(&r, "::1", 6379) == TARGET_REFUSED);
    CHECK(s_check(&r, "::ffff:127.0.0.1", 8081) == TARGET_REFUSED);
    CHECK(s_check(&r, "10.0.0.7", 8081) == TARGET_REFUSED); /* a private one, allowed or not */
    CHECK(s_check(&r, "192.168.3.3", 5432) == TARGET_REFUSED);
    CHECK(s_check(&r, "203.0.113.5", 5432) == TARGET_REFUSED); /* its known public address */
    CHECK(s_check(&r, "203.0.113.5", 5433) == TARGET_OK);
    CHECK(s_check(&r, "203.0.113.6", 5432) == TARGET_OK); /* someone else's */
    CHECK(s_check(&r, "127.0.0.1", 6380) == TARGET_OK);
    /* this machine's own public address */
    struct target_addr me = s_addr("198.51.100.7");
    CHECK(target_add_local(&r, &me));
    CHECK(s_check(&r, "198.51.100.7", 8081) == TARGET_REFUSED);
    CHECK(s_check(&r, "198.51.100.7", 9999) == TARGET_NOT_ALLOWED);
    CHECK(s_check(&r, "::ffff:198.51.100.7", 9999) == TARGET_NOT_ALLOWED);
    CHECK(s_check(&r, "198.51.100.8", 9999) == TARGET_OK);

    /* ---- picking among a name's addresses ---- */
    struct target_addr list[3] = {s_addr("::1"), s_addr("127.0.0.1"), s_addr("192.0.2.1")};
    CHECK(target_pick(&r, list, 2, 9999, why, sizeof why) == 1); /* ::1 is not listed */
    CHECK(target_pick(&r, list, 1, 9999, why, sizeof why) == -1 && strstr(why, "loopback"));
    CHECK(target_pick(&r, list, 2, 6379, why, sizeof why) == -1 && strstr(why, "own"));
    CHECK(target_pick(&r, list + 2, 1, 80, why, sizeof why) == 0);
    struct target_addr mixed[2] = {s_addr("192.0.2.1"), s_addr("169.254.169.254")};
    CHECK(target_pick(&r, mixed, 2, 80, why, sizeof why) == -1 && strstr(why, "link-local"));
    CHECK(target_pick(&r, mixed, 0, 80, why, sizeof why) == -1);

    /* ---- formatting ---- */
    char text[TARGET_ADDR_TEXT];
    target_format_addr(&list[0], text);
    CHECK_STR(text, "::1");
    target_format_addr(&list[1], text);
    CHECK_STR(text, "127.0.0.1");
    return check_done();
}
