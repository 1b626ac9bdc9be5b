/*
 * Asynchronous PostgreSQL: a small pool of non-blocking libpq connections on
 * the libevent loop, so the loop never sits idle through a round trip; in
 * pipeline mode, the statements queued in one turn of the loop go out
 * together, each still its own transaction, and reads (db_read) share busy
 * connections. A
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
/* db_query for a statement that changes nothing (no write, no emit(), no
 * lock taken for later): it may be pipelined behind others on a busy
 * connection, and past the queue deadline there it answers 503 and still
 * runs later, its result dropped. */
void db_read(struct db *db, const char *sql, int nparams, const char *const *params, db_cb cb,
             void *arg);

/* Wraps a keyset-paged query into one JSON list {items, next_cursor}. The
 * inner query selects (id, doc) with "WHERE id > $1 ... ORDER BY id LIMIT $2"
 * where $1 is the cursor and $2 the limit. */
#define DB_PAGE_SQL(inner)                                                                         \
    "SELECT json_build_object('items', coalesce(json_agg(doc ORDER BY id), '[]'::json), "          \
    "'next_cursor', CASE WHEN count(*) = $2::int THEN max(id)::text END)::text FROM (" inner       \
    ") page"
/* DB_PAGE_SQL, byte for byte, for an inner query whose doc is the text of
 * a JSON object (json_agg and json_build_object looked up the type of every
 * value on every row; string_agg does not). */
#define DB_PAGE_TEXT_SQL(inner)                                                                    \
    "SELECT '{\"items\" : [' || coalesce(string_agg(doc, ', ' ORDER BY id), '') || "               \
    "'], \"next_cursor\" : ' || CASE WHEN count(*) = $2::int THEN '\"' || max(id)::text || '\"' "  \
    "ELSE 'null' END || '}' FROM (" inner ") page"

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

/* ---- the pool's decisions, pure (db.c; exposed for its unit tests) ---- */

/* What a statement's result leads to: the callback with the result, the
 * statement queued again (40001, 40P01; 26000 when the statement is not
 * prepared on the connection: a PREPARE sent ahead of it failed) while
 * may_retry, or the callback with db_error_from(). */
enum db_outcome { DB_ANSWER, DB_RETRY, DB_FAIL };
enum db_outcome db_result_outcome(ExecStatusType st, const char *sqlstate, bool prepared,
                                  bool may_retry);
/* A connection as the dispatcher sees it: connected, statements in flight,
 * seconds the oldest of them has been running. */
struct db_load {
    bool up;
    int inflight;
    double busy_s;
};
/* The connection the next statement goes to: the connected one with the
 * fewest in flight (the first of equals), skipping those with depth in
 * flight and those whose oldest statement has run longer than stall_s (a
 * slow statement does not hold up those queued behind it); -1 if none. */
int db_pick(const struct db_load *load, int n, int depth, double stall_s);

#endif
