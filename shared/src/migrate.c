/*
 * The migrations runner: the shared outbox migration, then the service's
 * own files in name order, each applied once in its own transaction and
 * recorded in schema_migrations; an advisory lock keeps parallel starts of
 * the same service from racing.
 */
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
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

static int s_apply(PGconn *conn, const char *name, const char *sql, char *err, size_t errlen)
{
    const char *p[] = {name};
    int seen = s_exec(conn, "SELECT 1 FROM schema_migrations WHERE name = $1", 1, p, err, errlen);
    if (seen != 0) return seen < 0 ? -1 : 0;
    if (s_exec(conn, "BEGIN", 0, NULL, err, errlen) < 0) return -1;
    PGresult *res = PQexec(conn, sql); /* a file may hold many statements */
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) snprintf(err, errlen, "%s: %s", name, PQerrorMessage(conn));
    PQclear(res);
    if (!ok ||
        s_exec(conn, "INSERT INTO schema_migrations (name) VALUES ($1)", 1, p, err, errlen) < 0) {
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
    if (rc >= 0) rc = s_apply(conn, "0000_base", outbox_sql, err, errlen);
    if (rc >= 0) rc = s_apply(conn, "0000_base_relay", outbox_relay_sql, err, errlen);
    for (const struct migration *m = list; rc >= 0 && m->name; m++)
        rc = s_apply(conn, m->name, m->sql, err, errlen);
    char ignored[8];
    s_exec(conn, "SELECT pg_advisory_unlock(hashtext(current_schema()))", 0, NULL, ignored,
           sizeof ignored);
    return rc < 0 ? -1 : 0;
}
