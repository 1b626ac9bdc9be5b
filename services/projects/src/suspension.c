/*
 * issue 12 B: the IT office asks to resume a suspended project (article 22).
 * The request is a record (resume_requests, 0018_suspension.sql), at most
 * one open per project; itgov.project.resume_requested opens an escalation
 * case (variant resume) at step decision in the approvals service, and the
 * meeting's decision there — resume, reject or terminate — moves the project
 * and closes the request (consumer.c). The project stays suspended until
 * then: the answer is 202 with the request and the project as it is.
 * Refusals: 404 (no such project), 400 (the body), 409 invalid_state (the
 * project is not suspended), 409 conflict (a request is already open).
 * GET .../resume-requests lists them, open and decided, to whoever may see
 * the project.
 */
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "project_fsm.h"
#include "projects.h"

/* nothing written: the state read afresh says why (not suspended, or a request open) */
static void s_on_reloaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) return reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));
    const char *state = PQgetvalue(res, 0, 0);
    if (!fsm_next(&project_fsm, state, "resume"))
        return reply_invalid_state(r, "project", state, "resumed");
    reply_error(r, error_new(ERR_CONFLICT, "a resume request is already open for this project"));
}

/* column 0: the request with the project, NULL when nothing was written */
static void s_on_requested(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) && !PQgetisnull(res, 0, 0))
        return reply_raw(r, 202, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    const char *params[] = {req_param(r, "id")};
    db_query(req_service(r)->db, "SELECT state FROM projects WHERE id = $1", 1, params,
             s_on_reloaded, r);
}

static void s_on_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const cJSON *body = project_visible_body(r, res, err);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *reason = fields_str(&f, "reason", F_REQUIRED, 1, 10000);
    static const char *const known[] = {"reason", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (!fsm_next(&project_fsm, state, "resume"))
        return reply_invalid_state(r, "project", state, "resumed");

    char ids[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, reason, actor};
    /* the project row is locked while the request is written, so a decision moving it
     * meanwhile is seen; a second open request is refused by resume_requests_one_open */
    db_query(req_service(r)->db,
             "WITH p AS (SELECT * FROM projects WHERE id = $1 AND state = 'suspended' FOR UPDATE), "
             "q AS (INSERT INTO resume_requests (project_id, reason, requested_by) "
             "SELECT p.id, $2, $3 FROM p ON CONFLICT DO NOTHING RETURNING *), "
             "e AS (SELECT emit('itgov.project.resume_requested', 'projects/' || p.id, $3::bigint, "
             "jsonb_build_object('project_id', p.id, 'department_id', p.department_id, "
             "'submission', p.submission, 'reason', q.reason, 'resume_request_id', q.id, "
             "'suspended_from', p.suspended_from, 'requested_by', q.requested_by, "
             "'requested_at', rfc3339(q.requested_at))) AS n FROM p, q) "
             "SELECT (SELECT (resume_request_doc(q) || jsonb_build_object('project', "
             "project_doc(p)::jsonb))::text FROM p, q), (SELECT count(*) FROM e)",
             3, params, s_on_requested, r);
}

void suspension_resume(struct req *r)
{
    project_load(r, s_on_loaded);
}

/* GET /api/v1/projects/{id}/resume-requests: every request, oldest first (whoever may see the
 * project) */
void suspension_requests(struct req *r)
{
    project_page(r, PROJECT_RECORDS_SQL("resume_requests", "resume_request_doc"), NULL, 0);
}
