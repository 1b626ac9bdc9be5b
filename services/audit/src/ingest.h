/*
 * Storing every event once, in order (architecture, invariants 2-4).
 *
 * Events are read from each configured source's outbox (ITGOV_AUDIT_SOURCES)
 * by the shared follower (itgov/follow.h): in each source's sourceseq
 * order, each once, exactly as the source holds it; the broker only wakes
 * the reads, and a message on it that differs from the source is dropped
 * and counted (itgov_bus_forgeries_total). Events of any other source never
 * enter the log.
 *
 * Accepted events queue; one batch at a time leaves the queue: each event
 * gets the next seq (added to its JSON as "seq"), its chain hash is computed
 * here, and the batch goes to PostgreSQL in one INSERT, together with the
 * per-source cursors. Only after the commit are the entries appended to the
 * in-memory Merkle tree, published on the ZeroMQ PUB in seq order, and
 * announced to the webhooks. A failed batch stays queued and is retried.
 */
#ifndef AUDIT_INGEST_H
#define AUDIT_INGEST_H

#include <libpq-fe.h>
#include <event2/buffer.h>

struct service;
struct merkle;

/* Bootstrap (blocking connection): loads the chain head, the Merkle leaves
 * and the cursors; 0 = ok. */
int ingest_load(PGconn *conn);
int ingest_start(struct service *svc);
void ingest_stop(void);

/* What is stored and committed. */
long long ingest_size(void);
const char *ingest_head_hash(void);
const struct merkle *ingest_tree(void);

void ingest_metrics(void *app, struct evbuffer *out);

/* issue 14 B: waiting for an event of audit's own outbox to be in the log.
 * cb(arg, seq) runs once, on the loop: seq > 0 once the batch holding the
 * event (by its CloudEvent id) committed (at once if it committed lately),
 * 0 when INGEST_WAIT_MS passed first, -1 when the service stops. */
#define INGEST_WAIT_MS 5000
typedef void (*ingest_wait_cb)(void *arg, long long seq);
void ingest_wait(const char *event_id, ingest_wait_cb cb, void *arg);

#endif
