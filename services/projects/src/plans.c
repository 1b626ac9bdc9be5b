/*
 * Yearly IT construction plans (articles 4-6): the IT office drafts a plan
 * with its items, edits it while it is a draft (If-Match optional, a stale
 * one refused), and submits it; the joint meeting's decision, recorded in
 * the approvals service, approves or rejects it (consumer.c). Projects cite
 * an item of an approved plan by its code. Every signed-in user may read
 * plans.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "project_fsm.h"
#include "projects.h"

#define MAX_ITEMS  500
#define MAX_BUDGET 1000000000000000LL

/* One item of a plan: {code, title, description?, budget_cents}; a code
 * must not appear twice in the plan (ctx: the items array). */
static cJSON *s_item(struct fields *g, const cJSON *item, void *ctx)
{
    const cJSON *arr = ctx;
    const char *code = fields_str(g, "code", F_REQUIRED, 1, 32);
    const char *title = fields_str(g, "title", F_REQUIRED, 1, 200);
    const char *desc = fields_str(g, "description", F_OPTIONAL, 0, 10000);
    long long budget = 0;
    fields_int(g, "budget_cents", F_REQUIRED, 0, MAX_BUDGET, &budget);
    static const char *const known[] = {"code", "title", "description", "budget_cents", NULL};
    fields_only(g, known);
    for (const cJSON *prev = arr->child; code && prev != item; prev = prev->next) {
        const cJSON *pc = cJSON_GetObjectItemCaseSensitive(prev, "code");
        if (cJSON_IsString(pc) && strcmp(pc->valuestring, code) == 0) {
            fields_fail(g, "code", "appears twice in this plan");
            break;
        }
    }
    if (g->err) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", code);
    cJSON_AddStringToObject(o, "title", title);
    cJSON_AddStringToObject(o, "description", desc ? desc : "");
    cJSON_AddNumberToObject(o, "budget_cents", (double)budget);
    return o;
}

/* Checks items and returns them as a JSON array text (caller frees), or
 * NULL with the bad fields recorded in f. */
static char *s_items(struct fields *f, const cJSON *arr)
{
    if (!arr) return NULL;
    int n = cJSON_GetArraySize(arr);
    if (n < 1 || n > MAX_ITEMS) {
        fields_fail(f, "items", "must hold 1 to 500 items");
        return NULL;
    }
    cJSON *out = fields_each(f, "items", arr, s_item, (void *)arr);
    char *text = out ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    return text;
}

void plans_create(struct req *r)
{
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    long long year = 0;
    fields_int(&f, "year", F_REQUIRED, 2000, 2100, &year);
    const char *title = fields_str(&f, "title", F_REQUIRED, 1, 200);
    char *items = s_items(&f, fields_array(&f, "items", F_REQUIRED));
    static const char *const known[] = {"year", "title", "items", NULL};
    fields_only(&f, known);
    struct error *err = fields_done(&f);
    if (err) {
        free(items);
        return reply_error(r, err);
    }
    char years[24], actor[24];
    id_text(years, year);
    id_text(actor, r->user->id);
    const char *params[] = {years, title, items, actor};
    db_query(req_service(r)->db,
             "WITH p AS (INSERT INTO plans (year, title, items, created_by) "
             "VALUES ($1, $2, $3::jsonb, $4) RETURNING *), "
             "h AS (INSERT INTO transitions (subject, from_state, to_state, action, actor_id) "
             "SELECT 'plans/' || p.id, NULL, p.state, 'create', $4 FROM p RETURNING 1) "
             "SELECT plan_doc(p)::text, p.version, (SELECT count(*) FROM h), "
             "emit('itgov.plan.created', 'plans/' || p.id, $4, plan_event(p)) FROM p",
             4, params, reply_created_etag, r);
    free(items);
}

void plans_list(struct req *r)
{
    int limit;
    long long cursor;
    if (!req_page(r, &limit, &cursor)) return;
    const char *state = req_query(r, "state"), *year = req_query(r, "year");
    struct error *e = NULL;
    if (state && !fsm_has_state(&plan_fsm, state)) {
        e = error_new(ERR_VALIDATION, "bad query parameters");
        error_add_field(e, "state", "is not a plan state");
    }
    long long y = 0;
    req_query_int(r, "year", 2000, 2100, "must be a year from 2000 to 2100", &y, &e);
    if (e) return reply_error(r, e);
    char c[24], l[16];
    id_text(c, cursor);
    snprintf(l, sizeof l, "%d", limit);
    const char *params[] = {c, l, state, year};
    db_query(req_service(r)->db,
             DB_PAGE_SQL("SELECT id, plan_doc(p) AS doc FROM plans p WHERE id > $1 "
                         "AND ($3::text IS NULL OR p.state = $3) "
                         "AND ($4::int IS NULL OR p.year = $4) ORDER BY id LIMIT $2"),
             4, params, reply_row, r);
}

void plans_get(struct req *r)
{
    id_query(r, "SELECT plan_doc(p)::text, p.version FROM plans p WHERE id = $1", reply_one_etag);
}

/* ---- update and submit: load, check in refusal order, write ----------------- */

static void s_on_written(void *arg, PGresult *res, struct error *err)
{
    reply_written_etag(arg, res, err, "plan");
}

static void s_on_update_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such plan"));
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    long long year = 0;
    bool has_year = fields_int(&f, "year", F_OPTIONAL, 2000, 2100, &year);
    const char *title = fields_str(&f, "title", F_OPTIONAL, 1, 200);
    char *items = s_items(&f, fields_array(&f, "items", F_OPTIONAL));
    static const char *const known[] = {"year", "title", "items", NULL};
    fields_only(&f, known);
    if (!f.err && !has_year && !title && !items)
        fields_fail(&f, "", "give at least one of year, title, items");
    struct error *e = fields_done(&f);
    if (e) {
        free(items);
        return reply_error(r, e);
    }
    const char *state = PQgetvalue(res, 0, 0);
    long long current = atoll(PQgetvalue(res, 0, 1));
    int m = if_match_version(r, current);
    if (!fsm_next(&plan_fsm, state, "edit")) {
        free(items);
        return reply_invalid_state(r, "plan", state, "edited");
    }
    if (m == -2) {
        free(items);
        return reply_bad_if_match(r);
    }
    if (m == 0) {
        free(items);
        struct error *pe = error_new(ERR_PRECONDITION_FAILED,
                                     "the plan is at version %lld; read it and try again", current);
        error_set(pe, "version", cJSON_CreateNumber((double)current));
        return reply_error(r, pe);
    }
    char from[64], to[64], ids[24], ver[24], years[24], actor[24];
    const char *event = NULL;
    fsm_action_sql(&plan_fsm, "edit", from, sizeof from, to, sizeof to, &event);
    id_text(ids, atoll(req_param(r, "id")));
    id_text(ver, current);
    id_text(years, year);
    id_text(actor, r->user->id);
    const char *params[] = {ids, ver, from, has_year ? years : NULL, title, items, actor, event};
    db_query(req_service(r)->db,
             "WITH p AS (UPDATE plans SET year = coalesce($4::int, year), "
             "title = coalesce($5, title), items = coalesce($6::jsonb, items), "
             "version = version + 1, updated_at = now() "
             "WHERE id = $1 AND version = $2 AND state = ANY($3::text[]) RETURNING *) "
             "SELECT plan_doc(p)::text, p.version, emit($8, 'plans/' || p.id, $7, plan_event(p)) "
             "FROM p",
             8, params, s_on_written, r);
    free(items);
}

void plans_update(struct req *r)
{
    id_query(r, "SELECT state, version FROM plans WHERE id = $1", s_on_update_loaded);
}

static void s_on_submit_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such plan"));
    const char *state = PQgetvalue(res, 0, 0);
    if (!fsm_next(&plan_fsm, state, "submit"))
        return reply_invalid_state(r, "plan", state, "submitted");
    char from[64], to[64], ids[24], actor[24];
    const char *event = NULL;
    fsm_action_sql(&plan_fsm, "submit", from, sizeof from, to, sizeof to, &event);
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, PQgetvalue(res, 0, 1), from, to, actor, event};
    db_query(req_service(r)->db,
             "WITH cur AS (SELECT id, state FROM plans WHERE id = $1 AND version = $2), "
             "t AS (SELECT * FROM unnest($3::text[], $4::text[]) AS t(f, t)), "
             "p AS (UPDATE plans p SET state = t.t, version = p.version + 1, "
             "submission = p.submission + 1, updated_at = now() FROM t, cur "
             "WHERE p.id = cur.id AND p.state = t.f RETURNING p.*), "
             "h AS (INSERT INTO transitions (subject, from_state, to_state, action, actor_id) "
             "SELECT 'plans/' || p.id, cur.state, p.state, 'submit', $5 FROM p, cur "
             "RETURNING 1) "
             "SELECT plan_doc(p)::text, p.version, (SELECT count(*) FROM h), "
             "emit($6, 'plans/' || p.id, $5, plan_event(p)) FROM p",
             6, params, s_on_written, r);
}

void plans_submit(struct req *r)
{
    id_query(r, "SELECT state, version FROM plans WHERE id = $1", s_on_submit_loaded);
}
