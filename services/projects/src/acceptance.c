/*
 * The acceptance request (article 12): an applicant of the owning
 * department asks for the acceptance of an implementing project. The gate
 * (acceptance_missing() in SQL: each deliverable kind without a version,
 * an approved contract, each incomplete milestone) and the state change
 * are one statement (acceptance_request() in 0004_contracts.sql: it locks
 * the project first, then checks), so nothing can slip in between: with something
 * missing the project stays implementing and the answer is 409
 * acceptance_blocked naming each; else it moves to acceptance_review and
 * itgov.project.acceptance_requested opens an acceptance case in the
 * approvals service, whose review (pass / return) consumer.c applies.
 */
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "project_fsm.h"
#include "projects.h"

/* columns: doc, version, missing (JSON array), the project's state now */
static void s_on_requested(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (!PQgetisnull(res, 0, 0)) return reply_doc_etag(r, 200, res);
    const char *state = PQgetvalue(res, 0, 3);
    if (!fsm_next(&project_fsm, state, "request_acceptance"))
        return reply_invalid_state(r, "project", state, "submitted for acceptance");
    cJSON *missing = cJSON_Parse(PQgetvalue(res, 0, 2));
    if (!cJSON_IsArray(missing) || cJSON_GetArraySize(missing) == 0) {
        /* allowed and nothing missing, yet unchanged: cannot happen under
         * the row lock; say so rather than pretend */
        cJSON_Delete(missing);
        return reply_error(r, error_new(ERR_CONFLICT, "the project changed meanwhile; try again"));
    }
    reply_gate(r, "acceptance_blocked", missing,
               "the project cannot ask for acceptance yet: %d item(s) missing",
               cJSON_GetArraySize(missing));
}

static void s_on_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (!project_owner_checks(r, res)) return;

    /* no body, or an empty object */
    if (evbuffer_get_length(evhttp_request_get_input_buffer(r->ev)) > 0) {
        const cJSON *body = req_body(r);
        if (!body) return;
        struct fields f;
        fields_init(&f, body);
        static const char *const known[] = {NULL};
        fields_only(&f, known);
        struct error *e = fields_done(&f);
        if (e) return reply_error(r, e);
    }

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (!fsm_next(&project_fsm, state, "request_acceptance"))
        return reply_invalid_state(r, "project", state, "submitted for acceptance");

    char from[128], to[128], ids[24], actor[24];
    const char *event = NULL;
    fsm_action_sql(&project_fsm, "request_acceptance", from, sizeof from, to, sizeof to, &event);
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    const char *params[] = {ids, from, to, actor, event};
    db_query(req_service(r)->db,
             "SELECT o_doc, o_version, o_missing, o_state "
             "FROM acceptance_request($1, $4::bigint, $2::text[], $3::text[], $5)",
             5, params, s_on_requested, r);
}

void acceptance_request(struct req *r)
{
    project_load(r, s_on_loaded);
}
