/*
 * evdns for the parts that connect by name. libevent's evdns answers from
 * /etc/hosts first, then asks the resolv.conf name servers, all on the loop:
 * a slow or absent DNS server delays only the connection waiting for it,
 * never the requests being served meanwhile. Timeouts are short (2 s, 2
 * attempts), since every caller retries on its own schedule.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include "itgov/dns.h"

struct evdns_base *dns_new(struct event_base *base)
{
    struct evdns_base *dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                                      EVDNS_BASE_DISABLE_WHEN_INACTIVE);
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
    for (; ai; ai = ai->ai_next) {
        const void *a = NULL;
        if (ai->ai_family == AF_INET)
            a = &((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
        else if (ai->ai_family == AF_INET6)
            a = &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        if (a && evutil_inet_ntop(ai->ai_family, a, out, DNS_ADDR_TEXT)) return true;
    }
    return false;
}
