/*
 * The transactional outbox (architecture, invariant 2). Every service schema
 * has the table outbox(id, event jsonb, created_at, published_at) and the SQL
 * function emit(type, subject, actor, data) that writes a CloudEvent into it
 * inside the caller's statement, so a change and its event commit together.
 * The relay publishes unpublished rows in id order to the broker and only
 * then marks them published; a crash in between resends (consumers are
 * idempotent by event id), so nothing is lost.
 */
#ifndef ITGOV_OUTBOX_H
#define ITGOV_OUTBOX_H

#include <event2/event.h>

struct db;
struct bus_pub;
struct outbox;

struct outbox *outbox_new(struct event_base *base, struct db *db, struct bus_pub *pub);
void outbox_destroy(struct outbox **self_p);
/* Tells the relay there is something new (it also polls every second). */
void outbox_kick(struct outbox *o);

/* The shared migration that creates outbox, emit() and rfc3339(). */
extern const char outbox_sql[];

#endif
