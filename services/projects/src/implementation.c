/*
 * The implementation plan of an approved project (article 8): its goals,
 * its team and its milestones. An applicant of the owning department puts
 * a plan while the project is approved or implementing; the first one
 * moves the project to implementing (the FSM's action plan). Every PUT is a
 * new revision, numbered 1, 2, ... and kept (GET .../revisions); the plan's
 * ETag is "<revision>". Milestones are matched by name: a new name adds
 * one, an incomplete one takes the new due date, a completed one keeps its
 * own (given with another: 400), and one not named stays as it was. The
 * write is implementation_plan_put() (0003_implementation.sql), one call
 * under the project's row lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "impl_body.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "project_fsm.h"
#include "projects.h"

/* project_load's columns, then these */
enum { LOADED_REVISION = PROJECT_SUBMISSION + 1, LOADED_COMPLETED };

static void s_reply_stale(struct req *r, long long current)
{
    struct error *e =
        current == 0 ? error_new(ERR_PRECONDITION_FAILED,
                                 "the project has no implementation plan yet; put one "
                                 "without If-Match")
                     : error_new(ERR_PRECONDITION_FAILED,
                                 "the plan is at revision %lld; read it and try again", current);
    error_set(e, "revision", cJSON_CreateNumber((double)current));
    reply_error(r, e);
}

static void s_on_put(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    cJSON *out = PQntuples(res) == 1 ? cJSON_Parse(PQgetvalue(res, 0, 0)) : NULL;
    const cJSON *v;
    if (!out) return reply_error(r, error_new(ERR_INTERNAL, "the plan was not written"));
    if ((v = cJSON_GetObjectItemCaseSensitive(out, "ok"))) {
        const cJSON *rev = cJSON_GetObjectItemCaseSensitive(v, "revision");
        long long n = cJSON_IsNumber(rev) ? (long long)rev->valuedouble : 0;
        char etag[32], loc[96];
        snprintf(etag, sizeof etag, "\"%lld\"", n);
        req_add_header(r, "ETag", etag);
        if (n == 1) {
            snprintf(loc, sizeof loc, "/api/v1/projects/%s/implementation-plan",
                     req_param(r, "id"));
            req_add_header(r, "Location", loc);
        }
        reply_json(r, n == 1 ? 201 : 200, cJSON_DetachItemFromObject(out, "ok"));
    } else if ((v = cJSON_GetObjectItemCaseSensitive(out, "state"))) {
        if (cJSON_IsString(v))
            reply_invalid_state(r, "project", v->valuestring, "planned");
        else
            reply_error(r, error_new(ERR_NOT_FOUND, "no such project"));
    } else if ((v = cJSON_GetObjectItemCaseSensitive(out, "stale"))) {
        s_reply_stale(r, cJSON_IsNumber(v) ? (long long)v->valuedouble : 0);
    } else if ((v = cJSON_GetObjectItemCaseSensitive(out, "completed"))) {
        char name[48];
        snprintf(name, sizeof name, "milestones[%d].due_date",
                 cJSON_IsNumber(v) ? (int)v->valuedouble : 0);
        struct error *e = error_new(ERR_VALIDATION, "some fields are missing or invalid");
        error_add_field(e, name, "is completed; its due date stays");
        reply_error(r, e);
    } else {
        reply_error(r, error_new(ERR_INTERNAL, "the plan was not written"));
    }
    cJSON_Delete(out);
}

/* "*" alone: any current plan will do. */
static bool s_is_star(const char *h)
{
    while (*h == ' ' || *h == '\t')
        h++;
    if (*h++ != '*') return false;
    while (*h == ' ' || *h == '\t')
        h++;
    return *h == '\0';
}

static void s_on_put_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const cJSON *body = project_action_body(r, res, err);
    if (!body) return;
    cJSON *completed = cJSON_Parse(PQgetvalue(res, 0, LOADED_COMPLETED));
    struct impl_body b;
    struct error *e = impl_body_read(body, completed, &b);
    cJSON_Delete(completed);
    if (e) return reply_error(r, e);

    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (!fsm_next(&project_fsm, state, "plan")) {
        impl_body_free(&b);
        return reply_invalid_state(r, "project", state, "planned");
    }
    long long rev = atoll(PQgetvalue(res, 0, LOADED_REVISION));
    const char *h = req_header(r, "If-Match");
    int m = if_match_version(r, rev);
    if (m == -2) {
        impl_body_free(&b);
        return reply_bad_if_match(r);
    }
    if (m == 0 || (m == 1 && rev == 0)) {
        impl_body_free(&b);
        return s_reply_stale(r, rev);
    }
    char from[128], to[128], ids[24], actor[24], expect[24];
    const char *event = NULL;
    fsm_action_sql(&project_fsm, "plan", from, sizeof from, to, sizeof to, &event);
    id_text(ids, atoll(req_param(r, "id")));
    id_text(actor, r->user->id);
    id_text(expect, rev);
    const char *params[] = {ids,    actor,        b.goals,
                            b.team, b.milestones, m == 1 && !s_is_star(h) ? expect : NULL,
                            from,   to,           event};
    db_query(req_service(r)->db,
             "SELECT implementation_plan_put($1, $2, $3, $4::jsonb, $5::jsonb, $6::int, "
             "$7::text[], $8::text[], $9)::text",
             9, params, s_on_put, r);
    impl_body_free(&b);
}

void implementation_put(struct req *r)
{
    project_read(
        r,
        PROJECT_LOAD_SQL(", (SELECT coalesce(max(i.revision), 0) "
                         "FROM implementation_plans i WHERE i.project_id = p.id), "
                         "(SELECT coalesce(jsonb_object_agg(m.name, to_char(m.due_date, "
                         "'YYYY-MM-DD')), '{}'::jsonb) FROM milestones m "
                         "WHERE m.project_id = p.id AND m.completed_at IS NOT NULL)::text"),
        s_on_put_loaded);
}

void implementation_get(struct req *r)
{
    project_read(r,
                 "SELECT implementation_plan_doc(ip)::text, ip.revision FROM projects p "
                 "JOIN LATERAL (SELECT * FROM implementation_plans i WHERE i.project_id = p.id "
                 "ORDER BY i.revision DESC LIMIT 1) ip ON true "
                 "WHERE p.id = $1 AND " VISIBLE("2", "3", "4", "5", "6"),
                 reply_one_etag);
}

/* Every revision, oldest first; the cursor is the last revision shown. */
void implementation_revisions(struct req *r)
{
    project_page(r,
                 PROJECT_PAGE_SQL("SELECT i.revision AS k, implementation_plan_doc(i) AS doc "
                                  "FROM implementation_plans i WHERE i.project_id = p.id "
                                  "AND i.revision > $8::bigint ORDER BY i.revision LIMIT $7::int"),
                 NULL, 0);
}
