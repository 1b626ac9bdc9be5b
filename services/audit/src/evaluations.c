/*
 * Evaluations (issue 12, articles 23-24): the yearly score of a project in
 * operation and of a department, computed from what the audit service
 * already holds — the log (go-live, suspension, spot checks, backups,
 * milestones, rectifications, information requests) and the usage samples —
 * and the published, frozen yearly department scores.
 *
 *   GET  /api/v1/evaluations/projects/:id?year=
 *   GET  /api/v1/evaluations/departments/:id?year=
 *   POST /api/v1/evaluations/departments/:id/publish?year=   (it_office)
 *   GET  /api/v1/evaluations/departments/:id/published?year=&limit=&cursor=
 *
 * The components of a project are one SQL function,
 * evaluation_components() (migrations/0018_evaluations.sql), one statement
 * per request; the weights (ITGOV_EVAL_WEIGHTS, read at start), the
 * weighted mean, rounding and suggestions are eval_score.c. Definitions:
 * api-spec/openapi.yaml, components/schemas/Evaluation.
 *
 * Who reads: the IT office, auditors, admins and secretaries every one;
 * applicants their own department's (another department's project: 404,
 * as everywhere; another department: 403). Refusals in the order 401/403
 * (route) → 404 (no such project or department in the log) → 403 → 400
 * (year, limit, cursor).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"
#include "eval_score.h"
#include "itgov/db.h"
#include "itgov/log.h"
#include "itgov/service.h"

static int s_weights[EVAL_N] = {20, 20, 15, 15, 10, 10, 10};

bool evaluations_start(const char *weights_spec)
{
    char why[200];
    if (!eval_weights_parse(weights_spec, s_weights, why, sizeof why)) {
        log_error("ITGOV_EVAL_WEIGHTS: %s", why);
        return false;
    }
    return true;
}

/* ---- building the answers ------------------------------------------------------ */

#define SEES_ALL (ROLE_IT_OFFICE | ROLE_AUDITOR | ROLE_ADMIN | ROLE_SECRETARY)

/* A project's components as evaluation_components() gave them, read into
 * values; returns the answer's components array (weights added, values as
 * shown: two decimals) and sets *score (one decimal) when there is one. */
static cJSON *s_project_components(cJSON *in, double v[EVAL_N], bool has[EVAL_N], double *score,
                                   bool *has_score)
{
    cJSON *out = cJSON_CreateArray();
    for (int i = 0; i < EVAL_N; i++)
        has[i] = false, v[i] = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, in)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        int i = eval_index(cJSON_IsString(name) ? name->valuestring : NULL);
        if (i < 0) continue;
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(c, "value");
        if (cJSON_IsNumber(value)) {
            has[i] = true;
            v[i] = value->valuedouble;
        }
    }
    for (int i = 0; i < EVAL_N; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", eval_names[i]);
        if (has[i])
            cJSON_AddNumberToObject(o, "value", eval_round(v[i], 2));
        else
            cJSON_AddNullToObject(o, "value");
        cJSON_AddNumberToObject(o, "weight", s_weights[i]);
        cJSON *ev = NULL;
        cJSON_ArrayForEach(c, in)
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
            if (cJSON_IsString(name) && strcmp(name->valuestring, eval_names[i]) == 0)
                ev = cJSON_DetachItemFromObjectCaseSensitive(c, "evidence");
        }
        cJSON_AddItemToObject(o, "evidence", ev ? ev : cJSON_CreateObject());
        cJSON_AddItemToArray(out, o);
    }
    double s;
    *has_score = eval_weighted_mean(v, has, s_weights, EVAL_N, &s);
    *score = *has_score ? eval_round(s, 1) : 0;
    return out;
}

static void s_add_score(cJSON *o, const char *key, bool has, double value)
{
    if (has)
        cJSON_AddNumberToObject(o, key, value);
    else
        cJSON_AddNullToObject(o, key);
}

/* One sentence per component whose value (as shown) is below EVAL_WEAK_BELOW. */
static cJSON *s_suggestions(const double v[EVAL_N], const bool has[EVAL_N])
{
    cJSON *out = cJSON_CreateArray();
    for (int i = 0; i < EVAL_N; i++) {
        double shown = eval_round(v[i], 2);
        if (!has[i] || shown >= EVAL_WEAK_BELOW) continue;
        char line[400];
        eval_suggestion(i, shown, line, sizeof line);
        cJSON_AddItemToArray(out, cJSON_CreateString(line));
    }
    return out;
}

/* The department answer from [{project_id, components}] (evaluated), or
 * NULL if the text is not that. Only the projects with a score count. */
static cJSON *s_department_doc(long long dept, int year, const char *projects_json)
{
    cJSON *in = cJSON_Parse(projects_json);
    if (!cJSON_IsArray(in)) {
        cJSON_Delete(in);
        return NULL;
    }
    double sums[EVAL_N] = {0}, mean[EVAL_N];
    int counts[EVAL_N] = {0};
    bool has_mean[EVAL_N];
    cJSON *by_component[EVAL_N];
    for (int i = 0; i < EVAL_N; i++)
        by_component[i] = cJSON_CreateArray();
    cJSON *projects = cJSON_CreateArray();
    double score_sum = 0;
    int scored = 0;
    cJSON *p;
    cJSON_ArrayForEach(p, in)
    {
        const cJSON *pid = cJSON_GetObjectItemCaseSensitive(p, "project_id");
        cJSON *comps = cJSON_GetObjectItemCaseSensitive(p, "components");
        if (!cJSON_IsNumber(pid) || !cJSON_IsArray(comps)) continue;
        double v[EVAL_N], score;
        bool has[EVAL_N], has_score;
        cJSON_Delete(s_project_components(comps, v, has, &score, &has_score));
        if (!has_score) continue;
        scored++;
        score_sum += score;
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "project_id", pid->valuedouble);
        cJSON_AddNumberToObject(row, "score", score);
        cJSON_AddItemToArray(projects, row);
        for (int i = 0; i < EVAL_N; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "project_id", pid->valuedouble);
            s_add_score(e, "value", has[i], has[i] ? eval_round(v[i], 2) : 0);
            cJSON_AddItemToArray(by_component[i], e);
            if (has[i]) {
                sums[i] += v[i];
                counts[i]++;
            }
        }
    }
    cJSON_Delete(in);

    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "department_id", (double)dept);
    cJSON_AddNumberToObject(doc, "year", year);
    s_add_score(doc, "score", scored > 0, scored > 0 ? eval_round(score_sum / scored, 1) : 0);
    cJSON *comps = cJSON_AddArrayToObject(doc, "components");
    for (int i = 0; i < EVAL_N; i++) {
        has_mean[i] = counts[i] > 0;
        mean[i] = has_mean[i] ? sums[i] / counts[i] : 0;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", eval_names[i]);
        s_add_score(o, "value", has_mean[i], eval_round(mean[i], 2));
        cJSON_AddNumberToObject(o, "weight", s_weights[i]);
        cJSON *ev = cJSON_AddObjectToObject(o, "evidence");
        cJSON_AddItemToObject(ev, "projects", by_component[i]);
        cJSON_AddItemToArray(comps, o);
    }
    cJSON_AddItemToObject(doc, "projects", projects);
    cJSON_AddItemToObject(doc, "suggestions", s_suggestions(mean, has_mean));
    return doc;
}

/* ---- the request state ----------------------------------------------------------- */

struct eval_q {
    struct error *refuse; /* a bad parameter: answered after 404/403 */
    bool publish;
};

static struct eval_q *s_q_take(struct req *r)
{
    struct eval_q *q = r->ctx;
    r->ctx = NULL;
    return q;
}

static void s_q_free(struct eval_q *q)
{
    if (!q) return;
    error_destroy(&q->refuse);
    free(q);
}

static struct eval_q *s_q_new(struct req *r, struct error *refuse, bool publish)
{
    struct eval_q *q = calloc(1, sizeof *q);
    if (!q) abort();
    q->refuse = refuse;
    q->publish = publish;
    r->ctx = q;
    return q;
}

/* Reads ?year= (1900-2200) into text (empty: absent or bad, then the
 * current UTC year applies / *e says why). */
static void s_year(struct req *r, char year[8], struct error **e)
{
    long long y;
    year[0] = '\0';
    if (req_query_int(r, "year", 1900, 2200, "must be a year from 1900 to 2200", &y, e))
        snprintf(year, 8, "%lld", y);
}

/* Ends the request with q's refusal when it has one (taking it). */
static bool s_refused(struct req *r)
{
    struct eval_q *q = r->ctx;
    if (!q || !q->refuse) return false;
    struct error *e = q->refuse;
    q->refuse = NULL;
    s_q_free(s_q_take(r));
    reply_error(r, e);
    return true;
}

static void s_fail(struct req *r, struct error *e)
{
    s_q_free(s_q_take(r));
    reply_error(r, e);
}

/* ---- GET /evaluations/projects/:id ------------------------------------------------ */

enum { PRJ_DEPT, PRJ_YEAR, PRJ_COMPONENTS };

static void s_on_project(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return s_fail(r, err);
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, PRJ_DEPT))
        return s_fail(r, error_new(ERR_NOT_FOUND, "no such project"));
    long long dept = atoll(PQgetvalue(res, 0, PRJ_DEPT));
    if (!(r->user->roles & SEES_ALL) && r->user->department_id != dept)
        return s_fail(r, error_new(ERR_NOT_FOUND, "no such project"));
    if (s_refused(r)) return;
    s_q_free(s_q_take(r));
    cJSON *in = cJSON_Parse(PQgetvalue(res, 0, PRJ_COMPONENTS));
    if (!cJSON_IsArray(in)) {
        cJSON_Delete(in);
        return reply_error(r, error_new(ERR_INTERNAL, "the evaluation could not be computed"));
    }
    double v[EVAL_N], score;
    bool has[EVAL_N], has_score;
    cJSON *comps = s_project_components(in, v, has, &score, &has_score);
    cJSON_Delete(in);
    long long id;
    req_param_id(r, "id", &id);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "project_id", (double)id);
    cJSON_AddNumberToObject(doc, "department_id", (double)dept);
    cJSON_AddNumberToObject(doc, "year", atoi(PQgetvalue(res, 0, PRJ_YEAR)));
    s_add_score(doc, "score", has_score, score);
    cJSON_AddItemToObject(doc, "components", comps);
    cJSON_AddItemToObject(doc, "suggestions", s_suggestions(v, has));
    reply_json(r, 200, doc);
}

void evaluations_project(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    struct error *e = NULL;
    char year[8], dept[24];
    s_year(r, year, &e);
    s_q_new(r, e, false);
    /* an applicant's department: the components are computed only for a
     * project the caller may see */
    bool all = (r->user->roles & SEES_ALL) != 0;
    id_text(dept, r->user->department_id);
    const char *params[] = {req_param(r, "id"), year[0] ? year : NULL, e ? "f" : "t",
                            all ? NULL : dept};
    db_query(
        req_service(r)->db,
        "WITH y AS (SELECT coalesce($2::int, extract(year FROM now() AT TIME ZONE 'UTC')::int) "
        "AS year), d AS (SELECT eval_project_department($1::bigint) AS dept) "
        "SELECT d.dept, y.year, CASE WHEN d.dept IS NOT NULL AND $3::boolean "
        "AND ($4::bigint IS NULL OR d.dept = $4::bigint) "
        "THEN evaluation_components($1::bigint, y.year)::text END FROM y, d",
        4, params, s_on_project, r);
}

/* ---- GET /evaluations/departments/:id, and publish -------------------------------- */

enum { DEP_OK, DEP_YEAR, DEP_PROJECTS };

static bool s_dept_allowed(const struct req *r, long long dept)
{
    return (r->user->roles & SEES_ALL) || r->user->department_id == dept;
}

static void s_on_published(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
        return reply_error(r, error_new(ERR_INTERNAL, "the evaluation could not be published"));
    char loc[128];
    snprintf(loc, sizeof loc, "/api/v1/evaluations/departments/%s/published?year=%s",
             req_param(r, "id"), PQgetvalue(res, 0, 1));
    req_add_header(r, "Location", loc);
    reply_raw(r, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static void s_publish(struct req *r, long long dept, int year, cJSON *doc)
{
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(doc, "score");
    bool has_score = cJSON_IsNumber(score);
    char d[24], y[16], s[32] = "", actor[24];
    id_text(d, dept);
    snprintf(y, sizeof y, "%d", year);
    if (has_score) snprintf(s, sizeof s, "%.1f", score->valuedouble);
    id_text(actor, r->user->id);
    cJSON *weights = cJSON_CreateObject();
    for (int i = 0; i < EVAL_N; i++)
        cJSON_AddNumberToObject(weights, eval_names[i], s_weights[i]);
    char *comps = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(doc, "components"));
    char *projects = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(doc, "projects"));
    char *suggestions =
        cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(doc, "suggestions"));
    char *w = cJSON_PrintUnformatted(weights);
    cJSON_Delete(weights);
    cJSON_Delete(doc);
    if (!comps || !projects || !suggestions || !w) abort();
    const char *params[] = {d, y, has_score ? s : NULL, comps, projects, suggestions, w, actor};
    /* the next version (the upsert holds its row to the end of the
     * transaction: concurrent publications get distinct versions), the
     * record and its event, in one statement */
    db_query(req_service(r)->db,
             "WITH v AS (INSERT INTO evaluation_versions AS c (department_id, year, last) "
             "VALUES ($1::bigint, $2::int, 1) ON CONFLICT (department_id, year) "
             "DO UPDATE SET last = c.last + 1 RETURNING last), "
             "ins AS (INSERT INTO evaluations (department_id, year, version, score, components, "
             "projects, suggestions, weights, published_by) SELECT $1::bigint, $2::int, v.last, "
             "$3::numeric, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8::bigint FROM v "
             "RETURNING *) "
             "SELECT evaluation_doc(ins)::text, ins.year, "
             "emit('itgov.evaluation.published', 'evaluations/departments/' || ins.department_id, "
             "$8::bigint, evaluation_doc(ins)) FROM ins",
             8, params, s_on_published, r);
    free(comps);
    free(projects);
    free(suggestions);
    free(w);
}

/* The refusals of a department's evaluations, in their order: the query's
 * error, 404 (column 0 of res is not true: no such department), 403 (an
 * applicant of another department), then the request's own 400; true when
 * it replied, else *dept is the department. */
static bool s_department_refused(struct req *r, PGresult *res, struct error *err, long long *dept)
{
    if (err) {
        s_fail(r, err);
        return true;
    }
    if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, DEP_OK), "t") != 0) {
        s_fail(r, error_new(ERR_NOT_FOUND, "no such department"));
        return true;
    }
    req_param_id(r, "id", dept);
    if (!s_dept_allowed(r, *dept)) {
        s_fail(r,
               error_new(ERR_FORBIDDEN, "applicants read the evaluations of their own department"));
        return true;
    }
    return s_refused(r);
}

static void s_on_department(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    long long dept;
    if (s_department_refused(r, res, err, &dept)) return;
    struct eval_q *q = s_q_take(r);
    bool publish = q->publish;
    s_q_free(q);
    int year = atoi(PQgetvalue(res, 0, DEP_YEAR));
    cJSON *doc = s_department_doc(dept, year, PQgetvalue(res, 0, DEP_PROJECTS));
    if (!doc)
        return reply_error(r, error_new(ERR_INTERNAL, "the evaluation could not be computed"));
    if (publish) return s_publish(r, dept, year, doc);
    reply_json(r, 200, doc);
}

static void s_department(struct req *r, bool publish)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    struct error *e = NULL;
    char year[8];
    s_year(r, year, &e);
    s_q_new(r, e, publish);
    bool compute = !e && s_dept_allowed(r, id);
    const char *params[] = {req_param(r, "id"), year[0] ? year : NULL, compute ? "t" : "f"};
    db_query(
        req_service(r)->db,
        "WITH y AS (SELECT coalesce($2::int, extract(year FROM now() AT TIME ZONE 'UTC')::int) "
        "AS year), d AS (SELECT eval_department_exists($1::bigint) AS ok) "
        "SELECT d.ok, y.year, CASE WHEN d.ok AND $3::boolean THEN "
        "(SELECT coalesce(json_agg(json_build_object('project_id', p.id, 'components', "
        "evaluation_components(p.id, y.year)) ORDER BY p.id), '[]'::json) "
        "FROM eval_department_projects($1::bigint) AS p(id))::text END FROM y, d",
        3, params, s_on_department, r);
}

void evaluations_department(struct req *r)
{
    s_department(r, false);
}

void evaluations_publish(struct req *r)
{
    s_department(r, true);
}

/* ---- GET /evaluations/departments/:id/published ----------------------------------- */

static void s_on_list(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    long long dept;
    if (s_department_refused(r, res, err, &dept)) return;
    s_q_free(s_q_take(r));
    reply_raw(r, 200, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
}

void evaluations_published(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    struct error *e = NULL;
    char year[8], c[24], l[16];
    s_year(r, year, &e);
    long long cursor = 0, limit = 50;
    req_query_int(r, "limit", 1, 200, NULL, &limit, &e);
    req_query_int(r, "cursor", 0, LLONG_MAX, "is not a cursor this API returned", &cursor, &e);
    s_q_new(r, e, false);
    snprintf(c, sizeof c, "%lld", cursor);
    snprintf(l, sizeof l, "%lld", limit);
    const char *params[] = {c, l, req_param(r, "id"), year[0] ? year : NULL};
    db_query(req_service(r)->db,
             "SELECT eval_department_exists($3::bigint), (" DB_PAGE_SQL(
                 "SELECT v.id, evaluation_doc(v) AS doc FROM evaluations v "
                 "WHERE v.department_id = $3::bigint AND ($4::int IS NULL OR v.year = $4::int) "
                 "AND v.id > $1::bigint ORDER BY v.id LIMIT $2::int") ")",
             4, params, s_on_list, r);
}
