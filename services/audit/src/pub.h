/*
 * The public feed on ZeroMQ: a PUB socket bound on ITGOV_AUDIT_PUB_PORT.
 * Wire format, one message = two frames:
 *   frame 1  topic: the event type without "itgov." (account.user.created)
 *   frame 2  the entry's CloudEvent JSON exactly as stored, with "seq"
 * Entries are sent after they are stored, in seq order. ZeroMQ may drop
 * messages for a slow subscriber; a subscriber that sees a gap in seq reads
 * the missing entries from GET /api/v1/audit?after=<last seq it has>.
 */
#ifndef AUDIT_PUB_H
#define AUDIT_PUB_H

#include <stdbool.h>
#include <stddef.h>

struct pub;

/* Binds tcp://bind:port; NULL (logged) if it cannot. */
struct pub *pub_new(void *zctx, const char *bind, int port);
void pub_destroy(struct pub **self_p);
bool pub_send(struct pub *p, const char *topic, const char *json, size_t len);

#endif
