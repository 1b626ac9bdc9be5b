/*
 * Asynchronous PostgreSQL: a small pool of non-blocking libpq connections on
 * the libevent loop, so the loop never sits idle through a round trip. A
 * query is one parameterized statement (write a state change and its outbox
 * event in one statement with a data-modifying CTE, so they commit
 * together). Serialization failures are retried here, never shown; a lost
 * connection answers 503 and the pool reconnects by itself.
 */
#ifndef ITGOV_DB_H
#define ITGOV_DB_H

#include <stdbool.h>
#include <libpq-fe.h>
#include <event2/event.h>
#include "itgov/error.h"

struct db;
/* Exactly one of res and err is non-NULL. The pool clears res after the
 * callback returns; the callback owns err. */
typedef void (*db_cb)(void *arg, PGresult *res, struct error *err);

struct db *db_new(struct event_base *base, const char *conninfo, int size);
/* Shutdown, step one: fails every pending query (their callbacks run now,
 * while everything they touch still exists) and every later one at once. */
void db_close(struct db *db);
void db_destroy(struct db **self_p);
bool db_ready(const struct db *db);
/* params may be NULL entries (SQL NULL); they are copied. */
void db_query(struct db *db, const char *sql, int nparams, const char *const *params, db_cb cb,
              void *arg);

/* Wraps a keyset-paged query into one JSON list {items, next_cursor}. The
 * inner query selects (id, doc) with "WHERE id > $1 ... ORDER BY id LIMIT $2"
 * where $1 is the cursor and $2 the limit. */
#define DB_PAGE_SQL(inner)                                                                         \
    "SELECT json_build_object('items', coalesce(json_agg(doc ORDER BY id), '[]'::json), "          \
    "'next_cursor', CASE WHEN count(*) = $2::int THEN max(id)::text END)::text FROM (" inner       \
    ") page"

/* An id as the text of a query parameter. */
void id_text(char out[24], long long id);

/* Maps a failed result to an error: 23505 → conflict, 23503/23514/22xxx →
 * validation, connection trouble → unavailable, else internal. PostgreSQL's
 * own message is logged, never put into the error (no client sees it). */
struct error *db_error_from(const PGresult *res, PGconn *conn);
/* True for SQLSTATEs worth retrying (40001, 40P01). */
bool db_sqlstate_retryable(const char *sqlstate);

#endif
