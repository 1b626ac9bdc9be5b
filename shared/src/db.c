/*
 * An asynchronous PostgreSQL pool. Each connection is a non-blocking libpq
 * connection watched by the loop, in pipeline mode (issue 15): the
 * statements queued in one turn of the loop go out together, and reads
 * (db_read) go on up to DB_PIPELINE_DEPTH in flight on a connection, their
 * results coming back in order without a round trip each; any other
 * statement goes to a connection with nothing in flight, as before. Each
 * statement is followed by its own Sync, so it is still its own implicit
 * transaction and its failure aborts nothing but itself. A read waiting
 * behind another on its connection keeps its queue deadline: past it, it
 * answers 503 at once and its result, when it comes, is dropped (a read
 * changes nothing, so running it late is harmless). The pool queues what
 * the connections cannot take. Every
 * statement is prepared once per connection
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
#define DB_PIPELINE_DEPTH  16   /* statements in flight on one connection */
#define DB_STALL_MS        20   /* a connection whose oldest statement runs longer takes no more */

struct job {
    char *sql;
    int nparams;
    char **params;
    db_cb cb;
    void *arg;
    int attempts;
    double queued_at; /* monotonic seconds, for the deadline */
    uint64_t hash;    /* of sql: the prepared statement's name */
    double sent_at;   /* monotonic seconds, when it went to a connection */
    bool read;        /* db_read: may wait in a pipeline, and be abandoned there */
    bool abandoned;   /* answered 503 at its deadline; its result is dropped */
    bool preparing;   /* its PREPARE went first, in the same Sync */
    bool prepare_failed;
    int ends;         /* results of its parts ended so far (PQgetResult's NULLs) */
    PGresult *res;    /* what it answers: the execution's result, or the first error */
    struct job *next; /* in the pool's queue, or on its connection, in order */
};

enum conn_state { C_DOWN, C_CONNECTING, C_IDLE, C_BUSY };

struct conn {
    struct db *db;
    PGconn *pg;
    enum conn_state state;
    double since; /* when it started connecting, or its oldest job was sent */
    struct event *ev;
    int writing;             /* s_io_watch's: 1 reading and writing, 0 reading, -1 neither */
    struct job *head, *tail; /* in flight, oldest first */
    int inflight;
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
    struct event *kick;   /* dispatches what one turn of the loop queued */
    struct db_load *load; /* s_dispatch's view of each connection */
    bool *sent;           /* and which it sent to */
    char *host;           /* a name to resolve, or NULL (address, socket, several) */
    struct dns_name name; /* its lookups (dns.h) */
    bool was_up;
    bool closed; /* shutting down: every query fails at once */
};

static void s_dispatch(struct db *db);
static void s_connect(struct conn *c);
static void s_on_io(evutil_socket_t fd, short what, void *arg);

/* ---- jobs --------------------------------------------------------------- */

static void s_job_free(struct job *j)
{
    if (j->res) PQclear(j->res);
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

enum db_outcome db_result_outcome(ExecStatusType st, const char *sqlstate, bool prepared,
                                  bool may_retry)
{
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return DB_ANSWER;
    if (!may_retry || !sqlstate) return DB_FAIL;
    if (db_sqlstate_retryable(sqlstate)) return DB_RETRY;
    /* 26000: its statement's PREPARE, sent just before it by another job,
     * failed; not prepared now, so the retry prepares it */
    if (strcmp(sqlstate, "26000") == 0 && !prepared) return DB_RETRY;
    return DB_FAIL;
}

int db_pick(const struct db_load *load, int n, int depth, double stall_s)
{
    int best = -1;
    for (int i = 0; i < n; i++) {
        const struct db_load *l = &load[i];
        if (!l->up || l->inflight >= depth || (l->inflight > 0 && l->busy_s > stall_s)) continue;
        if (best < 0 || l->inflight < load[best].inflight) best = i;
    }
    return best;
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
    c->writing = -1; /* not s_on_io's watch */
}

/* A connected connection's watch: reading always, writing too while libpq
 * holds output the socket did not take (persistent either way). */
static void s_io_watch(struct conn *c, bool writing)
{
    if (c->ev && c->writing == writing) return;
    s_watch(c, EV_READ | EV_PERSIST | (writing ? EV_WRITE : 0), s_on_io);
    c->writing = writing;
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
    if (c->pg) PQfinish(c->pg);
    c->pg = NULL;
    c->state = C_DOWN;
    c->nprepared = 0; /* a new connection prepares again */
    struct job *j = c->head;
    c->head = c->tail = NULL;
    c->inflight = 0;
    while (j) { /* whatever was in flight: its outcome is unknown */
        struct job *next = j->next;
        if (j->abandoned)
            s_job_free(j);
        else
            s_job_fail(j, error_new(ERR_UNAVAILABLE, "the database connection was lost"));
        j = next;
    }
    if (!s_any_up(db))
        while (db->head)
            s_job_fail(s_dequeue(db), error_new(ERR_UNAVAILABLE, "the database is unreachable"));
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

static void s_unmark_prepared(struct conn *c, uint64_t hash)
{
    for (size_t i = 0; i < c->nprepared; i++)
        if (c->prepared[i] == hash) {
            c->prepared[i] = c->prepared[--c->nprepared];
            return;
        }
}

/* The oldest job in flight is answered (its Sync came back): take it off
 * the connection, then its callback, a retry or its error. */
static void s_finish_job(struct conn *c)
{
    struct job *j = c->head;
    c->head = j->next;
    if (!c->head) c->tail = NULL;
    c->inflight--;
    c->since = c->head ? c->head->sent_at : s_now();
    c->state = c->inflight ? C_BUSY : C_IDLE;
    j->next = NULL;
    PGresult *res = j->res;
    j->res = NULL;
    /* a statement that did not prepare is prepared again by the next job;
     * a job sent meanwhile to execute it finds no such statement (26000)
     * and is retried, so it prepares it itself */
    if (j->prepare_failed) s_unmark_prepared(c, j->hash);
    if (j->abandoned) { /* answered already */
        if (res) PQclear(res);
        return s_job_free(j);
    }
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    switch (db_result_outcome(res ? PQresultStatus(res) : PGRES_FATAL_ERROR, st,
                              s_is_prepared(c, j->hash), j->attempts + 1 < DB_MAX_ATTEMPTS)) {
    case DB_ANSWER:
        j->cb(j->arg, res, NULL);
        s_job_free(j);
        break;
    case DB_RETRY:
        j->attempts++;
        j->preparing = j->prepare_failed = false;
        j->ends = 0;
        s_enqueue(c->db, j, true);
        break;
    case DB_FAIL:
        s_job_fail(j, db_error_from(res, c->pg));
        break;
    }
    if (res) PQclear(res);
}

/* One result of the oldest job in flight: the PREPARE's (before its first
 * end, when it prepared) is dropped unless it failed; then the execution's,
 * or PGRES_PIPELINE_ABORTED when the PREPARE failed. The first error stays. */
static void s_take_result(struct job *j, PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
    bool prepare = j->preparing && j->ends == 0;
    if (prepare && !ok) j->prepare_failed = true;
    bool have_error = j->res && PQresultStatus(j->res) != PGRES_TUPLES_OK &&
                      PQresultStatus(j->res) != PGRES_COMMAND_OK;
    if ((prepare && ok) || have_error || (st == PGRES_PIPELINE_ABORTED && j->res)) {
        PQclear(res);
        return;
    }
    if (j->res) PQclear(j->res);
    j->res = res;
}

/* Sends what libpq holds; watches for writing while some is left. */
static void s_flush(struct conn *c)
{
    int f = PQflush(c->pg);
    if (f < 0) return s_down(c, PQerrorMessage(c->pg));
    s_io_watch(c, f > 0);
}

static void s_on_io(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (what & EV_WRITE && PQflush(c->pg) < 0) return s_down(c, PQerrorMessage(c->pg));
    if (what & EV_READ) {
        if (!PQconsumeInput(c->pg)) return s_down(c, PQerrorMessage(c->pg));
        int ends = 0; /* two NULLs in a row: nothing more has come yet */
        while (c->head && !PQisBusy(c->pg)) {
            PGresult *res = PQgetResult(c->pg);
            if (!res) {
                if (++ends > 1) break;
                c->head->ends++;
                continue;
            }
            ends = 0;
            if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
                PQclear(res);
                s_finish_job(c);
                if (!c->pg) return; /* a callback shut the pool down */
                continue;
            }
            s_take_result(c->head, res);
        }
        if (PQstatus(c->pg) != CONNECTION_OK) return s_down(c, PQerrorMessage(c->pg));
    }
    s_dispatch(c->db);
    if (c->pg) s_flush(c);
}

/* Queues j on c's pipeline: PREPARE first if c has not prepared it (both
 * before the same Sync), the execution, and its Sync. Sent by s_flush. */
static bool s_send(struct conn *c, struct job *j)
{
    j->sent_at = s_now();
    j->next = NULL;
    if (c->tail)
        c->tail->next = j;
    else
        c->head = j, c->since = j->sent_at;
    c->tail = j;
    c->inflight++;
    c->state = C_BUSY;
    char name[24];
    snprintf(name, sizeof name, "q%016llx", (unsigned long long)j->hash);
    j->preparing = !s_is_prepared(c, j->hash);
    if (j->preparing) {
        if (!PQsendPrepare(c->pg, name, j->sql, j->nparams, NULL)) return false;
        s_mark_prepared(c, j->hash);
    }
    return PQsendQueryPrepared(c->pg, name, j->nparams, (const char *const *)j->params, NULL, NULL,
                               0) &&
           PQpipelineSync(c->pg);
}

static void s_dispatch(struct db *db)
{
    if (!db->head) return;
    int n = db->cfg.size;
    struct db_load *load = db->load;
    bool *sent = db->sent;
    double now = s_now();
    for (int i = 0; i < n; i++) {
        struct conn *c = &db->conns[i];
        load[i].up = c->state == C_IDLE || c->state == C_BUSY;
        load[i].inflight = c->inflight;
        load[i].busy_s = c->head ? now - c->head->sent_at : 0;
        sent[i] = false;
    }
    while (db->head) { /* in order: a write waits for a connection with nothing in flight */
        int i = db_pick(load, n, db->head->read ? DB_PIPELINE_DEPTH : 1, DB_STALL_MS / 1000.0);
        if (i < 0) break;
        struct conn *c = &db->conns[i];
        if (!s_send(c, s_dequeue(db))) {
            s_down(c, PQerrorMessage(c->pg)); /* fails what it had, this job too */
            load[i].up = false;
            sent[i] = false;
            continue;
        }
        load[i].inflight++;
        sent[i] = true;
    }
    for (int i = 0; i < n; i++)
        if (sent[i] && db->conns[i].pg) s_flush(&db->conns[i]);
}

static void s_on_kick(evutil_socket_t fd, short what, void *arg)
{
    s_dispatch(arg);
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
        if (PQsetnonblocking(c->pg, 1) != 0 || !PQenterPipelineMode(c->pg))
            return s_down(c, PQerrorMessage(c->pg));
        c->state = C_IDLE;
        s_io_watch(c, false);
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
    /* reads waiting in a pipeline behind another statement: the same
     * deadline as in the queue */
    for (int i = 0; i < db->cfg.size; i++)
        for (struct job *j = db->conns[i].head; j; j = j->next)
            if (j != db->conns[i].head && j->read && !j->abandoned && now - j->queued_at >= wait) {
                j->abandoned = true;
                j->cb(j->arg, NULL,
                      error_new(ERR_UNAVAILABLE, "no database connection became free in time"));
                if (db->closed) return; /* the callback shut the pool down */
            }
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
    db->load = calloc((size_t)db->cfg.size, sizeof *db->load);
    db->sent = calloc((size_t)db->cfg.size, sizeof *db->sent);
    if (!db->conns || !db->load || !db->sent) abort();
    db->retry = event_new(base, -1, EV_PERSIST, s_on_retry, db);
    struct timeval one = {1, 0};
    event_add(db->retry, &one);
    db->sweep = event_new(base, -1, EV_PERSIST, s_on_sweep, db);
    struct timeval sweep = {0, DB_SWEEP_MS * 1000};
    event_add(db->sweep, &sweep);
    db->kick = event_new(base, -1, 0, s_on_kick, db);
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
    event_del(db->kick);
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
    event_free(db->kick);
    if (db->name.dns) evdns_base_free(db->name.dns, 0);
    free(db->host);
    for (int i = 0; i < db->cfg.size; i++)
        free(db->conns[i].prepared);
    free(db->conns);
    free(db->load);
    free(db->sent);
    free(db->conninfo);
    free(db);
    *self_p = NULL;
}

bool db_ready(const struct db *db)
{
    return s_any_up(db);
}

static void s_query(struct db *db, const char *sql, int nparams, const char *const *params,
                    db_cb cb, void *arg, bool read)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) abort();
    j->read = read;
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
    /* sent once this turn of the loop has queued what it will */
    if (!event_pending(db->kick, EV_TIMEOUT, NULL)) event_active(db->kick, EV_TIMEOUT, 1);
}

void db_query(struct db *db, const char *sql, int nparams, const char *const *params, db_cb cb,
              void *arg)
{
    s_query(db, sql, nparams, params, cb, arg, false);
}

void db_read(struct db *db, const char *sql, int nparams, const char *const *params, db_cb cb,
             void *arg)
{
    s_query(db, sql, nparams, params, cb, arg, true);
}
