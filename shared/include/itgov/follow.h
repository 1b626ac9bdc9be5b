/*
 * Following other services' outboxes: the one way a service takes another's
 * events (architecture, invariants 2 and 4; issue 7).
 *
 * The broker is not trusted. An event is applied only as its source's own
 * outbox holds it, read over
 *   GET http://<source>/internal/v1/outbox?after=<sourceseq>&limit=<n>
 *   Authorization: Bearer <ITGOV_INTERNAL_KEY>
 *   → {"items": [<CloudEvent with "sourceseq": n>, ...], "next_after": n}
 * (served by service.c). A message on the bus is only a hint that wakes an
 * immediate read of its source; reads also run every poll interval, so
 * events missed while this service, the source or the broker was down
 * still come. One read per source is in flight at a time; a hint during a
 * read asks for another right after it.
 *
 * Each hint is judged against the source: a follower remembers the digest
 * (SHA-256 of the canonical JSON: members sorted by name) of the recent
 * events it read, and keeps hints for sourceseqs not read yet until a read
 * that started after them brings that sourceseq (same digest or not) or
 * reaches the source's end without it (no such event). A message that
 * differs from the source, names no followed source, a type its source is
 * not followed for, or no sourceseq, is dropped, logged (rate-limited) and
 * counted in itgov_bus_forgeries_total{source, reason} on /metrics.
 *
 * Events go to the handler one at a time per source, in sourceseq order;
 * events of types not followed only move the cursor. The handler must be
 * idempotent by event id (an inbox row written in the same statement as the
 * effect), since after a failure or a restart an event may come again. The
 * position is kept in the service's table
 *   feed_cursor(source text PRIMARY KEY, after bigint NOT NULL)
 * (the shared base migration), unless the consumer keeps it itself
 * (own_cursor: the audit log stores it with its entries).
 */
#ifndef ITGOV_FOLLOW_H
#define ITGOV_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include <event2/buffer.h>

struct db;
struct service;
struct follow;
struct follow_job;

/* Called for each followed event of source (an index into the config's
 * sources); must end, possibly later, in exactly one follow_done(job). The
 * event belongs to the follower unless taken with follow_take(). */
typedef void (*follow_handler)(void *arg, int source, long long sourceseq, const cJSON *event,
                               struct follow_job *job);

struct follow_source {
    const char *name; /* "approvals": CloudEvents source /itgov/approvals, cursor row, label */
    const char *host; /* its HTTP server (a name is resolved asynchronously, evdns) */
    int port;
    const char *const *types; /* topics followed (type without "itgov."), prefixes, NULL-ended;
                                 "" = every type */
    long long after;          /* own_cursor: where reading starts */
};

struct follow_config {
    const struct follow_source *sources;
    int nsources;
    const char *bus_endpoint; /* the broker's XPUB, tcp://host:port */
    int poll_ms;              /* safety read interval */
    int page;                 /* events per read (default 200) */
    bool own_cursor;          /* the consumer stores its position itself */
    follow_handler handler;
    void *arg;
};

/* Subscribes, loads the cursors, starts reading; adds the counters to the
 * service's /metrics. NULL if the bus subscription cannot be made. */
struct follow *follow_new(struct service *svc, const struct follow_config *cfg);
void follow_destroy(struct follow **self_p);
/* ok=false: the effect could not be written (database down, queue full);
 * the source is read again from the last event handled, at the next poll. */
void follow_done(struct follow_job *job, bool ok);
/* Takes the event off the job (the caller frees it). */
cJSON *follow_take(struct follow_job *job);
/* The usual way to apply an event: runs the one statement that writes the
 * effect together with its inbox row and ends the job with its outcome. */
void follow_apply(struct follow_job *job, struct db *db, const char *sql, int nparams,
                  const char *const *params);

/* ---- pure parts, for tests -------------------------------------------------- */

/* Reads one page; calls each(arg, seq, event) in order (each owns event)
 * and returns the number of items, or -1 (and no call) if the text is not a
 * page: not JSON, no items array, an item without a positive integer
 * sourceseq, sourceseqs not increasing. */
int follow_parse_page(const char *text, size_t len,
                      void (*each)(void *arg, long long seq, cJSON *event), void *arg);

/* SHA-256 of the event's canonical JSON (object members sorted by name,
 * recursively; no whitespace), so a member order does not count. */
void follow_digest(const cJSON *event, unsigned char out[32]);

#define FOLLOW_WINDOW 4096 /* recent events remembered per source */
#define FOLLOW_HINTS  256  /* hints waiting per source */

/* The check of one source: what was read (sourceseq → digest, the last
 * FOLLOW_WINDOW) and the hints waiting for their sourceseq. */
struct follow_seen {
    long long seq;
    unsigned char d[32];
};
struct follow_hint {
    long long seq;
    unsigned gen; /* reads started before the hint came */
    unsigned char d[32];
};
struct follow_check {
    long long seen; /* the highest sourceseq read */
    struct follow_seen win[FOLLOW_WINDOW];
    struct follow_hint hint[FOLLOW_HINTS];
    int nhints;
};

enum follow_verdict {
    FOLLOW_SAME,    /* what the source holds */
    FOLLOW_FORGED,  /* differs from what the source holds */
    FOLLOW_WAIT,    /* not read yet: kept, and the source should be read */
    FOLLOW_UNKNOWN, /* read too long ago to judge (an old redelivery) */
};

/* A hint from the bus for sourceseq seq with digest d; gen: the number of
 * reads of the source started so far. */
enum follow_verdict follow_check_hint(struct follow_check *c, long long seq,
                                      const unsigned char d[32], unsigned gen);
/* The source holds d at seq (just read); returns how many waiting hints for
 * seq it proves forged (they are dropped, like the matching ones). */
int follow_check_read(struct follow_check *c, long long seq, const unsigned char d[32]);
/* A read, the gen-th started, reached the source's end at sourceseq last:
 * the hints it should have seen (came before it, seq > last) name events
 * the source does not have. Returns how many; they are dropped. */
int follow_check_end(struct follow_check *c, long long last, unsigned gen);

#endif
