/*
 * Fuzz target: where a webhook may point. The input is a receiver URL as a
 * client gives it: webhooks_parse_url() (services/audit/src/webhooks.c),
 * then target_classify_host() and target_check() / target_pick()
 * (services/audit/src/target.c) against rules like the test stack's
 * (ITGOV_WEBHOOK_ALLOW, itgov's own ports, an address of this machine).
 * The input is also read as an ITGOV_WEBHOOK_ALLOW list and as one CIDR.
 *
 * Checks beyond "no crash, no UB, no leak": what goes into the request line
 * and the Host header holds no control character or blank; an IPv4 host
 * accepted as an address is spelled canonically; an address in a class
 * that is always refused (0/8, 169.254/16, 224/4 and above, also inside
 * ::ffff:0:0/96) is refused, and a loopback or private one is never OK
 * unless the allow list holds it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"
#include "target.h"
#include "webhooks.h"

struct audit_config audit_cfg; /* webhooks.c's engine reads it; the pure parts do not */

static struct target_rules s_rules;
static bool s_ready;

static void s_setup(void)
{
    char err[256];
    if (!target_parse_allow(&s_rules, "127.0.0.0/8, 10.20.0.0/16,fd00::/8", err, sizeof err))
        abort();
    static const int ports[] = {5432, 6379, 8080, 8081, 8082, 8083, 8084, 5559, 5560};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
        if (!target_add_own(&s_rules, ports[i], NULL)) abort();
    struct target_addr a;
    if (!target_parse_addr("198.51.100.7", &a) || !target_add_own(&s_rules, 9000, &a)) abort();
    if (!target_parse_addr("192.0.2.7", &a) || !target_add_local(&s_rules, &a)) abort();
    s_ready = true;
}

static void s_no_controls(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f) abort();
}

/* The IPv4 address an address is judged as, or NULL. */
static const unsigned char *s_v4(const struct target_addr *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a->family == 4) return a->b;
    if (a->family == 6 && memcmp(a->b, mapped, 12) == 0) return a->b + 12;
    return NULL;
}

static void s_judge(const struct target_addr *a, int port)
{
    char why[256];
    enum target_verdict v = target_check(&s_rules, a, port, why, sizeof why);
    if (v != TARGET_OK && !why[0]) abort();
    const unsigned char *b = s_v4(a);
    if (!b) return;
    bool never = b[0] == 0 || (b[0] == 169 && b[1] == 254) || b[0] >= 224;
    if (never && v != TARGET_REFUSED) abort();
    bool allowed = b[0] == 127 || (b[0] == 10 && b[1] == 20);
    bool private = b[0] == 127 || b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
                   (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xc0) == 64);
    if (private && !allowed && v == TARGET_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_ready) s_setup();
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';

    struct webhook_url u;
    const char *why = NULL;
    if (webhooks_parse_url(text, &u, &why)) {
        if (why || u.port < 1 || u.port > 65535 || u.target[0] != '/') abort();
        s_no_controls(u.target);
        struct target_addr a[2];
        const char *bad = NULL;
        enum target_host h = target_classify_host(u.host, &a[0], &bad);
        /* evhttp lets blanks through inside [...] ("[::ffff:1. 2.3.4]"): the
         * host check is what refuses them */
        if (h != TARGET_HOST_BAD) s_no_controls(u.host_hdr);
        switch (h) {
        case TARGET_HOST_IP:
            if (bad) abort();
            if (a[0].family == 4) {
                char back[TARGET_ADDR_TEXT];
                target_format_addr(&a[0], back);
                if (strcmp(back, u.host) != 0) abort();
            }
            s_judge(&a[0], u.port);
            break;
        case TARGET_HOST_LOCALHOST: {
            char w[256];
            target_parse_addr("127.0.0.1", &a[0]);
            target_parse_addr("::1", &a[1]);
            int i = target_pick(&s_rules, a, 2, u.port, w, sizeof w);
            if (i < -1 || i > 1) abort();
            break;
        }
        case TARGET_HOST_NAME:
            if (bad) abort();
            break;
        case TARGET_HOST_BAD:
            if (!bad) abort();
            break;
        }
    } else if (!why) {
        abort();
    }

    /* the same text as an allow list and as one network */
    struct target_rules *r = calloc(1, sizeof *r);
    if (!r) abort();
    char err[128];
    if (!target_parse_allow(r, text, err, sizeof err) && !err[0]) abort();
    if (r->nallow < 0 || r->nallow > TARGET_MAX_NETS) abort();
    struct target_net net;
    if (target_parse_net(text, &net) && (net.bits < 0 || net.bits > 128)) abort();
    struct target_addr one;
    if (target_parse_addr(text, &one)) s_judge(&one, 443);
    free(r);
    free(text);
    return 0;
}
