/*
 * Where a webhook may point, pure (no sockets, no DNS): the rule both the
 * REST handler (at creation) and the delivery engine (on the resolved
 * address, just before connecting) apply.
 *
 *   - a host that spells an IPv4 address any other way than four decimal
 *     numbers (0x7f.1, 2130706433, 0177.0.0.1, 127.1, 127.0.0.1.) is refused:
 *     resolvers disagree on what it means;
 *   - unspecified (0.0.0.0/8, ::), link-local (169.254/16, fe80::/10),
 *     multicast (224/4, ff00::/8), broadcast and reserved (240/4) addresses
 *     are refused, always;
 *   - any port of itgov's own parts (services, gateway, PostgreSQL, Redis,
 *     broker, audit feed) is refused on loopback, private and this machine's
 *     own addresses and on the addresses those parts are known to have,
 *     always, even when ITGOV_WEBHOOK_ALLOW lists the range;
 *   - loopback (127/8, ::1), private (10/8, 172.16/12, 192.168/16,
 *     100.64/10, fc00::/7, fec0::/10) and this machine's own addresses only
 *     when ITGOV_WEBHOOK_ALLOW (comma-separated CIDRs) lists them;
 *   - everything else (a public address) is fine.
 * IPv6 addresses that carry an IPv4 one (::ffff:a.b.c.d, ::a.b.c.d,
 * 64:ff9b::a.b.c.d) are judged as that IPv4 address.
 */
#ifndef AUDIT_TARGET_H
#define AUDIT_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#define TARGET_MAX_NETS  64
#define TARGET_MAX_PORTS 32
#define TARGET_MAX_OWN   64
#define TARGET_MAX_LOCAL 64
/* room for an address as text (INET6_ADDRSTRLEN) */
#define TARGET_ADDR_TEXT 46

/* An IPv4 (family 4, bytes 0..3) or IPv6 (family 6) address. */
struct target_addr {
    int family;
    unsigned char b[16];
};

struct target_net {
    struct target_addr addr;
    int bits;
};

struct target_rules {
    struct target_net allow[TARGET_MAX_NETS]; /* ITGOV_WEBHOOK_ALLOW */
    int nallow;
    int ports[TARGET_MAX_PORTS]; /* itgov's own ports */
    int nports;
    struct { /* an own part's known address and port */
        struct target_addr addr;
        int port;
    } own[TARGET_MAX_OWN];
    int nown;
    struct target_addr local[TARGET_MAX_LOCAL]; /* this machine's addresses */
    int nlocal;
};

/* What a URL's host is. */
enum target_host {
    TARGET_HOST_IP,        /* a canonical IPv4 or an IPv6 literal: *addr */
    TARGET_HOST_LOCALHOST, /* localhost, *.localhost: loopback (RFC 6761) */
    TARGET_HOST_NAME,      /* a host name to resolve */
    TARGET_HOST_BAD,       /* refused: *why */
};

/* The verdict on one address and port. */
enum target_verdict {
    TARGET_OK,
    TARGET_NOT_ALLOWED, /* loopback, private or local, not in the allow list */
    TARGET_REFUSED,     /* never: a class always refused, or itgov's own */
};

/* An address from text: canonical dotted quad or IPv6 (inet_pton). */
bool target_parse_addr(const char *text, struct target_addr *out);
/* The address as text (inet_ntop) into out[TARGET_ADDR_TEXT]. */
void target_format_addr(const struct target_addr *a, char out[TARGET_ADDR_TEXT]);
/* "10.0.0.0/8", "fc00::/7", or a single address (/32, /128); false if the
 * text is not one, or has bits set past the prefix length. */
bool target_parse_net(const char *text, struct target_net *out);
/* Appends the comma-separated CIDRs of text (blanks around entries ignored,
 * empty text = none) to rules->allow; false with a message in err naming
 * the bad entry. */
bool target_parse_allow(struct target_rules *rules, const char *text, char *err, size_t errlen);

/* Adds one of itgov's own ports, and (addr may be NULL) an address it is
 * known to listen on; false when the tables are full. */
bool target_add_own(struct target_rules *rules, int port, const struct target_addr *addr);
/* Adds an address of this machine (an interface's). */
bool target_add_local(struct target_rules *rules, const struct target_addr *addr);

/* What a URL host (without brackets) is; for TARGET_HOST_BAD, *why says why
 * (a static message). */
enum target_host target_classify_host(const char *host, struct target_addr *addr, const char **why);

/* The verdict on connecting to addr:port; why (out[whylen]) says why not. */
enum target_verdict target_check(const struct target_rules *rules, const struct target_addr *addr,
                                 int port, char *why, size_t whylen);

/* Of the n addresses a name resolved to, the one to connect to: refused if
 * any is refused outright, else the first one that is OK. Returns its index,
 * or -1 with why. */
int target_pick(const struct target_rules *rules, const struct target_addr *addrs, int n, int port,
                char *why, size_t whylen);

#endif
