/*
 * The migrations runner: the shared outbox migration, then the service's
 * own files in name order, each applied once in its own transaction and
 * recorded in schema_migrations with the SHA-256 of its text; an advisory
 * lock keeps parallel starts of the same service from racing. A shipped
 * file whose text no longer matches its recorded checksum stops the start:
 * migrations are forward-only, a change goes into a new file.
 */
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include "itgov/crypto.h"
#include "itgov/log.h"
#include "itgov/migrate.h"
#include "itgov/outbox.h"

static int s_exec(PGconn *conn, const char *sql, int n, const char *const *params, char *err,
                  size_t errlen)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
                 ? (st == PGRES_TUPLES_OK ? PQntuples(res) : 0)
                 : -1;
    if (rc < 0) snprintf(err, errlen, "%s", PQerrorMessage(conn));
    PQclear(res);
    return rc;
}

/* The checksum column came after the table: a database made before it gets
 * it here, and its rows get the shipped files' checksums (below). */
static const char s_checksum_sql[] =
    "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text";

static int s_apply(PGconn *conn, const char *name, const char *sql, char *err, size_t errlen)
{
    char sum[65];
    sha256_hex(sql, strlen(sql), sum);
    const char *p[] = {name, sum};
    /* to_jsonb: the checksum, or NULL, also before the column exists */
    PGresult *res = PQexecParams(conn,
                                 "SELECT to_jsonb(m) ->> 'checksum' FROM schema_migrations m "
                                 "WHERE name = $1",
                                 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(conn));
        PQclear(res);
        return -1;
    }
    int seen = PQntuples(res);
    char recorded[65] = "";
    if (seen && !PQgetisnull(res, 0, 0))
        snprintf(recorded, sizeof recorded, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (seen && *recorded) {
        if (strcmp(recorded, sum) == 0) return 0;
        snprintf(err, errlen,
                 "%s was changed after it was applied (SHA-256 %.12s..., recorded %.12s...): "
                 "migrations are forward-only, put the change in a new file",
                 name, sum, recorded);
        return -1;
    }
    if (seen) { /* applied before checksums were recorded */
        log_info("migrations: recording the checksum of %s", name);
        return s_exec(conn,
                      "UPDATE schema_migrations SET checksum = $2 "
                      "WHERE name = $1 AND checksum IS NULL",
                      2, p, err, errlen) < 0
                   ? -1
                   : 0;
    }
    if (s_exec(conn, "BEGIN", 0, NULL, err, errlen) < 0) return -1;
    res = PQexec(conn, sql); /* a file may hold many statements */
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) snprintf(err, errlen, "%s: %s", name, PQerrorMessage(conn));
    PQclear(res);
    if (!ok || s_exec(conn, "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", 2, p,
                      err, errlen) < 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        return -1;
    }
    return s_exec(conn, "COMMIT", 0, NULL, err, errlen) < 0 ? -1 : 0;
}

int migrate_run(PGconn *conn, const struct migration *list, char *err, size_t errlen)
{
    if (s_exec(conn, "SELECT pg_advisory_lock(hashtext(current_schema()))", 0, NULL, err, errlen) <
        0)
        return -1;
    int rc = s_exec(conn,
                    "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
                    "applied_at timestamptz NOT NULL DEFAULT now())",
                    0, NULL, err, errlen);
    if (rc >= 0) rc = s_apply(conn, "0000_checksum", s_checksum_sql, err, errlen);
    if (rc >= 0) rc = s_apply(conn, "0000_base", outbox_sql, err, errlen);
    if (rc >= 0) rc = s_apply(conn, "0000_base_relay", outbox_relay_sql, err, errlen);
    if (rc >= 0) rc = s_apply(conn, "0000_notify_when_idle", outbox_notify_sql, err, errlen);
    if (rc >= 0) rc = s_apply(conn, "0000_plans_kept", outbox_cached_sql, err, errlen);
    for (const struct migration *m = list; rc >= 0 && m && m->name; m++)
        rc = s_apply(conn, m->name, m->sql, err, errlen);
    char ignored[8];
    s_exec(conn, "SELECT pg_advisory_unlock(hashtext(current_schema()))", 0, NULL, ignored,
           sizeof ignored);
    return rc < 0 ? -1 : 0;
}
