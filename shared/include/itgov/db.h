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

/* The pool's limits. A query waits at most wait_ms for a connection and
 * only while the queue holds fewer than queue_max; past either, and at once
 * while no connection is up, it fails with 503 unavailable (Retry-After).
 * Every statement runs under statement_timeout_ms (0: PostgreSQL's own). */
struct db_config {
    int size;
    int queue_max;
    int wait_ms;
    int statement_timeout_ms;
};
#define DB_DEFAULT_QUEUE_MAX    1024
#define DB_DEFAULT_WAIT_MS      5000
#define DB_DEFAULT_STATEMENT_MS 10000

/* A host name in conninfo is resolved on the loop (dns.h) before each round
 * of connecting and passed as hostaddr (host stays, for TLS and naming). */
struct db *db_new(struct event_base *base, const char *conninfo, const struct db_config *cfg);
/* A non-blocking connection (PQconnectStart) to the pool's database at its
 * resolved address, for a part that needs its own (LISTEN); NULL while the
 * address is not known yet: try again later. */
PGconn *db_connect_start(struct db *db);
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

/* The SQLSTATEs a trigger raises when a write touches a halted project or
 * its records (issue 12): 409 project_suspended, and 409 invalid_state
 * naming the state terminated. */
#define DB_STATE_PROJECT_SUSPENDED  "IGSUS"
#define DB_STATE_PROJECT_TERMINATED "IGTRM"

/* Maps a failed result to an error: 23505 → conflict, 23503/23514/22xxx →
 * validation, DB_STATE_PROJECT_* → 409 (above), connection trouble or a
 * statement timeout → unavailable, else internal. PostgreSQL's own message
 * is logged, never put into the error (no client sees it). */
struct error *db_error_from(const PGresult *res, PGconn *conn);
/* True for SQLSTATEs worth retrying (40001, 40P01). */
bool db_sqlstate_retryable(const char *sqlstate);

#endif
