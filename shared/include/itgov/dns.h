/*
 * Name resolution that never blocks the loop: an evdns base configured from
 * resolv.conf (or, without one, from the hosts file alone), with short
 * timeouts, and two helpers for the parts that resolve a name before they
 * connect (the database pool, Redis).
 */
#ifndef ITGOV_DNS_H
#define ITGOV_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#define DNS_ADDR_TEXT 64

/* An evdns base for base (NULL only when even the fallback fails). */
struct evdns_base *dns_new(struct event_base *base);
/* True when host is an IPv4 or IPv6 address already (nothing to look up). */
bool dns_is_numeric(const char *host);
/* The first IPv4 address of a getaddrinfo answer as text, else the first
 * IPv6 one; false if there is none. */
bool dns_first_addr(const struct evutil_addrinfo *ai, char out[DNS_ADDR_TEXT]);

/* A host name a part connects to, looked up again before each round of
 * connecting (a restarted container may have a new address). addr keeps the
 * last address found, "" until the first answer, and is used while a lookup
 * fails; a failure is logged once until the next success. */
struct dns_name {
    const char *what; /* "postgresql", "redis": for the log */
    const char *host;
    struct evdns_base *dns; /* NULL: no resolver could be made */
    char addr[DNS_ADDR_TEXT];
    struct evdns_getaddrinfo_request *lookup;
    bool resolving, warned;
    void (*done)(void *arg); /* after each lookup (not after a cancel) */
    void *arg;
};

/* Starts a lookup unless one runs; done may be called before it returns
 * (the hosts file answers at once). */
void dns_name_resolve(struct dns_name *n);
/* Cancels a lookup in flight (done is not called). */
void dns_name_cancel(struct dns_name *n);

#endif
