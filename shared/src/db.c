/*
 * An asynchronous PostgreSQL pool. Each connection is a non-blocking libpq
 * connection watched by the loop; each runs one statement at a time and the
 * pool queues the rest. Every statement is prepared once per connection
 * (named after a hash of its text) and then executed by name, and sessions
 * use generic plans, so PostgreSQL does not parse and plan the same text on
 * every request. Connections are opened with PQconnectStart/Poll so
 * even (re)connecting never blocks the loop, and a host name is resolved
 * with evdns first and given to libpq as hostaddr (libpq would otherwise
 * call getaddrinfo() on the loop); a broken connection is retried every
 * second, after resolving the name again (a restarted container may have a
 * new address).
 *
 * Nothing waits without bound: while no connection is up (connected, not
 * merely connecting) queries fail at once with 503; the queue has a bound
 * and each queued query a deadline (both 503, with Retry-After); every
 * statement runs under statement_timeout; a connection stuck connecting, or
 * silent well past the statement timeout, is dropped. A sweep every
 * DB_SWEEP_MS enforces the deadlines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "itgov/db.h"
#include "itgov/dns.h"
#include "itgov/log.h"

#define DB_MAX_ATTEMPTS    5
#define DB_SWEEP_MS        100
#define DB_CONNECT_MS      5000 /* a connection still connecting after this is dropped */
#define DB_SILENT_GRACE_MS 5000 /* past the statement timeout, a silent connection is dropped */

struct job {
    char *sql;
    int nparams;
    char **params;
    db_cb cb;
    void *arg;
    int attempts;
    double queued_at; /* monotonic seconds, for the deadline */
    uint64_t hash;    /* of sql: the prepared statement's name */
    bool preparing;   /* the PREPARE is in flight, the execution comes next */
    struct job *next;
};

enum conn_state { C_DOWN, C_CONNECTING, C_IDLE, C_BUSY };

struct conn {
    struct db *db;
    PGconn *pg;
    enum conn_state state;
    double since; /* when it started connecting, or its current job */
    struct event *ev;
    struct job *job;
    PGresult *res;
    uint64_t *prepared; /* statements this connection has prepared */
    size_t nprepared, cap;
};

struct db {
    struct event_base *base;
    char *conninfo;
    struct db_config cfg;
    char options[96]; /* libpq "options": generic plans, statement_timeout */
    struct conn *conns;
    struct job *head, *tail;
    int queued;
    struct event *retry, *sweep;
    char *host;           /* a name to resolve, or NULL (address, socket, several) */
    struct dns_name name; /* its lookups (dns.h) */
    bool was_up;
    bool closed; /* shutting down: every query fails at once */
};

static void s_dispatch(struct db *db);
static void s_connect(struct conn *c);
static void s_send(struct conn *c, struct job *j);
static void s_mark_prepared(struct conn *c, uint64_t hash);

/* ---- jobs --------------------------------------------------------------- */

static void s_job_free(struct job *j)
{
    for (int i = 0; i < j->nparams; i++)
        free(j->params[i]);
    free(j->params);
    free(j->sql);
    free(j);
}

static void s_job_fail(struct job *j, struct error *err)
{
    j->cb(j->arg, NULL, err);
    s_job_free(j);
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void s_fail_later(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;
    struct error *e = j->attempts < 0 ? error_new(ERR_UNAVAILABLE, "the database is busy")
                                      : error_new(ERR_UNAVAILABLE, "the database is unreachable");
    s_job_fail(j, e);
}

static void s_enqueue(struct db *db, struct job *j, bool front)
{
    if (front) {
        j->next = db->head;
        db->head = j;
        if (!db->tail) db->tail = j;
    } else {
        j->next = NULL;
        if (db->tail)
            db->tail->next = j;
        else
            db->head = j;
        db->tail = j;
    }
    db->queued++;
}

static struct job *s_dequeue(struct db *db)
{
    struct job *j = db->head;
    if (!j) return NULL;
    db->head = j->next;
    if (!db->head) db->tail = NULL;
    db->queued--;
    return j;
}

/* ---- errors ------------------------------------------------------------- */

void id_text(char out[24], long long id)
{
    snprintf(out, 24, "%lld", id);
}

bool db_sqlstate_retryable(const char *st)
{
    return st && (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0);
}

/* "users_department_id_fkey" on table "users" → "department_id". */
static void s_constraint_field(const PGresult *res, char *field, size_t n)
{
    const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    const char *table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
    size_t tl = table ? strlen(table) : 0;
    field[0] = '\0';
    if (!constraint || !table || strncmp(constraint, table, tl) != 0 || constraint[tl] != '_')
        return;
    snprintf(field, n, "%s", constraint + tl + 1);
    static const char *const suffixes[] = {"_fkey", "_key", "_check"};
    for (size_t i = 0; i < 3; i++) {
        size_t fl = strlen(field), sl = strlen(suffixes[i]);
        if (fl > sl && strcmp(field + fl - sl, suffixes[i]) == 0) {
            field[fl - sl] = '\0';
            return;
        }
    }
}

struct error *db_error_from(const PGresult *res, PGconn *conn)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!st || strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0 ||
        (conn && PQstatus(conn) != CONNECTION_OK))
        return error_new(ERR_UNAVAILABLE, "the database is unreachable");
    if (strcmp(st, "57014") == 0) /* statement_timeout (or a cancel) */
        return error_new(ERR_UNAVAILABLE, "the database took too long to answer");
    /* a halted project's records refuse the write (the projects and
     * approvals migrations' triggers raise these): 409 for the client */
    if (strcmp(st, DB_STATE_PROJECT_SUSPENDED) == 0) return error_project_halted("suspended");
    if (strcmp(st, DB_STATE_PROJECT_TERMINATED) == 0) return error_project_halted("terminated");
    /* PostgreSQL's own words go to the log, never to the client: they name
     * types, functions and values the client never sent that way. Inputs are
     * checked before they get here (text.h); what still fails is mapped. */
    if (strcmp(st, "23505") == 0 || strcmp(st, "23503") == 0 || strcmp(st, "23514") == 0 ||
        strncmp(st, "22", 2) == 0) {
        log_warn("database refused a value: %s: %s", st, msg ? msg : "");
        bool taken = strcmp(st, "23505") == 0;
        struct error *e = taken ? error_new(ERR_CONFLICT, "a record with this value already exists")
                                : error_new(ERR_VALIDATION, "some fields are invalid");
        char field[64];
        s_constraint_field(res, field, sizeof field);
        error_add_field(e, field,
                        taken                       ? "is already taken"
                        : strcmp(st, "23503") == 0  ? "refers to a record that does not exist"
                        : strncmp(st, "22", 2) == 0 ? "is malformed or out of range"
                                                    : "is invalid");
        return e;
    }
    log_error("database error %s: %s", st, msg ? msg : "");
    return error_new(ERR_INTERNAL, "the database refused the request (%s)", st);
}

/* ---- connections -------------------------------------------------------- */

static void s_watch(struct conn *c, short what, event_callback_fn fn)
{
    if (c->ev) event_free(c->ev);
    c->ev = event_new(c->db->base, PQsocket(c->pg), what, fn, c);
    event_add(c->ev, NULL);
}

/* Connected: a connection still connecting does not count. */
static bool s_any_up(const struct db *db)
{
    for (int i = 0; i < db->cfg.size; i++)
        if (db->conns[i].state == C_IDLE || db->conns[i].state == C_BUSY) return true;
    return false;
}

static void s_down(struct conn *c, const char *why)
{
    struct db *db = c->db;
    if ((c->state == C_IDLE || c->state == C_BUSY) && !db->closed)
        log_warn("postgresql: connection lost: %s", why);
    if (c->ev) event_free(c->ev);
    c->ev = NULL;
    if (c->res) PQclear(c->res);
    c->res = NULL;
    if (c->pg) PQfinish(c->pg);
    c->pg = NULL;
    c->state = C_DOWN;
    c->nprepared = 0; /* a new connection prepares again */
    if (c->job) {
        struct job *j = c->job;
        c->job = NULL;
        s_job_fail(j, error_new(ERR_UNAVAILABLE, "the database connection was lost"));
    }
    if (!s_any_up(db))
        while (db->head)
            s_job_fail(s_dequeue(db), error_new(ERR_UNAVAILABLE, "the database is unreachable"));
}

static void s_finish_job(struct conn *c)
{
    struct job *j = c->job;
    PGresult *res = c->res;
    c->res = NULL;
    if (j->preparing && res && PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        s_mark_prepared(c, j->hash);
        return s_send(c, j); /* now execute it */
    }
    c->job = NULL;
    c->state = C_IDLE;
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        j->cb(j->arg, res, NULL);
        s_job_free(j);
    } else if (res && db_sqlstate_retryable(PQresultErrorField(res, PG_DIAG_SQLSTATE)) &&
               ++j->attempts < DB_MAX_ATTEMPTS) {
        s_enqueue(c->db, j, true);
    } else {
        s_job_fail(j, db_error_from(res, c->pg));
    }
    if (res) PQclear(res);
}

static void s_on_io(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (what & EV_WRITE) {
        int f = PQflush(c->pg);
        if (f < 0) return s_down(c, PQerrorMessage(c->pg));
        s_watch(c, f ? EV_READ | EV_WRITE : EV_READ | EV_PERSIST, s_on_io);
        if (!(what & EV_READ)) return;
    }
    if (!PQconsumeInput(c->pg)) return s_down(c, PQerrorMessage(c->pg));
    while (c->job && !PQisBusy(c->pg)) {
        PGresult *res = PQgetResult(c->pg);
        if (!res) {
            s_finish_job(c);
            break;
        }
        if (c->res) PQclear(c->res);
        c->res = res;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) return s_down(c, PQerrorMessage(c->pg));
    if (c->state == C_IDLE) s_dispatch(c->db);
}

static bool s_is_prepared(const struct conn *c, uint64_t hash)
{
    for (size_t i = 0; i < c->nprepared; i++)
        if (c->prepared[i] == hash) return true;
    return false;
}

static void s_mark_prepared(struct conn *c, uint64_t hash)
{
    if (c->nprepared == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 32;
        c->prepared = realloc(c->prepared, c->cap * sizeof *c->prepared);
        if (!c->prepared) abort();
    }
    c->prepared[c->nprepared++] = hash;
}

static void s_send(struct conn *c, struct job *j)
{
    if (c->job != j) c->since = s_now(); /* not for the execution after a PREPARE */
    c->job = j;
    c->state = C_BUSY;
    char name[24];
    snprintf(name, sizeof name, "q%016llx", (unsigned long long)j->hash);
    j->preparing = !s_is_prepared(c, j->hash);
    int ok = j->preparing ? PQsendPrepare(c->pg, name, j->sql, j->nparams, NULL)
                          : PQsendQueryPrepared(c->pg, name, j->nparams,
                                                (const char *const *)j->params, NULL, NULL, 0);
    if (!ok) return s_down(c, PQerrorMessage(c->pg));
    int f = PQflush(c->pg);
    if (f < 0) return s_down(c, PQerrorMessage(c->pg));
    if (f) s_watch(c, EV_READ | EV_WRITE, s_on_io);
}

static void s_dispatch(struct db *db)
{
    for (int i = 0; i < db->cfg.size && db->head; i++)
        if (db->conns[i].state == C_IDLE) s_send(&db->conns[i], s_dequeue(db));
}

static void s_on_connect_io(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    switch (PQconnectPoll(c->pg)) {
    case PGRES_POLLING_READING:
        s_watch(c, EV_READ, s_on_connect_io);
        return;
    case PGRES_POLLING_WRITING:
        s_watch(c, EV_WRITE, s_on_connect_io);
        return;
    case PGRES_POLLING_OK:
        PQsetnonblocking(c->pg, 1);
        c->state = C_IDLE;
        s_watch(c, EV_READ | EV_PERSIST, s_on_io);
        if (!c->db->was_up) log_info("postgresql: connected");
        c->db->was_up = true;
        s_dispatch(c->db);
        return;
    default: {
        bool was = c->db->was_up;
        c->db->was_up = false;
        if (was) log_warn("postgresql: cannot connect: %s", PQerrorMessage(c->pg));
        s_down(c, "connect failed");
    }
    }
}

PGconn *db_connect_start(struct db *db)
{
    if (db->host && !db->name.addr[0]) return NULL; /* not resolved yet */
    /* the service's connection string, plus generic plans for prepared
     * statements (their parameters rarely change the best plan here) and the
     * statement timeout; hostaddr: the name's address, looked up by evdns */
    const char *keys[] = {"dbname", "options", "hostaddr", NULL};
    const char *values[] = {db->conninfo, db->options, db->name.addr, NULL};
    if (!db->host) keys[2] = NULL;
    return PQconnectStartParams(keys, values, 1);
}

static void s_connect(struct conn *c)
{
    c->pg = db_connect_start(c->db);
    if (!c->pg) return; /* the retry timer resolves and tries again */
    if (PQstatus(c->pg) == CONNECTION_BAD) return s_down(c, "connect failed");
    c->state = C_CONNECTING;
    c->since = s_now();
    s_watch(c, EV_WRITE, s_on_connect_io);
}

static void s_connect_down(struct db *db)
{
    for (int i = 0; i < db->cfg.size; i++)
        if (db->conns[i].state == C_DOWN) s_connect(&db->conns[i]);
}

/* A lookup ended: connect what is down (to the last address known). */
static void s_on_resolved(void *arg)
{
    struct db *db = arg;
    if (!db->closed) s_connect_down(db);
}

static void s_on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct db *db = arg;
    if (db->closed) return;
    bool down = false;
    for (int i = 0; i < db->cfg.size; i++)
        down = down || db->conns[i].state == C_DOWN;
    if (!down) return;
    if (db->host)
        dns_name_resolve(&db->name); /* looks the name up again, then connects */
    else
        s_connect_down(db);
}

/* The deadlines: queued queries, connections stuck connecting or silent. */
static void s_on_sweep(evutil_socket_t fd, short what, void *arg)
{
    struct db *db = arg;
    double now = s_now();
    double wait = db->cfg.wait_ms / 1000.0;
    struct job **pp = &db->head, *prev = NULL;
    while (*pp) {
        struct job *j = *pp;
        if (now - j->queued_at < wait) {
            prev = j;
            pp = &j->next;
            continue;
        }
        *pp = j->next;
        if (db->tail == j) db->tail = prev;
        db->queued--;
        s_job_fail(j, error_new(ERR_UNAVAILABLE, "no database connection became free in time"));
    }
    double silent = db->cfg.statement_timeout_ms > 0
                        ? (db->cfg.statement_timeout_ms + DB_SILENT_GRACE_MS) / 1000.0
                        : 0;
    for (int i = 0; i < db->cfg.size; i++) {
        struct conn *c = &db->conns[i];
        if (c->state == C_CONNECTING && now - c->since > DB_CONNECT_MS / 1000.0) {
            bool was = db->was_up;
            db->was_up = false;
            if (was) log_warn("postgresql: connecting takes too long");
            s_down(c, "connect timed out");
        } else if (c->state == C_BUSY && silent > 0 && now - c->since > silent) {
            s_down(c, "no answer within the statement timeout");
        }
    }
}

/* The host to resolve: a single name (not an address, a socket directory,
 * several hosts, or one given a hostaddr already). */
static char *s_host_to_resolve(const char *conninfo)
{
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    if (!opts) return NULL;
    const char *host = NULL, *hostaddr = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "host") == 0) host = o->val;
        if (strcmp(o->keyword, "hostaddr") == 0) hostaddr = o->val;
    }
    char *name = NULL;
    if (host && *host && !(hostaddr && *hostaddr) && host[0] != '/' && host[0] != '@' &&
        !strchr(host, ',') && !dns_is_numeric(host))
        name = strdup(host);
    PQconninfoFree(opts);
    return name;
}

/* ---- public ------------------------------------------------------------- */

struct db *db_new(struct event_base *base, const char *conninfo, const struct db_config *cfg)
{
    struct db *db = calloc(1, sizeof *db);
    if (!db) abort();
    db->base = base;
    db->conninfo = strdup(conninfo);
    db->cfg = *cfg;
    if (db->cfg.size < 1) db->cfg.size = 1;
    if (db->cfg.queue_max < 1) db->cfg.queue_max = DB_DEFAULT_QUEUE_MAX;
    if (db->cfg.wait_ms < 1) db->cfg.wait_ms = DB_DEFAULT_WAIT_MS;
    if (db->cfg.statement_timeout_ms < 0) db->cfg.statement_timeout_ms = 0;
    snprintf(db->options, sizeof db->options,
             "-c plan_cache_mode=force_generic_plan -c statement_timeout=%d",
             db->cfg.statement_timeout_ms);
    db->conns = calloc((size_t)db->cfg.size, sizeof *db->conns);
    if (!db->conns) abort();
    db->retry = event_new(base, -1, EV_PERSIST, s_on_retry, db);
    struct timeval one = {1, 0};
    event_add(db->retry, &one);
    db->sweep = event_new(base, -1, EV_PERSIST, s_on_sweep, db);
    struct timeval sweep = {0, DB_SWEEP_MS * 1000};
    event_add(db->sweep, &sweep);
    for (int i = 0; i < db->cfg.size; i++)
        db->conns[i].db = db;
    db->host = s_host_to_resolve(conninfo);
    if (db->host) {
        db->name = (struct dns_name){.what = "postgresql",
                                     .host = db->host,
                                     .dns = dns_new(base),
                                     .done = s_on_resolved,
                                     .arg = db};
        dns_name_resolve(&db->name);
    } else {
        s_connect_down(db);
    }
    return db;
}

void db_close(struct db *db)
{
    if (db->closed) return;
    db->closed = true;
    event_del(db->retry);
    event_del(db->sweep);
    dns_name_cancel(&db->name);
    for (int i = 0; i < db->cfg.size; i++)
        s_down(&db->conns[i], "shutdown");
    while (db->head)
        s_job_fail(s_dequeue(db), error_new(ERR_UNAVAILABLE, "shutting down"));
}

void db_destroy(struct db **self_p)
{
    struct db *db = *self_p;
    if (!db) return;
    db_close(db);
    event_free(db->retry);
    event_free(db->sweep);
    if (db->name.dns) evdns_base_free(db->name.dns, 0);
    free(db->host);
    for (int i = 0; i < db->cfg.size; i++)
        free(db->conns[i].prepared);
    free(db->conns);
    free(db->conninfo);
    free(db);
    *self_p = NULL;
}

bool db_ready(const struct db *db)
{
    return s_any_up(db);
}

void db_query(struct db *db, const char *sql, int nparams, const char *const *params, db_cb cb,
              void *arg)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) abort();
    j->sql = strdup(sql);
    j->hash = 14695981039346656037ull; /* FNV-1a */
    for (const char *p = sql; *p; p++)
        j->hash = (j->hash ^ (unsigned char)*p) * 1099511628211ull;
    j->nparams = nparams;
    j->params = calloc((size_t)(nparams ? nparams : 1), sizeof *j->params);
    if (!j->params) abort();
    for (int i = 0; i < nparams; i++)
        j->params[i] = params[i] ? strdup(params[i]) : NULL;
    j->cb = cb;
    j->arg = arg;
    j->queued_at = s_now();
    if (db->closed) /* the loop no longer runs: answer now */
        return s_job_fail(j, error_new(ERR_UNAVAILABLE, "shutting down"));
    bool full = db->queued >= db->cfg.queue_max;
    if (!s_any_up(db) || full) {
        if (full) j->attempts = -1; /* "busy", not "unreachable" */
        struct timeval now = {0, 0};
        event_base_once(db->base, -1, EV_TIMEOUT, s_fail_later, j, &now);
        return;
    }
    s_enqueue(db, j, false);
    s_dispatch(db);
}
