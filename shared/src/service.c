/*
 * The common main() of every service: configuration, migrations and
 * bootstrap on a blocking connection before serving, then the loop with its
 * database pool, Redis, broker publisher, outbox relay, worker threads and
 * HTTP server; SIGTERM/SIGINT stop the loop and everything is torn down in
 * reverse order.
 */
#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include "itgov/bus.h"
#include "itgov/config.h"
#include "itgov/crypto.h"
#include "itgov/db.h"
#include "itgov/log.h"
#include "itgov/outbox.h"
#include "itgov/redis.h"
#include "itgov/service.h"
#include "itgov/worker.h"
#include "itgov/zap.h"

#define STARTUP_WAIT_S   60
#define INTERNAL_KEY_MIN 16

struct common {
    const char *bind, *db_url, *redis_host, *broker_host, *cors, *log_level, *internal_key;
    const char *curve_secret, *broker_public; /* the bus's CURVE keys (bus.h) */
    const char *redis_password, *session_mac_key;
    long port, db_pool, redis_port, xsub_port;
    long db_queue, db_wait_ms, db_statement_ms, redis_timeout_ms, worker_queue;
};

static void s_env_name(char *out, size_t n, const char *service, const char *suffix)
{
    size_t i = (size_t)snprintf(out, n, "ITGOV_");
    for (const char *c = service; *c && i + 1 < n; c++)
        out[i++] = (char)toupper((unsigned char)*c);
    snprintf(out + i, n - i, "_%s", suffix);
}

static bool s_load_config(const struct service_def *def, struct common *c)
{
    char port_var[64], db_var[64], redis_pw_var[64], def_port[8], def_db[160];
    static char curve_var[64];
    s_env_name(curve_var, sizeof curve_var, def->name, "CURVE_SECRET");
    s_env_name(port_var, sizeof port_var, def->name, "PORT");
    s_env_name(redis_pw_var, sizeof redis_pw_var, def->name, "REDIS_PASSWORD");
    s_env_name(db_var, sizeof db_var, def->name, "DATABASE_URL");
    snprintf(def_port, sizeof def_port, "%d", def->default_port);
    const char *generic_db = getenv("ITGOV_DATABASE_URL");
    snprintf(def_db, sizeof def_db, "%s",
             generic_db && *generic_db ? generic_db : "host=127.0.0.1 port=5432 dbname=itgov");
    if (!generic_db || !*generic_db) {
        size_t used = strlen(def_db);
        snprintf(def_db + used, sizeof def_db - used, " user=%s", def->name);
    }
    const struct config_row rows[] = {
        {"ITGOV_BIND", CFG_STR, &c->bind, "127.0.0.1", 0, 0},
        {port_var, CFG_INT, &c->port, def_port, 1, 65535},
        {db_var, CFG_STR, &c->db_url, def_db, 0, 0},
        {"ITGOV_DB_POOL", CFG_INT, &c->db_pool, "8", 1, 64},
        /* nothing waits without bound (db.h, redis.h, worker.h) */
        {"ITGOV_DB_QUEUE", CFG_INT, &c->db_queue, "1024", 1, 100000},
        {"ITGOV_DB_WAIT_MS", CFG_INT, &c->db_wait_ms, "5000", 1, 600000},
        {"ITGOV_DB_STATEMENT_TIMEOUT_MS", CFG_INT, &c->db_statement_ms, "10000", 0, 3600000},
        {"ITGOV_REDIS_TIMEOUT_MS", CFG_INT, &c->redis_timeout_ms, "2000", 1, 600000},
        {"ITGOV_WORKER_QUEUE", CFG_INT, &c->worker_queue, "64", 1, 100000},
        {"ITGOV_REDIS_HOST", CFG_STR, &c->redis_host, "127.0.0.1", 0, 0},
        {"ITGOV_REDIS_PORT", CFG_INT, &c->redis_port, "6379", 1, 65535},
        /* the service's own Redis ACL user is its name */
        {redis_pw_var, CFG_STR, &c->redis_password, NULL, 0, 0},
        {"ITGOV_SESSION_MAC_KEY", CFG_STR, &c->session_mac_key, NULL, 0, 0},
        {"ITGOV_BROKER_HOST", CFG_STR, &c->broker_host, "127.0.0.1", 0, 0},
        {"ITGOV_BROKER_XSUB_PORT", CFG_INT, &c->xsub_port, "5550", 1, 65535},
        {curve_var, CFG_STR, &c->curve_secret, NULL, 0, 0},
        {"ITGOV_BROKER_CURVE_PUBLIC", CFG_STR, &c->broker_public, NULL, 0, 0},
        {"ITGOV_CORS_ORIGINS", CFG_STR, &c->cors, "", 0, 0},
        {"ITGOV_LOG_LEVEL", CFG_STR, &c->log_level, "info", 0, 0},
        {"ITGOV_INTERNAL_KEY", CFG_STR, &c->internal_key, NULL, 0, 0},
    };
    bool ok = config_load(rows, sizeof rows / sizeof rows[0]);
    if (c->internal_key && strlen(c->internal_key) < INTERNAL_KEY_MIN) {
        fprintf(stderr, "config: ITGOV_INTERNAL_KEY must be at least %d characters\n",
                INTERNAL_KEY_MIN);
        ok = false;
    }
    if (def->config && !config_load(def->config, def->nconfig)) ok = false;
    if (ok) { /* both checked, so that both are reported */
        bool secret_ok = zap_check_key(curve_var, c->curve_secret);
        ok = zap_check_key("ITGOV_BROKER_CURVE_PUBLIC", c->broker_public) && secret_ok;
    }
    if (ok) bus_set_curve(c->curve_secret, c->broker_public);
    if (ok && !session_init(c->session_mac_key)) {
        fprintf(stderr, "config: ITGOV_SESSION_MAC_KEY must be 64 hex characters (32 bytes)\n");
        ok = false;
    }
    return ok;
}

/* Migrations and bootstrap, waiting for PostgreSQL to come up. */
static bool s_prepare_db(const struct service_def *def, const char *url)
{
    PGconn *conn = NULL;
    for (int i = 0; i < STARTUP_WAIT_S; i++) {
        conn = PQconnectdb(url);
        if (PQstatus(conn) == CONNECTION_OK) break;
        if (i == 0) log_warn("postgresql not reachable yet, waiting: %s", PQerrorMessage(conn));
        PQfinish(conn);
        conn = NULL;
        sleep(1);
    }
    if (!conn) {
        log_error("postgresql unreachable for %d s; giving up", STARTUP_WAIT_S);
        return false;
    }
    char err[512];
    bool ok = migrate_run(conn, def->migrations, err, sizeof err) == 0;
    if (!ok) log_error("migrations failed: %s", err);
    if (ok && def->bootstrap && def->bootstrap(conn) != 0) ok = false;
    PQfinish(conn);
    return ok;
}

static void s_on_flush(evutil_socket_t fd, short what, void *arg)
{
    log_flush();
}

static void s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    log_info("signal %d: stopping", (int)sig);
    event_base_loopbreak(arg);
}

/* GET /internal/v1/outbox?after=N&limit=M → {items: [events with
 * sourceseq], next_after}: the source's events after seq N, in order. */
static void s_outbox_feed(struct req *r)
{
    long long a = 0, l = 500;
    struct error *e = NULL;
    req_query_int(r, "after", 0, LLONG_MAX, "must be a sequence number (0 or more)", &a, &e);
    req_query_int(r, "limit", 1, 1000, NULL, &l, &e);
    if (e) return reply_error(r, e);
    char as[24], ls[24];
    snprintf(as, sizeof as, "%lld", a);
    snprintf(ls, sizeof ls, "%lld", l);
    const char *params[] = {as, ls};
    db_query(req_service(r)->db,
             "SELECT json_build_object('items', coalesce(json_agg(e ORDER BY seq), '[]'::json), "
             "'next_after', coalesce(max(seq), $1::bigint))::text FROM ("
             "SELECT seq, event || jsonb_build_object('sourceseq', seq) AS e FROM outbox "
             "WHERE seq > $1::bigint ORDER BY seq LIMIT $2::int) page",
             2, params, reply_row, r);
}

/* The internal routes every service serves besides its own. */
static const struct route s_internal_routes[] = {
    {"GET", "/internal/v1/outbox", s_outbox_feed, ROLE_INTERNAL},
};

/* `<service> --routes`: the route table, one JSON object a line
 * ({"method", "path", "roles": [names, "system" for ROLE_SYSTEM], "public"
 * or "internal"}), for the tests' role × route matrix; nothing is read or
 * connected. */
static int s_print_routes(const struct service_def *def)
{
    static const char *const names[] = {"admin",  "it_office", "applicant",
                                        "expert", "secretary", "auditor"};
    size_t nint = sizeof s_internal_routes / sizeof s_internal_routes[0];
    for (size_t i = 0; i < def->nroutes + nint; i++) {
        const struct route *rt =
            i < def->nroutes ? &def->routes[i] : &s_internal_routes[i - def->nroutes];
        printf("{\"method\":\"%s\",\"path\":\"%s\",\"roles\":", rt->method, rt->path);
        if (rt->roles == ROLE_PUBLIC) {
            printf("\"public\"}\n");
            continue;
        }
        if (rt->roles & ROLE_INTERNAL) {
            printf("\"internal\"}\n");
            continue;
        }
        unsigned rest = rt->roles;
        const char *sep = "";
        printf("[");
        if (rt->roles & ROLE_SYSTEM) { /* a system key may call it (http.h) */
            printf("\"system\"");
            rest &= ~ROLE_SYSTEM;
            sep = ",";
        }
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            if (!(rt->roles & role_bit(names[k]))) continue;
            printf("%s\"%s\"", sep, names[k]);
            rest &= ~role_bit(names[k]);
            sep = ",";
        }
        for (unsigned b = 0; b < 32; b++) /* a bit without a name: show it */
            if (rest & (1u << b)) {
                printf("%s\"bit%u\"", sep, b);
                sep = ",";
            }
        printf("]}\n");
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int service_main(const struct service_def *def, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--routes") == 0) return s_print_routes(def);
    struct common c = {0};
    log_init(def->name, getenv("ITGOV_LOG_LEVEL"));
    if (!crypto_init()) {
        log_error("libsodium failed to initialise");
        return 1;
    }
    if (!s_load_config(def, &c)) return 2;
    signal(SIGPIPE, SIG_IGN);
    if (!s_prepare_db(def, c.db_url)) return 1;

    struct service svc = {.name = def->name, .internal_key = c.internal_key, .app = def->app};
    struct route *routes = NULL;
    /* epoll's changelist: the changes of one loop turn reach the kernel as
     * one epoll_ctl per descriptor (evhttp turns a connection's read and
     * write events off and on around each request: about 4 epoll_ctl per
     * request without it, 3 with it). Nothing here dup()s a descriptor, the
     * case libevent warns about. */
    struct event_config *ecfg = event_config_new();
    if (!ecfg) abort();
    event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    svc.base = event_base_new_with_config(ecfg);
    event_config_free(ecfg);
    struct db_config dbc = {(int)c.db_pool, (int)c.db_queue, (int)c.db_wait_ms,
                            (int)c.db_statement_ms};
    svc.db = db_new(svc.base, c.db_url, &dbc);
    svc.redis = redis_new(svc.base, c.redis_host, (int)c.redis_port, def->name, c.redis_password);
    redis_set_timeout(svc.redis, (int)c.redis_timeout_ms);
    svc.zctx = zmq_ctx_new();
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "tcp://%s:%ld", c.broker_host, c.xsub_port);
    svc.pub = bus_pub_new(svc.zctx, endpoint);
    int rc = 1;
    if (!svc.pub) goto done;
    svc.outbox = outbox_new(svc.base, svc.db, svc.pub, c.db_url);
    svc.worker = worker_new(svc.base, 2, (int)c.worker_queue);
    /* the service's routes plus the internal ones every service serves */
    size_t nroutes = def->nroutes + sizeof s_internal_routes / sizeof s_internal_routes[0];
    routes = calloc(nroutes, sizeof *routes);
    if (!routes) abort();
    memcpy(routes, def->routes, def->nroutes * sizeof *routes);
    memcpy(routes + def->nroutes, s_internal_routes, sizeof s_internal_routes);
    struct server_config sc = {
        .service = def->name,
        .bind = c.bind,
        .port = (int)c.port,
        .cors_origins = c.cors,
        .routes = routes,
        .nroutes = nroutes,
        .redis = svc.redis,
        .db = svc.db,
        .app = &svc,
        .internal_key = c.internal_key,
        .system_auth = def->system_auth,
    };
    svc.http = server_new(svc.base, &sc);
    if (!svc.http) goto done;
    if (def->start && def->start(&svc) != 0) goto done;

    struct event *sigterm = evsignal_new(svc.base, SIGTERM, s_on_signal, svc.base);
    struct event *sigint = evsignal_new(svc.base, SIGINT, s_on_signal, svc.base);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    struct event *flush = event_new(svc.base, -1, EV_PERSIST, s_on_flush, NULL);
    struct timeval every = {0, 200000};
    event_add(flush, &every);
    log_info("listening on %s:%ld", c.bind, c.port);
    event_base_dispatch(svc.base);
    event_free(sigterm);
    event_free(sigint);
    event_free(flush);
    rc = 0;
done:
    /* Shutdown: first end the work in flight, while everything its callbacks
     * touch still exists (requests get 503, relays and feeds give up); then
     * the service's own parts; then free the rest. */
    worker_destroy(&svc.worker);
    if (svc.db) db_close(svc.db);
    if (svc.redis) redis_close(svc.redis);
    if (def->stop) def->stop(&svc);
    outbox_destroy(&svc.outbox);
    server_destroy(&svc.http);
    db_destroy(&svc.db);
    redis_destroy(&svc.redis);
    bus_pub_destroy(&svc.pub);
    zmq_ctx_term(svc.zctx);
    event_base_free(svc.base);
    free(routes);
    log_flush();
    return rc;
}

int service_peers(struct service_peer *out, int max)
{
    const char *list = ITGOV_SERVICES;
    int n = 0;
    while (*list && n < max) {
        size_t len = strcspn(list, ",");
        const char *colon = memchr(list, ':', len);
        struct service_peer *p = &out[n++];
        char var[64], def[8];
        if (!colon || (size_t)(colon - list) >= sizeof p->name || list + len - colon > 6) abort();
        snprintf(p->name, sizeof p->name, "%.*s", (int)(colon - list), list);
        snprintf(def, sizeof def, "%.*s", (int)(list + len - colon - 1), colon + 1);
        s_env_name(var, sizeof var, p->name, "HOST");
        p->host = getenv(var) && *getenv(var) ? getenv(var) : "127.0.0.1";
        s_env_name(var, sizeof var, p->name, "PORT");
        const char *port = getenv(var) && *getenv(var) ? getenv(var) : def;
        if (!config_parse_long(port, 1, 65535, &p->port)) {
            log_error("%s: give a port number (1-65535)", var);
            return -1;
        }
        list += len + (list[len] == ',');
    }
    return n;
}

/* ---- reply helpers for one-statement handlers ---------------------------- */

static void s_reply_first(struct req *r, int status, PGresult *res, struct error *err)
{
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such resource"));
    reply_raw(r, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static void s_reply_tagged(struct req *r, int status, PGresult *res, struct error *err)
{
    if (!err && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        char tag[19];
        etag_of(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), tag);
        req_add_header(r, "ETag", tag);
    }
    s_reply_first(r, status, res, err);
}

void reply_row_tagged(void *req, PGresult *res, struct error *err)
{
    s_reply_tagged(req, 200, res, err);
}

void reply_row_created_tagged(void *req, PGresult *res, struct error *err)
{
    s_reply_tagged(req, 201, res, err);
}

void reply_row(void *req, PGresult *res, struct error *err)
{
    s_reply_first(req, 200, res, err);
}

void reply_row_written(void *req, PGresult *res, struct error *err)
{
    s_reply_first(req, 200, res, err);
}

void reply_row_created(void *req, PGresult *res, struct error *err)
{
    s_reply_first(req, 201, res, err);
}

void reply_page(struct req *r, const char *page_sql)
{
    int limit;
    long long cursor;
    if (!req_page(r, &limit, &cursor)) return;
    char c[24], l[16];
    snprintf(c, sizeof c, "%lld", cursor);
    snprintf(l, sizeof l, "%d", limit);
    const char *params[] = {c, l};
    db_query(req_service(r)->db, page_sql, 2, params, reply_row, r);
}
