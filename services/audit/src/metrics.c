/*
 * Usage samples (issue 12 D, article 23): a system in operation reports its
 * day — active users, requests, availability, incidents — with its metrics
 * key (metrics_keys.c), or the IT office does for it. One live sample per
 * project and day: a second one for the same day replaces the first, which
 * stays (replaced_by), and the event says .replaced, naming the old one.
 *
 * POST /api/v1/metrics/usage, in the order of the REST rules:
 *   401 (http.c) → 403 a key for another project or without the metrics
 *   scope → 404 a project audit has no event of → 400 every bad field (the
 *   date: a calendar date, not after today (UTC)) → 409 project_suspended /
 *   invalid_state (the project is not in_operation) → 422 before_go_live
 *   (the date is before the day the project went live, UTC) → the write.
 * The write is one statement: project_fact() checked again, the live
 * sample of that day replaced, the new one inserted, its event emitted. Two
 * writes of the same day at once: one of them finds the other's row live
 * (usage_samples_one_live) and fails with a conflict; it is run again (a
 * fresh snapshot replaces that row), so parallel posts all land, one live.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "audit.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "itgov/session.h"
#include "itgov/syskey.h"
#include "itgov/text.h"
#include "metrics.h"

#define RECORD_TRIES 32
#define MAX_COUNT    2147483647LL /* integer columns */
#define MAX_REQUESTS (1LL << 53)  /* exact in JSON */

/* Today's date in UTC, YYYY-MM-DD. */
static void s_today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- POST /api/v1/metrics/usage ------------------------------------------- */

struct record {
    struct req *r;
    long long project_id;
    const char *date; /* in the request's body */
    long long active_users, requests, incidents;
    char pid[24], users[24], reqs[24], incs[24], avail[16];
    char recorded_by[32], actor[24];
    bool by_user;
    int tries;
};

static void s_record_run(struct record *c);

/* 422 before_go_live: a day before the project went live (went_live_on)
 * has no usage to report; after the state, as it depends on the project's
 * history, not on the body alone. */
static struct error *s_before_go_live(long long project_id, const char *went_live_on)
{
    struct error *e = error_new(ERR_UNPROCESSABLE,
                                "project %lld went live on %s: date must not be before that day",
                                project_id, went_live_on);
    e->code_override = "before_go_live";
    error_set(e, "went_live_on", cJSON_CreateString(went_live_on));
    return e;
}

/* (sample JSON or NULL, the project's state or NULL, its go-live date, events) */
static void s_on_recorded(void *arg, PGresult *res, struct error *err)
{
    struct record *c = arg;
    struct req *r = c->r;
    if (err && err->code == ERR_CONFLICT && ++c->tries < RECORD_TRIES) {
        error_destroy(&err);
        return s_record_run(c); /* another sample of that day landed first: replace it */
    }
    long long pid = c->project_id;
    char date[11];
    snprintf(date, sizeof date, "%s", c->date);
    free(c);
    if (err) return reply_error(r, err);
    if (!PQgetisnull(res, 0, 0))
        return reply_raw(r, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    if (PQgetisnull(res, 0, 1))
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such project: %lld", pid));
    const char *state = PQgetvalue(res, 0, 1);
    if (strcmp(state, "in_operation") != 0)
        return reply_error(r, metrics_state_error(pid, state, "report usage"));
    /* in operation, yet the date did not fit: before a go-live newer than
     * the first check, or after today once the day turned */
    if (!PQgetisnull(res, 0, 2) && strcmp(date, PQgetvalue(res, 0, 2)) < 0)
        return reply_error(r, s_before_go_live(pid, PQgetvalue(res, 0, 2)));
    struct error *e = error_new(ERR_VALIDATION, "some fields are invalid");
    error_add_field(e, "date", "must not be after today (UTC)");
    reply_error(r, e);
}

static void s_record_run(struct record *c)
{
    const char *params[] = {c->pid,   c->date, c->users,       c->reqs,
                            c->avail, c->incs, c->recorded_by, c->by_user ? c->actor : NULL};
    db_query(req_service(c->r)->db,
             "WITH f AS (SELECT * FROM project_fact($1::bigint)), "
             "n AS (SELECT nextval(pg_get_serial_sequence('usage_samples', 'id')) AS id FROM f "
             "WHERE f.state = 'in_operation' AND $2::date <= (now() AT TIME ZONE 'UTC')::date "
             "AND $2::date >= (f.went_live_at AT TIME ZONE 'UTC')::date), "
             "old AS (UPDATE usage_samples s SET replaced_by = n.id FROM n "
             "WHERE s.project_id = $1::bigint AND s.date = $2::date AND s.replaced_by IS NULL "
             "RETURNING s.*), "
             "ins AS (INSERT INTO usage_samples (id, project_id, date, active_users, requests, "
             "availability_percent, incidents, recorded_by) SELECT n.id, $1::bigint, $2::date, "
             "$3::integer, $4::bigint, $5::numeric, $6::integer, $7 "
             "FROM n, (SELECT count(*) FROM old) o RETURNING *), "
             "e AS (SELECT emit(CASE WHEN o.id IS NULL THEN 'itgov.metrics.usage.recorded' "
             "ELSE 'itgov.metrics.usage.replaced' END, 'projects/' || i.project_id, $8::bigint, "
             "usage_sample_doc(i) || CASE WHEN o.id IS NULL THEN '{}'::jsonb "
             "ELSE jsonb_build_object('replaced', usage_sample_doc(o)) END) AS n "
             "FROM ins i LEFT JOIN old o ON true) "
             "SELECT (SELECT (usage_sample_doc(i) || jsonb_build_object('replaces', "
             "(SELECT min(o.id) FROM old o)))::text FROM ins i), (SELECT state FROM f), "
             "(SELECT to_char(went_live_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM f), "
             "(SELECT count(*) FROM e)",
             8, params, s_on_recorded, c);
}

/* The body's fields, every bad one named. */
static struct error *s_record_fields(struct record *c, const cJSON *body)
{
    struct fields f;
    fields_init(&f, body);
    long long pid = 0;
    fields_int(&f, "project_id", F_REQUIRED, 1, LLONG_MAX, &pid);
    c->date = fields_date(&f, "date", F_REQUIRED);
    char today[11];
    s_today(today);
    if (c->date && strcmp(c->date, today) > 0)
        fields_fail(&f, "date", "must not be after today (UTC)");
    fields_int(&f, "active_users", F_REQUIRED, 0, MAX_COUNT, &c->active_users);
    fields_int(&f, "requests", F_REQUIRED, 0, MAX_REQUESTS, &c->requests);
    fields_int(&f, "incidents", F_REQUIRED, 0, MAX_COUNT, &c->incidents);
    const cJSON *a = cJSON_IsObject(body)
                         ? cJSON_GetObjectItemCaseSensitive(body, "availability_percent")
                         : NULL;
    if (!a) {
        if (cJSON_IsObject(body)) fields_fail(&f, "availability_percent", "is required");
    } else {
        double v = cJSON_IsNumber(a) ? a->valuedouble : -1;
        if (!cJSON_IsNumber(a) || !(v >= 0 && v <= 100) || fabs(v * 100 - round(v * 100)) > 1e-6)
            fields_fail(&f, "availability_percent",
                        "must be a number from 0 to 100 with at most two decimals");
        else
            snprintf(c->avail, sizeof c->avail, "%.2f", v);
    }
    static const char *const known[] = {
        "project_id", "date", "active_users", "requests", "availability_percent",
        "incidents",  NULL};
    fields_only(&f, known);
    return fields_done(&f);
}

/* (state, go-live date) of the project, no row if audit knows none */
static void s_on_fact(void *arg, PGresult *res, struct error *err)
{
    struct record *c = arg;
    struct req *r = c->r;
    if (err) {
        free(c);
        return reply_error(r, err);
    }
    if (PQntuples(res) == 0) {
        long long pid = c->project_id;
        free(c);
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such project: %lld", pid));
    }
    struct error *e = s_record_fields(c, r->body);
    if (!e && strcmp(PQgetvalue(res, 0, 0), "in_operation") != 0)
        e = metrics_state_error(c->project_id, PQgetvalue(res, 0, 0), "report usage");
    if (!e && !PQgetisnull(res, 0, 1) && strcmp(c->date, PQgetvalue(res, 0, 1)) < 0)
        e = s_before_go_live(c->project_id, PQgetvalue(res, 0, 1));
    if (e) {
        free(c);
        return reply_error(r, e);
    }
    snprintf(c->users, sizeof c->users, "%lld", c->active_users);
    snprintf(c->reqs, sizeof c->reqs, "%lld", c->requests);
    snprintf(c->incs, sizeof c->incs, "%lld", c->incidents);
    s_record_run(c);
}

void metrics_usage_record(struct req *r)
{
    const struct principal *u = r->user;
    bool by_key = u->key_id != 0;
    if (by_key && !(u->scopes & SYSKEY_SCOPE_METRICS))
        return reply_error(r, error_new(ERR_FORBIDDEN, "this key may not report usage"));
    const cJSON *body = req_body(r);
    if (!body) return;
    struct record *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->r = r;
    c->by_user = !by_key;
    if (by_key)
        snprintf(c->recorded_by, sizeof c->recorded_by, "key:%lld", u->key_id);
    else
        snprintf(c->recorded_by, sizeof c->recorded_by, "user:%lld", u->id);
    snprintf(c->actor, sizeof c->actor, "%lld", u->id);

    /* the project first: a key acts for its own only (403), an unknown one is
     * 404; without a usable project_id, every bad field at once (400) */
    const cJSON *p =
        cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "project_id") : NULL;
    double d = cJSON_IsNumber(p) ? p->valuedouble : 0;
    if (!(d >= 1 && d < 0x1p63 && (double)(long long)d == d)) {
        struct error *e = s_record_fields(c, body);
        free(c);
        return reply_error(r, e ? e : error_new(ERR_VALIDATION, "project_id is required"));
    }
    c->project_id = (long long)d;
    if (by_key && c->project_id != u->project_id) {
        free(c);
        return reply_error(r,
                           error_new(ERR_FORBIDDEN, "this key reports for its own project only"));
    }
    snprintf(c->pid, sizeof c->pid, "%lld", c->project_id);
    const char *params[] = {c->pid};
    db_query(req_service(r)->db,
             "SELECT state, to_char(went_live_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') "
             "FROM project_fact($1::bigint)",
             1, params, s_on_fact, c);
}

/* ---- reading ------------------------------------------------------------------ */

/* An applicant sees the samples of their department's projects only. */
static void s_dept_param(const struct req *r, char out[24], const char **param)
{
    const struct principal *u = r->user;
    if (u->roles & (ROLE_IT_OFFICE | ROLE_AUDITOR | ROLE_ADMIN)) {
        *param = NULL;
    } else {
        snprintf(out, 24, "%lld", u->department_id);
        *param = out;
    }
}

void metrics_usage_list(struct req *r)
{
    struct error *e = NULL;
    long long pid = 0, limit = 50, cursor = 0;
    if (!req_query(r, "project_id"))
        query_fail(&e, "project_id", "is required: the project whose samples to list");
    else
        req_query_int(r, "project_id", 1, LLONG_MAX, "must be a project id", &pid, &e);
    const char *from = req_query(r, "from"), *to = req_query(r, "to");
    if (from && !text_is_date(from)) query_fail(&e, "from", "must be a date YYYY-MM-DD");
    if (to && !text_is_date(to)) query_fail(&e, "to", "must be a date YYYY-MM-DD");
    const char *inc = req_query(r, "include_replaced");
    if (inc && strcmp(inc, "true") != 0 && strcmp(inc, "false") != 0)
        query_fail(&e, "include_replaced", "must be true or false");
    req_query_int(r, "limit", 1, 200, NULL, &limit, &e);
    req_query_int(r, "cursor", 0, LLONG_MAX, "is not a cursor this API returned", &cursor, &e);
    if (e) return reply_error(r, e);
    char pids[24], cs[24], ls[24], dept[24];
    const char *dept_p;
    snprintf(pids, sizeof pids, "%lld", pid);
    snprintf(cs, sizeof cs, "%lld", cursor);
    snprintf(ls, sizeof ls, "%lld", limit);
    s_dept_param(r, dept, &dept_p);
    const char *params[] = {pids, from, to,    inc && strcmp(inc, "true") == 0 ? "true" : "false",
                            cs,   ls,   dept_p};
    /* no row (404): audit knows no such project, or an applicant's is another
     * department's; ordered by date (then id: a replaced sample before its
     * replacement), the cursor being the last item's id */
    db_query(req_service(r)->db,
             "WITH f AS (SELECT * FROM project_fact($1::bigint) "
             "WHERE $7::bigint IS NULL OR department_id = $7::bigint), "
             "page AS (SELECT s.id, s.date, usage_sample_doc(s) AS doc FROM usage_samples s "
             "WHERE EXISTS (SELECT 1 FROM f) AND s.project_id = $1::bigint "
             "AND ($2::date IS NULL OR s.date >= $2::date) "
             "AND ($3::date IS NULL OR s.date <= $3::date) "
             "AND ($4::boolean OR s.replaced_by IS NULL) "
             "AND ($5::bigint = 0 OR (s.date, s.id) > "
             "(SELECT c.date, c.id FROM usage_samples c WHERE c.id = $5::bigint)) "
             "ORDER BY s.date, s.id LIMIT $6::int) "
             "SELECT json_build_object('items', "
             "coalesce((SELECT json_agg(doc ORDER BY date, id) FROM page), '[]'::json), "
             "'next_cursor', CASE WHEN (SELECT count(*) FROM page) = $6::int THEN "
             "(SELECT id FROM page ORDER BY date DESC, id DESC LIMIT 1)::text END)::text FROM f",
             7, params, reply_row, r);
}

void metrics_usage_get(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    char dept[24];
    const char *dept_p;
    s_dept_param(r, dept, &dept_p);
    const char *params[] = {req_param(r, "id"), dept_p};
    db_query(req_service(r)->db,
             "SELECT usage_sample_doc(s)::text FROM usage_samples s WHERE s.id = $1::bigint "
             "AND ($2::bigint IS NULL OR EXISTS (SELECT 1 FROM project_fact(s.project_id) f "
             "WHERE f.department_id = $2::bigint))",
             2, params, reply_row, r);
}
