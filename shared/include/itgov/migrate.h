/*
 * Forward-only migrations. Each service embeds its numbered SQL files
 * (services/<svc>/migrations/NNNN_name.sql) and applies, at start, the ones
 * not yet recorded in its schema's schema_migrations table, each in its own
 * transaction, under an advisory lock so parallel copies do not race.
 */
#ifndef ITGOV_MIGRATE_H
#define ITGOV_MIGRATE_H

#include <stddef.h>
#include <libpq-fe.h>

struct migration {
    const char *name;
    const char *sql;
};

/* Generated per service from its migrations folder; ends with {0, 0}. */
extern const struct migration itgov_migrations[];

/* Applies the shared outbox migration, then list. Returns 0, or -1 with a
 * message in err. */
int migrate_run(PGconn *conn, const struct migration *list, char *err, size_t errlen);

#endif
