/*
 * The transactional outbox (architecture, invariant 2). Every service schema
 * has the table outbox(id, event jsonb, created_at, published_at) and the SQL
 * function emit(type, subject, actor, data) that writes a CloudEvent into it
 * inside the caller's statement, so a change and its event commit together.
 * The relay gives committed rows a gap-free per-source sequence number
 * (seq, in commit order), publishes them in that order with seq as the
 * CloudEvents extension attribute "sourceseq", and only then marks them
 * published; a crash in between resends (consumers are idempotent by event
 * id), so nothing is lost. Consumers take the events themselves only from
 * the source's GET /internal/v1/outbox?after=<seq>&limit=<n> (served by
 * every service on its own port, never through the gateway; follow.h): a
 * message on the bus only wakes that read.
 */
#ifndef ITGOV_OUTBOX_H
#define ITGOV_OUTBOX_H

#include <event2/event.h>

struct db;
struct bus_pub;
struct outbox;

/* conninfo: the service's database, for the connection that LISTENs for
 * emit()'s notifications (nobody needs to tell the relay about a write). */
struct outbox *outbox_new(struct event_base *base, struct db *db, struct bus_pub *pub,
                          const char *conninfo);
void outbox_destroy(struct outbox **self_p);

/* The shared base migration of every schema: outbox, emit(), rfc3339(),
 * refuse_delete() (the trigger function that keeps records from being
 * deleted), inbox (events consumed, by id) and feed_cursor (follow.h). */
extern const char outbox_sql[];
/* The next shared migration: emit() notifies outbox_<schema>;
 * outbox_next(limit, published) marks the previous cycle's rows. */
extern const char outbox_relay_sql[];
/* The one after: emit() notifies only when the outbox holds nothing
 * unpublished (see outbox.c). */
extern const char outbox_notify_sql[];
/* emit() in plpgsql and rfc3339() STABLE: nothing parsed per call (issue 15) */
extern const char outbox_cached_sql[];

#endif
