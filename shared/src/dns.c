/*
 * evdns for the parts that connect by name. libevent's evdns answers from
 * /etc/hosts first, then asks the resolv.conf name servers, all on the loop:
 * a slow or absent DNS server delays only the connection waiting for it,
 * never the requests being served meanwhile. Timeouts are short (2 s, 2
 * attempts), since every caller retries on its own schedule.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "itgov/dns.h"
#include "itgov/log.h"

struct evdns_base *dns_new(struct event_base *base)
{
    struct evdns_base *dns =
        evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (!dns) { /* no resolv.conf: names from /etc/hosts, addresses as they are */
        dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (dns) evdns_base_load_hosts(dns, NULL);
    }
    if (dns) {
        evdns_base_set_option(dns, "timeout:", "2");
        evdns_base_set_option(dns, "attempts:", "2");
    }
    return dns;
}

bool dns_is_numeric(const char *host)
{
    unsigned char buf[16];
    return host && (evutil_inet_pton(AF_INET, host, buf) == 1 ||
                    evutil_inet_pton(AF_INET6, host, buf) == 1);
}

bool dns_first_addr(const struct evutil_addrinfo *ai, char out[DNS_ADDR_TEXT])
{
    /* IPv4 first: servers here listen on IPv4, and "localhost" is both */
    for (int family = AF_INET;; family = AF_INET6) {
        for (const struct evutil_addrinfo *a = ai; a; a = a->ai_next) {
            if (a->ai_family != family) continue;
            const void *in =
                family == AF_INET
                    ? (const void *)&((const struct sockaddr_in *)a->ai_addr)->sin_addr
                    : (const void *)&((const struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
            if (evutil_inet_ntop(family, in, out, DNS_ADDR_TEXT)) return true;
        }
        if (family == AF_INET6) return false;
    }
}

static void s_on_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
    struct dns_name *n = arg;
    n->lookup = NULL;
    n->resolving = false;
    if (result == EVUTIL_EAI_CANCEL) {
        if (ai) evutil_freeaddrinfo(ai);
        return;
    }
    char addr[DNS_ADDR_TEXT];
    bool ok = result == 0 && dns_first_addr(ai, addr);
    if (ai) evutil_freeaddrinfo(ai);
    if (ok) {
        snprintf(n->addr, sizeof n->addr, "%s", addr);
        n->warned = false;
    } else if (!n->warned) {
        log_warn("%s: cannot resolve %s: %s%s", n->what, n->host, evutil_gai_strerror(result),
                 n->addr[0] ? " (trying its last address)" : "");
        n->warned = true;
    }
    n->done(n->arg);
}

void dns_name_resolve(struct dns_name *n)
{
    if (n->resolving) return;
    if (!n->dns) {
        if (!n->warned) log_warn("%s: no resolver for %s", n->what, n->host);
        n->warned = true;
        return;
    }
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    n->resolving = true;
    struct evdns_getaddrinfo_request *q =
        evdns_getaddrinfo(n->dns, n->host, NULL, &hints, s_on_resolved, n);
    if (n->resolving) n->lookup = q; /* it did not answer at once */
}

void dns_name_cancel(struct dns_name *n)
{
    if (n->lookup) evdns_getaddrinfo_cancel(n->lookup); /* its callback ignores it */
    n->lookup = NULL;
}
