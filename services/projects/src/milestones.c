/*
 * The milestones of a project's implementation plan (article 10). The plan's
 * revisions add them and move their due dates (implementation.c); here they
 * are listed, completed by an applicant of the owning department while the
 * project is implementing, and listed across all projects when overdue
 * (incomplete, due before today in UTC) for the IT office and auditors.
 * scan.c marks them overdue and emits the event without any request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "projects.h"

/* project_load's columns, then whether the milestone is completed (NULL:
 * no such milestone of this project) */
enum { LOADED_COMPLETED = PROJECT_SUBMISSION + 1 };

void milestones_list(struct req *r)
{
    project_page(r, PROJECT_RECORDS_SQL("milestones", "milestone_doc"), NULL, 0);
}

/* ---- complete -------------------------------------------------------------------- */

/* The write holds the project row (FOR SHARE) while it checks the state, so
 * a concurrent change of state (an acceptance request) comes before or after
 * it, never between; a lost race answers what a fresh decision would. */

enum { DONE_DOC, DONE_STATE, DONE_COMPLETED };

static void s_on_completed(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such milestone"));
    if (!PQgetisnull(res, 0, DONE_DOC))
        return reply_raw(r, 200, PQgetvalue(res, 0, DONE_DOC),
                         (size_t)PQgetlength(res, 0, DONE_DOC));
    /* lost a race: answer what a fresh decision would */
    const char *state = PQgetvalue(res, 0, DONE_STATE);
    if (strcmp(state, "implementing") != 0)
        return reply_invalid_state(r, "project", state, "given completed milestones");
    reply_invalid_state(r, "milestone", "completed", "completed again");
}

static void s_on_complete_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (!project_owner_checks(r, res)) return;
    if (PQgetisnull(res, 0, LOADED_COMPLETED))
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such milestone of this project"));
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *at = fields_instant(&f, "completed_at", F_REQUIRED);
    const char *note = fields_str(&f, "note", F_OPTIONAL, 0, 2000);
    static const char *const known[] = {"completed_at", "note", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (strcmp(state, "implementing") != 0)
        return reply_invalid_state(r, "project", state, "given completed milestones");
    if (strcmp(PQgetvalue(res, 0, LOADED_COMPLETED), "t") == 0)
        return reply_invalid_state(r, "milestone", "completed", "completed again");

    char actor[24];
    id_text(actor, r->user->id);
    const char *params[] = {req_param(r, "id"), req_param(r, "mid"), at, note, actor};
    db_query(req_service(r)->db,
             "WITH p AS (SELECT id FROM projects WHERE id = $1 AND state = 'implementing' "
             "FOR SHARE), "
             "u AS (UPDATE milestones m SET completed_at = $3::timestamptz, note = $4, "
             "completed_by = $5::bigint, updated_at = now() FROM p "
             "WHERE m.id = $2 AND m.project_id = p.id AND m.completed_at IS NULL "
             "RETURNING m.*) "
             "SELECT milestone_doc(u)::text, NULL, NULL, "
             "emit('itgov.project.milestone.completed', 'projects/' || u.project_id, "
             "$5::bigint, jsonb_build_object('project_id', u.project_id, "
             "'milestone', milestone_doc(u))) FROM u "
             "UNION ALL SELECT NULL, p.state, m.completed_at IS NOT NULL, NULL "
             "FROM projects p JOIN milestones m ON m.project_id = p.id AND m.id = $2 "
             "WHERE p.id = $1 AND NOT EXISTS (SELECT 1 FROM u)",
             5, params, s_on_completed, r);
}

void milestones_complete(struct req *r)
{
    long long id, mid;
    if (!req_param_id(r, "id", &id) || !req_param_id(r, "mid", &mid)) return;
    const char *extra[] = {req_param(r, "mid")};
    project_query(r, "id",
                  PROJECT_LOAD_SQL(", (SELECT m.completed_at IS NOT NULL FROM milestones m "
                                   "WHERE m.id = $7 AND m.project_id = p.id)"),
                  extra, 1, s_on_complete_loaded);
}

/* ---- overdue, across all projects ------------------------------------------------ */

void milestones_overdue(struct req *r)
{
    reply_page(r, DB_PAGE_SQL("SELECT m.id, json_build_object('project_id', m.project_id, "
                              "'milestone_id', m.id, 'name', m.name, "
                              "'due_date', to_char(m.due_date, 'YYYY-MM-DD')) AS doc "
                              "FROM milestones m WHERE m.id > $1 AND m.completed_at IS NULL "
                              "AND m.due_date < utc_today() ORDER BY m.id LIMIT $2"));
}
