/*
 * Spot checks (article 14): the IT office checks systems in operation now
 * and then and records what it found, `pass` or `issues_found` (then the
 * findings are required). A project not in operation cannot be checked (409
 * invalid_state). Whoever sees the project reads its checks; the IT office,
 * auditors and admins read them across projects, filtered by result and by
 * when they were made.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "itgov/text.h"
#include "projects.h"

static const char *const s_results[] = {"pass", "issues_found", NULL};

/* Whether s holds something besides white space. */
static bool s_blank(const char *s)
{
    for (; s && *s; s++)
        if (!strchr(" \t\r\n", *s)) return false;
    return true;
}

static void s_on_recorded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));
    if (PQgetisnull(res, 0, 0)) /* the project left operation meanwhile */
        return reply_invalid_state(r, "project", PQgetvalue(res, 0, 1), "spot-checked");
    reply_created_at(r, res, 0, "/api/v1/projects/%s/spot-checks", req_param(r, "id"));
}

static void s_on_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const cJSON *body = project_visible_body(r, res, err);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *checked_at = fields_instant(&f, "checked_at", F_REQUIRED);
    const char *result = fields_enum(&f, "result", F_REQUIRED, s_results);
    const char *findings = fields_str(&f, "findings", F_OPTIONAL, 0, 10000);
    if (result && strcmp(result, "issues_found") == 0 && !fields_has(&f, "findings"))
        fields_fail(&f, "findings", "is required when result is issues_found");
    else if (result && strcmp(result, "issues_found") == 0 && findings && s_blank(findings))
        fields_fail(&f, "findings", "must not be empty when result is issues_found");
    static const char *const known[] = {"checked_at", "result", "findings", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (strcmp(state, "in_operation") != 0)
        return reply_invalid_state(r, "project", state, "spot-checked");

    char actor[24];
    id_text(actor, r->user->id);
    const char *params[] = {req_param(r, "id"), checked_at, result, findings ? findings : "",
                            actor};
    db_query(req_service(r)->db,
             "WITH p AS (SELECT id, state FROM projects WHERE id = $1), "
             "s AS (INSERT INTO spot_checks (project_id, checked_at, result, findings, checked_by) "
             "SELECT p.id, $2::timestamptz, $3, $4, $5 FROM p WHERE p.state = 'in_operation' "
             "RETURNING *), "
             "e AS (SELECT spot_check_doc(s) AS doc, emit('itgov.project.spot_check.recorded', "
             "'projects/' || s.project_id, $5, spot_check_doc(s)) AS n FROM s) "
             "SELECT (SELECT doc::text FROM e), p.state FROM p",
             5, params, s_on_recorded, r);
}

void spot_checks_create(struct req *r)
{
    project_load(r, s_on_loaded);
}

/* The checks of one project, oldest first: whoever sees the project. */
void spot_checks_of_project(struct req *r)
{
    project_page(r, PROJECT_RECORDS_SQL("spot_checks", "spot_check_doc"), NULL, 0);
}

/* Every project's checks, oldest first, by result and by when they were
 * made (from <= checked_at <= to). */
void spot_checks_list(struct req *r)
{
    int limit;
    long long cursor;
    if (!req_page(r, &limit, &cursor)) return;
    const char *result = req_query(r, "result"), *from = req_query(r, "from");
    const char *to = req_query(r, "to");
    struct error *e = NULL;
    bool known = false;
    for (const char *const *k = s_results; result && *k; k++)
        known = known || strcmp(*k, result) == 0;
    if (result && !known) query_fail(&e, "result", "must be pass or issues_found");
    if (from && !text_is_instant(from))
        query_fail(&e, "from", "must be an RFC 3339 instant such as 2026-11-30T08:00:00Z");
    if (to && !text_is_instant(to))
        query_fail(&e, "to", "must be an RFC 3339 instant such as 2026-11-30T08:00:00Z");
    long long pid = 0;
    req_query_int(r, "project_id", 1, LLONG_MAX, "must be a project id", &pid, &e);
    if (e) return reply_error(r, e);
    char c[24], l[16];
    id_text(c, cursor);
    snprintf(l, sizeof l, "%d", limit);
    const char *params[] = {c, l, result, from, to, req_query(r, "project_id")};
    db_query(req_service(r)->db,
             DB_PAGE_SQL("SELECT s.id, spot_check_doc(s) AS doc FROM spot_checks s WHERE s.id > $1 "
                         "AND ($3::text IS NULL OR s.result = $3) "
                         "AND ($4::timestamptz IS NULL OR s.checked_at >= $4::timestamptz) "
                         "AND ($5::timestamptz IS NULL OR s.checked_at <= $5::timestamptz) "
                         "AND ($6::bigint IS NULL OR s.project_id = $6::bigint) "
                         "ORDER BY s.id LIMIT $2"),
             6, params, reply_row, r);
}
