/*
 * The to-do list (issue 13): GET /api/v1/me/tasks and /me/tasks/summary,
 * and the follower of the log that keeps the read model (tasks,
 * migrations/0019_tasks.sql).
 *
 * The follower: after the log grows (ingest_size(), checked every
 * TICK_MS), it reads the entries after its cursor whose type opens or
 * closes a task (task_types(), at most PAGE of them), turns each into
 * operations with the kinds of task (task_kinds.c, task_ops()) and applies
 * them and the new cursor in one statement (tasks_apply): a page is applied
 * whole and once, in log order, so no task misses its closing event and a
 * replay (a restart, a lost answer) never applies an entry twice. Ingest
 * itself does nothing more per event.
 *
 * Reading: who may act is evaluated for the caller at read time (task_for:
 * roles, department, user id of the session principal); open tasks oldest
 * first, done ones (closed by the caller's own action) newest first.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include "audit.h"
#include "ingest.h"
#include "itgov/db.h"
#include "itgov/log.h"
#include "itgov/service.h"
#include "itgov/session.h"
#include "task_kinds.h"

#define TICK_MS 100
#define PAGE    "500"
#define PAGE_N  500

static struct {
    struct service *svc;
    struct event *tick;
    long long after; /* the cursor; -1: to be read */
    long long upto;  /* the page in flight: the cursor it moves to */
    bool busy;
    char *types; /* the relevant types, a PostgreSQL array literal */
    long long applied, failures;
} t;

static void s_step(void);

static void s_on_cursor(void *arg, PGresult *res, struct error *err)
{
    t.busy = false;
    if (err || PQntuples(res) != 1) {
        if (t.failures++ % 50 == 0) log_warn("tasks: cannot read the cursor yet");
        error_destroy(&err);
        return;
    }
    t.after = atoll(PQgetvalue(res, 0, 0));
    s_step();
}

static void s_on_applied(void *arg, PGresult *res, struct error *err)
{
    t.busy = false;
    if (!t.svc) {
        error_destroy(&err);
        return;
    }
    if (err || PQntuples(res) != 1) {
        if (t.failures++ % 50 == 0)
            log_warn("tasks: cannot apply entries after %lld yet: %s", t.after,
                     err ? err->detail : "no answer");
        error_destroy(&err);
        t.after = -1; /* read it again: the page may have been applied after all */
        return;
    }
    long long n = atoll(PQgetvalue(res, 0, 0));
    if (n < 0) { /* another writer moved the cursor */
        t.after = -1;
        return s_step();
    }
    t.applied += n;
    t.after = t.upto;
    s_step();
}

/* (seq, type, subject, actor, time, data) of the relevant entries of a page */
static void s_on_page(void *arg, PGresult *res, struct error *err)
{
    long long limit = *(long long *)arg;
    free(arg);
    if (!t.svc || err) {
        t.busy = false;
        if (err && t.failures++ % 50 == 0) log_warn("tasks: cannot read the log: %s", err->detail);
        error_destroy(&err);
        return;
    }
    int rows = PQntuples(res);
    t.upto = rows == PAGE_N ? atoll(PQgetvalue(res, rows - 1, 0)) : limit;
    cJSON *ops = cJSON_CreateArray();
    for (int i = 0; i < rows; i++) {
        cJSON *data = cJSON_Parse(PQgetvalue(res, i, 5));
        task_ops(PQgetvalue(res, i, 1), PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2),
                 atoll(PQgetvalue(res, i, 3)), PQgetvalue(res, i, 4), atoll(PQgetvalue(res, i, 0)),
                 data, ops);
        cJSON_Delete(data);
    }
    char *text = cJSON_PrintUnformatted(ops);
    cJSON_Delete(ops);
    if (!text) abort();
    char from[24], upto[24];
    snprintf(from, sizeof from, "%lld", t.after);
    snprintf(upto, sizeof upto, "%lld", t.upto);
    const char *params[] = {from, upto, text};
    db_query(t.svc->db, "SELECT tasks_apply($1::bigint, $2::bigint, $3::jsonb)", 3, params,
             s_on_applied, NULL);
    free(text);
}

static void s_step(void)
{
    if (!t.svc || t.busy) return;
    if (t.after < 0) {
        t.busy = true;
        db_query(t.svc->db, "SELECT after FROM task_cursor", 0, NULL, s_on_cursor, NULL);
        return;
    }
    long long size = ingest_size();
    if (size <= t.after) return;
    long long *limit = malloc(sizeof *limit);
    if (!limit) abort();
    *limit = size;
    char from[24], upto[24];
    snprintf(from, sizeof from, "%lld", t.after);
    snprintf(upto, sizeof upto, "%lld", size);
    const char *params[] = {from, upto, t.types};
    t.busy = true;
    db_query(t.svc->db,
             "SELECT seq, type, subject, coalesce(actor_id, 0), rfc3339(time), "
             "coalesce(data, 'null'::jsonb)::text FROM entries "
             "WHERE seq > $1::bigint AND seq <= $2::bigint AND type = ANY($3::text[]) "
             "ORDER BY seq LIMIT " PAGE,
             3, params, s_on_page, limit);
}

static void s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    s_step();
}

int tasks_start(struct service *svc)
{
    const char *types[64];
    size_t n = task_types(types, 64);
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += strlen(types[i]) + 3;
    t.types = malloc(len);
    if (!t.types) abort();
    size_t used = 0;
    t.types[used++] = '{';
    for (size_t i = 0; i < n; i++) /* event types: letters, digits, '.', '_' only */
        used += (size_t)snprintf(t.types + used, len - used, "%s\"%s\"", i ? "," : "", types[i]);
    snprintf(t.types + used, len - used, "}");
    t.svc = svc;
    t.after = -1;
    t.tick = event_new(svc->base, -1, EV_PERSIST, s_on_tick, NULL);
    struct timeval tv = {0, TICK_MS * 1000};
    if (!t.tick || event_add(t.tick, &tv) != 0) return 1;
    return 0;
}

void tasks_stop(void)
{
    t.svc = NULL;
    if (t.tick) event_free(t.tick);
    t.tick = NULL;
    free(t.types);
    t.types = NULL;
}

void tasks_metrics(struct evbuffer *out)
{
    evbuffer_add_printf(
        out,
        "# HELP itgov_audit_tasks_cursor Last log entry applied to the to-do list.\n"
        "# TYPE itgov_audit_tasks_cursor gauge\nitgov_audit_tasks_cursor %lld\n"
        "# HELP itgov_audit_tasks_ops_total Task operations applied.\n"
        "# TYPE itgov_audit_tasks_ops_total counter\n"
        "itgov_audit_tasks_ops_total %lld\n",
        t.after, t.applied);
}

/* ---- reading ------------------------------------------------------------------ */

/* The caller: user id, department and role names (a PostgreSQL array). */
static void s_caller(const struct req *r, char id[24], char dept[24], char roles[128])
{
    static const char *const names[] = {"admin",  "it_office", "applicant",
                                        "expert", "secretary", "auditor"};
    const struct principal *u = r->user;
    snprintf(id, 24, "%lld", u->id);
    snprintf(dept, 24, "%lld", u->department_id);
    size_t used = (size_t)snprintf(roles, 128, "{");
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (u->roles & (1u << i))
            used +=
                (size_t)snprintf(roles + used, 128 - used, "%s%s", used > 1 ? "," : "", names[i]);
    snprintf(roles + used, 128 - used, "}");
}

void tasks_list(struct req *r)
{
    struct error *e = NULL;
    const char *status = req_query(r, "status");
    if (status && strcmp(status, "open") != 0 && strcmp(status, "done") != 0)
        query_fail(&e, "status", "must be open or done");
    long long limit = 50, cursor = 0;
    req_query_int(r, "limit", 1, 200, NULL, &limit, &e);
    req_query_int(r, "cursor", 0, LLONG_MAX, "is not a cursor this API returned", &cursor, &e);
    if (e) return reply_error(r, e);
    char id[24], dept[24], roles[128], cs[24], ls[24];
    s_caller(r, id, dept, roles);
    snprintf(cs, sizeof cs, "%lld", cursor);
    snprintf(ls, sizeof ls, "%lld", limit);
    const char *params[] = {id, dept, roles, cs, ls};
    const char *done_params[] = {id, cs, ls};
    if (!status || strcmp(status, "open") == 0)
        /* oldest first: the entry that opened it, then the id; the cursor is
         * the last item's id */
        db_query(req_service(r)->db,
                 "WITH page AS (SELECT t.id, t.opened_seq AS k, task_doc(t) AS doc FROM tasks t "
                 "WHERE t.status = 'open' AND task_for(t, $1::bigint, $2::bigint, $3::text[]) "
                 "AND ($4::bigint = 0 OR (t.opened_seq, t.id) > "
                 "(SELECT c.opened_seq, c.id FROM tasks c WHERE c.id = $4::bigint)) "
                 "ORDER BY t.opened_seq, t.id LIMIT $5::int) "
                 "SELECT json_build_object('items', "
                 "coalesce((SELECT json_agg(doc ORDER BY k, id) FROM page), '[]'::json), "
                 "'next_cursor', CASE WHEN (SELECT count(*) FROM page) = $5::int THEN "
                 "(SELECT id FROM page ORDER BY k DESC, id DESC LIMIT 1)::text END)::text",
                 5, params, reply_row, r);
    else
        /* what the caller closed, newest first */
        db_query(req_service(r)->db,
                 "WITH page AS (SELECT t.id, t.done_seq AS k, task_doc(t) AS doc FROM tasks t "
                 "WHERE t.done_by = $1::bigint AND ($2::bigint = 0 OR (t.done_seq, t.id) < "
                 "(SELECT c.done_seq, c.id FROM tasks c WHERE c.id = $2::bigint)) "
                 "ORDER BY t.done_seq DESC, t.id DESC LIMIT $3::int) "
                 "SELECT json_build_object('items', "
                 "coalesce((SELECT json_agg(doc ORDER BY k DESC, id DESC) FROM page), '[]'::json), "
                 "'next_cursor', CASE WHEN (SELECT count(*) FROM page) = $3::int THEN "
                 "(SELECT id FROM page ORDER BY k, id LIMIT 1)::text END)::text",
                 3, done_params, reply_row, r);
}

void tasks_summary(struct req *r)
{
    char id[24], dept[24], roles[128];
    s_caller(r, id, dept, roles);
    const char *params[] = {id, dept, roles};
    db_query(req_service(r)->db,
             "WITH o AS (SELECT t.kind, task_overdue(t) AS late FROM tasks t "
             "WHERE t.status = 'open' AND task_for(t, $1::bigint, $2::bigint, $3::text[])), "
             "k AS (SELECT kind, count(*) AS n, count(*) FILTER (WHERE late) AS l FROM o "
             "GROUP BY kind) "
             "SELECT json_build_object('open', (SELECT count(*) FROM o), "
             "'overdue', (SELECT count(*) FROM o WHERE late), "
             "'by_kind', coalesce((SELECT json_object_agg(kind, json_build_object('open', n, "
             "'overdue', l) ORDER BY kind) FROM k), '{}'::json))::text",
             3, params, reply_row, r);
}
