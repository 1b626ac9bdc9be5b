/*
 * Storing every event once, in order (architecture, invariants 2-4).
 *
 * Events come from the broker (subscribed to everything) and, to catch up,
 * from each source's GET /internal/v1/outbox?after=<sourceseq> (on start,
 * every ITGOV_AUDIT_CATCHUP_MS, and at once when a sourceseq gap shows).
 * Per source, an event is accepted only when its sourceseq is the next one
 * (earlier ones are duplicates; later ones wait while the gap is fetched),
 * so each source's events enter the log once and in their commit order.
 * Events of sources with no catch-up URL, or without sourceseq, are taken as
 * they come; their event id (UNIQUE) keeps them single.
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

#endif
