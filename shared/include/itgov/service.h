/*
 * What every service's main() does, in one place: read the common
 * configuration, apply migrations, run a bootstrap step, open the database
 * pool, Redis, the broker publisher and the outbox relay, serve the route
 * table, and stop cleanly on SIGTERM/SIGINT (so sanitizers can report).
 */
#ifndef ITGOV_SERVICE_H
#define ITGOV_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>
#include "itgov/http.h"
#include "itgov/migrate.h"

struct service {
    const char *name;
    struct event_base *base;
    struct db *db;
    struct redis *redis;
    void *zctx;
    struct bus_pub *pub;
    struct outbox *outbox;
    struct server *http;
    struct worker *worker;
    const char *internal_key; /* ITGOV_INTERNAL_KEY: what followers send to other services */
    void *app;
};

struct service_def {
    const char *name; /* "accounts": schema, role, Redis user, ITGOV_ACCOUNTS_* */
    int default_port;
    const struct route *routes;
    size_t nroutes;
    const struct config_row *config; /* the service's own settings, may be NULL */
    /* The service's migration files, embedded by itgov_embed_migrations()
     * (cmake/embed.cmake) as <svc>_migrations; ends with {0, 0}. */
    const struct migration *migrations;
    size_t nconfig;
    /* Runs once after migrations on a blocking connection; 0 = ok. */
    int (*bootstrap)(PGconn *conn);
    /* Runs after the loop's resources exist (timers, subscribers); 0 = ok. */
    int (*start)(struct service *svc);
    /* Runs when the loop has stopped (or start failed), before the shared
     * resources are torn down: free what start() made. May be NULL. */
    void (*stop)(struct service *svc);
    void *app;
    /* Verifies system keys on ROLE_SYSTEM routes (http.h); called with the
     * struct service as app. NULL: the service accepts no key. */
    system_auth_fn system_auth;
};

int service_main(const struct service_def *def, int argc, char **argv);

/* The services of deploy/services as the build knows them (ITGOV_SERVICES),
 * each at ITGOV_<NAME>_HOST (default 127.0.0.1) and ITGOV_<NAME>_PORT
 * (default its port in the list). */
struct service_peer {
    char name[32];
    const char *host;
    long port;
};
/* Fills up to max peers, in list order; returns how many, or -1 if a port in
 * the environment is not one (logged). */
int service_peers(struct service_peer *out, int max);

/* The service a request belongs to. */
static inline struct service *req_service(const struct req *r)
{
    return (struct service *)r->app;
}

/* Database callbacks for handlers whose answer is the JSON text in the first
 * column of the first row (arg is the struct req). No row → 404. (A
 * statement that emitted an event wakes the relay by itself: emit()
 * notifies it.) */
void reply_row(void *req, PGresult *res, struct error *err);
void reply_row_written(void *req, PGresult *res, struct error *err);
void reply_row_created(void *req, PGresult *res, struct error *err);
/* The same with a strong ETag of the document's bytes (etag_of), for
 * resources without a version column: If-None-Match then gives 304. */
void reply_row_tagged(void *req, PGresult *res, struct error *err);
void reply_row_created_tagged(void *req, PGresult *res, struct error *err);

/* A plain list: checks limit and cursor (400 if bad), runs page_sql (a
 * DB_PAGE_SQL query taking $1 cursor and $2 limit) and replies the page. */
void reply_page(struct req *r, const char *page_sql);

#endif
