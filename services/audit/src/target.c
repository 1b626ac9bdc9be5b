/*
 * Where a webhook may point (see target.h): classifying hosts and addresses,
 * the allow list's CIDRs and the table of itgov's own ports. Pure: the
 * caller resolves names and lists this machine's addresses.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "target.h"

enum addr_class {
    C_PUBLIC,
    C_LOOPBACK,
    C_PRIVATE,
    C_UNSPECIFIED,
    C_LINK_LOCAL,
    C_MULTICAST,
    C_BROADCAST,
    C_RESERVED,
};

bool target_parse_addr(const char *text, struct target_addr *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->b) == 1) {
        out->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, text, out->b) == 1) {
        out->family = 6;
        return true;
    }
    return false;
}

void target_format_addr(const struct target_addr *a, char out[TARGET_ADDR_TEXT])
{
    if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, out, TARGET_ADDR_TEXT))
        snprintf(out, TARGET_ADDR_TEXT, "?");
}

/* An IPv6 address that carries an IPv4 one is judged as that one. */
static struct target_addr s_normal(const struct target_addr *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char zero[12] = {0};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    struct target_addr v4 = {.family = 4};
    if (a->family != 6) return *a;
    bool compat = memcmp(a->b, zero, 12) == 0 &&
                  ((a->b[12] | a->b[13] | a->b[14]) != 0 || a->b[15] > 1); /* not :: or ::1 */
    if (memcmp(a->b, mapped, 12) == 0 || memcmp(a->b, nat64, 12) == 0 || compat) {
        memcpy(v4.b, a->b + 12, 4);
        return v4;
    }
    return *a;
}

static bool s_in_net(const struct target_addr *a, const struct target_addr *net, int bits)
{
    if (a->family != net->family) return false;
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a->b, net->b, (size_t)whole) != 0) return false;
    if (rest == 0) return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a->b[whole] & mask) == (net->b[whole] & mask);
}

static bool s_same(const struct target_addr *a, const struct target_addr *b)
{
    int len = a->family == 4 ? 4 : 16;
    return a->family == b->family && memcmp(a->b, b->b, (size_t)len) == 0;
}

static enum addr_class s_class(const struct target_addr *a)
{
    const unsigned char *b = a->b;
    if (a->family == 4) {
        if (b[0] == 0) return C_UNSPECIFIED;
        if (b[0] == 127) return C_LOOPBACK;
        if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
            (b[0] == 100 && (b[1] & 0xc0) == 64))
            return C_PRIVATE;
        if (b[0] == 169 && b[1] == 254) return C_LINK_LOCAL;
        if ((b[0] & 0xf0) == 224) return C_MULTICAST;
        if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return C_BROADCAST;
        if ((b[0] & 0xf0) == 240) return C_RESERVED;
        return C_PUBLIC;
    }
    static const unsigned char zero[15] = {0};
    if (memcmp(b, zero, 15) == 0)
        return b[15] == 0 ? C_UNSPECIFIED : b[15] == 1 ? C_LOOPBACK : C_PUBLIC;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return C_LINK_LOCAL;
    if (b[0] == 0xff) return C_MULTICAST;
    if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)) return C_PRIVATE;
    return C_PUBLIC;
}

bool target_parse_net(const char *text, struct target_net *out)
{
    char buf[64];
    size_t len = strlen(text);
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, text, len + 1);
    char *slash = strchr(buf, '/');
    if (slash) *slash = '\0';
    if (!target_parse_addr(buf, &out->addr)) return false;
    int max = out->addr.family == 4 ? 32 : 128;
    out->bits = max;
    if (slash) {
        const char *p = slash + 1;
        if (!*p || strlen(p) > 3) return false;
        for (const char *c = p; *c; c++)
            if (!isdigit((unsigned char)*c)) return false;
        out->bits = atoi(p);
        if (out->bits > max) return false;
    }
    /* no bits past the prefix: 10.0.0.1/8 is a typo, not a network */
    for (int i = out->bits; i < max; i++)
        if (out->addr.b[i / 8] & (0x80 >> (i % 8))) return false;
    return true;
}

bool target_parse_allow(struct target_rules *rules, const char *text, char *err, size_t errlen)
{
    const char *p = text ? text : "";
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char entry[64];
        const char *s = p;
        while (n && isspace((unsigned char)*s)) {
            s++;
            n--;
        }
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        if (n == 0 || n >= sizeof entry) {
            snprintf(err, errlen,
                     "an empty or overlong entry; give CIDRs like 127.0.0.0/8,::1/128");
            return false;
        }
        memcpy(entry, s, n);
        entry[n] = '\0';
        if (rules->nallow == TARGET_MAX_NETS) {
            snprintf(err, errlen, "more than %d entries", TARGET_MAX_NETS);
            return false;
        }
        if (!target_parse_net(entry, &rules->allow[rules->nallow])) {
            snprintf(err, errlen,
                     "'%s' is not a CIDR (an address, '/', a prefix length, no bits set past "
                     "it: 10.0.0.0/8, fd00::/8)",
                     entry);
            return false;
        }
        rules->nallow++;
        if (!end) break;
        p = end + 1;
        if (!*p) {
            snprintf(err, errlen, "a trailing comma");
            return false;
        }
    }
    return true;
}

bool target_add_own(struct target_rules *rules, int port, const struct target_addr *addr)
{
    bool known = false;
    for (int i = 0; i < rules->nports; i++)
        known = known || rules->ports[i] == port;
    if (!known) {
        if (rules->nports == TARGET_MAX_PORTS) return false;
        rules->ports[rules->nports++] = port;
    }
    if (!addr) return true;
    struct target_addr a = s_normal(addr);
    for (int i = 0; i < rules->nown; i++)
        if (rules->own[i].port == port && s_same(&rules->own[i].addr, &a)) return true;
    if (rules->nown == TARGET_MAX_OWN) return false;
    rules->own[rules->nown].addr = a;
    rules->own[rules->nown].port = port;
    rules->nown++;
    return true;
}

bool target_add_local(struct target_rules *rules, const struct target_addr *addr)
{
    struct target_addr a = s_normal(addr);
    for (int i = 0; i < rules->nlocal; i++)
        if (s_same(&rules->local[i], &a)) return true;
    if (rules->nlocal == TARGET_MAX_LOCAL) return false;
    rules->local[rules->nlocal++] = a;
    return true;
}

/* The last label (a trailing dot ignored) is a number as inet_aton or the
 * WHATWG URL parser reads one: decimal digits, or 0x and hex digits. */
static bool s_ends_in_number(const char *host)
{
    size_t len = strlen(host);
    if (len && host[len - 1] == '.') len--;
    size_t start = len;
    while (start && host[start - 1] != '.')
        start--;
    const char *l = host + start;
    size_t n = len - start;
    if (n == 0) return false;
    size_t i = 0;
    bool hex = n >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X');
    if (hex) i = 2;
    for (; i < n; i++)
        if (hex ? !isxdigit((unsigned char)l[i]) : !isdigit((unsigned char)l[i])) return false;
    return true;
}

enum target_host target_classify_host(const char *host, struct target_addr *addr, const char **why)
{
    *why = NULL;
    memset(addr, 0, sizeof *addr);
    size_t len = strlen(host);
    if (len == 0 || len > 253) {
        *why = "has no host, or too long a one";
        return TARGET_HOST_BAD;
    }
    if (strchr(host, ':')) {
        if (inet_pton(AF_INET6, host, addr->b) == 1) {
            addr->family = 6;
            return TARGET_HOST_IP;
        }
        *why = "has an IPv6 address that is not valid (zone ids are not accepted)";
        return TARGET_HOST_BAD;
    }
    char low[256];
    for (size_t i = 0; i <= len; i++)
        low[i] = (char)tolower((unsigned char)host[i]);
    for (size_t i = 0; i < len; i++) {
        char c = low[i];
        if (!(isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.')) {
            *why = "has a host with characters a host name cannot hold";
            return TARGET_HOST_BAD;
        }
    }
    if (inet_pton(AF_INET, low, addr->b) == 1) {
        addr->family = 4;
        return TARGET_HOST_IP;
    }
    struct in_addr ignored;
    if (s_ends_in_number(low) || inet_aton(low, &ignored)) {
        *why = "spells an IP address in a non-canonical way (write IPv4 addresses as four "
               "decimal numbers, like 192.0.2.10)";
        return TARGET_HOST_BAD;
    }
    if (low[0] == '.' || strstr(low, "..")) {
        *why = "has a host name with an empty label";
        return TARGET_HOST_BAD;
    }
    size_t n = low[len - 1] == '.' ? len - 1 : len;
    if ((n == 9 && strncmp(low, "localhost", 9) == 0) ||
        (n > 10 && strncmp(low + n - 10, ".localhost", 10) == 0))
        return TARGET_HOST_LOCALHOST;
    return TARGET_HOST_NAME;
}

static bool s_is_local(const struct target_rules *rules, const struct target_addr *a)
{
    for (int i = 0; i < rules->nlocal; i++)
        if (s_same(&rules->local[i], a)) return true;
    return false;
}

static bool s_allowed(const struct target_rules *rules, const struct target_addr *a)
{
    for (int i = 0; i < rules->nallow; i++)
        if (s_in_net(a, &rules->allow[i].addr, rules->allow[i].bits)) return true;
    return false;
}

enum target_verdict target_check(const struct target_rules *rules, const struct target_addr *addr,
                                 int port, char *why, size_t whylen)
{
    struct target_addr a = s_normal(addr);
    char text[TARGET_ADDR_TEXT];
    target_format_addr(&a, text);
    enum addr_class c = s_class(&a);
    const char *never = NULL;
    switch (c) {
    case C_UNSPECIFIED:
        never = "an unspecified address (0.0.0.0/8, ::)";
        break;
    case C_LINK_LOCAL:
        never = "a link-local address (169.254.0.0/16, fe80::/10)";
        break;
    case C_MULTICAST:
        never = "a multicast address (224.0.0.0/4, ff00::/8)";
        break;
    case C_BROADCAST:
        never = "the broadcast address";
        break;
    case C_RESERVED:
        never = "a reserved address (240.0.0.0/4)";
        break;
    default:
        break;
    }
    if (never) {
        snprintf(why, whylen, "points at %s: %s", never, text);
        return TARGET_REFUSED;
    }
    bool local = s_is_local(rules, &a);
    bool own = false;
    for (int i = 0; i < rules->nown && !own; i++)
        own = rules->own[i].port == port && s_same(&rules->own[i].addr, &a);
    if (c == C_LOOPBACK || c == C_PRIVATE || local)
        for (int i = 0; i < rules->nports && !own; i++)
            own = rules->ports[i] == port;
    if (own) {
        snprintf(why, whylen, "points at one of itgov's own services (%s port %d)", text, port);
        return TARGET_REFUSED;
    }
    if ((c == C_LOOPBACK || c == C_PRIVATE || local) && !s_allowed(rules, &a)) {
        snprintf(why, whylen, "points at %s (%s), which ITGOV_WEBHOOK_ALLOW does not list",
                 c == C_LOOPBACK  ? "a loopback address"
                 : c == C_PRIVATE ? "a private address"
                                  : "an address of this machine",
                 text);
        return TARGET_NOT_ALLOWED;
    }
    return TARGET_OK;
}

int target_pick(const struct target_rules *rules, const struct target_addr *addrs, int n, int port,
                char *why, size_t whylen)
{
    int pick = -1;
    char first[256] = "";
    for (int i = 0; i < n; i++) {
        char w[256];
        enum target_verdict v = target_check(rules, &addrs[i], port, w, sizeof w);
        if (v == TARGET_REFUSED) {
            snprintf(why, whylen, "%s", w);
            return -1;
        }
        if (v == TARGET_OK && pick < 0) pick = i;
        if (v == TARGET_NOT_ALLOWED && !first[0]) snprintf(first, sizeof first, "%s", w);
    }
    if (pick < 0) snprintf(why, whylen, "%s", n ? first : "has a host that resolves to no address");
    return pick;
}
