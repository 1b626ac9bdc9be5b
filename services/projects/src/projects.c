/*
 * Project applications: an applicant drafts one for their own department,
 * edits it while it is a draft or returned (with If-Match), and submits it;
 * the approvals service reviews and decides (consumer.c moves the state).
 * Who reads what: applicants their department's projects, experts those of
 * the cases they are invited to, it_office, secretary, auditor and admin
 * all. A project another department owns does not exist for an applicant
 * (404).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "project_fsm.h"
#include "projects.h"

#define MAX_BUDGET 1000000000000000LL

static const char *const s_kinds[] = {"new_system", "upgrade", "hardware", "procurement", NULL};

/* ---- create ---------------------------------------------------------------- */

void projects_create(struct req *r)
{
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *title = fields_str(&f, "title", F_REQUIRED, 0, 200);
    const char *kind = fields_enum(&f, "kind", F_REQUIRED, s_kinds);
    const char *summary = fields_str(&f, "summary", F_OPTIONAL, 0, 10000);
    long long budget = 0;
    fields_int(&f, "budget_cents", F_OPTIONAL, 0, MAX_BUDGET, &budget);
    const char *item = fields_str(&f, "plan_item_code", F_OPTIONAL, 1, 32);
    bool ext = false;
    fields_bool(&f, "serves_external_units", F_OPTIONAL, &ext);
    static const char *const known[] = {
        "title", "kind", "summary", "budget_cents", "plan_item_code", "serves_external_units",
        NULL};
    fields_only(&f, known);
    struct error *err = fields_done(&f);
    if (err) return reply_error(r, err);

    char budgets[24], dept[24], uid[24];
    id_text(budgets, budget);
    id_text(dept, r->user->department_id);
    id_text(uid, r->user->id);
    const char *params[] = {
        title, kind, summary ? summary : "", budgets, item, ext ? "true" : "false", dept, uid};
    /* One statement, one round trip: the project, its transitions row and its
     * event (emit(): plpgsql since 0023, so nothing is parsed per call). The
     * benchmark's pgbench script is generated from this call and params[]
     * (tests/bench/create_sql.sh): keep the SQL string literals here. */
    db_query(req_service(r)->db,
             "WITH p AS (INSERT INTO projects (title, kind, summary, budget_cents, "
             "plan_item_code, serves_external_units, department_id, applicant_id) "
             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *), "
             "h AS (INSERT INTO transitions (subject, from_state, to_state, action, actor_id) "
             "SELECT 'projects/' || p.id, NULL, p.state, 'create', $8 FROM p) "
             "SELECT project_doc(p)::text, p.version, "
             "emit('itgov.project.created', 'projects/' || p.id, $8, project_event(p)) FROM p",
             8, params, reply_created_etag, r);
}

/* ---- read ------------------------------------------------------------------- */

void projects_list(struct req *r)
{
    int limit;
    long long cursor;
    if (!req_page(r, &limit, &cursor)) return;
    const char *state = req_query(r, "state"), *dept = req_query(r, "department_id");
    const char *q = req_query(r, "q");
    struct error *e = NULL;
    if (state && !fsm_has_state(&project_fsm, state)) {
        e = error_new(ERR_VALIDATION, "bad query parameters");
        error_add_field(e, "state", "is not a project state");
    }
    long long d = 0;
    req_query_int(r, "department_id", 1, LLONG_MAX, "must be a department id", &d, &e);
    if (q && strlen(q) > 200) query_fail(&e, "q", "must be at most 200 characters long");
    if (e) return reply_error(r, e);
    struct who w;
    who_of(r, &w);
    char c[24], l[16];
    id_text(c, cursor);
    snprintf(l, sizeof l, "%d", limit);
    const char *params[] = {c, l, w.uid, w.dept, w.all, w.applicant, w.expert, state, dept, q};
    db_query(
        req_service(r)->db,
        DB_PAGE_SQL(
            "SELECT id, project_doc(p) AS doc FROM projects p WHERE id > $1 "
            "AND " VISIBLE("3", "4", "5", "6",
                           "7") " "
                                "AND ($8::text IS NULL OR p.state = $8) "
                                "AND ($9::bigint IS NULL OR p.department_id = $9) "
                                "AND ($10::text IS NULL OR strpos(lower(p.title), lower($10)) > 0) "
                                "ORDER BY id LIMIT $2"),
        10, params, reply_row, r);
}

void projects_get(struct req *r)
{
    project_read(r,
                 "SELECT project_doc(p)::text, p.version FROM projects p "
                 "WHERE p.id = $1 AND " VISIBLE("2", "3", "4", "5", "6"),
                 reply_one_etag);
}

/* The project's transitions, oldest first, paged like every list: the
 * cursor is the id of the last transition shown. */
void projects_history(struct req *r)
{
    project_page(r,
                 PROJECT_PAGE_SQL("SELECT t.id AS k, transition_doc(t) AS doc FROM transitions t "
                                  "WHERE t.subject = 'projects/' || p.id AND t.id > $8::bigint "
                                  "ORDER BY t.id LIMIT $7::int"),
                 NULL, 0);
}

/* ---- actions on one project: load, check in refusal order, write ------------ */

/* Loads the project with what the checks need: project_load's columns,
 * then whether each field a submission needs is missing. */
static void s_load(struct req *r, db_cb next)
{
    project_read(r,
                 PROJECT_LOAD_SQL(", p.title = '', p.summary = '', p.budget_cents <= 0, "
                                  "p.plan_item_code IS NOT NULL "
                                  "AND NOT plan_item_approved(p.plan_item_code)"),
                 next);
}

static void s_on_written(void *arg, PGresult *res, struct error *err)
{
    reply_written_etag(arg, res, err, "project");
}

/* ---- update ------------------------------------------------------------------- */

static void s_on_update_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const cJSON *body = project_action_body(r, res, err); /* 400 only once 404/403 are ruled out */
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *title = fields_str(&f, "title", F_OPTIONAL, 0, 200);
    const char *kind = fields_enum(&f, "kind", F_OPTIONAL, s_kinds);
    const char *summary = fields_str(&f, "summary", F_OPTIONAL, 0, 10000);
    long long budget = 0;
    bool has_budget = fields_int(&f, "budget_cents", F_OPTIONAL, 0, MAX_BUDGET, &budget);
    const char *item = fields_str(&f, "plan_item_code", F_OPTIONAL, 1, 32);
    bool clear_item = cJSON_IsObject(body) &&
                      cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, "plan_item_code"));
    bool ext = false;
    bool has_ext = fields_bool(&f, "serves_external_units", F_OPTIONAL, &ext);
    static const char *const known[] = {
        "title", "kind", "summary", "budget_cents", "plan_item_code", "serves_external_units",
        NULL};
    fields_only(&f, known);
    if (!f.err && !title && !kind && !summary && !has_budget && !item && !clear_item && !has_ext)
        fields_fail(&f, "", "give at least one field to change");
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, 1);
    if (!fsm_next(&project_fsm, state, "edit"))
        return reply_invalid_state(r, "project", state, "edited");
    long long current = atoll(PQgetvalue(res, 0, 2));
    int m = if_match_version(r, current);
    if (m == -1)
        return reply_error(r, error_new(ERR_PRECONDITION_REQUIRED,
                                        "send If-Match: \"<version>\" with the version you read"));
    if (m == -2) return reply_bad_if_match(r);
    if (m == 0) {
        struct error *pe =
            error_new(ERR_PRECONDITION_FAILED,
                      "the project is at version %lld; read it and try again", current);
        error_set(pe, "version", cJSON_CreateNumber((double)current));
        return reply_error(r, pe);
    }

    char from[128], to[128], ids[24], ver[24], budgets[24], actor[24];
    const char *event = NULL;
    fsm_action_sql(&project_fsm, "edit", from, sizeof from, to, sizeof to, &event);
    id_text(ids, atoll(req_param(r, "id")));
    id_text(ver, current);
    id_text(budgets, budget);
    id_text(actor, r->user->id);
    const char *params[] = {ids,
                            ver,
                            from,
                            title,
                            kind,
                            summary,
                            has_budget ? budgets : NULL,
                            item,
                            clear_item ? "true" : "false",
                            has_ext ? (ext ? "true" : "false") : NULL,
                            actor,
                            event};
    db_query(req_service(r)->db,
             "WITH p AS (UPDATE projects SET title = coalesce($4, title), "
             "kind = coalesce($5, kind), summary = coalesce($6, summary), "
             "budget_cents = coalesce($7::bigint, budget_cents), "
             "plan_item_code = CASE WHEN $9::boolean THEN NULL "
             "ELSE coalesce($8, plan_item_code) END, "
             "serves_external_units = coalesce($10::boolean, serves_external_units), "
             "version = version + 1, updated_at = now() "
             "WHERE id = $1 AND version = $2 AND state = ANY($3::text[]) RETURNING *) "
             "SELECT project_doc(p)::text, p.version, "
             "emit($12, 'projects/' || p.id, $11, project_event(p)) FROM p",
             12, params, s_on_written, r);
}

void projects_update(struct req *r)
{
    s_load(r, s_on_update_loaded);
}

/* ---- submit -------------------------------------------------------------------- */

static void s_on_submit_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (!project_owner_checks(r, res)) return;
    const char *state = PQgetvalue(res, 0, 1);
    bool can = fsm_next(&project_fsm, state, "submit") != NULL;
    if (can) {
        struct error *e = NULL;
        static const struct {
            int col;
            const char *field, *message;
        } checks[] = {
            {5, "title", "must not be empty"},
            {6, "summary", "must not be empty"},
            {7, "budget_cents", "must be greater than 0"},
            {8, "plan_item_code", "is not an item of an approved plan"},
        };
        for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
            if (strcmp(PQgetvalue(res, 0, checks[i].col), "t") == 0) {
                if (!e) e = error_new(ERR_VALIDATION, "the application is incomplete");
                error_add_field(e, checks[i].field, checks[i].message);
            }
        if (e) return reply_error(r, e);
    } else {
        return reply_invalid_state(r, "project", state, "submitted");
    }

    char from[128], to[128], ids[24], actor[24];
    const char *event = NULL;
    fsm_action_sql(&project_fsm, "submit", from, sizeof from, to, sizeof to, &event);
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, PQgetvalue(res, 0, 2), from, to, actor, event};
    db_query(
        req_service(r)->db,
        "WITH cur AS (SELECT id, state FROM projects WHERE id = $1 AND version = $2), "
        "t AS (SELECT * FROM unnest($3::text[], $4::text[]) AS t(f, t)), "
        "p AS (UPDATE projects p SET state = t.t, version = p.version + 1, "
        "submission = p.submission + 1, updated_at = now() FROM t, cur "
        "WHERE p.id = cur.id AND p.state = t.f RETURNING p.*), "
        "h AS (INSERT INTO transitions (subject, from_state, to_state, action, actor_id) "
        "SELECT 'projects/' || p.id, cur.state, p.state, 'submit', $5 FROM p, cur "
        "RETURNING 1), "
        "sim AS (SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'title', s.title, "
        "'state', s.state, 'department_id', s.department_id, "
        "'plan_item_code', s.plan_item_code, 'same_plan_item', "
        "coalesce(s.plan_item_code = p.plan_item_code, false), "
        "'similar_title', title_key(s.title) = title_key(p.title)) ORDER BY s.id), "
        "'[]'::jsonb) AS list FROM p JOIN projects s ON s.id <> p.id "
        "AND s.state IN ('under_review', 'returned', 'awaiting_decision', 'approved') "
        "AND ((p.plan_item_code IS NOT NULL AND s.plan_item_code = p.plan_item_code) "
        "OR title_key(s.title) = title_key(p.title))), "
        "e AS (SELECT emit($6, 'projects/' || p.id, $5, project_event(p) || "
        "jsonb_build_object('similar_projects', sim.list)) AS n FROM p, sim) "
        "SELECT (project_doc(p)::jsonb || jsonb_build_object('similar_projects', sim.list))::text, "
        "p.version, (SELECT count(*) FROM e), (SELECT count(*) FROM h) FROM p, sim",
        6, params, s_on_written, r);
}

void projects_submit(struct req *r)
{
    s_load(r, s_on_submit_loaded);
}
