/*
 * The public feed on ZeroMQ: a PUB socket bound on ITGOV_AUDIT_PUB_PORT.
 * Wire format, one message = two frames:
 *   frame 1  topic: the event type without "itgov." (account.user.created)
 *   frame 2  the entry's CloudEvent JSON exactly as stored, with "seq"
 * Entries are sent after they are stored, in seq order. ZeroMQ may drop
 * messages for a slow subscriber; a subscriber that sees a gap in seq reads
 * the missing entries from GET /api/v1/audit?after=<last seq it has>.
 *
 * The socket is a CURVE server (ITGOV_AUDIT_FEED_CURVE_SECRET) admitting
 * only the keys of ITGOV_EVENT_CLIENT_KEYS; its public key and the broker's
 * are served by GET /api/v1/events/keys.
 */
#ifndef AUDIT_PUB_H
#define AUDIT_PUB_H

#include <stdbool.h>
#include <stddef.h>
#include <event2/buffer.h>

struct req;
struct service;

struct pub;

/* The ZAP handler of the feed, before pub_new; 0 = ok, else logged (a bad
 * key in the configuration names its variable). */
int pub_auth_start(struct service *svc);
/* After pub_destroy. */
void pub_auth_stop(void);
/* itgov_bus_clients_refused_total of the feed. */
void pub_metrics(struct evbuffer *out);
/* GET /api/v1/events/keys */
void events_keys(struct req *r);

/* Binds tcp://bind:port as a CURVE server; NULL (logged) if it cannot. */
struct pub *pub_new(void *zctx, const char *bind, int port);
void pub_destroy(struct pub **self_p);
bool pub_send(struct pub *p, const char *topic, const char *json, size_t len);

#endif
