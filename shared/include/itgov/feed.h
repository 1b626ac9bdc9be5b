/*
 * Following another service's events without ever missing one. A feed
 * subscribes to event-type prefixes on the broker and, besides, pages
 * through the source's outbox over HTTP (GET <source>/internal/v1/outbox?
 * after=<seq>&limit=) when it starts and then every poll interval, so events
 * lost while this service or the source was down, or dropped by ZeroMQ,
 * still arrive. Events are handed to the service one at a time, in order;
 * the handler must be idempotent by event id (an inbox table written in the
 * same statement as the effect), since the same event may come twice (bus
 * and catch-up). The catch-up position is kept in the service's own table
 *   feed_cursor(source text PRIMARY KEY, after bigint NOT NULL)
 * which a service using feeds creates in its migrations.
 *
 * The page format read (GET /internal/v1/outbox, served by service.c):
 *   {"items": [<CloudEvent with "sourceseq": n>, ...], "next_after": n}
 */
#ifndef ITGOV_FEED_H
#define ITGOV_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include <event2/event.h>

struct db;
struct feed;
struct feed_job;

/* Called for each event (type already matches a prefix); must end, possibly
 * later, in exactly one feed_done(job). The event belongs to the feed. */
typedef void (*feed_handler)(void *arg, const cJSON *event, struct feed_job *job);

struct feed_config {
    const char *source; /* "projects": names the cursor row */
    const char *host;   /* where the source's HTTP server is */
    const char *internal_key; /* sent as the bearer token of the outbox reads */
    int port;
    const char *bus_endpoint;    /* broker XPUB, tcp://host:port */
    const char *const *prefixes; /* topics, NULL-terminated */
    int poll_ms;                 /* catch-up interval */
    feed_handler handler;
    void *arg;
};

struct feed *feed_new(struct event_base *base, void *zctx, struct db *db,
                      const struct feed_config *cfg);
void feed_destroy(struct feed **self_p);
/* ok=false: the effect could not be written (database down); the event is
 * retried by the next catch-up. */
void feed_done(struct feed_job *job, bool ok);
struct outbox;
/* The usual way to apply an event: runs the one statement that writes the
 * effect together with its inbox row, wakes the outbox (the effect may
 * have emitted events), and ends the job — failed ones come again with the
 * next catch-up. */
void feed_apply(struct feed_job *job, struct db *db, struct outbox *wake, const char *sql,
                int nparams, const char *const *params);

/* Pure, for tests: reads one page; calls each(arg, seq, event) in order and
 * returns the number of items, or -1 if the text is not a page. */
int feed_parse_page(const char *text, size_t len,
                    void (*each)(void *arg, long long seq, cJSON *event), void *arg);

#endif
