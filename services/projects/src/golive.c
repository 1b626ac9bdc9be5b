/*
 * Go-live (article 13): an applicant of the owning department puts an
 * accepted project into operation, giving its deployment plan, emergency
 * plan and test-environment report (URIs), that the tests passed, and when
 * it goes live. Refusals, in order: 400 (a field present with a wrong type,
 * a malformed URI or instant), 409 invalid_state (only from `accepted`),
 * 409 golive_blocked naming each body field absent or null and test_passed
 * when it is not true. Go-live does not wait for the asset or the payments.
 * The state change (FSM action go_live), the go_lives row, the transition
 * and the event itgov.project.went_live are one statement.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/service.h"
#include "money_rules.h"
#include "project_fsm.h"
#include "projects.h"

struct golive_in {
    const char *deployment, *emergency, *report, *planned_at;
    bool passed, has_passed;
};

/* Reads the body; false when it replied 400. Absent and null members are
 * not errors here: the gate names them. */
static bool s_read(struct req *r, const cJSON *body, struct golive_in *in)
{
    struct fields f;
    fields_init(&f, body);
    in->deployment = fields_uri(&f, "deployment_plan_uri", F_OPTIONAL);
    in->emergency = fields_uri(&f, "emergency_plan_uri", F_OPTIONAL);
    in->report = fields_uri(&f, "test_environment_report_uri", F_OPTIONAL);
    in->passed = false;
    in->has_passed = fields_bool(&f, "test_passed", F_OPTIONAL, &in->passed);
    in->planned_at = fields_instant(&f, "planned_at", F_OPTIONAL);
    static const char *const known[] = {
        "deployment_plan_uri", "emergency_plan_uri", "test_environment_report_uri",
        "test_passed",         "planned_at",         NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) {
        reply_error(r, e);
        return false;
    }
    return true;
}

static void s_golive(struct req *r);

static void s_on_written(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0) {
        if (r->ctx)
            return reply_error(r, error_new(ERR_CONFLICT,
                                            "the project changed meanwhile; read it and try "
                                            "again"));
        r->ctx = (void *)(intptr_t)1;
        return s_golive(r); /* lost a race: decide again on a fresh read */
    }
    reply_doc_etag(r, 200, res);
}

static void s_on_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const cJSON *body = project_action_body(r, res, err);
    struct golive_in in;
    if (!body || !s_read(r, body, &in)) return;
    const char *state = PQgetvalue(res, 0, PROJECT_STATE);
    if (!fsm_next(&project_fsm, state, "go_live"))
        return reply_invalid_state(r, "project", state, "put into operation");
    struct golive_given given = {in.deployment != NULL, in.emergency != NULL, in.report != NULL,
                                 in.has_passed && in.passed, in.planned_at != NULL};
    cJSON *missing = golive_missing(&given);
    if (cJSON_GetArraySize(missing) > 0)
        return reply_gate(r, "golive_blocked", missing,
                          "go-live needs the deployment plan, the emergency plan, the test "
                          "environment report, passed tests and the planned time");
    cJSON_Delete(missing);

    char from[128], to[128], actor[24];
    const char *event = NULL;
    fsm_action_sql(&project_fsm, "go_live", from, sizeof from, to, sizeof to, &event);
    id_text(actor, r->user->id);
    const char *params[] = {req_param(r, "id"), from,         to,        actor,        event,
                            in.deployment,      in.emergency, in.report, in.planned_at};
    db_query(
        req_service(r)->db,
        "WITH cur AS (SELECT id, state FROM projects WHERE id = $1::bigint), "
        "t AS (SELECT * FROM unnest($2::text[], $3::text[]) AS t(f, t)), "
        "p AS (UPDATE projects p SET state = t.t, version = p.version + 1, updated_at = now() "
        "FROM t, cur WHERE p.id = cur.id AND p.state = t.f RETURNING p.*), "
        "g AS (INSERT INTO go_lives (project_id, deployment_plan_uri, emergency_plan_uri, "
        "test_environment_report_uri, test_passed, planned_at, created_by) "
        "SELECT p.id, $6, $7, $8, true, $9::timestamptz, $4::bigint FROM p RETURNING *), "
        "h AS (INSERT INTO transitions (subject, from_state, to_state, action, actor_id) "
        "SELECT 'projects/' || p.id, cur.state, p.state, 'go_live', $4::bigint FROM p, cur "
        "RETURNING 1), "
        "e AS (SELECT emit($5, 'projects/' || p.id, $4::bigint, project_event(p) || "
        "jsonb_build_object('go_live', go_live_doc(g))) AS n FROM p, g) "
        "SELECT (project_doc(p)::jsonb || jsonb_build_object('go_live', go_live_doc(g)))::text, "
        "p.version, (SELECT count(*) FROM e), (SELECT count(*) FROM h) FROM p, g",
        9, params, s_on_written, r);
}

static void s_golive(struct req *r)
{
    project_load(r, s_on_loaded);
}

void golive_create(struct req *r)
{
    s_golive(r);
}

void golive_get(struct req *r)
{
    project_read(
        r,
        "SELECT go_live_doc(g)::text FROM projects p JOIN go_lives g ON g.project_id = p.id "
        "WHERE p.id = $1 AND " VISIBLE("2", "3", "4", "5", "6"),
        reply_row_tagged);
}
