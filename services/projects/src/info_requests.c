/*
 * Information requests (article 21). The IT office asks a project's
 * department for information by a due date (a date, UTC); the department's
 * applicants answer it, with attachments (URIs): open → answered. An open
 * request whose due date has passed becomes overdue by the scan (scan.c),
 * itgov.info_request.overdue once; it can still be answered, late
 * (answered_late: answered after the due date, in UTC, whether or not the
 * scan had flagged it). Requests can be issued for a project from
 * `approved` on, except a terminated one. Readers: whoever may see the
 * project.
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

#define QUESTION_MAX    10000 /* characters of a question */
#define ANSWER_MAX      20000 /* characters of an answer */
#define ATTACHMENTS_MAX 20    /* URIs attached to an answer */

/* ---- issue --------------------------------------------------------------------- */

/* 201, or the project's state refused (it left the supervised states meanwhile) */
static void s_on_created(void *arg, PGresult *res, struct error *err)
{
    reply_created_in_state(arg, res, err, "info-requests", "asked for information");
}

static void s_on_create_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const cJSON *body = project_visible_body(r, res, err);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *question = fields_str(&f, "question", F_REQUIRED, 1, QUESTION_MAX);
    const char *due = fields_date(&f, "due_date", F_REQUIRED);
    static const char *const known[] = {"question", "due_date", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (!supervised_state(state))
        return reply_invalid_state(r, "project", state, "asked for information");
    char ids[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, question, due, actor, supervised_states_sql};
    db_query(req_service(r)->db,
             "WITH p AS (SELECT id, department_id, state FROM projects WHERE id = $1), "
             "i AS (INSERT INTO info_requests (project_id, department_id, question, due_date, "
             "issued_by) SELECT p.id, p.department_id, $2, $3::date, $4::bigint FROM p "
             "WHERE p.state = ANY($5::text[]) RETURNING *), "
             "e AS (SELECT emit('itgov.info_request.issued', 'info-requests/' || i.id, "
             "$4::bigint, info_request_doc(i)) AS n FROM i) "
             "SELECT info_request_doc(i)::text, i.version, i.id, p.state, "
             "(SELECT count(*) FROM e) FROM p LEFT JOIN i ON true",
             5, params, s_on_created, r);
}

void info_requests_create(struct req *r)
{
    project_load(r, s_on_create_loaded);
}

/* ---- read ------------------------------------------------------------------------ */

void info_requests_list(struct req *r)
{
    project_page(r, PROJECT_RECORDS_SQL("info_requests", "info_request_doc"), NULL, 0);
}

void info_requests_get(struct req *r)
{
    project_query(r, "id", PROJECT_RECORD_SQL("info_requests", "info_request_doc"), NULL, 0,
                  reply_one_etag);
}

/* ---- answer ---------------------------------------------------------------------- */

/* attachments: at most ATTACHMENTS_MAX URIs (fields_uri's rule), each named
 * attachments[i] when bad; returns them as a JSON array text (malloc'd), or
 * NULL after recording the field errors. Absent: []. */
static char *s_attachments(struct fields *f)
{
    const cJSON *a = fields_array(f, "attachments", F_OPTIONAL);
    if (!fields_has(f, "attachments")) return strdup("[]");
    if (!a) return NULL;
    if (cJSON_GetArraySize(a) > ATTACHMENTS_MAX) {
        fields_fail(f, "attachments", "give at most 20 URIs");
        return NULL;
    }
    bool ok = true;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        char name[32];
        snprintf(name, sizeof name, "attachments[%d]", i++);
        /* read the item with fields_uri as if it were a member of its own object */
        cJSON *one = cJSON_CreateObject();
        if (!one) return NULL;
        cJSON_AddItemReferenceToObject(one, name, (cJSON *)it);
        const cJSON *body = f->obj;
        f->obj = one;
        ok = fields_uri(f, name, F_REQUIRED) != NULL && ok;
        f->obj = body;
        cJSON_Delete(one);
    }
    return ok ? cJSON_PrintUnformatted(a) : NULL;
}

/* columns of s_load */
enum { INFO_DEPT, INFO_STATUS, INFO_VISIBLE };

/* another answer came first: the request's status now says why */
static void s_on_state_reloaded(void *arg, PGresult *res, struct error *err)
{
    reply_reloaded_state(arg, res, err, "information request", "answered");
}

static void s_on_answered(void *arg, PGresult *res, struct error *err)
{
    reply_acted(arg, res, err, "SELECT status FROM info_requests WHERE id = $1",
                s_on_state_reloaded);
}

static void s_on_answer_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, INFO_VISIBLE), "t") != 0)
        return reply_error(r, error_new(ERR_NOT_FOUND, "no such information request"));
    if (atoll(PQgetvalue(res, 0, INFO_DEPT)) != r->user->department_id)
        return reply_error(r, error_new(ERR_FORBIDDEN, "only applicants of the owning department "
                                                       "may answer an information request"));
    const cJSON *body = req_body(r);
    if (!body) return;
    struct fields f;
    fields_init(&f, body);
    const char *answer = fields_str(&f, "answer", F_REQUIRED, 1, ANSWER_MAX);
    char *attachments = s_attachments(&f);
    static const char *const known[] = {"answer", "attachments", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) {
        free(attachments);
        return reply_error(r, e);
    }

    const char *status = PQgetvalue(res, 0, INFO_STATUS);
    if (strcmp(status, "open") != 0 && strcmp(status, "overdue") != 0) {
        free(attachments);
        return reply_invalid_state(r, "information request", status, "answered");
    }
    char ids[24], actor[24];
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, answer, attachments, actor};
    db_query(req_service(r)->db,
             "WITH i AS (UPDATE info_requests SET status = 'answered', answer = $2, "
             "attachments = $3::jsonb, answered_at = now(), answered_by = $4::bigint, "
             "answered_late = utc_today() > due_date, version = version + 1, "
             "updated_at = now() WHERE id = $1 AND status IN ('open', 'overdue') RETURNING *), "
             "e AS (SELECT emit('itgov.info_request.answered', 'info-requests/' || i.id, "
             "$4::bigint, info_request_doc(i)) AS n FROM i) "
             "SELECT info_request_doc(i)::text, i.version, (SELECT count(*) FROM e) FROM i",
             4, params, s_on_answered, r);
    free(attachments);
}

void info_requests_answer(struct req *r)
{
    project_query(
        r, "id",
        "SELECT p.department_id, i.status, " VISIBLE(
            "2", "3", "4", "5", "6") " FROM info_requests i JOIN projects p ON p.id = i.project_id "
                                     "WHERE i.id = $1",
        NULL, 0, s_on_answer_loaded);
}
