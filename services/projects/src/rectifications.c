/*
 * Rectification orders (article 22). The IT office orders a project's
 * department to rectify an issue by a deadline (an instant); the
 * department's applicants respond with what they did and the evidence
 * (open → responded); the IT office verifies the response: closed, or
 * reopened (→ open again, to be responded to anew). When the deadline
 * passes and the order is not closed, the scan (scan.c) makes it overdue
 * and emits itgov.rectification.overdue, once per order: the approvals
 * service opens an escalation case from it. An overdue order can still be
 * responded to and verified. Orders can be issued for a project from
 * `approved` on, except a terminated one. Readers: whoever may see the
 * project. Every response and verification is kept (rectification_actions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/outbox.h"
#include "itgov/service.h"
#include "projects.h"
#include "supervision.h"

#define TEXT_MAX 10000 /* characters of an issue, an action, a response, a comment */

static const char *const s_outcomes[] = {"closed", "reopened", NULL};

/* ---- issue --------------------------------------------------------------------- */

/* 201, or the project's state refused (it left the supervised states meanwhile) */
static void s_on_created(void *arg, PGresult *res, struct error *err)
{
    reply_created_in_state(arg, res, err, "rectifications", "ordered to rectify anything");
}

static void s_on_create_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const cJSON *body = project_visible_body(r, res, err);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *issue = fields_str(&f, "issue", F_REQUIRED, 1, TEXT_MAX);
    const char *action = fields_str(&f, "required_action", F_REQUIRED, 1, TEXT_MAX);
    const char *deadline = fields_instant(&f, "deadline", F_REQUIRED);
    static const char *const known[] = {"issue", "required_action", "deadline", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (!supervised_state(state))
        return reply_invalid_state(r, "project", state, "ordered to rectify anything");
    char ids[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, issue, action, deadline, actor, supervised_states_sql};
    /* one statement: the order (if the project is still supervised) and its event; else no
     * document and the project's state */
    db_query(req_service(r)->db,
             "WITH p AS (SELECT id, department_id, state FROM projects WHERE id = $1), "
             "x AS (INSERT INTO rectifications (project_id, department_id, issue, "
             "required_action, deadline, issued_by) "
             "SELECT p.id, p.department_id, $2, $3, $4::timestamptz, $5::bigint FROM p "
             "WHERE p.state = ANY($6::text[]) RETURNING *), "
             "e AS (SELECT emit('itgov.rectification.issued', 'rectifications/' || x.id, "
             "$5::bigint, rectification_doc(x)) AS n FROM x) "
             "SELECT rectification_doc(x)::text, x.version, x.id, p.state, "
             "(SELECT count(*) FROM e) FROM p LEFT JOIN x ON true",
             6, params, s_on_created, r);
}

void rectifications_create(struct req *r)
{
    project_load(r, s_on_create_loaded);
}

/* ---- read ------------------------------------------------------------------------ */

void rectifications_list(struct req *r)
{
    project_page(r, PROJECT_RECORDS_SQL("rectifications", "rectification_doc"), NULL, 0);
}

void rectifications_get(struct req *r)
{
    project_query(r, "id", PROJECT_RECORD_SQL("rectifications", "rectification_doc"), NULL, 0,
                  reply_one_etag);
}

/* ---- respond, verify --------------------------------------------------------------- */

/* columns of s_load */
enum { RECT_DEPT, RECT_STATUS, RECT_AWAITING, RECT_VISIBLE };

/* Loads rectification :id with its project's department and the caller's
 * visibility, then next. */
static void s_load(struct req *r, db_cb next)
{
    project_query(r, "id",
                  "SELECT p.department_id, x.status, x.awaiting_verification, " VISIBLE(
                      "2", "3", "4", "5",
                      "6") " FROM rectifications x JOIN projects p ON p.id = x.project_id "
                           "WHERE x.id = $1",
                  NULL, 0, next);
}

/* 404 unless the caller may see the loaded rectification; false if it replied. */
static bool s_visible(struct req *r, PGresult *res)
{
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, RECT_VISIBLE), "t") != 0) {
        reply_error(r, error_new(ERR_NOT_FOUND, "no such rectification"));
        return false;
    }
    return true;
}

/* another request moved the order first: its status now says why */
static void s_on_reloaded_respond(void *arg, PGresult *res, struct error *err)
{
    reply_reloaded_state(arg, res, err, "rectification", "responded to");
}

static void s_on_reloaded_verify(void *arg, PGresult *res, struct error *err)
{
    reply_reloaded_state(arg, res, err, "rectification", "verified");
}

#define RECT_STATUS_SQL "SELECT status FROM rectifications WHERE id = $1"

static void s_on_responded(void *arg, PGresult *res, struct error *err)
{
    reply_acted(arg, res, err, RECT_STATUS_SQL, s_on_reloaded_respond);
}

static void s_on_verified(void *arg, PGresult *res, struct error *err)
{
    reply_acted(arg, res, err, RECT_STATUS_SQL, s_on_reloaded_verify);
}

static void s_on_respond_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (!s_visible(r, res)) return;
    if (atoll(PQgetvalue(res, 0, RECT_DEPT)) != r->user->department_id)
        return reply_error(r, error_new(ERR_FORBIDDEN, "only applicants of the owning department "
                                                       "may respond to a rectification order"));
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *description = fields_str(&f, "description", F_REQUIRED, 1, TEXT_MAX);
    const char *uri = fields_uri(&f, "evidence_uri", F_REQUIRED);
    static const char *const known[] = {"description", "evidence_uri", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *status = PQgetvalue(res, 0, RECT_STATUS);
    bool awaiting = strcmp(PQgetvalue(res, 0, RECT_AWAITING), "t") == 0;
    if (!rectification_can_respond(status, awaiting))
        return reply_invalid_state(
            r, awaiting ? "rectification awaiting verification" : "rectification", status,
            "responded to");
    char ids[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, description, uri, actor};
    db_query(req_service(r)->db,
             "WITH x AS (UPDATE rectifications SET status = 'responded', "
             "awaiting_verification = true, response_description = $2, evidence_uri = $3, "
             "responded_at = now(), responded_by = $4::bigint, version = version + 1, "
             "updated_at = now() WHERE id = $1 AND status IN ('open', 'overdue') "
             "AND NOT awaiting_verification RETURNING *), "
             "a AS (INSERT INTO rectification_actions (rectification_id, action, description, "
             "evidence_uri, actor_id) SELECT x.id, 'response', $2, $3, $4::bigint FROM x "
             "RETURNING 1), "
             "e AS (SELECT emit('itgov.rectification.responded', 'rectifications/' || x.id, "
             "$4::bigint, rectification_doc(x)) AS n FROM x) "
             "SELECT rectification_doc(x)::text, x.version, (SELECT count(*) FROM a), "
             "(SELECT count(*) FROM e) FROM x",
             4, params, s_on_responded, r);
}

void rectifications_respond(struct req *r)
{
    s_load(r, s_on_respond_loaded);
}

static void s_on_verify_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (!s_visible(r, res)) return;
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *outcome = fields_enum(&f, "outcome", F_REQUIRED, s_outcomes);
    const char *comment = fields_str(&f, "comment", F_OPTIONAL, 1, TEXT_MAX);
    if (outcome && strcmp(outcome, "reopened") == 0 && !fields_has(&f, "comment"))
        fields_fail(&f, "comment", "is required when the outcome is reopened: say what is missing");
    static const char *const known[] = {"outcome", "comment", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *status = PQgetvalue(res, 0, RECT_STATUS);
    if (!rectification_can_verify(status, strcmp(PQgetvalue(res, 0, RECT_AWAITING), "t") == 0))
        return reply_invalid_state(r, "rectification without a response to verify", status,
                                   "verified");
    char ids[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, outcome, comment, actor};
    db_query(req_service(r)->db,
             "WITH x AS (UPDATE rectifications SET "
             "status = CASE WHEN $2 = 'closed' THEN 'closed' ELSE 'open' END, "
             "awaiting_verification = false, verification_outcome = $2, "
             "verification_comment = $3, verified_at = now(), verified_by = $4::bigint, "
             "closed_at = CASE WHEN $2 = 'closed' THEN now() END, "
             "reopen_count = reopen_count + CASE WHEN $2 = 'reopened' THEN 1 ELSE 0 END, "
             "version = version + 1, updated_at = now() "
             "WHERE id = $1 AND awaiting_verification RETURNING *), "
             "a AS (INSERT INTO rectification_actions (rectification_id, action, outcome, "
             "comment, actor_id) SELECT x.id, 'verification', $2, $3, $4::bigint FROM x "
             "RETURNING 1), "
             "e AS (SELECT emit('itgov.rectification.verified', 'rectifications/' || x.id, "
             "$4::bigint, rectification_doc(x) || jsonb_build_object('outcome', $2::text)) AS n "
             "FROM x) "
             "SELECT rectification_doc(x)::text, x.version, (SELECT count(*) FROM a), "
             "(SELECT count(*) FROM e) FROM x",
             4, params, s_on_verified, r);
}

void rectifications_verify(struct req *r)
{
    s_load(r, s_on_verify_loaded);
}
