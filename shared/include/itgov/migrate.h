/*
 * Forward-only migrations. Each service embeds its numbered SQL files
 * (services/<svc>/migrations/NNNN_name.sql, cmake/embed.cmake) and passes
 * them in its service_def; at start, the ones not yet recorded in its
 * schema's schema_migrations table are applied, each in its own transaction,
 * under an advisory lock so parallel copies do not race. Each applied file
 * is recorded with the SHA-256 of its text; a shipped file that no longer
 * matches stops the start (a change goes into a new file).
 */
#ifndef ITGOV_MIGRATE_H
#define ITGOV_MIGRATE_H

#include <stddef.h>
#include <libpq-fe.h>

struct migration {
    const char *name;
    const char *sql;
};

/* Applies the shared steps (the checksum column, the outbox), then list
 * (ends with {0, 0}; may be NULL). Returns 0, or -1 with a message in err
 * (naming the file whose checksum differs). */
int migrate_run(PGconn *conn, const struct migration *list, char *err, size_t errlen);

#endif
